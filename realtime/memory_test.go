package realtime_test

import (
	"bytes"
	"fmt"
	"net"
	"runtime"
	"testing"

	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/realtime"
)

// raceEnabled is set by race_test.go when the race detector is on: it
// adds its own shadow memory per goroutine and allocation, so memory is
// measured without it (scripts/test.sh runs TestIdleSubscriberMemory in a
// build without -race).
var raceEnabled bool

// inUse is the memory the process holds for objects and goroutine
// stacks, after a collection.
func inUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse
}

// idle opens a stream on a raw connection (a client that holds almost
// nothing) and waits until the server has accepted it.
func idle(t *testing.T, addr, auth string, ws bool) net.Conn {
	c, err := net.Dial("tcp", addr)
	dbtest.Must(t, err, "dial")
	req := "GET /notes/events/ HTTP/1.1\r\nHost: " + addr + "\r\nAuthorization: " + auth + "\r\n"
	end := []byte(":\n\n")
	if ws {
		req += "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
		end = []byte("\r\n\r\n")
	} else {
		req += "Accept: text/event-stream\r\n"
	}
	_, err = c.Write([]byte(req + "\r\n"))
	dbtest.Must(t, err, "write")
	var buf [1024]byte
	n := 0
	for !bytes.Contains(buf[:n], end) {
		m, err := c.Read(buf[n:])
		dbtest.Must(t, err, "read the response")
		n += m
	}
	if !bytes.HasPrefix(buf[:n], []byte("HTTP/1.1 101")) && !bytes.HasPrefix(buf[:n], []byte("HTTP/1.1 200")) {
		t.Fatalf("response: %s", buf[:n])
	}
	return c
}

// TestIdleSubscriberMemory: 1,000 idle subscribers of each transport cost
// less than 16 KiB each: heap and goroutine stacks of the whole process
// (the raw client connections included), measured after a collection.
func TestIdleSubscriberMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 2,000 connections")
	}
	if raceEnabled {
		t.Skip("the race detector's shadow memory is not a subscriber's: scripts/test.sh runs this test without -race")
	}
	w := newWorld(t, "alice")
	in := newInstance(t, w, setup{opts: realtime.Options[Note]{MaxStreams: 5000, MaxStreamsPerUser: 5000}})
	addr := in.srv.Listener.Addr().String()
	const n = 1000
	for _, ws := range []bool{true, false} {
		name := map[bool]string{false: "SSE", true: "WebSocket"}[ws]
		t.Run(name, func(t *testing.T) {
			// Warm up: the first streams set up pools and plans.
			for range 10 {
				idle(t, addr, w.tokens["alice"], ws).Close()
			}
			g0, m0 := runtime.NumGoroutine(), inUse()
			conns := make([]net.Conn, n)
			for i := range conns {
				conns[i] = idle(t, addr, w.tokens["alice"], ws)
			}
			per := float64(inUse()-m0) / n
			gs := float64(runtime.NumGoroutine()-g0) / n
			t.Logf("%s: %d idle subscribers: %.0f bytes each, %.1f goroutines each", name, n, per, gs)
			fmt.Printf("%s idle subscriber: %.0f B, %.1f goroutines\n", name, per, gs)
			for _, c := range conns {
				c.Close()
			}
			if per >= 16<<10 {
				t.Fatalf("%s: %.0f bytes per idle subscriber, want < 16 KiB", name, per)
			}
		})
	}
}
