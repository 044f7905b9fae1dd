package views_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/authentication"
	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/internal/faultproxy"
	"github.com/cosworth/cosworth/models"
	"github.com/cosworth/cosworth/permissions"
	"github.com/cosworth/cosworth/throttling"
	"github.com/cosworth/cosworth/views"
)

func seedBooks(t *testing.T, db *bun.DB, owners ...string) {
	t.Helper()
	seedAuthors(t, db)
	for i, o := range owners {
		b := Book{Title: fmt.Sprintf("Book %d", i+1), ISBN: fmt.Sprintf("97800000000%02d", i+1), AuthorID: 1, PriceCents: int64(100 * (i + 1)), Owner: o}
		dbtest.Must(t, db.NewInsert().Model(&b).Scan(context.Background()), "seed book")
	}
}

// TestKinds checks, for each of the nine generic views, which methods it
// serves, its Allow header, and that the others are 405.
func TestKinds(t *testing.T) {
	for name, open := range dbtest.Dialects(t, allModels...) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			seedBooks(t, db, "alice", "alice", "alice", "alice", "alice", "alice", "alice", "alice", "alice")
			kinds := []struct {
				name   string
				h      http.Handler
				allow  string
				detail bool
				serves map[string]int // method -> success status
			}{
				{"ListView", &views.ListView[Book]{DB: db}, "GET, HEAD, OPTIONS", false, map[string]int{"GET": 200, "HEAD": 200}},
				{"CreateView", &views.CreateView[Book]{DB: db}, "POST, OPTIONS", false, map[string]int{"POST": 201}},
				{"ListCreateView", &views.ListCreateView[Book]{DB: db}, "GET, POST, HEAD, OPTIONS", false, map[string]int{"GET": 200, "HEAD": 200, "POST": 201}},
				{"RetrieveView", &views.RetrieveView[Book]{DB: db}, "GET, HEAD, OPTIONS", true, map[string]int{"GET": 200, "HEAD": 200}},
				{"UpdateView", &views.UpdateView[Book]{DB: db}, "PUT, PATCH, OPTIONS", true, map[string]int{"PUT": 200, "PATCH": 200}},
				{"DestroyView", &views.DestroyView[Book]{DB: db}, "DELETE, OPTIONS", true, map[string]int{"DELETE": 204}},
				{"RetrieveUpdateView", &views.RetrieveUpdateView[Book]{DB: db}, "GET, PUT, PATCH, HEAD, OPTIONS", true, map[string]int{"GET": 200, "HEAD": 200, "PUT": 200, "PATCH": 200}},
				{"RetrieveDestroyView", &views.RetrieveDestroyView[Book]{DB: db}, "GET, DELETE, HEAD, OPTIONS", true, map[string]int{"GET": 200, "HEAD": 200, "DELETE": 204}},
				{"RetrieveUpdateDestroyView", &views.RetrieveUpdateDestroyView[Book]{DB: db}, "GET, PUT, PATCH, DELETE, HEAD, OPTIONS", true, map[string]int{"GET": 200, "HEAD": 200, "PUT": 200, "PATCH": 200, "DELETE": 204}},
			}
			for i, k := range kinds {
				t.Run(k.name, func(t *testing.T) {
					r := chi.NewRouter()
					r.Handle("/x/", k.h)
					r.Handle("/x/{id}/", k.h)
					path := "/x/"
					if k.detail {
						path = fmt.Sprintf("/x/%d/", i+1)
					}
					for _, m := range []string{"GET", "HEAD", "PUT", "PATCH", "DELETE", "POST", "TRACE", "OPTIONS"} {
						body := ""
						switch m {
						case "POST", "PUT":
							body = fmt.Sprintf(`{"title":"New %d","isbn":"97811111111%02d","author":2,"price_cents":1}`, i, i)
						case "PATCH":
							body = `{"price_cents":7}`
						}
						w := do(r, m, path, body)
						if got := w.Header().Get("Allow"); got != k.allow {
							t.Errorf("%s: Allow = %q, want %q", m, got, k.allow)
						}
						want, ok := k.serves[m]
						switch {
						case m == "OPTIONS":
							want = 200
						case !ok:
							want = 405
						}
						if w.Code != want {
							t.Errorf("%s %s: status %d, want %d; body %s", m, path, w.Code, want, w.Body)
						}
						if want == 405 && m != "HEAD" && w.Body.String() != `{"detail":"Method \"`+m+`\" not allowed."}` {
							t.Errorf("%s: 405 body %s", m, w.Body)
						}
						if m == "HEAD" && w.Body.Len() != 0 {
							t.Errorf("HEAD: body %q", w.Body)
						}
					}
					d, ok := k.h.(views.Describer)
					if !ok {
						t.Fatalf("%T is not a Describer", k.h)
					}
					info := d.Describe()
					if info.Name != "Book" || info.Detail != k.detail || strings.Join(info.Methods, ", ") != k.allow || info.Plan == nil {
						t.Errorf("Describe() = %+v", info)
					}
					if k.detail && (info.URLParam != "id" || info.LookupField != "id") {
						t.Errorf("Describe() lookup = %q %q", info.URLParam, info.LookupField)
					}
				})
			}
		})
	}
}

