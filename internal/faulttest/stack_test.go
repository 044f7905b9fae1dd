package faulttest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth"
	"github.com/cosworth/cosworth/authentication"
	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/internal/faultproxy"
	"github.com/cosworth/cosworth/models"
	"github.com/cosworth/cosworth/pagination"
	"github.com/cosworth/cosworth/permissions"
	"github.com/cosworth/cosworth/throttling"
	"github.com/cosworth/cosworth/views"
)

// Note is the model the fault tests write and read. Title is not unique on
// purpose: a write executed twice would show up as two rows.
type Note struct {
	bun.BaseModel `bun:"table:notes"`
	models.Base
	Title string `bun:"title,notnull" json:"title" validate:"required,max=100"`
}

const (
	unavailableBody = `{"detail":"Service temporarily unavailable, try again later."}`
	serverErrorBody = `{"detail":"A server error occurred."}`
	maxConns        = 8
	requestTimeout  = time.Second
	acquireTimeout  = 300 * time.Millisecond
	// hangMargin is how far beyond a deadline a request may end before a
	// test calls it a hang: wide, so a loaded machine (-race, other
	// tests) cannot fail a test on time alone.
	hangMargin = 5 * time.Second
)

// stack is a running service: server, database through a proxy, logs.
type stack struct {
	url  string
	db   *bun.DB
	pg   *faultproxy.Proxy
	logs *logBuffer
}

type stackOptions struct {
	auths     []authentication.Authenticator
	throttles []throttling.Throttle
	perms     []permissions.Permission
	queryset  func(r *http.Request, q *bun.SelectQuery) *bun.SelectQuery
	cfg       cosworth.Config
}

// newStack serves /notes/ and /notes/{id}/ behind cosworth.NewServer, with
// PostgreSQL reached through a fault proxy.
func newStack(t *testing.T, o stackOptions) *stack {
	t.Helper()
	dsn, _ := dbtest.PostgresSchemaURL(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	pg := faultproxy.Start(t, u.Host)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// On a loaded machine the first connection can take longer than the
	// short acquire timeout the tests use: retry the open a few times.
	var db *bun.DB
	for attempt := 0; ; attempt++ {
		db, err = models.Open(ctx, pg.Rewrite(dsn), models.WithAcquireTimeout(acquireTimeout), models.WithMaxConns(maxConns))
		if err == nil {
			break
		}
		if attempt == 5 {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := models.CreateTables(ctx, db, (*Note)(nil)); err != nil {
		t.Fatal(err)
	}

	r := chi.NewRouter()
	r.Use(authentication.Middleware(o.auths...))
	r.Handle("/notes/", &views.ListCreateView[Note]{
		DB: db, Permissions: o.perms, Throttles: o.throttles, Queryset: o.queryset,
		Paginator: pagination.PageNumber{PageSize: 10, MaxPageSize: 50},
	})
	r.Handle("/notes/{id}/", &views.RetrieveUpdateDestroyView[Note]{DB: db, Permissions: o.perms, Throttles: o.throttles})

	logs := &logBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, nil))
	cfg := o.cfg
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = requestTimeout
	}
	cfg.ShutdownTimeout = 2 * time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cosworth.NewServer(logger, cfg, r).Serve(sctx, ln) }()
	t.Cleanup(func() {
		stop()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("server did not stop")
		}
	})
	return &stack{url: "http://" + ln.Addr().String(), db: db, pg: pg, logs: logs}
}

