package views_test

import (
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/views"
)

const msgPrecondition = `{"detail":"Precondition failed."}`

// TestConditionalGet checks ETag and If-None-Match / If-Match on GET and
// HEAD of a detail and a list view, on each database: 304 with no body
// (RFC 9110, Django's ConditionalGetMiddleware), weak comparison, lists
// and "*".
func TestConditionalGet(t *testing.T) {
	for name, open := range dbtest.Dialects(t, allModels...) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			seedBooks(t, db, "alice", "bob")
			h := bookstore(db)
			for _, path := range []string{"/books/1/", "/books/?limit=1"} {
				first := do(h, "GET", path, "")
				etag := first.Header().Get("ETag")
				if first.Code != 200 || len(etag) != 18 || etag[0] != '"' || etag[17] != '"' {
					t.Fatalf("GET %s: status %d, ETag %q", path, first.Code, etag)
				}
				if again := do(h, "GET", path, ""); again.Header().Get("ETag") != etag {
					t.Fatalf("GET %s twice: ETags %q and %q", path, etag, again.Header().Get("ETag"))
				}
				if head := do(h, "HEAD", path, ""); head.Code != 200 || head.Header().Get("ETag") != etag {
					t.Fatalf("HEAD %s: status %d, ETag %q, want %q", path, head.Code, head.Header().Get("ETag"), etag)
				}
				for _, c := range []struct {
					method, header, value string
					status                int
				}{
					{"GET", "If-None-Match", etag, 304},
					{"HEAD", "If-None-Match", etag, 304},
					{"GET", "If-None-Match", "W/" + etag, 304},
					{"GET", "If-None-Match", `"x", ` + etag, 304},
					{"GET", "If-None-Match", "*", 304},
					{"GET", "If-None-Match", `"0000000000000000"`, 200},
					{"GET", "If-None-Match", "garbage", 200},
					{"GET", "If-Match", etag, 200},
					{"GET", "If-Match", "*", 200},
					{"GET", "If-Match", "W/" + etag, 412}, // strong comparison
					{"GET", "If-Match", `"0000000000000000"`, 412},
				} {
					w := do(h, c.method, path, "", c.header, c.value)
					if w.Code != c.status {
						t.Fatalf("%s %s with %s: %s: status %d, want %d", c.method, path, c.header, c.value, w.Code, c.status)
					}
					switch c.status {
					case 304:
						if w.Body.Len() != 0 || w.Header().Get("ETag") != etag || w.Header().Get("Content-Type") != "" {
							t.Fatalf("%s %s 304: body %q, ETag %q, Content-Type %q", c.method, path, w.Body, w.Header().Get("ETag"), w.Header().Get("Content-Type"))
						}
					case 412:
						if w.Body.String() != msgPrecondition {
							t.Fatalf("%s %s 412: body %s", c.method, path, w.Body)
						}
					case 200:
						if c.method == "GET" && w.Body.String() != first.Body.String() {
							t.Fatalf("%s %s: body %s, want %s", c.method, path, w.Body, first.Body)
						}
					}
				}
			}
			// A change of the object changes both ETags.
			before, list := do(h, "GET", "/books/1/", "").Header().Get("ETag"), do(h, "GET", "/books/?limit=1", "").Header().Get("ETag")
			if w := do(h, "PATCH", "/books/1/", `{"price_cents":7}`, as("alice")...); w.Code != 200 {
				t.Fatalf("PATCH: %d %s", w.Code, w.Body)
			}
			if w := do(h, "GET", "/books/1/", "", "If-None-Match", before); w.Code != 200 || w.Header().Get("ETag") == before {
				t.Fatalf("GET after a change with the old ETag: status %d, ETag %q", w.Code, w.Header().Get("ETag"))
			}
			if w := do(h, "GET", "/books/?limit=1", "", "If-None-Match", list); w.Code != 200 {
				t.Fatalf("list after a change with the old ETag: status %d", w.Code)
			}
		})
	}
}

