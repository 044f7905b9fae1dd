package cosworth_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cosworth/cosworth"
	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/internal/faultproxy"
	"github.com/cosworth/cosworth/models"
)

func TestHealth(t *testing.T) {
	t.Parallel()
	db := dbtest.SQLite(t)
	down := cosworth.PingerFunc(func(ctx context.Context) error { return errors.New("redis: connection refused 10.0.0.7") })
	hang := cosworth.PingerFunc(func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
	up := cosworth.PingerFunc(func(ctx context.Context) error { return nil })
	stuck := make(chan struct{})
	t.Cleanup(func() { close(stuck) })
	deaf := cosworth.PingerFunc(func(ctx context.Context) error { <-stuck; return nil }) // ignores ctx

	tests := []struct {
		name   string
		h      http.Handler
		path   string
		status int
	}{
		{"liveness ignores dependencies", cosworth.Health(db, down), "/healthz", 200},
		{"ready", cosworth.Health(db, up), "/readyz", 200},
		{"ready without db", cosworth.Health(nil, up), "/readyz", 200},
		{"pinger down", cosworth.Health(db, up, down), "/readyz", 503},
		{"pinger hangs", cosworth.Health(db, hang), "/readyz", 503},
		// Answered by the handler's own deadline while the pinger is still
		// blocked (it returns only when the test ends).
		{"pinger ignores its deadline", cosworth.Health(db, up, deaf), "/readyz", 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logger, logs := newLogger()
			url := serve(t, logger, cosworth.Config{}, tt.h)
			res := get(t, client(t), url+tt.path)
			if res.status != tt.status {
				t.Fatalf("status %d, want %d: %s", res.status, tt.status, res.body)
			}
			if tt.status == 200 && res.body != `{"status":"ok"}` {
				t.Fatalf("body %s", res.body)
			}
			if tt.status == 503 {
				if res.body != `{"detail":"Service temporarily unavailable, try again later.","status":"unavailable"}` || res.header.Get("Retry-After") == "" {
					t.Fatalf("503 body %s, Retry-After %q", res.body, res.header.Get("Retry-After"))
				}
				if len(logs.lines(t, "readiness check failed")) != 1 {
					t.Fatalf("the failed check was not logged:\n%s", logs)
				}
			}
			if strings.Contains(res.body, "10.0.0.7") {
				t.Fatal("the cause leaked into the response")
			}
		})
	}
	t.Run("method", func(t *testing.T) {
		url := serve(t, slogDiscard(), cosworth.Config{}, cosworth.Health(db))
		req, _ := http.NewRequest(http.MethodPost, url+"/readyz", nil)
		res := do(t, client(t), req)
		wantDetail(t, res, http.StatusMethodNotAllowed, `Method "POST" not allowed.`)
		if res.header.Get("Allow") != "GET, HEAD" {
			t.Fatalf("Allow %q", res.header.Get("Allow"))
		}
	})
}

// TestHealthPostgresCut checks readiness against a real PostgreSQL reached
// through a proxy that is then cut: ready, unavailable within the bound,
// and ready again after the proxy is restored.
func TestHealthPostgresCut(t *testing.T) {
	t.Parallel()
	dsn, _ := dbtest.PostgresSchemaURL(t)
	proxy := faultproxy.Start(t, hostPort(t, dsn))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	db, err := models.Open(ctx, proxy.Rewrite(dsn), models.WithAcquireTimeout(500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	url := serve(t, slogDiscard(), cosworth.Config{}, cosworth.Health(db))
	c := client(t)
	if res := get(t, c, url+"/readyz"); res.status != 200 {
		t.Fatalf("before the cut: %d %s", res.status, res.body)
	}
	proxy.Cut()
	if res := get(t, c, url+"/readyz"); res.status != 503 {
		t.Fatalf("during the cut: %d %s", res.status, res.body)
	}
	proxy.Restore()
	deadline := time.Now().Add(10 * time.Second)
	for {
		res := get(t, c, url+"/readyz")
		if res.status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready 10s after the restore: %d", res.status)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func slogDiscard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// hostPort returns the host:port of a service URL.
func hostPort(t *testing.T, rawURL string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// TestHealthBlackhole: PostgreSQL and Redis black-holed behind
// internal/faultproxy, with a go-redis client built without
// ContextTimeoutEnabled and a 30 s ReadTimeout (so Ping ignores the
// probe's deadline): /readyz still answers 503 by its own deadline, while
// the pings are left running; probes that follow join the running ping
// instead of starting more; after the restore the service is ready again.
func TestHealthBlackhole(t *testing.T) {
	t.Parallel()
	dsn, _ := dbtest.PostgresSchemaURL(t)
	pgp := faultproxy.Start(t, hostPort(t, dsn))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	db, err := models.Open(ctx, pgp.Rewrite(dsn), models.WithAcquireTimeout(500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	dbtest.Redis(t)
	rp := faultproxy.Start(t, hostPort(t, dbtest.RedisURL()))
	opt, err := redis.ParseURL(rp.Rewrite(dbtest.RedisURL()))
	if err != nil {
		t.Fatal(err)
	}
	opt.ReadTimeout, opt.WriteTimeout = 30*time.Second, 30*time.Second // ContextTimeoutEnabled stays false
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	var pings atomic.Int32
	pinger := cosworth.PingerFunc(func(ctx context.Context) error {
		pings.Add(1)
		return rdb.Ping(ctx).Err()
	})
	url := serve(t, slogDiscard(), cosworth.Config{}, cosworth.Health(db, pinger))
	c := &http.Client{Timeout: 25 * time.Second} // far below the Redis client's 30 s
	if res := get(t, c, url+"/readyz"); res.status != 200 {
		t.Fatalf("before: %d %s", res.status, res.body)
	}
	for _, fault := range []string{"redis", "postgres and redis"} {
		if fault == "redis" {
			rp.Blackhole()
		} else {
			pgp.Blackhole()
		}
		before := pings.Load()
		for range 3 {
			if res := get(t, c, url+"/readyz"); res.status != 503 {
				t.Fatalf("%s black-holed: %d %s", fault, res.status, res.body)
			}
		}
		// The first probe's Redis ping is still blocked (30 s read
		// timeout): the next probes joined it.
		if n := pings.Load() - before; n > 1 {
			t.Fatalf("%s black-holed: %d Redis pings for 3 probes, want the stuck one shared", fault, n)
		}
	}
	pgp.Restore()
	rp.Restore() // closes the black-holed connections: the stuck ping returns
	waitReady(t, c, url)
}

// waitReady polls /readyz until it answers 200.
func waitReady(t *testing.T, c *http.Client, url string) {
	t.Helper()
	for i := 0; ; i++ {
		res := get(t, c, url+"/readyz")
		if res.status == 200 {
			return
		}
		if i == 200 {
			t.Fatalf("not ready after the restore: %d", res.status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
