package models

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// Option tunes the pool Open builds.
type Option func(*options)

type options struct {
	maxConns       int32
	minConns       int32
	acquireTimeout time.Duration
	connLifetime   time.Duration
	idleTime       time.Duration
	tracer         pgx.QueryTracer
}

// Dead-peer detection on PostgreSQL connections: keepalive probes after
// keepAliveIdle of silence, every keepAliveInterval, and (on Linux)
// TCP_USER_TIMEOUT deadPeerTimeout, so that a partition breaks the
// connection about deadPeerTimeout after the last byte PostgreSQL
// acknowledged.
const (
	keepAliveIdle     = 2 * time.Second
	keepAliveInterval = time.Second
	keepAliveCount    = 3
	deadPeerTimeout   = 5 * time.Second
)

// Defaults of Open's pool.
const (
	DefaultMaxConns       = 16
	DefaultAcquireTimeout = 2 * time.Second
	maxMaxConns           = 1000
)

// WithTracer sets the pgx tracer of a PostgreSQL pool (it may also be a
// pgx.BatchTracer): it sees every query, bun's and the views' pgx fast
// path alike (tracing.PgxTracer gives OpenTelemetry spans). SQLite
// ignores it.
func WithTracer(t pgx.QueryTracer) Option { return func(o *options) { o.tracer = t } }

// WithMaxConns bounds the number of open connections (default 16; at most
// 1000). For SQLite it bounds readers; writes are serialized by SQLite.
func WithMaxConns(n int) Option {
	return func(o *options) {
		if n > 0 && n <= maxMaxConns {
			o.maxConns = int32(n)
		}
	}
}

// WithMinConns keeps n PostgreSQL connections open while idle (default 0).
func WithMinConns(n int) Option {
	return func(o *options) {
		if n >= 0 && n <= maxMaxConns {
			o.minConns = int32(n)
		}
	}
}

// WithAcquireTimeout bounds how long a query waits for a free PostgreSQL
// connection before failing with ErrUnavailable (default 2s).
func WithAcquireTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.acquireTimeout = d
		}
	}
}

// WithConnLifetime closes PostgreSQL connections older than d (default 1h).
func WithConnLifetime(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.connLifetime = d
		}
	}
}

// Open opens the database named by dsn and returns a bun.DB for it.
//
// A postgres:// or postgresql:// URL opens PostgreSQL through a bounded pgx
// pool (pgxpool under database/sql); a sqlite: URL, a file path or
// ":memory:" opens the embedded pure-Go SQLite (no cgo needed), with foreign
// keys enforced, WAL journaling, a busy timeout and immediate write
// transactions. A binary built with -tags cosworth_nosqlite has no SQLite
// (about 3.7 MB smaller): Open then returns an error wrapping ErrNoSQLite
// for anything but a PostgreSQL URL. Open pings the database within ctx and returns an error
// wrapping ErrUnavailable when it cannot be reached. Close the DB when done.
func Open(ctx context.Context, dsn string, opts ...Option) (*bun.DB, error) {
	o := options{maxConns: DefaultMaxConns, acquireTimeout: DefaultAcquireTimeout, connLifetime: time.Hour, idleTime: 5 * time.Minute}
	for _, opt := range opts {
		opt(&o)
	}
	var (
		db  *bun.DB
		err error
	)
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		db, err = openPostgres(ctx, dsn, o)
	} else {
		db, err = openSQLite(dsn, o)
	}
	if err != nil {
		return nil, err
	}
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("%w: ping: %w", ErrUnavailable, err)
	}
	return db, nil
}

// ErrNoSQLite is returned by Open for a SQLite DSN in a binary built with
// -tags cosworth_nosqlite: open a postgres:// URL instead.
var ErrNoSQLite = errors.New("cosworth/models: SQLite is not built in (-tags cosworth_nosqlite)")

