package faulttest_test

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"
)

// TestPostgresOutageUnderLoad cuts (connection refused) and black-holes
// (packets dropped) PostgreSQL while 16 clients create and list notes
// through a real server. During the fault every request is a DRF 503 with
// Retry-After within the request deadline; after the restore the service
// recovers by itself; every acknowledged create is stored exactly once;
// the pool never opens more than its bound; goroutines, heap and
// connections return to their baseline.
func TestPostgresOutageUnderLoad(t *testing.T) {
	for _, fault := range []string{"cut", "blackhole"} {
		t.Run(fault, func(t *testing.T) {
			st := newStack(t, stackOptions{})
			c := client(t)
			// Warm up, then take the baseline with the server and pool idle.
			warm(c, st)
			base := measure(st.pg)

			stop := make(chan struct{})
			var maxOpen atomic.Int64
			sampled := make(chan struct{})
			go func() {
				defer close(sampled)
				for {
					select {
					case <-stop:
						return
					case <-time.After(5 * time.Millisecond):
					}
					if n := int64(st.pg.Open()); n > maxOpen.Load() {
						maxOpen.Store(n)
					}
				}
			}()
			results := make(chan []outcome)
			go func() { results <- load(c, st.url, "", 16, stop) }()

			time.Sleep(time.Second)
			faultAt := time.Now()
			if fault == "cut" {
				st.pg.Cut()
			} else {
				st.pg.Blackhole()
			}
			time.Sleep(1500 * time.Millisecond)
			restoreAt := time.Now()
			st.pg.Restore()
			time.Sleep(time.Second)
			close(stop)
			outs := <-results
			<-sampled

			// No hang: the request deadline plus the time to write an answer.
			ok, unavailable := checkOutcomes(t, outs, requestTimeout+hangMargin)
			if t.Failed() {
				t.Logf("server error logs:\n%.8000s", st.errorLogs())
			}
			var during, duringOK, after, afterOK int
			for _, o := range outs {
				switch {
				case o.start.After(faultAt.Add(100*time.Millisecond)) && o.start.Add(o.elapsed).Before(restoreAt):
					// Started and finished inside the fault (a request that
					// straddles the restore may rightly succeed).
					during++
					if o.status/100 == 2 {
						duringOK++
						t.Logf("success during the fault: %s at +%v took %v: %d %.80s", o.op, o.start.Sub(faultAt), o.elapsed, o.status, o.body)
					}
				case o.start.After(restoreAt):
					after++
					if o.status/100 == 2 {
						afterOK++
					}
				}
			}
			if during == 0 || duringOK != 0 {
				t.Errorf("during the %s: %d requests, %d succeeded; want some, all refused", fault, during, duringOK)
			}
			// Recovery by itself, without a time bound (a loaded machine
			// reconnects slowly): once one request succeeds again, the
			// next ones all do.
			waitFor(t, "a success after the restore", 15*time.Second, func() (bool, string) {
				o := send(c, http.MethodGet, st.url+"/notes/", "", "")
				return o.status == http.StatusOK, fmt.Sprint(o.status)
			})
			for i := range 16 {
				op, body := http.MethodGet, ""
				if i%2 == 0 {
					op, body = http.MethodPost, fmt.Sprintf(`{"title":"after-%d"}`, i)
				}
				if o := send(c, op, st.url+"/notes/", "", body); o.status/100 != 2 {
					t.Errorf("after recovery: %s %d %s", op, o.status, o.body)
				}
			}
			acked, ambiguous := checkWrites(t, st.db, outs)
			// pgx may open one extra connection per canceled query to send
			// PostgreSQL's cancel request; the pool itself stays at maxConns.
			if m := maxOpen.Load(); m > 2*maxConns {
				t.Errorf("%d connections open to PostgreSQL at once, pool bound %d", m, maxConns)
			}
			t.Logf("%d requests: %d ok, %d unavailable; during fault %d, after %d; %d creates acknowledged, %d failed but committed; max PG connections %d",
				len(outs), ok, unavailable, during, after, acked, ambiguous, maxOpen.Load())
			checkNoLeaks(t, base, st.db, c, st.pg)
		})
	}
}

// TestRequestDeadlineReachesPostgres checks that the server's per-request
// deadline is the deadline of the database call: a query that would run
// 30s is answered 503 at the deadline, and PostgreSQL itself stops running
// it (the query is canceled, not abandoned).
func TestRequestDeadlineReachesPostgres(t *testing.T) {
	const marker = "pg_sleep(30.0123)"
	st := newStack(t, stackOptions{
		cfg: cosworthConfig(500 * time.Millisecond),
		queryset: func(r *http.Request, q *bun.SelectQuery) *bun.SelectQuery {
			if r.URL.Query().Get("slow") != "" {
				return q.Where(marker + " IS NOT NULL")
			}
			return q
		},
	})
	c := client(t)
	// The condition is evaluated per row: the table needs one.
	if o := send(c, http.MethodPost, st.url+"/notes/", "", `{"title":"x"}`); o.status != http.StatusCreated {
		t.Fatalf("create: %d %s", o.status, o.body)
	}
	o := send(c, http.MethodGet, st.url+"/notes/?slow=1", "", "")
	if o.status != http.StatusServiceUnavailable || o.body != unavailableBody {
		t.Fatalf("slow query: %d %s, want the DRF 503", o.status, o.body)
	}
	if o.elapsed > hangMargin {
		t.Fatalf("slow query answered after %v with a 500ms request deadline: it ran on", o.elapsed)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	waitFor(t, "the query canceled in PostgreSQL", 3*time.Second, func() (bool, string) {
		n, err := st.db.NewSelect().TableExpr("pg_stat_activity").
			Where("query LIKE ?", "%"+marker+"%").Where("state = 'active'").Where("pid <> pg_backend_pid()").Count(ctx)
		return err == nil && n == 0, fmt.Sprintf("%d still running (err %v)", n, err)
	})
}

// TestNoLeaksAfterBurst runs a burst of 32 concurrent clients for a second
// and checks that goroutines, heap and database connections return to
// their baseline once it is over.
func TestNoLeaksAfterBurst(t *testing.T) {
	st := newStack(t, stackOptions{})
	c := client(t)
	warm(c, st)
	base := measure(st.pg)
	stop := make(chan struct{})
	results := make(chan []outcome)
	go func() { results <- load(c, st.url, "", 32, stop) }()
	time.Sleep(time.Second)
	close(stop)
	outs := <-results
	ok, unavailable := checkOutcomes(t, outs, requestTimeout+hangMargin)
	if t.Failed() {
		t.Logf("server error logs:\n%.8000s", st.errorLogs())
	}
	if ok == 0 {
		t.Fatal("no request succeeded")
	}
	acked, _ := checkWrites(t, st.db, outs)
	t.Logf("%d requests: %d ok, %d unavailable (pool of %d, acquire timeout %v); %d creates", len(outs), ok, unavailable, maxConns, acquireTimeout, acked)
	checkNoLeaks(t, base, st.db, c, st.pg)
}
