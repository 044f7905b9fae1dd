// Command testserver is a minimal service built on cosworth.Server, used by
// the root package's tests to check shutdown with a real process and a
// real signal. It listens on -addr, prints "listening ADDR" on stdout once
// it accepts connections, and serves:
//
//   - /ok: "ok";
//   - /slow?ms=N: headers at once, body after N milliseconds;
//   - /stream: a long-lived response that writes "tick\n" every 50 ms until
//     the server drains (cosworth.Draining), then "bye\n";
//   - /db: SELECT 1 on -db (a postgres:// URL), when given;
//   - /readyz, /healthz: cosworth.Health with -db and -redis.
//
// It stops on SIGINT or SIGTERM within -shutdown (the database pool and
// the Redis client close within the same deadline), exiting 0 after a
// complete shutdown and 1 otherwise.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth"
	"github.com/cosworth/cosworth/models"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	shutdown := fs.Duration("shutdown", 2*time.Second, "shutdown timeout")
	dsn := fs.String("db", "", "postgres:// URL")
	redisURL := fs.String("redis", "", "redis:// URL")
	maxConns := fs.Int("max-conns", 0, "cosworth.Config.MaxConns")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	logger := slog.New(slog.NewJSONHandler(stderr, nil))
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		ms, _ := strconv.Atoi(r.URL.Query().Get("ms"))
		w.WriteHeader(http.StatusOK)
		_ = http.NewResponseController(w).Flush()
		select {
		case <-time.After(time.Duration(ms) * time.Millisecond):
			fmt.Fprint(w, "done")
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/stream", func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		_ = rc.SetWriteDeadline(time.Time{}) // a stream outlives WriteTimeout
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			fmt.Fprint(w, "tick\n")
			_ = rc.Flush()
			select {
			case <-cosworth.Draining(r.Context()):
				fmt.Fprint(w, "bye\n")
				return
			case <-r.Context().Done():
				return
			case <-tick.C:
			}
		}
	})

	var (
		db      *bun.DB
		pingers []cosworth.Pinger
		closers []func(context.Context) error
		names   []string
	)
	if *dsn != "" {
		octx, cancel := context.WithTimeout(ctx, 10*time.Second)
		var err error
		db, err = models.Open(octx, *dsn, models.WithMaxConns(4), models.WithAcquireTimeout(500*time.Millisecond))
		cancel()
		if err != nil {
			return err
		}
		mux.HandleFunc("/db", func(w http.ResponseWriter, r *http.Request) {
			var n int
			if err := db.NewSelect().ColumnExpr("1").Scan(r.Context(), &n); err != nil {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			fmt.Fprint(w, n)
		})
		closers = append(closers, func(context.Context) error { return db.Close() })
		names = append(names, "database")
	}
	if *redisURL != "" {
		opt, err := redis.ParseURL(*redisURL)
		if err != nil {
			return err
		}
		rdb := redis.NewClient(opt)
		pingers = append(pingers, cosworth.PingerFunc(func(ctx context.Context) error { return rdb.Ping(ctx).Err() }))
		closers = append(closers, func(context.Context) error { return rdb.Close() })
		names = append(names, "redis")
	}
	health := cosworth.Health(db, pingers...)
	mux.Handle("/readyz", health)
	mux.Handle("/healthz", health)

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "listening", ln.Addr())
	srv := cosworth.NewServer(logger, cosworth.Config{ShutdownTimeout: *shutdown, MaxConns: *maxConns}, mux)
	for i, c := range closers {
		srv.OnShutdown(names[i], c)
	}
	return srv.Serve(ctx, ln)
}
