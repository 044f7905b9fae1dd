// Package dbtest gives tests a real PostgreSQL database (a fresh schema per
// test, dropped afterwards), an embedded SQLite database, and a real Redis
// client. Services are found through COSWORTH_PG and COSWORTH_REDIS
// (localhost defaults). When a service is unreachable the test is skipped,
// unless COSWORTH_REQUIRE_SERVICES=1 (set by scripts/test.sh and CI), when
// it fails. Package apitest's DB is the public face of SQLite and
// PostgresAt for users' tests.
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/internal/faultproxy"
	"github.com/cosworth/cosworth/models"
)

// DefaultPG and DefaultRedis are used when COSWORTH_PG / COSWORTH_REDIS are unset.
const (
	DefaultPG    = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	DefaultRedis = "redis://127.0.0.1:6379/0"
)

// PostgresURL returns the PostgreSQL URL tests use.
func PostgresURL() string {
	if u := os.Getenv("COSWORTH_PG"); u != "" {
		return u
	}
	return DefaultPG
}

// RedisURL returns the Redis URL tests use.
func RedisURL() string {
	if u := os.Getenv("COSWORTH_REDIS"); u != "" {
		return u
	}
	return DefaultRedis
}

// Required reports whether a missing service fails the test instead of skipping it.
func Required() bool { return os.Getenv("COSWORTH_REQUIRE_SERVICES") == "1" }

func unavailable(t testing.TB, what string, err error) {
	t.Helper()
	if Required() {
		t.Fatalf("%s is required (COSWORTH_REQUIRE_SERVICES=1) but unreachable: %v", what, err)
	}
	t.Skipf("%s unreachable, skipping (set COSWORTH_REQUIRE_SERVICES=1 to fail instead): %v", what, err)
}

// RandomName returns prefix followed by 12 random hex digits.
func RandomName(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// PostgresSchemaURL creates a fresh schema on the test PostgreSQL
// (PostgresURL) and returns a URL whose connections use it (search_path),
// and the schema name. The schema is dropped when the test ends.
func PostgresSchemaURL(t testing.TB) (string, string) {
	t.Helper()
	return PostgresSchemaURLAt(t, PostgresURL())
}

// PostgresSchemaURLAt is PostgresSchemaURL on the PostgreSQL server of
// base, a postgres:// URL.
func PostgresSchemaURLAt(t testing.TB, base string) (string, string) {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("%q is not a postgres:// URL", redact(base))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin, err := models.Open(ctx, base)
	if err != nil {
		unavailable(t, "PostgreSQL", err)
	}
	defer admin.Close()
	schema := RandomName("t_")
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		admin, err := models.Open(ctx, base)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer admin.Close()
		if _, err := admin.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), schema
}

// redact returns a URL without its password, for messages.
func redact(s string) string {
	if u, err := url.Parse(s); err == nil {
		return u.Redacted()
	}
	return "(unparsable URL)"
}

// Postgres opens a PostgreSQL bun.DB on a fresh schema, creates the tables
// of the given models in it, and closes and drops everything when the test ends.
func Postgres(t testing.TB, modelsToCreate ...any) *bun.DB {
	t.Helper()
	return PostgresAt(t, PostgresURL(), modelsToCreate...)
}

// PostgresAt is Postgres on the PostgreSQL server of base, a postgres:// URL.
func PostgresAt(t testing.TB, base string, modelsToCreate ...any) *bun.DB {
	t.Helper()
	dsn, _ := PostgresSchemaURLAt(t, base)
	return open(t, dsn, modelsToCreate)
}

// SQLite opens an embedded SQLite database in a temporary file and creates
// the tables of the given models. In a build without SQLite (-tags
// cosworth_nosqlite, as scripts/test.sh builds the fuzz targets, whose
// instrumented build of SQLite takes minutes) it is Postgres.
func SQLite(t testing.TB, modelsToCreate ...any) *bun.DB {
	t.Helper()
	if !models.SQLiteBuiltIn {
		return Postgres(t, modelsToCreate...)
	}
	return open(t, filepath.Join(t.TempDir(), "test.db"), modelsToCreate)
}

// Dialects returns the databases a test should run against, by name:
// "postgres" and "sqlite", each with the given models' tables created.
func Dialects(t *testing.T, modelsToCreate ...any) map[string]func(t *testing.T) *bun.DB {
	return map[string]func(t *testing.T) *bun.DB{
		"postgres": func(t *testing.T) *bun.DB { return Postgres(t, modelsToCreate...) },
		"sqlite":   func(t *testing.T) *bun.DB { return SQLite(t, modelsToCreate...) },
	}
}

func open(t testing.TB, dsn string, modelsToCreate []any) *bun.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	db, err := models.Open(ctx, dsn)
	if err != nil {
		if strings.HasPrefix(dsn, "postgres") {
			unavailable(t, "PostgreSQL", err)
		}
		t.Fatalf("open %s: %v", dsn, err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if len(modelsToCreate) > 0 {
		if err := models.CreateTables(ctx, db, modelsToCreate...); err != nil {
			t.Fatalf("create tables: %v", err)
		}
	}
	return db
}

// Redis returns a client for the test Redis and a key prefix unique to this
// test; keys under the prefix are deleted when the test ends. Tests must
// only use keys under their prefix and never FLUSHDB.
func Redis(t testing.TB) (*redis.Client, string) {
	t.Helper()
	opt, err := redis.ParseURL(RedisURL())
	if err != nil {
		t.Fatalf("COSWORTH_REDIS: %v", err)
	}
	opt.DialTimeout = time.Second
	rdb := redis.NewClient(opt)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		_ = rdb.Close()
		unavailable(t, "Redis", err)
	}
	prefix := RandomName("test:") + ":"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			rdb.Del(ctx, iter.Val())
		}
		_ = rdb.Close()
	})
	return rdb, prefix
}

// Must fails the test on err.
func Must(t testing.TB, err error, what string, args ...any) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", fmt.Sprintf(what, args...), err)
	}
}

// ProxiedPostgres opens a DB on a fresh PostgreSQL schema with the
// tables of modelsToCreate, through a proxy that counts what the client
// sends (round trips), with one pooled connection, so that its
// statements, once prepared, stay prepared and a request that held one
// connection while taking another would wait on itself. Both close when
// the test ends.
func ProxiedPostgres(t *testing.T, modelsToCreate ...any) (*bun.DB, *faultproxy.Proxy) {
	t.Helper()
	dsn, _ := PostgresSchemaURL(t)
	u, err := url.Parse(dsn)
	Must(t, err, "parse %s", dsn)
	proxy := faultproxy.Start(t, u.Host)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	db, err := models.Open(ctx, proxy.Rewrite(dsn), models.WithMaxConns(1))
	Must(t, err, "open through the proxy")
	t.Cleanup(func() { _ = db.Close() })
	Must(t, models.CreateTables(ctx, db, modelsToCreate...), "create tables")
	return db, proxy
}
