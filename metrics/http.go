// Package metrics exports Prometheus metrics (github.com/prometheus/client_golang)
// for a Cosworth service: per chi route pattern, the requests by status,
// their latency and the requests in flight, the throttle refusals (429)
// and authentication failures (401); the database pool and the Redis pool
// as gauges read at scrape time. It is opt-in: a service that does not
// import it links none of it.
//
// Wiring:
//
//	reg := prometheus.NewRegistry()
//	m := metrics.NewHTTP(reg, metrics.Options{})
//	reg.MustRegister(metrics.NewDBCollector("main", db), metrics.NewRedisCollector("main", rdb))
//	r := chi.NewRouter()
//	r.Use(m.Middleware)            // first, so every route is measured
//	r.Handle("/metrics", metrics.Handler(reg))
//
// The metric names and labels are listed in docs/observability.md.
package metrics

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Options configure NewHTTP.
type Options struct {
	// Namespace prefixes every metric name; "" means "cosworth".
	Namespace string
	// Buckets are the latency histogram's upper bounds in seconds; nil
	// means prometheus.DefBuckets (5 ms to 10 s).
	Buckets []float64
}

// HTTP holds the request metrics and the middleware that records them.
type HTTP struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inFlight prometheus.Gauge
	throttle *prometheus.CounterVec
	authFail *prometheus.CounterVec
}

// NewHTTP creates the request metrics and registers them on reg. It
// panics when they are registered already (prometheus.MustRegister).
func NewHTTP(reg prometheus.Registerer, o Options) *HTTP {
	ns := o.Namespace
	if ns == "" {
		ns = "cosworth"
	}
	buckets := o.Buckets
	if buckets == nil {
		buckets = prometheus.DefBuckets
	}
	m := &HTTP{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: "http", Name: "requests_total",
			Help: "HTTP requests answered, by chi route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: ns, Subsystem: "http", Name: "request_duration_seconds",
			Help:    "Time from the request reaching the middleware to the handler returning, by route pattern and method.",
			Buckets: buckets,
		}, []string{"route", "method"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: ns, Subsystem: "http", Name: "requests_in_flight",
			Help: "HTTP requests being served.",
		}),
		throttle: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: "http", Name: "throttled_total",
			Help: "Requests refused by a throttle (429), by route pattern.",
		}, []string{"route"}),
		authFail: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: "http", Name: "auth_failures_total",
			Help: "Requests refused for missing or bad credentials (401), by route pattern.",
		}, []string{"route"}),
	}
	reg.MustRegister(m.requests, m.duration, m.inFlight, m.throttle, m.authFail)
	return m
}

// Middleware records every request it serves. Use it on the top chi router
// (r.Use), where the route pattern is read after routing; wrapped around
// a router from outside it adds a chi route context of its own so the
// pattern can still be read. A request no route matched is labelled
// route="none"; a method outside RFC 9110's is labelled "OTHER", so a
// client cannot grow the label sets.
func (m *HTTP) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		r, rctx := routeContext(r)
		sw := statusWriter{ResponseWriter: w}
		m.inFlight.Inc()
		defer func() {
			m.inFlight.Dec()
			code := sw.status
			if code == 0 {
				// Nothing written (or a panic that the recoverer above
				// answers): net/http sends 200 for the former.
				code = http.StatusOK
			}
			route := rctx.RoutePattern()
			if route == "" {
				route = "none"
			}
			method := Method(r.Method)
			m.requests.WithLabelValues(route, method, statusText(code)).Inc()
			m.duration.WithLabelValues(route, method).Observe(time.Since(start).Seconds())
			switch code {
			case http.StatusTooManyRequests:
				m.throttle.WithLabelValues(route).Inc()
			case http.StatusUnauthorized:
				m.authFail.WithLabelValues(route).Inc()
			}
		}()
		next.ServeHTTP(&sw, r)
	})
}

// routeContext returns r with a chi route context, and that context.
func routeContext(r *http.Request) (*http.Request, *chi.Context) {
	if rctx := chi.RouteContext(r.Context()); rctx != nil {
		return r, rctx
	}
	rctx := chi.NewRouteContext()
	return r.WithContext(context.WithValue(r.Context(), chi.RouteCtxKey, rctx)), rctx
}

// Method is m when it is one of RFC 9110's methods (or PATCH), else "OTHER".
func Method(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "OTHER"
}

// codes holds the label values of the status codes, so a request does not
// format one.
var codes = func() (c [600]string) {
	for i := 100; i < len(c); i++ {
		c[i] = strconv.Itoa(i)
	}
	return c
}()

func statusText(code int) string {
	if code >= 100 && code < len(codes) {
		return codes[code]
	}
	return "other"
}

// statusWriter records the status of the answer.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap returns the ResponseWriter underneath, for http.ResponseController.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush sends buffered data (Server-Sent Events) when the writer underneath can.
func (w *statusWriter) Flush() { _ = http.NewResponseController(w.ResponseWriter).Flush() }

// Hijack hands the connection over (WebSocket upgrades) when the writer
// underneath can.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// Handler serves the metrics gathered by g in Prometheus' text format
// (promhttp.HandlerFor). Mount it where only the scraper can reach it, or
// behind authentication: metrics describe the service's traffic.
func Handler(g prometheus.Gatherer) http.Handler {
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{})
}
