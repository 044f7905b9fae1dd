package cosworth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
)

// Server serves an http.Handler behind Middleware with bounded timeouts and
// stops gracefully when its context is canceled. Build it with NewServer.
type Server struct {
	cfg    Config
	logger *slog.Logger
	srv    *http.Server
}

// NewServer returns a Server for h, wrapped in Middleware(logger, cfg) (do
// not wrap h in it again). Zero fields of cfg mean their documented
// defaults. It panics when logger or h is nil.
//
// A typical main:
//
//	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
//	defer stop()
//	return cosworth.NewServer(logger, cfg, routes).ListenAndServe(ctx)
func NewServer(logger *slog.Logger, cfg Config, h http.Handler) *Server {
	if logger == nil {
		panic("cosworth: NewServer needs a logger")
	}
	if h == nil {
		panic("cosworth: NewServer needs a handler")
	}
	cfg = cfg.withDefaults()
	return &Server{
		cfg:    cfg,
		logger: logger,
		srv: &http.Server{
			Addr:              cfg.Addr,
			Handler:           Middleware(logger, cfg)(h),
			ReadHeaderTimeout: cfg.ReadHeaderTimeout,
			ReadTimeout:       cfg.ReadTimeout,
			WriteTimeout:      cfg.WriteTimeout,
			IdleTimeout:       cfg.IdleTimeout,
			MaxHeaderBytes:    cfg.MaxHeaderBytes,
			ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		},
	}
}

// Config returns the server's configuration with defaults filled in.
func (s *Server) Config() Config { return s.cfg }

// ListenAndServe listens on the configured Addr and serves until ctx is
// canceled, then shuts down gracefully (see Serve). It returns the listen
// error, or what Serve returns.
func (s *Server) ListenAndServe(ctx context.Context) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("cosworth: listen: %w", err)
	}
	return s.Serve(ctx, ln)
}

// Serve accepts connections on ln until ctx is canceled, then shuts down
// gracefully: it stops accepting (new connections are refused), closes idle
// connections, lets in-flight requests finish for up to ShutdownTimeout,
// then closes what is left, and returns. It returns nil after a graceful
// shutdown, an error wrapping context.DeadlineExceeded when in-flight
// requests had to be cut off, or the error that stopped serving early.
// Serve closes ln.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	s.logger.LogAttrs(ctx, slog.LevelInfo, "serving", slog.String("addr", ln.Addr().String()))
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(ln) }()

	select {
	case err := <-errc:
		// Serve failed before any shutdown was asked for.
		return fmt.Errorf("cosworth: serve: %w", err)
	case <-ctx.Done():
	}

	s.logger.LogAttrs(context.Background(), slog.LevelInfo, "shutting down", slog.Duration("timeout", s.cfg.ShutdownTimeout))
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	err := s.srv.Shutdown(sctx)
	if err != nil {
		// In-flight requests outlived the timeout: cut them off.
		_ = s.srv.Close()
		err = fmt.Errorf("cosworth: shutdown: %w", err)
	}
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = fmt.Errorf("cosworth: serve: %w", serr)
	}
	s.logger.LogAttrs(context.Background(), slog.LevelInfo, "stopped")
	return err
}
