package cosworth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// Server serves an http.Handler behind Middleware with bounded timeouts and
// stops gracefully when its context is canceled, within one deadline for
// everything (see Serve). Build it with NewServer.
type Server struct {
	cfg    Config
	logger *slog.Logger
	srv    *http.Server

	draining  chan struct{} // closed when shutdown begins
	drainOnce sync.Once

	mu      sync.Mutex
	closers []closer
}

type closer struct {
	name string
	fn   func(ctx context.Context) error
}

// ErrShutdownAbandoned is wrapped by the error Serve returns when the
// shutdown deadline passed before everything stopped: requests were cut
// off, or an OnShutdown function had not returned and was left running.
var ErrShutdownAbandoned = errors.New("shutdown deadline passed, work abandoned")

type drainingKey struct{}

// NewServer returns a Server for h, wrapped in Middleware(logger, cfg) (do
// not wrap h in it again). Zero fields of cfg mean their documented
// defaults. It panics when logger or h is nil.
//
// A typical main:
//
//	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
//	defer stop()
//	srv := cosworth.NewServer(logger, cfg, routes)
//	srv.OnShutdown("database", func(context.Context) error { return db.Close() })
//	return srv.ListenAndServe(ctx) // exit non-zero when it returns an error
func NewServer(logger *slog.Logger, cfg Config, h http.Handler) *Server {
	if logger == nil {
		panic("cosworth: NewServer needs a logger")
	}
	if h == nil {
		panic("cosworth: NewServer needs a handler")
	}
	cfg = cfg.withDefaults()
	s := &Server{cfg: cfg, logger: logger, draining: make(chan struct{})}
	base := context.WithValue(context.Background(), drainingKey{}, (<-chan struct{})(s.draining))
	s.srv = &http.Server{
		Addr:              cfg.Addr,
		Handler:           Middleware(logger, cfg)(h),
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return base },
	}
	return s
}

// Config returns the server's configuration with defaults filled in.
func (s *Server) Config() Config { return s.cfg }

// Draining returns a channel closed when the server begins to shut down.
// Long-lived handlers (streams, long polls) select on it, or on
// Draining(r.Context()), and end their response: Serve waits for them
// like for any in-flight request, and cuts them off at the shutdown
// deadline.
func (s *Server) Draining() <-chan struct{} { return s.draining }

// Draining returns the Draining channel of the Server serving the request
// whose context is ctx (any context derived from it), or nil (a channel
// that never closes) when ctx does not come from a Server's request.
//
//	select {
//	case <-cosworth.Draining(r.Context()):
//		return // the server is shutting down: end the stream
//	case ev := <-events:
//		...
//	}
func Draining(ctx context.Context) <-chan struct{} {
	ch, _ := ctx.Value(drainingKey{}).(<-chan struct{})
	return ch
}

// isDraining reports whether the Server serving ctx's request is shutting
// down.
func isDraining(ctx context.Context) bool {
	select {
	case <-Draining(ctx):
		return true
	default:
		return false
	}
}

// OnShutdown registers fn to run when the server shuts down, after the
// HTTP connections are drained (or cut off), concurrently with the other
// registered functions, with a context that ends at the shutdown
// deadline. Register what must stop with the server: the database pool
// (db.Close), the Redis client (rdb.Close). A function that has not
// returned at the deadline is abandoned: it keeps running, Serve logs its
// name and returns an error wrapping ErrShutdownAbandoned, and the process
// is expected to exit. Call it before Serve.
func (s *Server) OnShutdown(name string, fn func(ctx context.Context) error) {
	if fn == nil {
		panic("cosworth: OnShutdown needs a function")
	}
	s.mu.Lock()
	s.closers = append(s.closers, closer{name: name, fn: fn})
	s.mu.Unlock()
}

// ListenAndServe listens on the configured Addr and serves until ctx is
// canceled, then shuts down (see Serve). It returns the listen error, or
// what Serve returns.
func (s *Server) ListenAndServe(ctx context.Context) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("cosworth: listen: %w", err)
	}
	return s.Serve(ctx, ln)
}

