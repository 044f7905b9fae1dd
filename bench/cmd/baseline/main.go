// Command baseline serves the hand-written books API of package baseline
// on a loopback address, over a schema made by benchdb. It exists to be
// load-tested by scripts/bench.sh.
//
//	baseline -addr 127.0.0.1:18081 -db 'postgres://...&search_path=bench_...' -token SECRET
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cosworth/cosworth/bench/baseline"
	"github.com/cosworth/cosworth/bench/bookdb"
	"github.com/cosworth/cosworth/bench/serve"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "baseline:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	f, err := serve.ParseFlags("baseline", os.Args[1:])
	if err != nil {
		return err
	}
	cfg, err := pgxpool.ParseConfig(f.DB)
	if err != nil {
		return err
	}
	cfg.MaxConns = int32(f.MaxConns)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := pool.Ping(ctx); err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	h := baseline.New(pool, f.Token, baseline.User{ID: bookdb.BenchUserID, Username: bookdb.BenchUsername}, logger)
	return serve.Run(ctx, f.Addr, h, logger)
}
