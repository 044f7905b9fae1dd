// Command cosworth serves the Cosworth books API of package cosworthsrv on
// a loopback address, over a schema made by benchdb. It exists to be
// load-tested by scripts/bench.sh against the baseline command.
//
//	cosworth -addr 127.0.0.1:18082 -db 'postgres://...&search_path=bench_...' -token SECRET
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/cosworth/cosworth/authentication"
	"github.com/cosworth/cosworth/bench/bookdb"
	"github.com/cosworth/cosworth/bench/cosworthsrv"
	"github.com/cosworth/cosworth/bench/serve"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "cosworth:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	f, err := serve.ParseFlags("cosworth", os.Args[1:])
	if err != nil {
		return err
	}
	db, err := cosworthsrv.Open(ctx, f.DB, f.MaxConns)
	if err != nil {
		return err
	}
	defer db.Close()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	slog.SetDefault(logger)
	h := cosworthsrv.New(db, f.Token, authentication.Principal{ID: bookdb.BenchUserID, Username: bookdb.BenchUsername})
	return serve.Run(ctx, f.Addr, h, logger)
}
