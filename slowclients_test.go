package cosworth_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cosworth/cosworth"
)

// TestSlowClientsUnderLoad opens a few hundred slow connections (trickled
// headers, trickled bodies, idle keep-alives) against a real server while a
// normal client keeps sending requests. The normal client must keep getting
// answers, and the server's timeouts must close every slow connection.
func TestSlowClientsUnderLoad(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("load test")
	}
	const perKind = 100 // 3 kinds: 300 slow connections, ~600 descriptors in this process
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && lim.Cur < 3*perKind*2+200 {
		t.Skipf("file-descriptor limit %d too low for %d slow connections", lim.Cur, 3*perKind)
	}
	cfg := cosworth.Config{
		ReadHeaderTimeout: 500 * time.Millisecond,
		ReadTimeout:       3500 * time.Millisecond,
		WriteTimeout:      5 * time.Second,
		IdleTimeout:       500 * time.Millisecond,
	}
	url := serve(t, slogDiscard(), cfg, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := io.Copy(io.Discard, r.Body)
		if err != nil {
			return
		}
		fmt.Fprintf(w, "%d", n)
	}))
	addr := strings.TrimPrefix(url, "http://")

	type result struct {
		kind   string
		closed time.Duration // how long the server took to close it; 0 = never
		err    error
	}
	results := make(chan result, 3*perKind)
	var wg sync.WaitGroup
	// trickle writes one byte of rest every 50ms until the server closes
	// the connection, after writing head at once.
	trickle := func(kind, head, rest string) {
		defer wg.Done()
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			results <- result{kind: kind, err: err}
			return
		}
		defer c.Close()
		start := time.Now()
		_ = c.SetDeadline(start.Add(12 * time.Second))
		if _, err := io.WriteString(c, head); err != nil {
			results <- result{kind: kind, err: err}
			return
		}
		closed := make(chan struct{})
		go func() { _, _ = io.Copy(io.Discard, c); close(closed) }()
		for i := 0; ; i++ {
			select {
			case <-closed:
				results <- result{kind: kind, closed: time.Since(start)}
				return
			case <-time.After(50 * time.Millisecond):
			}
			if time.Since(start) > 9*time.Second {
				results <- result{kind: kind}
				return
			}
			_, _ = c.Write([]byte{rest[i%len(rest)]})
		}
	}
	idle := func() {
		defer wg.Done()
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			results <- result{kind: "idle", err: err}
			return
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		br := bufio.NewReader(c)
		fmt.Fprint(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			results <- result{kind: "idle", err: err}
			return
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		start := time.Now()
		_, err = br.ReadByte() // blocks until the server closes the idle connection
		if err == io.EOF {
			results <- result{kind: "idle", closed: time.Since(start)}
			return
		}
		results <- result{kind: "idle", err: err}
	}
	for range perKind {
		wg.Add(3)
		go trickle("header", "GET / HTTP/1.1\r\n", "X-Slow: aaaaaaaa\r\n")
		go trickle("body", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n", "x")
		go idle()
	}

	// A normal client keeps working while the slow ones hang around.
	c := client(t)
	var ok, failed atomic.Int64
	stop := time.Now().Add(2 * time.Second)
	for time.Now().Before(stop) {
		res, err := c.Post(url+"/", "application/json", strings.NewReader(`{"a":1}`))
		if err != nil {
			failed.Add(1)
			t.Errorf("normal client: %v", err)
			continue
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || string(b) != "7" {
			failed.Add(1)
			t.Errorf("normal client: %d %q", res.StatusCode, b)
			continue
		}
		ok.Add(1)
	}
	// Few answers only means a starved machine; a failed one is a failure.
	if ok.Load() < 3 || failed.Load() > 0 {
		t.Fatalf("the normal client got %d answers and %d failures in 2s beside slow clients", ok.Load(), failed.Load())
	}

	wg.Wait()
	close(results)
	// Counts and ordering, not wall-clock bounds (a loaded machine delays
	// every close): each slow connection was closed by the server, and the
	// timeouts applied in their order: header and idle connections
	// (500ms) close well before trickled bodies (ReadTimeout 3.5s). A
	// timeout that is not applied makes net/http fall back to ReadTimeout,
	// which puts that kind's median next to the bodies'.
	closes := map[string][]time.Duration{}
	for r := range results {
		if r.err != nil {
			t.Errorf("%s: %v", r.kind, r.err)
			continue
		}
		if r.closed == 0 {
			t.Errorf("%s connection was never closed by the server", r.kind)
			continue
		}
		closes[r.kind] = append(closes[r.kind], r.closed)
	}
	median := func(kind string) time.Duration {
		d := closes[kind]
		if len(d) == 0 {
			return 0
		}
		slices.Sort(d)
		return d[len(d)/2]
	}
	for _, kind := range []string{"header", "body", "idle"} {
		if len(closes[kind]) != perKind {
			t.Errorf("%s: %d of %d connections closed by the server", kind, len(closes[kind]), perKind)
		}
	}
	for _, fast := range []string{"header", "idle"} {
		if 2*median(fast) >= median("body") {
			t.Errorf("median close: %s %v, body %v; want the %s timeout applied first", fast, median(fast), median("body"), fast)
		}
	}
	worst := map[string]time.Duration{}
	for kind, d := range closes {
		worst[kind] = slices.Max(d)
	}
	t.Logf("normal requests answered: %d; slowest close: header %v, body %v, idle %v", ok.Load(), worst["header"], worst["body"], worst["idle"])
}
