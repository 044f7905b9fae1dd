package bench_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"

	"github.com/cosworth/cosworth/bench/bookdb"
)

// TestSameBytes sends the same requests to both servers and requires the
// same status, Content-Type and body bytes, so the benchmarks compare equal
// work. Writes are checked across the servers: what one answers to a create
// or an update must be what the other answers to a GET of the same row.
func TestSameBytes(t *testing.T) {
	s := setup(t)
	reads := []string{
		"/api/books/",
		listPath,
		"/api/books/?limit=3&offset=5",
		"/api/books/?limit=5&offset=2",
		"/api/books/?limit=1000",
		"/api/books/?limit=0",
		"/api/books/?limit=abc&offset=xyz",
		"/api/books/?offset=995",
		"/api/books/?offset=5000",
		"/api/books/1/",
		"/api/books/7/",  // quotes, <, >, &
		"/api/books/10/", // no published_on, created_at without microseconds
		"/api/books/17/", // non-ASCII title
		"/api/books/1000/",
		"/api/books/1001/", // missing
		"/api/books/abc/",  // not an id
	}
	for _, path := range reads {
		t.Run("GET "+path, func(t *testing.T) {
			b, c := newSink(), newSink()
			s.baseline.ServeHTTP(b, getRequest(path))
			s.cosworth.ServeHTTP(c, getRequest(path))
			same(t, b, c)
		})
	}

	t.Run("unauthenticated create", func(t *testing.T) {
		b, c := newSink(), newSink()
		for _, x := range []struct {
			h http.Handler
			w *sink
		}{{s.baseline, b}, {s.cosworth, c}} {
			r := writeRequest(http.MethodPost, "/api/books/")
			r.Header.Del("Authorization")
			setBody(r, createBody(nextISBN()))
			x.h.ServeHTTP(x.w, r)
		}
		same(t, b, c)
		if b.status != http.StatusUnauthorized || b.h.Get("WWW-Authenticate") != c.h.Get("WWW-Authenticate") {
			t.Fatalf("status %d, WWW-Authenticate %q and %q", b.status, b.h.Get("WWW-Authenticate"), c.h.Get("WWW-Authenticate"))
		}
	})
	t.Run("update of another user's book", func(t *testing.T) {
		b, c := newSink(), newSink()
		for _, x := range []struct {
			h http.Handler
			w *sink
		}{{s.baseline, b}, {s.cosworth, c}} {
			r := writeRequest(http.MethodPut, "/api/books/2/")
			setBody(r, updateBody(2, 1))
			x.h.ServeHTTP(x.w, r)
		}
		same(t, b, c)
		if b.status != http.StatusForbidden {
			t.Fatalf("status %d, want 403", b.status)
		}
	})

	for _, x := range []struct {
		name         string
		write, check http.Handler
	}{{"cosworth then baseline", s.cosworth, s.baseline}, {"baseline then cosworth", s.baseline, s.cosworth}} {
		t.Run("create, "+x.name, func(t *testing.T) {
			w := newSink()
			r := writeRequest(http.MethodPost, "/api/books/")
			setBody(r, createBody(nextISBN()))
			serveOK(t, x.write, w, r, http.StatusCreated)
			id := objectID(t, w.body)
			g := newSink()
			serveOK(t, x.check, g, getRequest("/api/books/"+strconv.FormatInt(id, 10)+"/"), http.StatusOK)
			if !bytes.Equal(w.body, g.body) {
				t.Fatalf("create answered\n%s\nGET answers\n%s", w.body, g.body)
			}
		})
		t.Run("update, "+x.name, func(t *testing.T) {
			id := 3
			if x.write == s.baseline {
				id = 5
			}
			w := newSink()
			r := writeRequest(http.MethodPut, "/api/books/"+strconv.Itoa(id)+"/")
			setBody(r, updateBody(id, 42))
			serveOK(t, x.write, w, r, http.StatusOK)
			g := newSink()
			serveOK(t, x.check, g, getRequest("/api/books/"+strconv.Itoa(id)+"/"), http.StatusOK)
			if !bytes.Equal(w.body, g.body) {
				t.Fatalf("update answered\n%s\nGET answers\n%s", w.body, g.body)
			}
		})
	}
}

