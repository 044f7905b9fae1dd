package realtime_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/realtime"
)

// connect opens a stream with a raw request and returns the status.
func connect(t *testing.T, url, auth string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", auth)
	resp, err := http.DefaultClient.Do(req)
	dbtest.Must(t, err, "GET")
	resp.Body.Close()
	return resp.StatusCode
}

// dialRaw sends an SSE request on a connection whose receive buffer is
// small, and never reads it: a client that does not keep up.
func dialRaw(t *testing.T, addr, auth string) net.Conn {
	t.Helper()
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var err error
		_ = c.Control(func(fd uintptr) { err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		return err
	}}
	c, err := d.Dial("tcp", addr)
	dbtest.Must(t, err, "dial")
	t.Cleanup(func() { c.Close() })
	fmt.Fprintf(c, "GET /notes/events/ HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\nAuthorization: %s\r\n\r\n", addr, auth)
	return c
}

// TestSlowConsumerDisconnected: a subscriber that never reads is
// disconnected once its send buffer is full; the others receive every
// event, in order.
func TestSlowConsumerDisconnected(t *testing.T) {
	w := newWorld(t, "alice")
	check := goroutines(t)
	in := newInstance(t, w, setup{opts: realtime.Options[Note]{SendBuffer: 4, Replay: 8, WriteTimeout: time.Second}})
	auth := w.tokens["alice"]
	slow := dialRaw(t, in.srv.Listener.Addr().String(), auth)
	fast := dialSSE(t, in.srv.URL+"/notes/events/", "Authorization", auth)
	ws := dialWS(t, in.srv.URL+"/notes/events/", "Authorization", auth)

	big := strings.Repeat("x", 256<<10)
	const n = 40 // 10 MiB each way: more than the kernel buffers hold
	var l1, l2 uint64
	for i := range n {
		// In step with the readers, which then never lag by more than
		// one event, while the slow client falls behind.
		in.write(t, w, "alice", "POST", "/notes/", fmt.Sprintf(`{"body":"%d %s"}`, i, big), 201)
		want := fmt.Sprintf(`created "body":"%d x`, i)
		expect(t, "fast", fast.msgs, &l1, want)
		expect(t, "ws", ws.msgs, &l2, want)
	}

	// The slow client's stream was closed: reading it now ends (at EOF).
	_ = slow.SetReadDeadline(time.Now().Add(30 * time.Second))
	got, err := io.Copy(io.Discard, bufio.NewReader(slow))
	if err != nil {
		t.Fatalf("the slow stream was not closed: %v after %d bytes", err, got)
	}
	if got >= n*(256<<10) {
		t.Fatalf("the slow client received %d bytes: every event", got)
	}
	in.cancel()
	in.feed.Wait()
	in.srv.Close()
	fast.resp.Body.Close()
	check()
}

// TestBounds: streams beyond MaxStreamsPerUser or MaxStreams are refused
// with 503; a closed stream frees its slot.
func TestBounds(t *testing.T) {
	w := newWorld(t, "alice", "bob", "carol")
	in := newInstance(t, w, setup{opts: realtime.Options[Note]{MaxStreams: 3, MaxStreamsPerUser: 2}})
	url := in.srv.URL + "/notes/events/"
	a1 := dialSSE(t, url, "Authorization", w.tokens["alice"])
	dialSSE(t, url, "Authorization", w.tokens["alice"])
	if got := connect(t, url, w.tokens["alice"]); got != 503 {
		t.Fatalf("alice's third stream: %d, want 503", got)
	}
	dialWS(t, url, "Authorization", w.tokens["bob"])
	if got := connect(t, url, w.tokens["carol"]); got != 503 {
		t.Fatalf("a fourth stream: %d, want 503", got)
	}
	a1.resp.Body.Close()
	for i := 0; ; i++ {
		if connect(t, url, w.tokens["carol"]) == 200 {
			break
		}
		if i == 500 {
			t.Fatal("a closed stream did not free its slot")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRequests: what a stream's request must be.
func TestRequests(t *testing.T) {
	w := newWorld(t, "alice")
	in := newInstance(t, w, setup{})
	url := in.srv.URL + "/notes/events/"
	for _, c := range []struct {
		method, accept, auth string
		status               int
		body                 string
	}{
		{"GET", "application/json", "", 406, `{"detail":"Could not satisfy the request Accept header."}`},
		{"POST", "text/event-stream", "", 405, `{"detail":"Method \"POST\" not allowed."}`},
		{"GET", "text/event-stream", "Token nope", 401, `{"detail":"Invalid token."}`},
		{"HEAD", "text/event-stream", "", 200, ``},
	} {
		req, _ := http.NewRequest(c.method, url, nil)
		req.Header.Set("Accept", c.accept)
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		dbtest.Must(t, err, "request")
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status || strings.TrimSpace(string(b)) != c.body {
			t.Errorf("%s %s: %d %s, want %d %s", c.method, c.accept, resp.StatusCode, b, c.status, c.body)
		}
	}
}

// TestResume: Last-Event-ID replays what the stream missed, without
// duplicates; an id the replay buffer no longer covers starts with reset.
func TestResume(t *testing.T) {
	w := newWorld(t, "alice")
	in := newInstance(t, w, setup{opts: realtime.Options[Note]{Replay: 3}})
	url := in.srv.URL + "/notes/events/"
	auth := w.tokens["alice"]
	first := dialSSE(t, url, "Authorization", auth)
	post := func(body string) { in.write(t, w, "alice", "POST", "/notes/", `{"body":"`+body+`"}`, 201) }
	post("1")
	post("2")
	var ids [5]uint64
	var l uint64
	for i := range 2 {
		expect(t, "first", first.msgs, &l, `created "body":"`+fmt.Sprint(i+1))
		ids[i] = l
	}
	first.resp.Body.Close()
	post("3")
	post("4")

	again := dialSSE(t, url, "Authorization", auth, "Last-Event-ID", fmt.Sprint(ids[1]))
	l = ids[1]
	expect(t, "resumed", again.msgs, &l, `created "body":"3"`, `created "body":"4"`)
	ids[3] = l
	post("5")
	expect(t, "resumed", again.msgs, &l, `created "body":"5"`)

	// The buffer holds 3, 4, 5: from 2 it is complete, from 1 it is not.
	from2 := dialSSE(t, url, "Authorization", auth, "Last-Event-ID", fmt.Sprint(ids[1]))
	l = ids[1]
	expect(t, "from 2", from2.msgs, &l, `created "body":"3"`, `created "body":"4"`, `created "body":"5"`)
	from1 := dialSSE(t, url, "Authorization", auth, "Last-Event-ID", fmt.Sprint(ids[0]))
	if m := next(t, from1.msgs); m.event != "reset" {
		t.Fatalf("from 1: %+v, want reset", m)
	}
	// WebSockets resume with ?last_event_id=.
	ws := dialWS(t, url+"?last_event_id="+fmt.Sprint(ids[3]), "Authorization", auth)
	l = ids[3]
	expect(t, "ws", ws.msgs, &l, `created "body":"5"`)
}