// TestUnknownMethod: a method outside DRF's http_method_names is a 405.
func TestUnknownMethod(t *testing.T) {
	db := dbtest.SQLite(t, allModels...)
	w := do(&views.ListCreateView[Book]{DB: db}, "BREW", "/", "")
	if w.Code != 405 || w.Body.String() != `{"detail":"Method \"BREW\" not allowed."}` || w.Header().Get("Allow") != "GET, POST, HEAD, OPTIONS" {
		t.Fatalf("status %d body %s Allow %q", w.Code, w.Body, w.Header().Get("Allow"))
	}
}

// TestQuerysetScoping: a Queryset scope hides other rows from lists and
// makes them 404 (not 403) on detail views, for reads and writes.
func TestQuerysetScoping(t *testing.T) {
	for name, open := range dbtest.Dialects(t, allModels...) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			seedBooks(t, db, "alice", "bob", "alice")
			mine := func(r *http.Request, q *bun.SelectQuery) *bun.SelectQuery {
				p := authentication.PrincipalFrom(r.Context())
				if p == nil {
					return q.Where("1 = 0")
				}
				return q.Where("?TableAlias.owner = ?", p.Username)
			}
			r := chi.NewRouter()
			r.Use(authentication.Middleware(testAuth{}))
			r.Handle("/mine/", &views.ListView[Book]{DB: db, Queryset: mine})
			r.Handle("/mine/{id}/", &views.RetrieveUpdateDestroyView[Book]{DB: db, Queryset: mine})
			steps := []step{
				{name: "list", method: "GET", path: "/mine/", hdr: as("bob"), status: 200,
					want: `[{"id":2,"title":"Book 2","isbn":"9780000000002","author":1,"price_cents":200,"owner":"bob"}]`},
				{name: "list anonymous", method: "GET", path: "/mine/", status: 200, want: `[]`},
				{name: "own", method: "GET", path: "/mine/2/", hdr: as("bob"), status: 200,
					want: `{"id":2,"title":"Book 2","isbn":"9780000000002","author":1,"price_cents":200,"owner":"bob"}`},
				{name: "other's", method: "GET", path: "/mine/1/", hdr: as("bob"), status: 404, want: `{"detail":"Not found."}`},
				{name: "patch other's", method: "PATCH", path: "/mine/1/", body: `{"title":"x"}`, hdr: as("bob"), status: 404, want: `{"detail":"Not found."}`},
				{name: "delete other's", method: "DELETE", path: "/mine/3/", hdr: as("bob"), status: 404, want: `{"detail":"Not found."}`},
				{name: "still there", method: "GET", path: "/mine/3/", hdr: as("alice"), status: 200,
					want: `{"id":3,"title":"Book 3","isbn":"9780000000003","author":1,"price_cents":300,"owner":"alice"}`},
			}
			for _, s := range steps {
				s.run(t, r)
			}
		})
	}
}

// TestUnpaginatedBound: without a Paginator a list is a JSON array of at
// most MaxResults objects.
func TestUnpaginatedBound(t *testing.T) {
	db := dbtest.SQLite(t, allModels...)
	seedBooks(t, db, "a", "b", "c", "d", "e")
	w := do(&views.ListView[Book]{DB: db, MaxResults: 3}, "GET", "/", "")
	var got []Book
	if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &got) != nil || len(got) != 3 || got[0].ID != 1 || got[2].ID != 3 {
		t.Fatalf("status %d body %s", w.Code, w.Body)
	}
}