// TestIfMatch checks If-Match (and If-None-Match) on PUT, PATCH and
// DELETE, evaluated on the locked row: a stale ETag is 412 and changes
// nothing; the ETag of the current representation (as GET gave it, or a
// PUT/PATCH answered it) lets the write through.
func TestIfMatch(t *testing.T) {
	for name, open := range dbtest.Dialects(t, allModels...) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			seedBooks(t, db, "alice", "bob")
			h := bookstore(db)
			get := func() (string, string) {
				w := do(h, "GET", "/books/1/", "")
				return w.Header().Get("ETag"), w.Body.String()
			}
			etag, body := get()
			stale := `"0123456789abcdef"`
			put := `{"title":"Book one","isbn":"9780000000001","author":1,"price_cents":100}`
			for _, c := range []struct {
				method, body, header, value string
			}{
				{"PATCH", `{"price_cents":1}`, "If-Match", stale},
				{"PATCH", `{"price_cents":1}`, "If-Match", "W/" + etag},
				{"PUT", put, "If-Match", stale},
				{"DELETE", "", "If-Match", stale},
				{"PATCH", `{"price_cents":1}`, "If-None-Match", etag},
				{"DELETE", "", "If-None-Match", "*"},
				// The precondition is checked before the body is.
				{"PATCH", `{"price_cents":-1}`, "If-Match", stale},
			} {
				w := do(h, c.method, "/books/1/", c.body, append(as("alice"), c.header, c.value)...)
				if w.Code != 412 || w.Body.String() != msgPrecondition {
					t.Fatalf("%s with %s: %s: status %d, body %s; want 412 %s", c.method, c.header, c.value, w.Code, w.Body, msgPrecondition)
				}
				if e, b := get(); e != etag || b != body {
					t.Fatalf("%s with a failed %s changed the book: %s", c.method, c.header, b)
				}
			}
			// Permissions and existence come first: 403 and 404, not 412.
			if w := do(h, "PATCH", "/books/1/", `{"price_cents":1}`, append(as("bob"), "If-Match", stale)...); w.Code != 403 {
				t.Fatalf("PATCH by another user with a stale If-Match: %d", w.Code)
			}
			if w := do(h, "DELETE", "/books/99/", "", append(as("alice"), "If-Match", "*")...); w.Code != 404 {
				t.Fatalf("DELETE of a missing book with If-Match *: %d", w.Code)
			}
			// The current ETag matches; the answer carries the next one.
			w := do(h, "PATCH", "/books/1/", `{"price_cents":1}`, append(as("alice"), "If-Match", `"x", `+etag)...)
			if w.Code != 200 {
				t.Fatalf("PATCH with the current ETag: %d %s", w.Code, w.Body)
			}
			next := w.Header().Get("ETag")
			if e, b := get(); next == etag || e != next || b != w.Body.String() {
				t.Fatalf("PATCH answered ETag %q and %s; GET gives %q and %s", next, w.Body, e, b)
			}
			// The old ETag is stale now: the second of two clients editing
			// from the same version is refused.
			if w := do(h, "PUT", "/books/1/", put, append(as("alice"), "If-Match", etag)...); w.Code != 412 {
				t.Fatalf("PUT with the ETag before the PATCH: %d %s", w.Code, w.Body)
			}
			if w := do(h, "PUT", "/books/1/", put, append(as("alice"), "If-Match", next)...); w.Code != 200 || w.Header().Get("ETag") == "" {
				t.Fatalf("PUT with the current ETag: %d %s, ETag %q", w.Code, w.Body, w.Header().Get("ETag"))
			}
			if w := do(h, "DELETE", "/books/1/", "", append(as("alice"), "If-Match", "*")...); w.Code != 204 {
				t.Fatalf("DELETE with If-Match *: %d %s", w.Code, w.Body)
			}
			if w := do(h, "DELETE", "/books/2/", "", append(as("bob"), "If-Match", do(h, "GET", "/books/2/", "").Header().Get("ETag"))...); w.Code != 204 {
				t.Fatalf("DELETE with the current ETag: %d %s", w.Code, w.Body)
			}
		})
	}
}