func openPostgres(ctx context.Context, dsn string, o options) (*bun.DB, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("cosworth/models: invalid PostgreSQL URL: %w", err)
	}
	cfg.MaxConns = o.maxConns
	cfg.MinConns = min(o.minConns, o.maxConns)
	cfg.MaxConnLifetime = o.connLifetime
	cfg.MaxConnIdleTime = o.idleTime
	cfg.PingTimeout = o.acquireTimeout
	if cfg.ConnConfig.ConnectTimeout == 0 || cfg.ConnConfig.ConnectTimeout > o.acquireTimeout {
		cfg.ConnConfig.ConnectTimeout = o.acquireTimeout
	}
	// Dead-peer detection: a connection whose peer stops answering at the
	// TCP level (a network partition, a host gone) fails within about
	// deadPeerTimeout instead of waiting for the query's deadline. A peer
	// whose kernel still answers (a hung server, a proxy) is not detected:
	// the query's deadline ends the wait then.
	dialer := &net.Dialer{
		Timeout: cfg.ConnConfig.ConnectTimeout,
		KeepAliveConfig: net.KeepAliveConfig{
			Enable: true, Idle: keepAliveIdle, Interval: keepAliveInterval, Count: keepAliveCount,
		},
		Control: setUserTimeout,
	}
	cfg.ConnConfig.DialFunc = dialer.DialContext
	// bun interpolates every argument into the SQL text, so pgx's default
	// statement cache would prepare one statement per distinct id, filter
	// value or offset: an extra round trip per miss. The exec mode sends
	// each of bun's queries once as an unnamed statement. The generic
	// views' reads (internal/pgread) send their values as $N parameters
	// and ask for the statement cache per query: one prepared statement per
	// query shape, in pgx's LRU of StatementCacheCapacity (512 unless the
	// DSN sets statement_cache_capacity) per connection, whose evicted
	// statements pgx deallocates on the server. A DSN that sets
	// default_query_exec_mode keeps its choice.
	if !strings.Contains(dsn, "default_query_exec_mode") {
		cfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeExec
	}
	if o.tracer != nil {
		cfg.ConnConfig.Tracer = o.tracer
	}
	if registerPgTypes != nil {
		cfg.AfterConnect = func(_ context.Context, c *pgx.Conn) error {
			registerPgTypes(c.TypeMap())
			return nil
		}
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	conn := &acquireConnector{Connector: stdlib.GetPoolConnector(pool), timeout: o.acquireTimeout, pool: pool}
	conn.driver = poolDriver{Driver: conn.Connector.Driver(), conn: conn}
	sqldb := sql.OpenDB(conn)
	// Idle connections live in pgxpool, as stdlib.OpenDBFromPool does, and
	// pgxpool alone bounds how many are open: a database/sql MaxOpenConns
	// would queue a request in database/sql until its deadline instead of
	// failing after the acquire timeout (internal/faulttest TestPoolAcquireTimeout).
	sqldb.SetMaxIdleConns(0)
	conn.db = bun.NewDB(sqldb, pgdialect.New())
	return conn.db, nil
}

// acquireConnector bounds the wait for a pooled connection and closes the
// pool with the DB.
type acquireConnector struct {
	driver.Connector
	timeout time.Duration
	pool    *pgxpool.Pool
	driver  poolDriver // what Driver returns, built once
	db      *bun.DB    // the DB Open returned: Pool answers for it alone
}

// Connect takes a connection of the pool for database/sql (bun's path),
// with the same one deadline per request as Acquire.
func (c *acquireConnector) Connect(ctx context.Context) (driver.Conn, error) {
	ctx, cancel := c.acquireContext(ctx)
	defer cancel()
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: acquire connection: %w", ErrUnavailable, err)
	}
	return conn, nil
}

// Driver returns the pool's driver wrapped with the pool, so Pool and
// Acquire can find the pool from the *sql.DB (sql.DB.Driver returns it).
func (c *acquireConnector) Driver() driver.Driver { return &c.driver }

// Close closes the pool; database/sql calls it from DB.Close.
func (c *acquireConnector) Close() error {
	c.pool.Close()
	return nil
}