// Serve accepts connections on ln (at most MaxConns open at once) until
// ctx is canceled, then shuts down within ShutdownTimeout in all:
//
//  1. Draining closes: /readyz answers 503, long-lived handlers are told
//     to end; after DrainDelay (0 by default) the listener closes and new
//     connections are refused;
//  2. idle connections are closed and in-flight requests may finish until
//     the deadline minus a reserve (a tenth of ShutdownTimeout, at most
//     1s); the rest are then closed (their contexts are canceled);
//  3. the OnShutdown functions run concurrently until the deadline; those
//     still running then are abandoned.
//
// It returns nil after a complete shutdown; an error wrapping
// ErrShutdownAbandoned (and context.DeadlineExceeded) when requests were
// cut off or OnShutdown functions abandoned, each logged at ERROR; or the
// error that stopped serving early. Serve closes ln.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	ln = newLimitListener(ln, s.cfg.MaxConns, s.logger)
	s.logger.LogAttrs(ctx, slog.LevelInfo, "serving", slog.String("addr", ln.Addr().String()),
		slog.Int("max_conns", s.cfg.MaxConns))
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(ln) }()

	select {
	case err := <-errc:
		// Serve failed before any shutdown was asked for.
		s.drainOnce.Do(func() { close(s.draining) })
		return fmt.Errorf("cosworth: serve: %w", err)
	case <-ctx.Done():
	}
	return s.shutdown(errc)
}

// shutdown runs Serve's shutdown steps after its context ended.
func (s *Server) shutdown(errc <-chan error) error {
	bg := context.Background()
	timeout := s.cfg.ShutdownTimeout
	deadline := time.Now().Add(timeout)
	s.logger.LogAttrs(bg, slog.LevelInfo, "shutting down", slog.Duration("timeout", timeout))
	s.drainOnce.Do(func() { close(s.draining) })

	reserve := min(timeout/10, time.Second)
	if d := min(s.cfg.DrainDelay, timeout-reserve); d > 0 {
		time.Sleep(d)
	}
	hctx, hcancel := context.WithDeadline(bg, deadline.Add(-reserve))
	defer hcancel()
	var abandoned []string
	if err := s.srv.Shutdown(hctx); err != nil {
		// In-flight requests outlived their share: cut them off.
		_ = s.srv.Close()
		abandoned = append(abandoned, "in-flight requests")
		s.logger.LogAttrs(bg, slog.LevelError, "shutdown: in-flight requests cut off at the deadline")
	}
	serveErr := <-errc

	sctx, scancel := context.WithDeadline(bg, deadline)
	defer scancel()
	s.mu.Lock()
	closers := s.closers
	s.mu.Unlock()
	type result struct {
		i   int
		err error
	}
	done := make(chan result, len(closers))
	for i, c := range closers {
		go func() { done <- result{i, c.fn(sctx)} }()
	}
	finished := make([]bool, len(closers))
	for range closers {
		select {
		case r := <-done:
			finished[r.i] = true
			if r.err != nil {
				s.logger.LogAttrs(bg, slog.LevelWarn, "shutdown: close failed",
					slog.String("name", closers[r.i].name), slog.String("error", r.err.Error()))
			}
			continue
		case <-sctx.Done():
		}
		break
	}
	for i, ok := range finished {
		if !ok {
			abandoned = append(abandoned, closers[i].name)
			s.logger.LogAttrs(bg, slog.LevelError, "shutdown: abandoned at the deadline, still running",
				slog.String("name", closers[i].name))
		}
	}

	var err error
	if len(abandoned) > 0 {
		err = fmt.Errorf("cosworth: shutdown after %v: %w: %v: %w", timeout, ErrShutdownAbandoned, abandoned, context.DeadlineExceeded)
	} else if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		err = fmt.Errorf("cosworth: serve: %w", serveErr)
	}
	if err != nil {
		s.logger.LogAttrs(bg, slog.LevelError, "stopped, work abandoned", slog.Any("abandoned", abandoned))
	} else {
		s.logger.LogAttrs(bg, slog.LevelInfo, "stopped")
	}
	return err
}
