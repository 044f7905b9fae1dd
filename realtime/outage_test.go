package realtime_test

import (
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cosworth/cosworth/internal/dbtest"
)

// proxy forwards TCP connections to Redis until cut, which closes them
// and refuses new ones until restore: a Redis outage on loopback.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	down   bool
	conns  []net.Conn
}

func newProxy(t *testing.T, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	dbtest.Must(t, err, "listen")
	p := &proxy{ln: ln, target: target}
	t.Cleanup(func() { ln.Close(); p.cut() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			if p.down {
				p.mu.Unlock()
				c.Close()
				continue
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				p.mu.Unlock()
				c.Close()
				continue
			}
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			go func() { io.Copy(s, c); s.Close() }()
			go func() { io.Copy(c, s); c.Close() }()
		}
	}()
	return p
}

func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *proxy) restore() {
	p.mu.Lock()
	p.down = false
	p.mu.Unlock()
}

// TestRedisOutage: when Redis goes away, streams are closed with the
// reason and connects are refused (503); when it is back, clients
// reconnect, and a client resuming across the outage is told to refetch
// (reset) since events may have been lost.
func TestRedisOutage(t *testing.T) {
	w := newWorld(t, "alice")
	real, prefix := dbtest.Redis(t)
	p := newProxy(t, real.Options().Addr)
	opt := *real.Options()
	opt.Addr = p.ln.Addr().String()
	opt.MaxRetries = -1
	rdb := redis.NewClient(&opt)
	t.Cleanup(func() { rdb.Close() })
	in := newInstance(t, w, setup{rdb: rdb, prefix: prefix})
	url := in.srv.URL + "/notes/events/"
	auth := w.tokens["alice"]
	sse := dialSSE(t, url, "Authorization", auth)
	ws := dialWS(t, url, "Authorization", auth)
	in.write(t, w, "alice", "POST", "/notes/", `{"body":"before"}`, 201)
	var l1, l2 uint64
	expect(t, "sse", sse.msgs, &l1, `created "body":"before"`)
	expect(t, "ws", ws.msgs, &l2, `created "body":"before"`)

	p.cut()
	m := next(t, sse.msgs)
	if m.event != "close" || !strings.Contains(m.data, "Event bus unavailable, reconnect later.") {
		t.Fatalf("sse: %+v", m)
	}
	for range ws.msgs {
	}
	if ws.status != 1013 || ws.reason != "Event bus unavailable, reconnect later." {
		t.Fatalf("ws: %d %q", ws.status, ws.reason)
	}
	if got := connect(t, url, auth); got != 503 {
		t.Fatalf("connect during the outage: %d, want 503", got)
	}
	// A write during the outage commits; its event cannot be published.
	in.write(t, w, "alice", "POST", "/notes/", `{"body":"during"}`, 201)

	p.restore()
	for i := 0; connect(t, url, auth) != 200; i++ {
		if i == 1000 {
			t.Fatal("streams are still refused after Redis came back")
		}
		time.Sleep(10 * time.Millisecond)
	}
	again := dialSSE(t, url, "Authorization", auth, "Last-Event-ID", fmt.Sprint(l1))
	if m := next(t, again.msgs); m.event != "reset" {
		t.Fatalf("resuming across the outage: %+v, want reset", m)
	}
	in.write(t, w, "alice", "POST", "/notes/", `{"body":"after"}`, 201)
	expect(t, "again", again.msgs, &l1, `created "body":"after"`)
}