// TestThrottle: a refusing throttle is a 429 with DRF's message and
// Retry-After; every throttle is consulted and the longest wait reported;
// a throttle whose store fails is a 503. Throttles run after permissions.
func TestThrottle(t *testing.T) {
	db := dbtest.SQLite(t, allModels...)
	var calls int
	wait := func(d time.Duration) throttling.Throttle {
		return throttleFunc(func(*http.Request) (time.Duration, error) { calls++; return d, nil })
	}
	broken := throttleFunc(func(*http.Request) (time.Duration, error) { return 0, errors.New("redis: connection refused") })
	tests := []struct {
		name      string
		throttles []throttling.Throttle
		perms     []permissions.Permission
		status    int
		body      string
		retry     string
		calls     int
	}{
		{"allowed", []throttling.Throttle{wait(0), wait(0)}, nil, 200, `[]`, "", 2},
		{"throttled", []throttling.Throttle{wait(0), wait(29500 * time.Millisecond), wait(3 * time.Second)}, nil, 429,
			`{"detail":"Request was throttled. Expected available in 30 seconds."}`, "30", 3},
		{"store down", []throttling.Throttle{broken}, nil, 503, `{"detail":"Service temporarily unavailable, try again later."}`, "1", 0},
		// Without authenticators a denied anonymous request is DRF's PermissionDenied.
		{"permission first", []throttling.Throttle{wait(time.Minute)}, []permissions.Permission{authOrRead{}}, 403,
			`{"detail":"You do not have permission to perform this action."}`, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls = 0
			method := "GET"
			if tt.perms != nil {
				method = "POST"
			}
			w := do(&views.ListCreateView[Book]{DB: db, Throttles: tt.throttles, Permissions: tt.perms}, method, "/", "")
			if w.Code != tt.status || w.Body.String() != tt.body || w.Header().Get("Retry-After") != tt.retry || calls != tt.calls {
				t.Fatalf("status %d body %s Retry-After %q calls %d", w.Code, w.Body, w.Header().Get("Retry-After"), calls)
			}
		})
	}
}

// TestServerError: an unknown error is a 500 with DRF's fixed body; its
// text never reaches the client.
func TestServerError(t *testing.T) {
	db := dbtest.SQLite(t, allModels...)
	seedAuthors(t, db)
	secret := errors.New("pq: password authentication failed for user secret_admin")
	v := &views.ListCreateView[Book]{DB: db, PerformCreate: func(*http.Request, bun.Tx, *Book) error { return secret }}
	w := do(v, "POST", "/", dune)
	if w.Code != 500 || w.Body.String() != `{"detail":"A server error occurred."}` {
		t.Fatalf("status %d body %s", w.Code, w.Body)
	}
	n, err := db.NewSelect().Model((*Book)(nil)).Count(context.Background())
	if err != nil || n != 0 {
		t.Fatalf("the failed create was not rolled back: %d rows, %v", n, err)
	}
}

