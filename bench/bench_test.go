package bench_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cosworth/cosworth/authentication"
	"github.com/cosworth/cosworth/bench/baseline"
	"github.com/cosworth/cosworth/bench/bookdb"
	"github.com/cosworth/cosworth/bench/cosworthsrv"
	"github.com/cosworth/cosworth/bench/serve"
	"github.com/cosworth/cosworth/internal/dbtest"
)

const token = "bench-token-0123456789abcdef"

// servers are the two implementations over one freshly seeded schema.
type servers struct {
	baseline http.Handler
	cosworth http.Handler
}

func (s *servers) each() []struct {
	name string
	h    http.Handler
} {
	return []struct {
		name string
		h    http.Handler
	}{{"baseline", s.baseline}, {"cosworth", s.cosworth}}
}

// setup seeds a fresh schema (dropped when tb ends) and builds both servers
// over it, with the same pool size.
func setup(tb testing.TB) *servers {
	tb.Helper()
	dsn, _ := dbtest.PostgresSchemaURL(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	dbtest.Must(tb, err, "connect")
	dbtest.Must(tb, bookdb.Create(ctx, conn, bookdb.DefaultBooks, bookdb.DefaultAuthors), "seed")
	dbtest.Must(tb, conn.Close(ctx), "close")

	cfg, err := pgxpool.ParseConfig(dsn)
	dbtest.Must(tb, err, "pool config")
	cfg.MaxConns = serve.DefaultMaxConns
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	dbtest.Must(tb, err, "pool")
	tb.Cleanup(pool.Close)
	db, err := cosworthsrv.Open(ctx, dsn, serve.DefaultMaxConns)
	dbtest.Must(tb, err, "open")
	tb.Cleanup(func() { _ = db.Close() })

	return &servers{
		baseline: baseline.New(pool, token, baseline.User{ID: bookdb.BenchUserID, Username: bookdb.BenchUsername}, nil),
		cosworth: cosworthsrv.New(db, token, authentication.Principal{ID: bookdb.BenchUserID, Username: bookdb.BenchUsername}),
	}
}

// sink is a ResponseWriter reused across requests, so the benchmarks count
// the handler's allocations rather than a recorder's.
type sink struct {
	h      http.Header
	status int
	body   []byte
}

func newSink() *sink { return &sink{h: make(http.Header), body: make([]byte, 0, 64<<10)} }

func (s *sink) Header() http.Header { return s.h }

func (s *sink) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
}

func (s *sink) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	s.body = append(s.body, b...)
	return len(b), nil
}

func (s *sink) reset() {
	clear(s.h)
	s.status = 0
	s.body = s.body[:0]
}

// The requests measured.
const listPath = "/api/books/?limit=10&offset=100"

func getRequest(path string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "http://127.0.0.1"+path, nil)
	r.RemoteAddr = "127.0.0.1:40000"
	return r
}

// retrieveRequests are GETs of every seeded book, so the database sees
// many ids as real traffic does.
func retrieveRequests() []*http.Request {
	rs := make([]*http.Request, bookdb.DefaultBooks)
	for i := range rs {
		rs[i] = getRequest("/api/books/" + strconv.Itoa(i+1) + "/")
	}
	return rs
}

func writeRequest(method, path string) *http.Request {
	r := httptest.NewRequest(method, "http://127.0.0.1"+path, nil)
	r.RemoteAddr = "127.0.0.1:40000"
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Authorization", "Token "+token)
	return r
}

func setBody(r *http.Request, body []byte) {
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
}

// isbnSeq hands out ISBNs no seeded book has (seeded ones start with 978).
var isbnSeq atomic.Int64

func nextISBN() string { return strconv.FormatInt(9_900_000_000_000+isbnSeq.Add(1), 10) }

func createBody(isbn string) []byte {
	return []byte(`{"title":"A new book","isbn":"` + isbn + `","author":7,"price_cents":1999,"published_on":"2021-06-30"}`)
}

// updateBody keeps book id's ISBN (unique) and changes the rest.
func updateBody(id, n int) []byte {
	return []byte(fmt.Sprintf(`{"title":"Revised edition %d","isbn":"978%010d","author":%d,"price_cents":%d,"published_on":null}`, n, id, 1+n%bookdb.DefaultAuthors, n%5000))
}

func serveOK(tb testing.TB, h http.Handler, w *sink, r *http.Request, want int) {
	w.reset()
	h.ServeHTTP(w, r)
	if w.status != want {
		tb.Fatalf("%s %s: status %d, want %d: %s", r.Method, r.URL, w.status, want, w.body)
	}
}

// cpuPerOp reports, as cpu-ns/op, the CPU time the process spent per
// iteration from start on: the handler's, pgx's and the garbage
// collector's work, without the wait for PostgreSQL that dominates ns/op.
// Call it after the loop with the processCPU read before it.
func cpuPerOp(b *testing.B, start time.Duration) {
	if b.N > 0 && start > 0 { // start is 0 where processCPU cannot read it
		b.ReportMetric(float64(processCPU(b)-start)/float64(b.N), "cpu-ns/op")
	}
}

func BenchmarkList(b *testing.B) {
	s := setup(b)
	for _, impl := range s.each() {
		b.Run(impl.name, func(b *testing.B) {
			w, r := newSink(), getRequest(listPath)
			b.ReportAllocs()
			start := processCPU(b)
			for b.Loop() {
				serveOK(b, impl.h, w, r, http.StatusOK)
			}
			cpuPerOp(b, start)
		})
	}
}

func BenchmarkRetrieve(b *testing.B) {
	s := setup(b)
	rs := retrieveRequests()
	for _, impl := range s.each() {
		b.Run(impl.name, func(b *testing.B) {
			w := newSink()
			i := 0
			b.ReportAllocs()
			start := processCPU(b)
			for b.Loop() {
				serveOK(b, impl.h, w, rs[i%len(rs)], http.StatusOK)
				i++
			}
			cpuPerOp(b, start)
		})
	}
}

func BenchmarkCreate(b *testing.B) {
	s := setup(b)
	for _, impl := range s.each() {
		b.Run(impl.name, func(b *testing.B) {
			w, r := newSink(), writeRequest(http.MethodPost, "/api/books/")
			bodies := make([][]byte, 4096)
			b.ReportAllocs()
			i := 0
			start := processCPU(b)
			for b.Loop() {
				if i%len(bodies) == 0 {
					b.StopTimer()
					t := processCPU(b)
					for j := range bodies {
						bodies[j] = createBody(nextISBN())
					}
					start += processCPU(b) - t // not the request's CPU
					b.StartTimer()
				}
				setBody(r, bodies[i%len(bodies)])
				serveOK(b, impl.h, w, r, http.StatusCreated)
				i++
			}
			cpuPerOp(b, start)
		})
	}
}

func BenchmarkUpdate(b *testing.B) {
	s := setup(b)
	// The bench user owns the odd-numbered books.
	var rs []*http.Request
	var bodies [][]byte
	for id := 1; id <= bookdb.DefaultBooks; id += 2 {
		rs = append(rs, writeRequest(http.MethodPut, "/api/books/"+strconv.Itoa(id)+"/"))
		bodies = append(bodies, updateBody(id, id))
	}
	for _, impl := range s.each() {
		b.Run(impl.name, func(b *testing.B) {
			w := newSink()
			i := 0
			b.ReportAllocs()
			start := processCPU(b)
			for b.Loop() {
				k := i % len(rs)
				setBody(rs[k], bodies[k])
				serveOK(b, impl.h, w, rs[k], http.StatusOK)
				i++
			}
			cpuPerOp(b, start)
		})
	}
}
