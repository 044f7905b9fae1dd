package cosworth_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cosworth/cosworth"
)

func TestConfigDefaults(t *testing.T) {
	got := cosworth.NewServer(slog.Default(), cosworth.Config{MaxInFlight: -5, ReadTimeout: -time.Second}, http.NotFoundHandler()).Config()
	want := cosworth.Config{
		Addr:              "127.0.0.1:8000",
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		MaxBodyBytes:      1 << 20,
		MaxQueryBytes:     4 << 10,
		MaxQueryParams:    64,
		RequestTimeout:    20 * time.Second,
		MaxInFlight:       1024,
		MaxConns:          4096,
		ShutdownTimeout:   10 * time.Second,
	}
	if got != want {
		t.Fatalf("defaults:\n got %+v\nwant %+v", got, want)
	}
	if got.RequestTimeout >= got.WriteTimeout {
		t.Fatal("the request deadline must fire before the write timeout, so a 503 can still be written")
	}
	custom := cosworth.Config{Addr: ":1", MaxBodyBytes: 7, MaxInFlight: 3}
	if c := cosworth.NewServer(slog.Default(), custom, http.NotFoundHandler()).Config(); c.Addr != ":1" || c.MaxBodyBytes != 7 || c.MaxInFlight != 3 {
		t.Fatalf("explicit values not kept: %+v", c)
	}
}

func TestHeaderTooLarge(t *testing.T) {
	t.Parallel()
	logger, _ := newLogger()
	url := serve(t, logger, cosworth.Config{MaxHeaderBytes: 1 << 10}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "ok")
	}))
	c := client(t)
	req, _ := http.NewRequest(http.MethodGet, url+"/", nil)
	req.Header.Set("X-Big", strings.Repeat("x", 8<<10)) // net/http allows MaxHeaderBytes + 4 KiB of slack
	if res := do(t, c, req); res.status != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("status %d, want 431", res.status)
	}
	req, _ = http.NewRequest(http.MethodGet, url+"/", nil)
	req.Header.Set("X-Small", strings.Repeat("x", 512))
	if res := do(t, c, req); res.status != 200 {
		t.Fatalf("small headers: %d", res.status)
	}
}

// readUntilClosed reads conn until the server closes it and returns how
// long that took, failing the test when it stays open past limit.
func readUntilClosed(t *testing.T, conn net.Conn, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	_ = conn.SetReadDeadline(start.Add(limit))
	_, err := io.Copy(io.Discard, conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("connection still open after %v", limit)
	}
	return time.Since(start)
}

func TestSlowClientTimeouts(t *testing.T) {
	t.Parallel()
	logger, _ := newLogger()
	// Each bound below is shorter than ReadTimeout, the fallback net/http
	// uses for a missing ReadHeaderTimeout or IdleTimeout, so a timeout that
	// is not applied fails the test.
	cfg := cosworth.Config{
		ReadHeaderTimeout: 300 * time.Millisecond,
		ReadTimeout:       4 * time.Second,
		IdleTimeout:       300 * time.Millisecond,
	}
	url := serve(t, logger, cfg, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return
		}
		fmt.Fprintf(w, "%d", len(b))
	}))
	addr := strings.TrimPrefix(url, "http://")
	dial := func() net.Conn {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}

	t.Run("slow headers", func(t *testing.T) {
		c := dial()
		fmt.Fprint(c, "GET / HTTP/1.1\r\nHost: x\r\n") // never finishes the headers
		readUntilClosed(t, c, 2*time.Second)
	})
	t.Run("slow body", func(t *testing.T) {
		c := dial()
		fmt.Fprint(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
		readUntilClosed(t, c, 6*time.Second)
	})
	t.Run("idle keep-alive", func(t *testing.T) {
		c := dial()
		fmt.Fprint(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		br := bufio.NewReader(c)
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
			t.Fatalf("idle connection: %v, want EOF (closed by the server)", err)
		}
	})
}

func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	logger, _ := newLogger()
	entered := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			close(entered)
			time.Sleep(500 * time.Millisecond)
		}
		fmt.Fprint(w, "finished")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- cosworth.NewServer(logger, cosworth.Config{ShutdownTimeout: 5 * time.Second}, h).Serve(ctx, ln)
	}()

	c := client(t)
	var wg sync.WaitGroup
	var slow response
	wg.Add(1)
	go func() { defer wg.Done(); slow = get(t, c, "http://"+addr+"/slow") }()
	<-entered
	cancel()
	// New connections are refused once shutdown began.
	deadline := time.Now().Add(2 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			break
		}
		conn.Close()
		if time.Now().After(deadline) {
			t.Fatal("still accepting connections after shutdown began")
		}
		time.Sleep(10 * time.Millisecond)
	}
	wg.Wait()
	if slow.status != 200 || slow.body != "finished" {
		t.Fatalf("in-flight request: %d %q, want it to finish", slow.status, slow.body)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return")
	}
}

func TestShutdownTimeout(t *testing.T) {
	t.Parallel()
	logger, _ := newLogger()
	entered := make(chan struct{})
	released := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		select {
		case <-time.After(30 * time.Second):
		case <-r.Context().Done(): // the connection was closed after the timeout
			close(released)
		}
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- cosworth.NewServer(logger, cosworth.Config{ShutdownTimeout: 300 * time.Millisecond}, h).Serve(ctx, ln)
	}()
	go func() {
		res, err := client(t).Get("http://" + ln.Addr().String() + "/")
		if err == nil {
			res.Body.Close()
		}
	}()
	<-entered
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Serve = %v, want an error wrapping context.DeadlineExceeded", err)
		}
		t.Logf("shutdown took %v with a 300ms bound", time.Since(start))
		select {
		case <-released:
		case <-time.After(2 * time.Second):
			t.Fatal("the stuck request's connection was left open after Serve returned")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return: a stuck request held shutdown past its timeout")
	}
}

func TestListenAndServeError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	srv := cosworth.NewServer(slog.New(slog.DiscardHandler), cosworth.Config{Addr: ln.Addr().String()}, http.NotFoundHandler())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.ListenAndServe(ctx); err == nil || !strings.HasPrefix(err.Error(), "cosworth: listen") {
		t.Fatalf("ListenAndServe on a used address = %v", err)
	}
}
