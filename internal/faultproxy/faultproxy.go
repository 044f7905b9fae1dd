// Package faultproxy is a loopback TCP proxy that tests put between the code
// under test and a real service (PostgreSQL, Redis, an auth proxy) to
// simulate outages without touching the shared service: Cut closes every
// connection and refuses new ones (the service "stopped"), Blackhole keeps
// connections open but drops every byte (a network partition: callers see
// timeouts, not errors), and Restore brings the path back.
package faultproxy

import (
	"fmt"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"
)

type mode uint8

const (
	up mode = iota
	cut
	blackhole
)

// Proxy forwards TCP connections from its loopback address to an upstream
// address. Its methods are safe for concurrent use.
type Proxy struct {
	upstream string
	addr     string

	mu      sync.Mutex
	mode    mode
	ln      net.Listener
	conns   map[net.Conn]struct{}
	closed  bool
	wg      sync.WaitGroup
	dials   int
	dropped int
	sends   int
}

// New starts a proxy on a free loopback port forwarding to upstream
// ("host:port"). Close it when done.
func New(upstream string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faultproxy: listen: %w", err)
	}
	p := &Proxy{upstream: upstream, addr: ln.Addr().String(), ln: ln, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept(ln)
	return p, nil
}

// Start is New for tests: it fails t on error and closes the proxy when t ends.
func Start(t testing.TB, upstream string) *Proxy {
	t.Helper()
	p, err := New(upstream)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// Addr returns the proxy's "127.0.0.1:port".
func (p *Proxy) Addr() string { return p.addr }

// Rewrite returns rawURL (such as a postgres:// or redis:// URL) with its
// host and port replaced by the proxy's. It panics on an unparsable URL.
func (p *Proxy) Rewrite(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		panic("faultproxy: Rewrite: " + err.Error())
	}
	u.Host = p.addr
	return u.String()
}

// Dials returns how many upstream connections the proxy has opened.
func (p *Proxy) Dials() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.dials
}

// Sends returns how many times a client has sent bytes that the proxy
// read in one piece. A client that writes a request, then waits for the
// answer before it writes again (a database driver, one round trip per
// flush), with small requests on loopback, sends once per round trip, so
// tests count round trips as the difference of Sends before and after.
func (p *Proxy) Sends() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sends
}

// Dropped returns how many reads (in either direction) a black hole has
// dropped so far: a test waits for it to grow to know that a request
// reached the black hole.
func (p *Proxy) Dropped() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.dropped
}

// Open returns how many client connections are open through the proxy.
func (p *Proxy) Open() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.conns) / 2
}

// Cut closes every connection through the proxy and refuses new ones
// (connection refused), as a stopped service would.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || p.mode == cut {
		return
	}
	p.mode = cut
	_ = p.ln.Close()
	p.closeConnsLocked()
}

// Blackhole keeps connections open and accepts new ones but forwards
// nothing: every byte in either direction is dropped, as in a network
// partition. Callers only notice through their own timeouts.
func (p *Proxy) Blackhole() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	if p.mode == cut {
		p.relistenLocked()
	}
	p.mode = blackhole
}

// Restore forwards again. Connections that lived through a blackhole are
// closed (bytes were lost on them), so clients reconnect cleanly.
func (p *Proxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	switch p.mode {
	case cut:
		p.relistenLocked()
	case blackhole:
		p.closeConnsLocked()
	}
	p.mode = up
}

// Close stops the proxy and closes every connection through it.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	_ = p.ln.Close()
	p.closeConnsLocked()
	p.mu.Unlock()
	p.wg.Wait()
	return nil
}

func (p *Proxy) closeConnsLocked() {
	for c := range p.conns {
		_ = c.Close()
	}
}

// relistenLocked listens on the proxy's address again after a cut. The
// port was ours a moment ago; retry briefly in case the kernel holds it.
func (p *Proxy) relistenLocked() {
	var err error
	for i := 0; i < 50; i++ {
		var ln net.Listener
		ln, err = net.Listen("tcp", p.addr)
		if err == nil {
			p.ln = ln
			p.wg.Add(1)
			go p.accept(ln)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	panic("faultproxy: cannot listen again on " + p.addr + ": " + err.Error())
}

func (p *Proxy) accept(ln net.Listener) {
	defer p.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.closed || p.mode == cut {
			p.mu.Unlock()
			_ = c.Close()
			continue
		}
		p.conns[c] = struct{}{}
		p.wg.Add(1)
		p.mu.Unlock()
		go p.handle(c)
	}
}

func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || p.mode == cut {
		return false
	}
	p.conns[c] = struct{}{}
	p.dials++
	return true
}

func (p *Proxy) untrack(cs ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		delete(p.conns, c)
		_ = c.Close()
	}
}

// dropping reports whether a read must be dropped, and counts it if so.
func (p *Proxy) dropping() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mode == blackhole {
		p.dropped++
		return true
	}
	return false
}

func (p *Proxy) handle(client net.Conn) {
	defer p.wg.Done()
	up, err := net.DialTimeout("tcp", p.upstream, 2*time.Second)
	if err != nil {
		p.untrack(client)
		return
	}
	if !p.track(up) {
		_ = up.Close()
		p.untrack(client)
		return
	}
	done := make(chan struct{}, 2)
	go func() { p.copy(up, client, true); done <- struct{}{} }()
	go func() { p.copy(client, up, false); done <- struct{}{} }()
	<-done
	p.untrack(client, up) // unblocks the other direction
	<-done
}

// copy forwards src to dst until either fails, dropping bytes while the
// proxy is a black hole. send says src is the client: its reads are
// counted (Sends).
func (p *Proxy) copy(dst, src net.Conn, send bool) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && send {
			p.mu.Lock()
			p.sends++
			p.mu.Unlock()
		}
		if n > 0 && !p.dropping() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return // EOF or closed: handle closes both sides
		}
	}
}