// TestDatabaseUnavailable: a closed database and a deadline are 503s.
func TestDatabaseUnavailable(t *testing.T) {
	t.Run("closed", func(t *testing.T) {
		db := dbtest.SQLite(t, allModels...)
		h := &views.RetrieveView[Book]{DB: db}
		r := chi.NewRouter()
		r.Handle("/{id}/", h)
		_ = db.Close()
		w := do(r, "GET", "/1/", "")
		if w.Code != 503 || w.Body.String() != `{"detail":"Service temporarily unavailable, try again later."}` {
			t.Fatalf("status %d body %s", w.Code, w.Body)
		}
	})
	t.Run("postgres unreachable", func(t *testing.T) {
		dsn, _ := dbtest.PostgresSchemaURL(t)
		u, err := url.Parse(dsn)
		dbtest.Must(t, err, "parse %s", dsn)
		proxy := faultproxy.Start(t, u.Host)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		db, err := models.Open(ctx, proxy.Rewrite(dsn), models.WithAcquireTimeout(300*time.Millisecond))
		dbtest.Must(t, err, "open through the proxy")
		defer db.Close()
		dbtest.Must(t, models.CreateTables(ctx, db, allModels...), "create tables")
		seedBooks(t, db, "alice")
		r := chi.NewRouter()
		r.Handle("/books/", &views.ListCreateView[Book]{DB: db, Timeout: 500 * time.Millisecond})
		r.Handle("/books/{id}/", &views.RetrieveUpdateDestroyView[Book]{DB: db, Timeout: 500 * time.Millisecond})
		unavailable := `{"detail":"Service temporarily unavailable, try again later."}`
		reqs := []struct{ method, path, body string }{
			{"GET", "/books/", ""},
			{"POST", "/books/", `{"title":"x","isbn":"9780000000099","author":1}`},
			{"GET", "/books/1/", ""},
			{"PATCH", "/books/1/", `{"title":"y"}`},
			{"DELETE", "/books/1/", ""},
		}
		for _, fault := range []struct {
			name  string
			apply func()
		}{{"cut", proxy.Cut}, {"blackhole", proxy.Blackhole}} {
			fault.apply()
			for _, q := range reqs {
				start := time.Now()
				w := do(r, q.method, q.path, q.body)
				if w.Code != 503 || w.Body.String() != unavailable || w.Header().Get("Retry-After") == "" {
					t.Errorf("%s: %s %s: status %d body %s", fault.name, q.method, q.path, w.Code, w.Body)
				}
				if d := time.Since(start); d > 3*time.Second {
					t.Errorf("%s: %s %s took %v", fault.name, q.method, q.path, d)
				}
			}
			proxy.Restore()
			step{name: "restored after " + fault.name, method: "GET", path: "/books/1/", status: 200,
				want: `{"id":1,"title":"Book 1","isbn":"9780000000001","author":1,"price_cents":100,"owner":"alice"}`}.run(t, r)
		}
	})
	t.Run("deadline", func(t *testing.T) {
		db := dbtest.Postgres(t, allModels...)
		slow := func(r *http.Request, q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where("pg_sleep(1) IS NOT NULL")
		}
		seedBooks(t, db, "alice")
		w := do(&views.ListView[Book]{DB: db, Queryset: slow, Timeout: 50 * time.Millisecond}, "GET", "/", "")
		if w.Code != 503 || w.Header().Get("Retry-After") == "" {
			t.Fatalf("status %d body %s", w.Code, w.Body)
		}
	})
}

// TestMisconfiguration: setup problems panic on first use with a message
// that says what to fix.
func TestMisconfiguration(t *testing.T) {
	db := dbtest.SQLite(t, allModels...)
	type noPK struct {
		Name string `json:"name"`
	}
	tests := []struct {
		name string
		h    http.Handler
		want string
	}{
		{"no DB", &views.ListView[Book]{}, "cosworth/views: Book view has no DB"},
		{"bad lookup", &views.RetrieveView[Book]{DB: db, LookupField: "titel"}, `cosworth/views: LookupField "titel"`},
		{"bad search", &views.ListView[Book]{DB: db, Search: []string{"titel"}}, `titel`},
		{"bad ordering", &views.ListView[Book]{DB: db, Ordering: []string{"nope"}}, `nope`},
		{"no primary key", &views.ListView[noPK]{DB: db}, "cosworth/views: model noPK has no primary key"},
		{"bad search param", &views.ListView[Book]{DB: db, Search: []string{"title"}, SearchParam: "q&x"}, `SearchParam "q&x" of Book: use letters, digits and _ . ~ - only`},
		{"same param", &views.ListView[Book]{DB: db, Search: []string{"title"}, Ordering: []string{"title"}, OrderingParam: "search"}, `SearchParam and OrderingParam of Book are both "search"`},
		{"param is a filter", &views.ListView[Book]{DB: db, Filter: []string{"author"}, Search: []string{"title"}, SearchParam: "author"}, `Filter of Book: ?author= is also its search or ordering parameter`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 2 { // the panic repeats on every use
				func() {
					defer func() {
						v := recover()
						if s, _ := v.(string); !strings.Contains(s, tt.want) {
							t.Fatalf("panic %v, want one containing %q", v, tt.want)
						}
					}()
					do(tt.h, "GET", "/", "")
				}()
			}
		})
	}
}

// TestLookupField: a detail view can look objects up by another unique field.
func TestLookupField(t *testing.T) {
	db := dbtest.SQLite(t, allModels...)
	seedBooks(t, db, "alice", "bob")
	r := chi.NewRouter()
	r.Handle("/isbn/{isbn}/", &views.RetrieveView[Book]{DB: db, LookupField: "isbn", URLParam: "isbn"})
	step{name: "by isbn", method: "GET", path: "/isbn/9780000000002/", status: 200,
		want: `{"id":2,"title":"Book 2","isbn":"9780000000002","author":1,"price_cents":200,"owner":"bob"}`}.run(t, r)
	step{name: "no such isbn", method: "GET", path: "/isbn/9780000000009/", status: 404, want: `{"detail":"Not found."}`}.run(t, r)
}
