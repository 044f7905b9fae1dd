package apitest

import (
	"os"
	"testing"

	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/internal/dbtest"
)

// DatabaseEnv names the environment variable that sends [DB] to
// PostgreSQL: a postgres:// URL such as
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
const DatabaseEnv = "COSWORTH_TEST_DATABASE_URL"

// DB gives the test an isolated database with the tables of the given
// models created (models.CreateTables), closed and removed when the test
// ends. By default it is a fresh SQLite file in t.TempDir(). When
// COSWORTH_TEST_DATABASE_URL holds a PostgreSQL URL, it is a schema of that
// database made for this test alone (connections use it through
// search_path) and dropped afterwards, so tests may run in parallel and a
// failed run leaves nothing behind. An unreachable PostgreSQL skips the
// test, or fails it when COSWORTH_REQUIRE_SERVICES=1 (set it in CI).
//
// In a binary built with -tags cosworth_nosqlite, without a database URL,
// DB uses the PostgreSQL of COSWORTH_PG (default
// postgres://postgres@127.0.0.1:5432/test).
func DB(t testing.TB, models ...any) *bun.DB {
	t.Helper()
	if u := os.Getenv(DatabaseEnv); u != "" {
		return dbtest.PostgresAt(t, u, models...)
	}
	return dbtest.SQLite(t, models...)
}
