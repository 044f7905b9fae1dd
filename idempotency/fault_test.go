package idempotency_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cosworth/cosworth/idempotency"
	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/internal/faultproxy"
	"github.com/cosworth/cosworth/models"
)

// TestStoreBlackhole puts the store behind a proxy that stops forwarding
// without closing anything (a partition): the middleware answers 503 and
// runs nothing, and answers again once the store is back. The bound is
// each store's Timeout; it is not asserted in wall-clock time (a loaded
// machine would fail it), only that the answer comes.
func TestStoreBlackhole(t *testing.T) {
	t.Run("redis", func(t *testing.T) {
		u, err := url.Parse(dbtest.RedisURL())
		dbtest.Must(t, err, "redis url")
		p := faultproxy.Start(t, u.Host)
		opt, err := redis.ParseURL(p.Rewrite(dbtest.RedisURL()))
		dbtest.Must(t, err, "redis url")
		rdb := redis.NewClient(opt)
		t.Cleanup(func() { _ = rdb.Close() })
		_, prefix := dbtest.Redis(t)
		f := newFixture(t, dbtest.SQLite(t, (*item)(nil)), &idempotency.RedisStore{Client: rdb, Prefix: prefix})
		blackhole(t, f, p)
	})
	t.Run("postgres", func(t *testing.T) {
		dsn, _ := dbtest.PostgresSchemaURL(t)
		u, err := url.Parse(dsn)
		dbtest.Must(t, err, "postgres url")
		p := faultproxy.Start(t, u.Host)
		ctx := context.Background()
		db, err := models.Open(ctx, p.Rewrite(dsn), models.WithAcquireTimeout(500*time.Millisecond))
		dbtest.Must(t, err, "open")
		t.Cleanup(func() { _ = db.Close() })
		dbtest.Must(t, models.CreateTables(ctx, db, (*item)(nil)), "tables")
		store := &idempotency.DBStore{DB: db, Timeout: 500 * time.Millisecond}
		dbtest.Must(t, store.CreateTable(ctx), "idempotency table")
		blackhole(t, newFixture(t, db, store), p)
	})
}

func blackhole(t *testing.T, f *fixture, p *faultproxy.Proxy) {
	t.Helper()
	want(t, f.post("ann", "k-b1", `{"title":"Dune"}`), http.StatusCreated, "")
	p.Blackhole()
	for _, key := range []string{"k-b1", "k-b2"} {
		w := f.post("ann", key, `{"title":"Dune"}`)
		want(t, w, http.StatusServiceUnavailable, `{"detail":"Service temporarily unavailable, try again later."}`)
	}
	if c := f.calls.Load(); c != 1 {
		t.Fatalf("%d creates ran, want 1: a request ran without its key", c)
	}
	p.Restore()
	// Recovery: the Redis breaker stays open for a second after a failure,
	// and pooled connections that lived through the partition are dropped
	// on their first use; a bounded number of tries.
	var w int
	for range 50 {
		if w = f.post("ann", "k-b2", `{"title":"Dune"}`).Code; w == http.StatusCreated {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if w != http.StatusCreated {
		t.Fatalf("after the restore: %d, want 201", w)
	}
}
