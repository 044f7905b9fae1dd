package metrics

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cosworth/cosworth/internal/dbtest"
)

func serve(h http.Handler, method, path string) int {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(method, path, nil))
	return w.Code
}

func TestMiddlewareCountsByRoutePattern(t *testing.T) {
	for _, outside := range []bool{false, true} {
		name := "r.Use"
		if outside {
			name = "wrapping the router"
		}
		t.Run(name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			m := NewHTTP(reg, Options{})
			r := chi.NewRouter()
			if !outside {
				r.Use(m.Middleware)
			}
			r.Get("/books/{id}/", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "{}") })
			r.Get("/limited/", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTooManyRequests) })
			r.Get("/private/", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusUnauthorized) })
			api := chi.NewRouter()
			api.Post("/items/{id}/", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusCreated) })
			r.Mount("/api", api)
			var h http.Handler = r
			if outside {
				h = m.Middleware(r)
			}

			for _, p := range []string{"/books/1/", "/books/2/", "/books/3/"} {
				serve(h, "GET", p)
			}
			serve(h, "GET", "/limited/")
			serve(h, "GET", "/private/")
			serve(h, "POST", "/api/items/7/")
			serve(h, "GET", "/nowhere")
			serve(h, "BREW", "/books/1/")

			for _, c := range []struct {
				route, method, code string
				want                float64
			}{
				{"/books/{id}", "GET", "200", 3},
				{"/limited", "GET", "429", 1},
				{"/private", "GET", "401", 1},
				{"/api/items/{id}", "POST", "201", 1},
				{"none", "GET", "404", 1},
				{"none", "OTHER", "405", 1},
			} {
				if got := testutil.ToFloat64(m.requests.WithLabelValues(c.route, c.method, c.code)); got != c.want {
					t.Errorf("requests_total{%s %s %s} = %v, want %v", c.route, c.method, c.code, got, c.want)
				}
			}
			if got := testutil.ToFloat64(m.throttle.WithLabelValues("/limited")); got != 1 {
				t.Errorf("throttled_total = %v, want 1", got)
			}
			if got := testutil.ToFloat64(m.authFail.WithLabelValues("/private")); got != 1 {
				t.Errorf("auth_failures_total = %v, want 1", got)
			}
			if n := testutil.CollectAndCount(m.duration); n != 6 {
				t.Errorf("%d latency series, want 6 (route x method)", n)
			}
			if got := testutil.ToFloat64(m.inFlight); got != 0 {
				t.Errorf("in flight after the requests: %v", got)
			}
		})
	}
}

func TestInFlight(t *testing.T) {
	m := NewHTTP(prometheus.NewRegistry(), Options{})
	held, release := make(chan struct{}), make(chan struct{})
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(held)
		<-release
	}))
	done := make(chan struct{})
	go func() { serve(h, "GET", "/"); close(done) }()
	<-held
	if got := testutil.ToFloat64(m.inFlight); got != 1 {
		t.Errorf("in flight while serving: %v, want 1", got)
	}
	close(release)
	<-done
	if got := testutil.ToFloat64(m.inFlight); got != 0 {
		t.Errorf("in flight after: %v, want 0", got)
	}
}

func TestPoolCollectors(t *testing.T) {
	for name, open := range dbtest.Dialects(t) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			var n int
			dbtest.Must(t, db.NewRaw("SELECT 1").Scan(context.Background(), &n), "query")
			c := NewDBCollector("main", db)
			want := `cosworth_db_pool_total_conns{db="main"}`
			if got := gather(t, c); !strings.Contains(got, want) {
				t.Fatalf("no %s in\n%s", want, got)
			}
			if v := gauge(t, c, "cosworth_db_pool_max_conns"); v < 1 {
				t.Errorf("max_conns = %v", v)
			}
			if v := gauge(t, c, "cosworth_db_pool_total_conns"); v < 1 {
				t.Errorf("total_conns = %v after a query", v)
			}
		})
	}
	t.Run("redis", func(t *testing.T) {
		rdb, _ := dbtest.Redis(t)
		c := NewRedisCollector("main", rdb)
		if v := gauge(t, c, "cosworth_redis_pool_total_conns"); v < 1 {
			t.Errorf("total_conns = %v after a ping", v)
		}
		before := gauge(t, c, "cosworth_redis_pool_hits_total")
		dbtest.Must(t, rdb.Ping(context.Background()).Err(), "ping")
		if after := gauge(t, c, "cosworth_redis_pool_hits_total"); after != before+1 {
			t.Errorf("hits %v then %v, want one more", before, after)
		}
	})
}

func gather(t *testing.T, c prometheus.Collector) string {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	w := httptest.NewRecorder()
	Handler(reg).ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	if w.Code != 200 {
		t.Fatalf("metrics handler: %d", w.Code)
	}
	return w.Body.String()
}

func gauge(t *testing.T, c prometheus.Collector, name string) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	dbtest.Must(t, err, "gather")
	for _, mf := range mfs {
		if mf.GetName() == name {
			m := mf.GetMetric()[0]
			if m.GetGauge() != nil {
				return m.GetGauge().GetValue()
			}
			return m.GetCounter().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

func BenchmarkMiddleware(b *testing.B) {
	m := NewHTTP(prometheus.NewRegistry(), Options{})
	r := chi.NewRouter()
	r.Use(m.Middleware)
	r.Get("/books/{id}/", func(w http.ResponseWriter, r *http.Request) {})
	req := httptest.NewRequest("GET", "/books/1/", nil)
	w := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		r.ServeHTTP(w, req)
	}
}

// BenchmarkRouterAlone is BenchmarkMiddleware's floor: the router without
// the middleware.
func BenchmarkRouterAlone(b *testing.B) {
	r := chi.NewRouter()
	r.Get("/books/{id}/", func(w http.ResponseWriter, r *http.Request) {})
	req := httptest.NewRequest("GET", "/books/1/", nil)
	w := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		r.ServeHTTP(w, req)
	}
}
