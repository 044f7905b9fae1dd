package faulttest_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cosworth/cosworth"
)

// TestConnLimitEndToEnd: with PostgreSQL black-holed, requests waiting on
// it and idle clients fill Config.MaxConns; one more connection is
// answered the DRF 503 with Retry-After and closed without its request
// reaching a view, and the refusal is logged. Once PostgreSQL is back and
// the connections closed, the service answers again.
func TestConnLimitEndToEnd(t *testing.T) {
	const (
		limit   = 12
		waiting = 4 // requests stuck on PostgreSQL
	)
	st := newStack(t, stackOptions{cfg: cosworth.Config{MaxConns: limit, RequestTimeout: 5 * time.Second}})
	c := client(t)
	if o := send(c, http.MethodPost, st.url+"/notes/", "", `{"title":"x"}`); o.status != http.StatusCreated {
		t.Fatalf("seed: %d %s", o.status, o.body)
	}
	c.CloseIdleConnections()
	addr := strings.TrimPrefix(st.url, "http://")

	dropped := st.pg.Dropped()
	st.pg.Blackhole()
	var wg sync.WaitGroup
	for range waiting {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A client of its own each: one connection per request.
			send(&http.Client{Timeout: 15 * time.Second}, http.MethodGet, st.url+"/notes/", "", "")
		}()
	}
	waitFor(t, "the requests waiting on PostgreSQL", 10*time.Second, func() (bool, string) {
		return st.pg.Dropped() >= dropped+waiting, ""
	})
	var idle []net.Conn
	for range limit - waiting {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		idle = append(idle, conn)
	}

	over, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer over.Close()
	_ = over.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(over, "GET /notes/ HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(over), nil)
	if err != nil {
		t.Fatalf("over the limit: %v", err)
	}
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusServiceUnavailable || string(body) != unavailableBody || res.Header.Get("Retry-After") == "" || !res.Close {
		t.Fatalf("over the limit: %d %s Retry-After %q close %v", res.StatusCode, body, res.Header.Get("Retry-After"), res.Close)
	}
	if n := strings.Count(st.logs.String(), `"msg":"connection limit reached, connection refused"`); n != 1 {
		t.Fatalf("%d refusal log lines, want 1", n)
	}

	st.pg.Restore()
	for _, conn := range idle {
		conn.Close()
	}
	wg.Wait()
	waitFor(t, "the service answering after the restore", 10*time.Second, func() (bool, string) {
		o := send(c, http.MethodGet, st.url+"/notes/", "", "")
		return o.status == http.StatusOK, o.body
	})
}
