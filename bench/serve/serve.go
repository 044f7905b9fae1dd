// Package serve holds what the two benchmark servers share: their flags
// and an http.Server bound to loopback with the same settings for both, so
// that only the handler differs between them.
package serve

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"
)

// Flags are the benchmark servers' settings.
type Flags struct {
	Addr     string // loopback listen address
	DB       string // PostgreSQL URL, with search_path set to the bench schema
	Token    string // the key of "Authorization: Token <key>" for writes
	MaxConns int    // database pool size
}

// DefaultMaxConns is both servers' pool size (models.Open's default).
const DefaultMaxConns = 16

// ParseFlags parses args. The address must be a loopback one: the servers
// authenticate writes with a fixed token and are for load tests only.
func ParseFlags(name string, args []string) (Flags, error) {
	var f Flags
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.StringVar(&f.Addr, "addr", "127.0.0.1:18080", "loopback listen `address`")
	fs.StringVar(&f.DB, "db", os.Getenv("BENCH_DB"), "PostgreSQL `URL` with search_path [BENCH_DB]")
	fs.StringVar(&f.Token, "token", os.Getenv("BENCH_TOKEN"), "token writes must carry [BENCH_TOKEN]")
	fs.IntVar(&f.MaxConns, "max-conns", DefaultMaxConns, "database pool size")
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	host, _, err := net.SplitHostPort(f.Addr)
	if err != nil {
		return f, fmt.Errorf("-addr: %w", err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return f, fmt.Errorf("-addr %q is not a loopback address", f.Addr)
	}
	if f.DB == "" {
		return f, errors.New("-db is required")
	}
	if len(f.Token) < 16 {
		return f, errors.New("-token must be at least 16 characters")
	}
	if f.MaxConns < 1 || f.MaxConns > 1000 {
		return f, errors.New("-max-conns must be in 1..1000")
	}
	return f, nil
}

// Run serves h on addr until ctx is canceled, then shuts down gracefully.
func Run(ctx context.Context, addr string, h http.Handler, logger *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	logger.Info("listening", "addr", ln.Addr().String(), "pid", os.Getpid())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}