// TestNoETag checks that NoETag turns conditional requests off.
func TestNoETag(t *testing.T) {
	db := dbtest.SQLite(t, allModels...)
	seedBooks(t, db, "alice")
	r := chi.NewRouter()
	r.Handle("/books/{id}/", &views.RetrieveUpdateDestroyView[Book]{DB: db, NoETag: true})
	for _, m := range []string{"GET", "PATCH"} {
		w := do(r, m, "/books/1/", "", "If-None-Match", "*")
		if w.Code != 200 || w.Header().Get("ETag") != "" {
			t.Fatalf("%s with NoETag: status %d, ETag %q", m, w.Code, w.Header().Get("ETag"))
		}
	}
}

// TestETagAllocs measures what ETags cost a retrieve: the allocations of
// a GET with ETags and with NoETag, on SQLite (the pgx figures are in
// bench's TestAllocBudget).
func TestETagAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts; run without -race")
	}
	db := dbtest.SQLite(t, allModels...)
	seedBooks(t, db, "alice")
	mount := func(noETag bool) http.Handler {
		r := chi.NewRouter()
		r.Handle("/books/{id}/", &views.RetrieveView[Book]{DB: db, NoETag: noETag})
		return r
	}
	once := func(h http.Handler, hdr ...string) func() float64 {
		r := httptest.NewRequest("GET", "/books/1/", nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		w := &discard{h: http.Header{}}
		h.ServeHTTP(w, r) // warmed up: the pools and caches the first requests fill
		return func() float64 {
			return testing.AllocsPerRun(100, func() {
				clear(w.h)
				h.ServeHTTP(w, r)
			})
		}
	}
	etag := do(mount(false), "GET", "/books/1/", "").Header().Get("ETag")
	cases := []func() float64{once(mount(false)), once(mount(true)), once(mount(false), "If-None-Match", etag)}
	// The least of five measurements of each, taken in turn: database/sql's
	// own goroutines (and, on a loaded machine, a GC emptying the pools)
	// allocate now and then during one, which is not the request's.
	least := []float64{math.Inf(1), math.Inf(1), math.Inf(1)}
	for range 5 {
		for i, m := range cases {
			least[i] = min(least[i], m())
		}
	}
	with, without, notModified := least[0], least[1], least[2]
	t.Logf("retrieve: %.0f allocs with ETag, %.0f without, %.0f for a 304", with, without, notModified)
	if with-without > 1 {
		t.Errorf("the ETag costs %.0f allocations per request, want at most 1", with-without)
	}
	if notModified > with {
		t.Errorf("a 304 costs %.0f allocations, more than the 200's %.0f", notModified, with)
	}
}

// discard is a ResponseWriter that keeps only the headers.
type discard struct {
	h      http.Header
	status int
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(s int)           { d.status = s }

// TestIfMatchConcurrent: N clients PATCH the same row at once, each with
// the ETag they read: the check runs on the locked row, so exactly one
// write applies and the others get 412 (no lost update).
func TestIfMatchConcurrent(t *testing.T) {
	for name, open := range dbtest.Dialects(t, allModels...) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			seedBooks(t, db, "alice")
			h := bookstore(db)
			const clients, rounds = 6, 3
			for round := range rounds {
				etag := do(h, "GET", "/books/1/", "").Header().Get("ETag")
				start := make(chan struct{})
				var wg sync.WaitGroup
				codes := make([]int, clients)
				for i := range clients {
					wg.Go(func() {
						<-start
						w := do(h, "PATCH", "/books/1/", fmt.Sprintf(`{"price_cents":%d}`, 1000*round+i), append(as("alice"), "If-Match", etag)...)
						codes[i] = w.Code
					})
				}
				close(start)
				wg.Wait()
				ok, refused := 0, 0
				for _, c := range codes {
					switch c {
					case 200:
						ok++
					case 412:
						refused++
					}
				}
				if ok != 1 || refused != clients-1 {
					t.Fatalf("round %d: statuses %v, want one 200 and %d 412", round, codes, clients-1)
				}
			}
		})
	}
}