func same(t *testing.T, b, c *sink) {
	t.Helper()
	if b.status != c.status || b.h.Get("Content-Type") != c.h.Get("Content-Type") || !bytes.Equal(b.body, c.body) {
		t.Fatalf("baseline: %d %q\n%s\ncosworth: %d %q\n%s", b.status, b.h.Get("Content-Type"), b.body, c.status, c.h.Get("Content-Type"), c.body)
	}
}

func objectID(t *testing.T, body []byte) int64 {
	t.Helper()
	var v struct {
		ID int64 `json:"id"`
	}
	if err := json.Unmarshal(body, &v); err != nil || v.ID == 0 {
		t.Fatalf("no id in %s: %v", body, err)
	}
	return v.ID
}

// allocBudget is how many more allocations per request Cosworth may make
// than the hand-written baseline, on list, retrieve, create and update.
const allocBudget = 15

// allocCeiling is what the test enforces for an endpoint that does not
// meet the budget: the extra allocations per request last measured plus a
// margin of 5, so any regression fails, until the budget is met; then its
// entry goes and the budget itself applies. Every endpoint meets it now
// (update at +15: 65 against 50).
var allocCeiling = map[string]float64{}

// raceEnabled is set by race_test.go when the race detector is on.
var raceEnabled bool

// TestAllocBudget holds Cosworth's list, retrieve, create and update to at most
// allocBudget allocations per request more than the baseline's (or, while
// that is not met yet, to allocCeiling), measured in process over real
// PostgreSQL.
func TestAllocBudget(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts (sync.Pool drops items at random); scripts/test.sh runs this without -race")
	}
	s := setup(t)
	rs := retrieveRequests()
	cases := []struct {
		name   string
		status int
		req    func(i int) *http.Request
	}{
		{"list", http.StatusOK, func(int) *http.Request { return getRequest(listPath) }},
		{"retrieve", http.StatusOK, func(i int) *http.Request { return rs[i%len(rs)] }},
		{"create", http.StatusCreated, func(int) *http.Request {
			r := writeRequest(http.MethodPost, "/api/books/")
			setBody(r, createBody(nextISBN()))
			return r
		}},
		// The bench user owns the odd-numbered books.
		{"update", http.StatusOK, func(i int) *http.Request {
			id := 1 + 2*(i%(bookdb.DefaultBooks/2))
			r := writeRequest(http.MethodPut, "/api/books/"+strconv.Itoa(id)+"/")
			setBody(r, updateBody(id, id))
			return r
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			allocs := map[string]float64{}
			for _, impl := range s.each() {
				w := newSink()
				reqs := make([]*http.Request, 0, 300)
				for i := range 300 {
					reqs = append(reqs, c.req(i))
				}
				// Warm up: connections, prepared statements, pools.
				for _, r := range reqs[:50] {
					serveOK(t, impl.h, w, r, c.status)
				}
				i := 50
				allocs[impl.name] = testing.AllocsPerRun(200, func() {
					serveOK(t, impl.h, w, reqs[i%len(reqs)], c.status)
					i++
				})
			}
			extra := allocs["cosworth"] - allocs["baseline"]
			t.Logf("%s: baseline %.0f allocs/request, cosworth %.0f (%+.0f; budget +%d)", c.name, allocs["baseline"], allocs["cosworth"], extra, allocBudget)
			limit, what := float64(allocBudget), "the budget"
			if ceiling, ok := allocCeiling[c.name]; ok {
				limit, what = ceiling, "today's measured ceiling (the budget is not met yet)"
				t.Logf("%s: BUDGET NOT MET: %.0f extra allocations per request against a budget of %d; enforcing the ceiling +%.0f",
					c.name, extra, allocBudget, ceiling)
			}
			if extra > limit {
				t.Errorf("%s: cosworth makes %.0f allocations per request, %.0f more than the baseline's %.0f; %s is +%.0f",
					c.name, allocs["cosworth"], extra, allocs["baseline"], what, limit)
			}
		})
	}
}
