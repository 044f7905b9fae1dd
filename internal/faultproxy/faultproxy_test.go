package faultproxy_test

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/cosworth/cosworth/internal/faultproxy"
)

// echo starts a line echo server and returns its address.
func echo(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				s := bufio.NewScanner(c)
				for s.Scan() {
					fmt.Fprintln(c, s.Text())
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func roundTrip(c net.Conn, br *bufio.Reader, msg string) (string, error) {
	_ = c.SetDeadline(time.Now().Add(300 * time.Millisecond))
	if _, err := fmt.Fprintln(c, msg); err != nil {
		return "", err
	}
	line, err := br.ReadString('\n')
	return strings.TrimSpace(line), err
}

func dial(t *testing.T, addr string) (net.Conn, *bufio.Reader, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return nil, nil, err
	}
	t.Cleanup(func() { c.Close() })
	return c, bufio.NewReader(c), nil
}

func TestProxy(t *testing.T) {
	p := faultproxy.Start(t, echo(t))
	c, br, err := dial(t, p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	if got, err := roundTrip(c, br, "hello"); err != nil || got != "hello" {
		t.Fatalf("through the proxy: %q %v", got, err)
	}

	p.Cut()
	if _, err := roundTrip(c, br, "after cut"); err == nil {
		t.Fatal("an existing connection survived the cut")
	}
	if _, _, err := dial(t, p.Addr()); err == nil {
		t.Fatal("a new connection was accepted during the cut")
	}

	p.Restore()
	c, br, err = dial(t, p.Addr())
	if err != nil {
		t.Fatalf("after restore: %v", err)
	}
	if got, err := roundTrip(c, br, "again"); err != nil || got != "again" {
		t.Fatalf("after restore: %q %v", got, err)
	}

	p.Blackhole()
	_, err = roundTrip(c, br, "lost")
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("black hole: %v, want a timeout", err)
	}
	c2, br2, err := dial(t, p.Addr())
	if err != nil {
		t.Fatalf("a black hole still accepts: %v", err)
	}
	if _, err := roundTrip(c2, br2, "lost"); !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("new connection in a black hole: %v, want a timeout", err)
	}
	p.Restore()
	if _, err := roundTrip(c2, br2, "x"); err == nil {
		t.Fatal("a connection that lost bytes in the black hole was kept")
	}
	c, br, _ = dial(t, p.Addr())
	if got, err := roundTrip(c, br, "back"); err != nil || got != "back" {
		t.Fatalf("after the black hole: %q %v", got, err)
	}
	if p.Dials() < 3 {
		t.Fatalf("Dials = %d", p.Dials())
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if p.Open() != 0 {
		t.Fatalf("%d connections open after Close", p.Open())
	}
}

func TestRewrite(t *testing.T) {
	p := faultproxy.Start(t, "127.0.0.1:1")
	got := p.Rewrite("postgres://u@db.example:5432/test?sslmode=disable")
	want := "postgres://u@" + p.Addr() + "/test?sslmode=disable"
	if got != want {
		t.Fatalf("Rewrite = %q, want %q", got, want)
	}
}
