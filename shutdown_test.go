package cosworth_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cosworth/cosworth"
)

// startServer runs srv on a loopback listener until the returned cancel is
// called; the channel yields Serve's result.
func startServer(t *testing.T, srv *cosworth.Server) (addr string, cancel context.CancelFunc, done <-chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	d := make(chan error, 1)
	go func() { d <- srv.Serve(ctx, ln) }()
	return ln.Addr().String(), cancel, d
}

func waitServe(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("Serve did not return")
		return nil
	}
}

// TestDraining: once shutdown begins, /readyz answers 503 on a connection
// that is still open (during DrainDelay), a stream watching Draining ends
// its response, and Serve returns nil after the stream ended.
func TestDraining(t *testing.T) {
	t.Parallel()
	if cosworth.Draining(context.Background()) != nil {
		t.Fatal("Draining of a context that no Server made must be nil")
	}
	logger, _ := newLogger()
	mux := http.NewServeMux()
	mux.Handle("/readyz", cosworth.Health(nil, cosworth.PingerFunc(func(context.Context) error { return nil })))
	streaming := make(chan struct{})
	mux.HandleFunc("/stream", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "tick\n")
		_ = http.NewResponseController(w).Flush()
		close(streaming)
		<-cosworth.Draining(r.Context())
		fmt.Fprint(w, "bye\n")
	})
	srv := cosworth.NewServer(logger, cosworth.Config{DrainDelay: 3 * time.Second, ShutdownTimeout: 20 * time.Second}, mux)
	addr, cancel, done := startServer(t, srv)
	c := client(t)
	if res := get(t, c, "http://"+addr+"/readyz"); res.status != 200 {
		t.Fatalf("before shutdown: %d %s", res.status, res.body)
	}

	res, err := c.Get("http://" + addr + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	<-streaming
	cancel()
	<-srv.Draining()
	// The keep-alive connection of the first /readyz is still open during
	// the drain delay.
	if res := get(t, c, "http://"+addr+"/readyz"); res.status != 503 || res.header.Get("Retry-After") == "" {
		t.Fatalf("while draining: %d %s, want 503 with Retry-After", res.status, res.body)
	}
	body, err := io.ReadAll(res.Body)
	if err != nil || string(body) != "tick\nbye\n" {
		t.Fatalf("stream body %q (%v), want it ended by Draining", body, err)
	}
	if err := waitServe(t, done); err != nil {
		t.Fatalf("Serve = %v after a complete shutdown", err)
	}
}

// TestShutdownAbandons: an OnShutdown function that never returns is
// abandoned at the one deadline; the others run concurrently and finish;
// Serve returns ErrShutdownAbandoned and logs the name.
func TestShutdownAbandons(t *testing.T) {
	t.Parallel()
	logger, logs := newLogger()
	srv := cosworth.NewServer(logger, cosworth.Config{ShutdownTimeout: 300 * time.Millisecond}, http.NotFoundHandler())
	stuck := make(chan struct{})
	t.Cleanup(func() { close(stuck) })
	var order []string
	var mu sync.Mutex
	srv.OnShutdown("stuck pool", func(context.Context) error { <-stuck; return nil })
	srv.OnShutdown("redis", func(ctx context.Context) error {
		mu.Lock()
		order = append(order, "redis")
		mu.Unlock()
		return nil
	})
	srv.OnShutdown("failing", func(context.Context) error { return errors.New("boom") })
	_, cancel, done := startServer(t, srv)
	cancel()
	err := waitServe(t, done)
	if !errors.Is(err, cosworth.ErrShutdownAbandoned) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Serve = %v, want ErrShutdownAbandoned and DeadlineExceeded", err)
	}
	if !strings.Contains(err.Error(), "stuck pool") || strings.Contains(err.Error(), "redis") {
		t.Fatalf("Serve = %v, want only the stuck function named", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(order) != 1 {
		t.Fatalf("the Redis closer ran %d times, want 1", len(order))
	}
	if got := logs.lines(t, "shutdown: abandoned at the deadline, still running"); len(got) != 1 || got[0]["name"] != "stuck pool" {
		t.Fatalf("abandon log lines %v\n%s", got, logs)
	}
	if got := logs.lines(t, "shutdown: close failed"); len(got) != 1 || got[0]["name"] != "failing" {
		t.Fatalf("close failure log lines %v", got)
	}
	if len(logs.lines(t, "stopped, work abandoned")) != 1 {
		t.Fatalf("no final log line:\n%s", logs)
	}
}

// TestMaxConns: with MaxConns open connections, one more is answered 503
// with Retry-After and closed without its request being served; once a
// connection closes, a new one is served again.
func TestMaxConns(t *testing.T) {
	t.Parallel()
	logger, logs := newLogger()
	url := serve(t, logger, cosworth.Config{MaxConns: 2}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "ok")
	}))
	addr := strings.TrimPrefix(url, "http://")
	// Two idle keep-alive connections that each got an answer fill the bound.
	var open []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if status := rawGet(t, c); status != 200 {
			t.Fatalf("within the bound: %d", status)
		}
		open = append(open, c)
	}
	over, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer over.Close()
	_ = over.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(over, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(over), nil)
	if err != nil {
		t.Fatalf("over the bound: %v", err)
	}
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 503 || res.Header.Get("Retry-After") != "1" || string(b) != `{"detail":"Service temporarily unavailable, try again later."}` {
		t.Fatalf("over the bound: %d %q %s", res.StatusCode, res.Header.Get("Retry-After"), b)
	}
	if len(logs.lines(t, "connection limit reached, connection refused")) != 1 {
		t.Fatalf("the refusal was not logged:\n%s", logs)
	}
	if len(logs.lines(t, "request")) != 2 {
		t.Fatalf("the refused connection's request reached the handler:\n%s", logs)
	}
	// Closing one frees its slot: a new connection is served (the server
	// notices the close asynchronously, so try a few times).
	open[0].Close()
	for i := 0; ; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		status := rawGet(t, c)
		c.Close()
		if status == 200 {
			break
		}
		if i == 100 {
			t.Fatalf("no slot freed after a close: %d", status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// rawGet sends one GET on c and returns the status.
func rawGet(t *testing.T, c net.Conn) int {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	_ = c.SetDeadline(time.Time{})
	return res.StatusCode
}
