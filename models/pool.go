package models

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/uptrace/bun"
)

// poolDriver is the driver.Driver of a PostgreSQL DB opened by Open; it
// carries the connector, and so the pgx pool and its acquire timeout.
type poolDriver struct {
	driver.Driver
	conn *acquireConnector
}

// connectorOf returns the connector of db when db is the DB Open
// returned (not a copy bun made of it, nor another bun.DB on its
// *sql.DB), nil otherwise.
func connectorOf(db *bun.DB) *acquireConnector {
	if db == nil || db.DB == nil {
		return nil
	}
	if d, ok := db.DB.Driver().(*poolDriver); ok && d.conn.db == db {
		return d.conn
	}
	return nil
}

// Pool returns the pgx pool under a PostgreSQL DB opened by Open, or nil
// for SQLite and for a DB Open did not create, including the copies bun
// makes of one (db.WithQueryHook, db.WithNamedArg) and another bun.DB on
// its *sql.DB (a connection resolver). Queries run on the pool skip bun
// and database/sql (pgx scans straight into Go values), so no query hook
// sees them: add hooks with WithQueryHook, whose copy has no pool and runs
// everything through bun. (bun's deprecated AddQueryHook changes the DB
// in place, which no bun API shows: hooks added so do not see the
// queries run on the pool.) They share the pool's connections and bounds
// with the DB. Use Acquire to wait for a connection no longer than the
// DB's acquire timeout.
func Pool(db *bun.DB) *pgxpool.Pool {
	if c := connectorOf(db); c != nil {
		return c.pool
	}
	return nil
}

// noCancel is the CancelFunc of a context acquireContext did not derive.
func noCancel() {}

// acquireContext is the context a wait for a pooled connection runs
// with: ctx itself when its deadline comes first, or when a connection is
// idle so the wait ends at once (in the rare race where another request
// takes it first, ctx's deadline still bounds the wait): one deadline per
// request. Only a wait for a busy pool, or a ctx without a deadline, gets
// the acquire timeout's own, shorter bound.
func (c *acquireConnector) acquireContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if d, ok := ctx.Deadline(); ok && (time.Until(d) <= c.timeout || c.pool.Stat().IdleConns() > 0) {
		return ctx, noCancel
	}
	return context.WithTimeout(ctx, c.timeout)
}

// ErrNoPool is returned by Acquire for a DB that has no pgx pool (SQLite,
// or a DB Open did not create: see Pool).
var ErrNoPool = errors.New("cosworth/models: the DB has no pgx pool (only PostgreSQL DBs opened by models.Open have one)")

// Acquire takes a connection from the pgx pool of a PostgreSQL DB opened
// by Open, waiting at most the acquire timeout (WithAcquireTimeout) or
// until ctx ends. When ctx has a deadline and a connection is idle, it
// adds no timer of its own. A timeout or a database that cannot be reached is an
// error wrapping ErrUnavailable, which views answer with 503. Release the
// connection when done.
func Acquire(ctx context.Context, db *bun.DB) (*pgxpool.Conn, error) {
	c := connectorOf(db)
	if c == nil {
		return nil, ErrNoPool
	}
	actx, cancel := c.acquireContext(ctx)
	conn, err := c.pool.Acquire(actx)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("%w: acquire connection: %w", ErrUnavailable, err)
	}
	return conn, nil
}
