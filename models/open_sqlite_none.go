//go:build cosworth_nosqlite

package models

import (
	"fmt"

	"github.com/uptrace/bun"
)

// SQLiteBuiltIn reports whether this binary has the embedded SQLite: false
// when built with -tags cosworth_nosqlite.
const SQLiteBuiltIn = false

func openSQLite(dsn string, _ options) (*bun.DB, error) {
	return nil, fmt.Errorf("%w: %q is not a postgres:// URL, and this binary was built with -tags cosworth_nosqlite, "+
		"so it has no SQLite; give a PostgreSQL URL (e.g. DATABASE_URL=postgres://user@host:5432/db), "+
		"or build without the tag to use SQLite", ErrNoSQLite, dsn)
}

func sqliteError(error) (int, string, bool) { return 0, "", false }
