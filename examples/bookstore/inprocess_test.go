package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/internal/dbtest"
)

// inProcess returns the bookstore's handler on db (its tables created),
// in process as a DRF project's tests run theirs, with the accounts'
// groups and permissions set up and no Redis; its change feeds stop when
// the test ends.
func inProcess(t *testing.T, db *bun.DB) http.Handler {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	d := newDeps(ctx, db, nil, config{secret: "in-process test secret of 32 bytes"}, nil)
	t.Cleanup(func() { cancel(); d.streams.Wait() })
	dbtest.Must(t, setupAccounts(ctx, db, false, slog.New(slog.NewTextHandler(io.Discard, nil))), "accounts")
	h, err := routes(d)
	dbtest.Must(t, err, "routes")
	return h
}