// errorLogs returns the server's ERROR log lines other than access-log
// lines, to explain a 500.
func (st *stack) errorLogs() string {
	var b strings.Builder
	for _, line := range strings.Split(st.logs.String(), "\n") {
		if strings.Contains(line, `"level":"ERROR"`) && !strings.Contains(line, `"msg":"request"`) {
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// maxLogBytes bounds what a logBuffer keeps, so that a long load run's
// logs do not count as a heap leak.
const maxLogBytes = 256 << 10

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len()+len(p) > maxLogBytes {
		return len(p), nil // the first lines are kept, the rest dropped
	}
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// outcome is one request of a load run.
type outcome struct {
	op      string // "create" or "list"
	title   string
	status  int // 0 for a transport error
	err     error
	body    string
	retry   string
	start   time.Time
	elapsed time.Duration

	requestID string
}

// client returns an HTTP client whose connections are closed at the end of
// the test; its timeout is far above every server bound, so a hang shows.
func client(t *testing.T) *http.Client {
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 15 * time.Second}
}

func send(c *http.Client, method, url, auth, body string) outcome {
	o := outcome{start: time.Now()}
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		o.err = err
		return o
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	res, err := c.Do(req)
	o.elapsed = time.Since(o.start)
	if err != nil {
		o.err = err
		return o
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	o.elapsed = time.Since(o.start)
	o.status, o.body, o.retry, o.err = res.StatusCode, string(b), res.Header.Get("Retry-After"), err
	return o
}

var loadRuns atomic.Int64

// load runs workers that alternate creates and lists until stop is closed.
func load(c *http.Client, base, auth string, workers int, stop <-chan struct{}) []outcome {
	run := loadRuns.Add(1) // titles are unique across runs
	var mu sync.Mutex
	var all []outcome
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []outcome
			for i := 0; ; i++ {
				select {
				case <-stop:
					mu.Lock()
					all = append(all, mine...)
					mu.Unlock()
					return
				default:
				}
				var o outcome
				if i%2 == 0 {
					title := fmt.Sprintf("r%d-w%d-%d", run, w, i)
					o = send(c, http.MethodPost, base+"/notes/", auth, `{"title":"`+title+`"}`)
					o.op, o.title = "create", title
				} else {
					o = send(c, http.MethodGet, base+"/notes/?page=1", auth, "")
					o.op = "list"
				}
				mine = append(mine, o)
			}
		}()
	}
	wg.Wait()
	return all
}

// checkWrites counts the rows of every title: each acknowledged create
// (201) must be there exactly once, and no title may be there twice.
func checkWrites(t *testing.T, db *bun.DB, outs []outcome) (acked, ambiguous int) {
	t.Helper()
	var rows []Note
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Retried: on a loaded machine a new connection can take longer than
	// the stack's short acquire timeout.
	var err error
	for attempt := 0; attempt < 20; attempt++ {
		if err = db.NewSelect().Model(&rows).Scan(ctx); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("reading notes back: %v", err)
	}
	// Only rows of the load runs in outs count (a warm-up wrote others).
	runs := map[string]bool{}
	for _, o := range outs {
		if o.op == "create" {
			run, _, _ := strings.Cut(o.title, "-")
			runs[run] = true
		}
	}
	count := map[string]int{}
	total := 0
	for _, r := range rows {
		if run, _, _ := strings.Cut(r.Title, "-"); runs[run] {
			count[r.Title]++
			total++
		}
	}
	for title, n := range count {
		if n > 1 {
			t.Errorf("title %q stored %d times: a write was duplicated", title, n)
		}
	}
	for _, o := range outs {
		if o.op != "create" {
			continue
		}
		switch {
		case o.status == http.StatusCreated:
			acked++
			if count[o.title] != 1 {
				t.Errorf("acknowledged create %q is stored %d times", o.title, count[o.title])
			}
		case o.status == http.StatusServiceUnavailable && count[o.title] > 0:
			t.Errorf("create %q answered 503 (not applied, retry) is stored: a retry would duplicate it", o.title)
		case count[o.title] > 0:
			ambiguous++ // failed for the client, committed in the database: allowed
		}
	}
	if total > acked+ambiguous {
		t.Errorf("%d rows for %d acknowledged and %d ambiguous creates", total, acked, ambiguous)
	}
	return acked, ambiguous
}

// checkOutcomes fails on anything but a success, a DRF 503 with
// Retry-After or (for a create) the 500 of an ambiguous write, and on any
// request slower than bound (a hang detector: keep it far above the
// deadlines).
func checkOutcomes(t *testing.T, outs []outcome, bound time.Duration) (ok, unavailable int) {
	t.Helper()
	bad := 0
	for _, o := range outs {
		if o.elapsed > bound {
			t.Errorf("%s took %v, bound %v (status %d, err %v)", o.op, o.elapsed, bound, o.status, o.err)
		}
		switch {
		case o.err != nil:
			t.Errorf("%s: transport error %v after %v", o.op, o.err, o.elapsed)
		case o.status == http.StatusOK || o.status == http.StatusCreated:
			ok++
		case o.status == http.StatusServiceUnavailable && o.body == unavailableBody && o.retry != "":
			unavailable++
		case o.op == "create" && o.status == http.StatusInternalServerError && o.body == serverErrorBody && o.retry == "":
			// An ambiguous write (the connection died after the INSERT
			// was sent): never a 503, which would invite a duplicate.
		default:
			if bad++; bad <= 5 {
				t.Errorf("%s: status %d body %s", o.op, o.status, o.body)
			}
		}
	}
	return ok, unavailable
}

// percentile returns the p-th percentile (0 < p <= 100) of the outcomes' durations.
func percentile(outs []outcome, p int) time.Duration {
	if len(outs) == 0 {
		return 0
	}
	ds := make([]time.Duration, len(outs))
	for i, o := range outs {
		ds[i] = o.elapsed
	}
	slices.Sort(ds)
	return ds[(len(ds)*p+99)/100-1]
}

// warm runs a short load so that bounded caches (pgx's statement cache per
// connection, pools) are full before a leak baseline is taken: what they
// hold is bounded, not leaked.
func warm(c *http.Client, st *stack) {
	stop := make(chan struct{})
	done := make(chan []outcome)
	go func() { done <- load(c, st.url, "", 16, stop) }()
	time.Sleep(time.Second)
	close(stop)
	<-done
	c.CloseIdleConnections()
	time.Sleep(200 * time.Millisecond)
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, limit time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v: %s", what, limit, state)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// baseline is the process state leaks are measured against.
type baseline struct {
	goroutines int
	heap       uint64
}

// measure returns the goroutines and heap in use, not counting the fault
// proxies' own goroutines (three per proxied connection: the pool may
// legitimately keep more idle connections after a load than before).
func measure(proxies ...*faultproxy.Proxy) baseline {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	g := runtime.NumGoroutine()
	for _, p := range proxies {
		g -= 3 * p.Open()
	}
	return baseline{goroutines: g, heap: m.HeapAlloc}
}

// checkNoLeaks waits until goroutines and heap are back near base and no
// database connection is in use.
func checkNoLeaks(t *testing.T, base baseline, db *bun.DB, c *http.Client, proxies ...*faultproxy.Proxy) {
	t.Helper()
	c.CloseIdleConnections()
	lastStacks = ""
	defer func() {
		if t.Failed() && lastStacks != "" {
			t.Logf("goroutines at the last check:\n%.20000s", lastStacks)
		}
	}()
	waitFor(t, "goroutines and heap back to baseline", 15*time.Second, func() (bool, string) {
		now := measure(proxies...)
		if now.goroutines > base.goroutines+5 {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			lastStacks = string(buf)
		}
		state := fmt.Sprintf("goroutines %d (baseline %d), heap %d KiB (baseline %d KiB)", now.goroutines, base.goroutines, now.heap>>10, base.heap>>10)
		return now.goroutines <= base.goroutines+5 && now.heap <= base.heap+base.heap/2+8<<20, state
	})
	waitFor(t, "database connections returned", 5*time.Second, func() (bool, string) {
		s := db.Stats()
		if p := models.Pool(db); p != nil {
			// database/sql's connections come from this pool too, and
			// views read on it directly (internal/pgread).
			ps := p.Stat()
			return s.InUse == 0 && ps.AcquiredConns() == 0, fmt.Sprintf("%+v, pgx pool acquired %d", s, ps.AcquiredConns())
		}
		return s.InUse == 0, fmt.Sprintf("%+v", s)
	})
}

// lastStacks holds the goroutine dump of the last failed leak check.
var lastStacks string

func decode(t *testing.T, body string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
}

// cosworthConfig is a server configuration with the given request deadline.
func cosworthConfig(d time.Duration) cosworth.Config { return cosworth.Config{RequestTimeout: d} }

// warmPool opens n of the pool's connections: on a loaded machine opening
// one can take longer than the stack's short acquire timeout, which would
// turn a test's slow requests into 503s.
func warmPool(t *testing.T, db *bun.DB, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conns := make([]*pgxpool.Conn, 0, n)
	for range n {
		conn, err := models.Pool(db).Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, conn)
	}
	for _, conn := range conns {
		conn.Release()
	}
}
