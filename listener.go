package cosworth

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cosworth/cosworth/internal/drfmsg"
)

// overConnLimit is the whole answer to a connection beyond MaxConns: the
// request is not read, the connection is closed after it.
var overConnLimit = []byte("HTTP/1.1 503 Service Unavailable\r\n" +
	"Content-Type: application/json\r\n" +
	"Retry-After: 1\r\n" +
	"Connection: close\r\n" +
	"Content-Length: " + strconv.Itoa(len(`{"detail":"`+drfmsg.Unavailable+`"}`)) + "\r\n\r\n" +
	`{"detail":"` + drfmsg.Unavailable + `"}`)

// Bounds of the answers to connections beyond MaxConns: how many are
// answered at once (the others are closed at once) and how long writing
// one may take.
const (
	maxRejecting   = 64
	rejectDeadline = 200 * time.Millisecond
)

// limitListener accepts at most max connections open at once. A
// connection beyond the bound is answered 503 (while at most maxRejecting
// such answers are being written; beyond that it is closed at once) and
// closed, without reading its request.
type limitListener struct {
	net.Listener
	slots     chan struct{}
	rejecting chan struct{}
	logger    *slog.Logger
	refused   atomic.Uint64
	lastLog   atomic.Int64
}

func newLimitListener(ln net.Listener, max int, logger *slog.Logger) *limitListener {
	return &limitListener{
		Listener:  ln,
		slots:     make(chan struct{}, max),
		rejecting: make(chan struct{}, maxRejecting),
		logger:    logger,
	}
}

// Accept returns the next connection within the bound, answering the ones
// beyond it.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		select {
		case l.slots <- struct{}{}:
			return &limitConn{Conn: c, release: l.release}, nil
		default:
		}
		l.reject(c)
	}
}

func (l *limitListener) release() { <-l.slots }

func (l *limitListener) reject(c net.Conn) {
	n := l.refused.Add(1)
	// One log line per second at most, with the count so far.
	if now := time.Now().UnixNano(); now-l.lastLog.Load() >= int64(time.Second) {
		l.lastLog.Store(now)
		l.logger.LogAttrs(context.Background(), slog.LevelWarn, "connection limit reached, connection refused",
			slog.Int("max_conns", cap(l.slots)), slog.Uint64("refused_total", n))
	}
	select {
	case l.rejecting <- struct{}{}:
	default:
		_ = c.Close()
		return
	}
	go func() {
		defer func() { <-l.rejecting }()
		_ = c.SetWriteDeadline(time.Now().Add(rejectDeadline))
		_, _ = c.Write(overConnLimit)
		if tc, ok := c.(*net.TCPConn); ok {
			// Half-close, and read what the client sent until it closes
			// (briefly), so that unread bytes do not make the kernel reset
			// the connection before the client read the answer.
			_ = tc.CloseWrite()
			_ = c.SetReadDeadline(time.Now().Add(rejectDeadline))
			_, _ = io.Copy(io.Discard, io.LimitReader(c, 64<<10))
		}
		_ = c.Close()
	}()
}

// limitConn frees its slot once when closed (by net/http, or by a handler
// that hijacked it).
type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// CloseWrite half-closes the connection, as net/http does before closing
// a connection whose request it did not read in full.
func (c *limitConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// ReadFrom keeps the connection's own ReadFrom (sendfile, splice) for
// net/http's file responses.
func (c *limitConn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{c.Conn}, r)
}
