package models_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/models"
)

func TestPoolAndAcquire(t *testing.T) {
	if p := models.Pool(dbtest.SQLite(t)); p != nil {
		t.Fatalf("Pool of a SQLite DB = %v, want nil", p)
	}
	if _, err := models.Acquire(context.Background(), dbtest.SQLite(t)); !errors.Is(err, models.ErrNoPool) {
		t.Fatalf("Acquire on SQLite: err = %v, want ErrNoPool", err)
	}

	dsn, _ := dbtest.PostgresSchemaURL(t)
	ctx := context.Background()
	db, err := models.Open(ctx, dsn, models.WithMaxConns(1), models.WithAcquireTimeout(200*time.Millisecond))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer db.Close()
	pool := models.Pool(db)
	if pool == nil {
		t.Fatal("Pool of a PostgreSQL DB opened by Open is nil")
	}
	// Queries on the pool skip bun: the copies bun makes of the DB (with
	// a query hook, a named argument) and another bun.DB on its *sql.DB
	// have none, so everything on them runs through bun.
	for name, other := range map[string]*bun.DB{
		"WithQueryHook": db.WithQueryHook(noHook{}),
		"WithNamedArg":  db.WithNamedArg("x", 1),
		"bun.NewDB":     bun.NewDB(db.DB, pgdialect.New()),
	} {
		if p := models.Pool(other); p != nil {
			t.Errorf("Pool of the DB's %s copy is not nil", name)
		}
		if _, err := models.Acquire(ctx, other); !errors.Is(err, models.ErrNoPool) {
			t.Errorf("Acquire on the DB's %s copy: err = %v, want ErrNoPool", name, err)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _ = models.Pool(db) }); n != 0 {
		t.Errorf("Pool allocates %.0f times per call; it is on every read's path", n)
	}
	if got := pool.Config().MaxConns; got != 1 {
		t.Fatalf("pool MaxConns = %d, want the WithMaxConns bound 1", got)
	}

	conn, err := models.Acquire(ctx, db)
	if err != nil {
		t.Fatalf("Acquire: %v", err)
	}
	var n int
	if err := conn.QueryRow(ctx, "SELECT $1::int + 1", 41).Scan(&n); err != nil || n != 42 {
		t.Fatalf("query on the acquired connection: %d, %v", n, err)
	}
	// The only connection is held: a second Acquire fails after the
	// acquire timeout with ErrUnavailable, and so does a bun query, which
	// shares the pool.
	start := time.Now()
	_, err = models.Acquire(ctx, db)
	if !errors.Is(err, models.ErrUnavailable) {
		t.Fatalf("Acquire with the pool exhausted: err = %v, want ErrUnavailable", err)
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Fatalf("Acquire waited %v with a 200ms acquire timeout", waited)
	}
	if _, err := db.ExecContext(ctx, "SELECT 1"); !errors.Is(err, models.ErrUnavailable) {
		t.Fatalf("bun query with the pool exhausted: err = %v, want ErrUnavailable", err)
	}
	conn.Release()
	conn, err = models.Acquire(ctx, db)
	if err != nil {
		t.Fatalf("Acquire after Release: %v", err)
	}
	conn.Release() // db.Close waits for acquired connections
}

type noHook struct{}

func (noHook) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }
func (noHook) AfterQuery(context.Context, *bun.QueryEvent)                        {}
