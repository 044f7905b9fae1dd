package faulttest_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth"
	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/models"
)

// TestBoundsEndToEnd sends oversized and hostile requests to a real server
// over real views and checks each is refused by its bound, with a DRF body,
// quickly, and that the service keeps answering normal requests.
func TestBoundsEndToEnd(t *testing.T) {
	st := newStack(t, stackOptions{cfg: cosworth.Config{MaxBodyBytes: 64 << 10, MaxQueryBytes: 1024, MaxQueryParams: 16, MaxHeaderBytes: 8 << 10}})
	c := client(t)
	for i := range 60 {
		if o := send(c, http.MethodPost, st.url+"/notes/", "", fmt.Sprintf(`{"title":"n%d"}`, i)); o.status != 201 {
			t.Fatalf("seed: %d %s", o.status, o.body)
		}
	}
	detail := func(o outcome) string {
		var m map[string]any
		if err := json.Unmarshal([]byte(o.body), &m); err != nil || len(m) != 1 {
			return "not a DRF detail body: " + o.body
		}
		s, _ := m["detail"].(string)
		return s
	}
	nested := func(n int) string {
		return `{"title":"x","extra":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}`
	}
	manyKeys := func(n int) string {
		var b strings.Builder
		b.WriteString(`{"title":"x"`)
		for i := range n {
			fmt.Fprintf(&b, `,"k%d":[1,2,{"a":null}]`, i)
		}
		b.WriteString("}")
		return b.String()
	}
	tests := []struct {
		name, method, path, body string
		status                   int
		detail                   string // prefix of the detail; "" to skip
	}{
		{"body over the bound", "POST", "/notes/", `{"title":"` + strings.Repeat("x", 70<<10) + `"}`, 413, "Request body is too large."},
		{"chunked body over the bound", "POST", "/notes/", `{"title":"` + strings.Repeat("x", 70<<10) + `"}`, 413, "Request body is too large."},
		{"nesting 100000 deep", "POST", "/notes/", nested(100000)[:60<<10], 400, "JSON parse error - "},
		{"nesting 33 deep", "POST", "/notes/", nested(33), 400, "JSON parse error - "},
		{"nesting within the bound", "POST", "/notes/", nested(30), 201, ""},
		{"many tokens", "POST", "/notes/", manyKeys(2500), 201, ""},
		{"query too long", "GET", "/notes/?search=" + strings.Repeat("a", 2000), "", 414, "Request URI is too long."},
		{"too many parameters", "GET", "/notes/?" + strings.Repeat("a=1&", 17), "", 400, "Too many query parameters."},
		{"page size capped", "GET", "/notes/?page_size=1000000", "", 200, ""},
		{"page far away", "GET", "/notes/?page=99999999999", "", 404, "Invalid page."},
		{"not JSON", "POST", "/notes/", "title=x", 415, "Unsupported media type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var o outcome
			if tt.name == "not JSON" || strings.HasPrefix(tt.name, "chunked") {
				req, _ := http.NewRequest(tt.method, st.url+tt.path, strings.NewReader(tt.body))
				if tt.name == "not JSON" {
					req.Header.Set("Content-Type", "text/plain")
				} else {
					req.Header.Set("Content-Type", "application/json")
					req.ContentLength = -1 // no declared length: the bound is hit while reading
				}
				start := time.Now()
				res, err := c.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				var b strings.Builder
				_, _ = bufio.NewReader(res.Body).WriteTo(&b)
				res.Body.Close()
				o = outcome{status: res.StatusCode, body: b.String(), elapsed: time.Since(start)}
			} else {
				o = send(c, tt.method, st.url+tt.path, "", tt.body)
			}
			if o.status != tt.status {
				t.Fatalf("status %d, want %d: %.200s", o.status, tt.status, o.body)
			}
			if tt.detail != "" && !strings.HasPrefix(detail(o), tt.detail) {
				t.Fatalf("detail %q, want it to start with %q", detail(o), tt.detail)
			}
			if o.elapsed > hangMargin {
				t.Fatalf("took %v: a hang", o.elapsed)
			}
			if tt.name == "page size capped" {
				var page struct{ Results []json.RawMessage }
				decode(t, o.body, &page)
				if len(page.Results) != 50 {
					t.Fatalf("%d results for page_size=1000000, want the cap of 50", len(page.Results))
				}
			}
		})
	}
	t.Run("headers too large", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, st.url+"/notes/", nil)
		req.Header.Set("X-Big", strings.Repeat("x", 64<<10))
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Fatalf("status %d, want 431", res.StatusCode)
		}
	})
	t.Run("declared 10 GiB body", func(t *testing.T) {
		conn, err := net.Dial("tcp", strings.TrimPrefix(st.url, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
		fmt.Fprintf(conn, "POST /notes/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{", 10<<30)
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("no answer before the body was sent: %v", err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d", res.StatusCode)
		}
	})
	if o := send(c, http.MethodGet, st.url+"/notes/", "", ""); o.status != 200 {
		t.Fatalf("after the attacks: %d", o.status)
	}
}

// TestInFlightBoundEndToEnd fills MaxInFlight with requests held in
// their view and checks that the next request is refused at once with the
// DRF 503 (instead of queueing behind them: it is answered while they are
// all still held), and that the slots come back.
func TestInFlightBoundEndToEnd(t *testing.T) {
	const inflight = 4
	entered, release := make(chan struct{}, inflight), make(chan struct{})
	st := newStack(t, stackOptions{
		cfg: cosworth.Config{MaxInFlight: inflight, RequestTimeout: 5 * time.Second},
		queryset: func(r *http.Request, q *bun.SelectQuery) *bun.SelectQuery {
			if r.URL.Query().Get("slow") != "" {
				entered <- struct{}{}
				select {
				case <-release:
				case <-r.Context().Done():
				}
			}
			return q
		},
	})
	c := client(t)
	if o := send(c, http.MethodPost, st.url+"/notes/", "", `{"title":"x"}`); o.status != 201 {
		t.Fatalf("seed: %d", o.status)
	}
	warmPool(t, st.db, inflight)
	var (
		wg       sync.WaitGroup
		slowDone atomic.Int32
	)
	slow := make([]outcome, inflight)
	for i := range inflight {
		wg.Add(1)
		go func() {
			defer wg.Done()
			slow[i] = send(c, http.MethodGet, st.url+"/notes/?slow=1", "", "")
			slowDone.Add(1)
		}()
	}
	for range inflight {
		<-entered // every slot is taken by a held request
	}
	o := send(c, http.MethodGet, st.url+"/notes/", "", "")
	if n := slowDone.Load(); n != 0 {
		t.Errorf("the refusal came after %d held requests ended: it queued", n)
	}
	close(release)
	if o.status != 503 || o.body != unavailableBody || o.retry == "" {
		t.Fatalf("over the bound: %d %s (Retry-After %q), want a DRF 503", o.status, o.body, o.retry)
	}
	wg.Wait()
	for i, s := range slow {
		if s.status != 200 {
			t.Errorf("slow request %d: %d %s", i, s.status, s.body)
		}
		// Ordering, not a time bound: the refusal did not queue behind
		// the requests holding the slots.
		if end := o.start.Add(o.elapsed); !end.Before(s.start.Add(s.elapsed)) {
			t.Errorf("the refusal ended after slow request %d: it queued", i)
		}
	}
	if o := send(c, http.MethodGet, st.url+"/notes/", "", ""); o.status != 200 {
		t.Fatalf("after the slow requests: %d", o.status)
	}
}

// TestPoolAcquireTimeout fills the PostgreSQL pool with slow queries and
// checks that one more request gets the DRF 503 after the pool's acquire
// timeout, before its own request deadline; and that the pool serves again
// once the slow queries end. The slow queries wait in PostgreSQL for an
// advisory lock the test holds on a connection of another pool, so they
// keep their connections until the test lets them go, however loaded the
// machine.
func TestPoolAcquireTimeout(t *testing.T) {
	ctx := context.Background()
	lock, err := dbtest.Postgres(t).Conn(ctx)
	dbtest.Must(t, err, "lock connection")
	defer lock.Close()
	key := rand.Int64()
	_, err = lock.ExecContext(ctx, "SELECT pg_advisory_lock(?)", key)
	dbtest.Must(t, err, "take the lock")
	unlock := func() {
		_, err := lock.ExecContext(ctx, "SELECT pg_advisory_unlock(?)", key)
		dbtest.Must(t, err, "release the lock")
	}
	const requestTimeout = 5 * time.Second
	st := newStack(t, stackOptions{
		cfg: cosworth.Config{RequestTimeout: requestTimeout},
		queryset: func(r *http.Request, q *bun.SelectQuery) *bun.SelectQuery {
			if r.URL.Query().Get("slow") != "" {
				return q.Where("pg_advisory_xact_lock_shared(?) IS NOT NULL", key)
			}
			return q
		},
	})
	c := client(t)
	if o := send(c, http.MethodPost, st.url+"/notes/", "", `{"title":"x"}`); o.status != 201 {
		unlock()
		t.Fatalf("seed: %d", o.status)
	}
	// Open every connection first: on a loaded machine a new connection
	// can take longer than the short acquire timeout, and the slow
	// requests must find them open.
	pool := models.Pool(st.db)
	held := make([]*pgxpool.Conn, 0, maxConns)
	for attempt := 0; len(held) < maxConns; attempt++ {
		if attempt == 50 {
			unlock()
			t.Fatalf("opened %d connections of %d", len(held), maxConns)
		}
		if conn, err := pool.Acquire(ctx); err == nil {
			held = append(held, conn)
		}
	}
	for _, conn := range held {
		conn.Release()
	}
	var wg sync.WaitGroup
	slow := make([]outcome, maxConns)
	for i := range maxConns {
		wg.Add(1)
		go func() { defer wg.Done(); slow[i] = send(c, http.MethodGet, st.url+"/notes/?slow=1", "", "") }()
	}
	defer func() {
		if t.Failed() {
			unlock()
			wg.Wait()
			for i, o := range slow {
				t.Logf("slow request %d: %d %s", i, o.status, o.body)
			}
		}
	}()
	// A bound on a broken test, not a wait: it returns as soon as the
	// slow queries hold every connection.
	waitFor(t, "the pool busy with slow queries", 30*time.Second, func() (bool, string) {
		// Views read through the pgx pool directly (internal/pgread), so
		// its acquired connections, not database/sql's, show the load.
		s := models.Pool(st.db).Stat()
		return s.AcquiredConns() >= maxConns, fmt.Sprintf("acquired %d of %d (total %d, constructing %d, idle %d)", s.AcquiredConns(), s.MaxConns(), s.TotalConns(), s.ConstructingConns(), s.IdleConns())
	})
	o := send(c, http.MethodGet, st.url+"/notes/", "", "")
	unlock()
	if o.status != 503 || o.body != unavailableBody {
		t.Errorf("with the pool exhausted: %d %s, want the DRF 503", o.status, o.body)
	}
	if o.elapsed >= requestTimeout {
		t.Errorf("refused after %v: at the request deadline, not after the acquire timeout %v", o.elapsed, acquireTimeout)
	}
	t.Logf("refused after %v (acquire timeout %v)", o.elapsed, acquireTimeout)
	wg.Wait()
	// Ordering, not a time bound: refused by the acquire timeout, before
	// the 4 s queries holding the pool ended (waiting for the 10 s request
	// deadline would end after them).
	for i, s := range slow {
		if s.status == 200 && !o.start.Add(o.elapsed).Before(s.start.Add(s.elapsed)) {
			t.Errorf("the refusal ended after slow query %d: it waited for a connection", i)
		}
	}
	if o := send(c, http.MethodGet, st.url+"/notes/", "", ""); o.status != 200 {
		t.Fatalf("after the slow queries: %d", o.status)
	}
}
