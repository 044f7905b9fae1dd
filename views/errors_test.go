package views_test

import (
	"bytes"
	"database/sql"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/cosworth/cosworth/authentication"
	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/models"
	"github.com/cosworth/cosworth/permissions"
	"github.com/cosworth/cosworth/views"
)

// errorCases are requests the views refuse before any query: what each
// costs is the view's own work, not the database's.
func errorCases(tb testing.TB) (http.Handler, []errorCase) {
	db := dbtest.SQLite(tb, allModels...)
	r := chi.NewRouter()
	r.Use(authentication.Middleware(testAuth{}))
	r.Handle("/books/", &views.ListCreateView[Book]{DB: db, Permissions: []permissions.Permission{authOrRead{}}})
	r.Handle("/books/{id}/", &views.RetrieveView[Book]{DB: db})
	return r, []errorCase{
		{"405", http.MethodDelete, "Test alice", "", "", http.StatusMethodNotAllowed, 8, ""},
		{"401 bad credentials", http.MethodGet, "Test bad", "", "", http.StatusUnauthorized, 9, ""},
		{"401 no credentials", http.MethodPost, "", "application/json", `{}`, http.StatusUnauthorized, 7, ""},
		{"415", http.MethodPost, "Test alice", "text/plain", `{}`, http.StatusUnsupportedMediaType, 13, ""},
		{"400 parse", http.MethodPost, "Test alice", "application/json", `{"title":`, http.StatusBadRequest, 16, ""},
		{"400 validation", http.MethodPost, "Test alice", "application/json", `{"title":"","isbn":"12"}`, http.StatusBadRequest, 20, ""},
		{"404 bad id", http.MethodGet, "", "", "", http.StatusNotFound, 0, "/books/abc/"},
		{"404 no row", http.MethodGet, "", "", "", http.StatusNotFound, 0, "/books/999/"},
	}
}

type errorCase struct {
	name, method, authz, ctype, body string
	status                           int
	// allocs bounds the allocations of the whole request (router,
	// authentication middleware and test authenticator included); 0 for
	// requests whose cost is mostly the lookup's (TestNotFoundAllocs).
	allocs float64
	path   string // "/books/" when empty
}

func (c errorCase) request() (*http.Request, func()) {
	path := c.path
	if path == "" {
		path = "/books/"
	}
	r := httptest.NewRequest(c.method, path, nil)
	if c.authz != "" {
		r.Header.Set("Authorization", c.authz)
	}
	if c.ctype != "" {
		r.Header.Set("Content-Type", c.ctype)
	}
	body := []byte(c.body)
	rd := bytes.NewReader(body)
	rc := io.NopCloser(rd)
	reset := func() {
		rd.Reset(body)
		r.Body = rc
		r.ContentLength = int64(len(body))
	}
	reset()
	return r, reset
}

// errorWriter is a ResponseWriter that allocates nothing itself.
type errorWriter struct {
	h      http.Header
	status int
}

func (w *errorWriter) Header() http.Header         { return w.h }
func (w *errorWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *errorWriter) WriteHeader(s int)           { w.status = s }

func BenchmarkErrors(b *testing.B) {
	h, cases := errorCases(b)
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			r, reset := c.request()
			w := &errorWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				reset()
				h.ServeHTTP(w, r)
				if w.status != c.status {
					b.Fatalf("status %d, want %d", w.status, c.status)
				}
			}
		})
	}
}

// TestErrorAllocs guards what refusing a request costs. Before 4xx errors
// skipped models.Classify (which looks for database causes) and
// httperror.Write found them without errors.As, each took 8 allocations more
// (405: 16, validation: 28).
func TestErrorAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts; run without -race")
	}
	h, cases := errorCases(t)
	for _, c := range cases {
		if c.allocs == 0 {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			r, reset := c.request()
			w := &errorWriter{h: http.Header{}}
			got := testing.AllocsPerRun(50, func() {
				clear(w.h)
				reset()
				h.ServeHTTP(w, r)
			})
			if w.status != c.status {
				t.Fatalf("status %d, want %d", w.status, c.status)
			}
			if got > c.allocs {
				t.Errorf("%.0f allocs per request, want at most %.0f", got, c.allocs)
			}
		})
	}
}

// TestNotFoundAllocs guards the 404 of a missing row or of a lookup value
// that does not parse: the Content-Length value is its one allocation.
// Through models.Classify and httperror.Write it took 7 for sql.ErrNoRows
// and 3 for models.ErrNotFound.
func TestNotFoundAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts; run without -race")
	}
	r := httptest.NewRequest(http.MethodGet, "/books/9/", nil)
	for _, err := range []error{sql.ErrNoRows, models.ErrNotFound} {
		w := &errorWriter{h: http.Header{}}
		got := testing.AllocsPerRun(100, func() {
			clear(w.h)
			views.WriteError(w, r, err)
		})
		if w.status != http.StatusNotFound {
			t.Fatalf("%v: status %d, want 404", err, w.status)
		}
		if got > 1 {
			t.Errorf("%v: %.0f allocations, want at most 1", err, got)
		}
	}
}
