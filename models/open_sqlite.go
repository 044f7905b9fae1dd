//go:build !cosworth_nosqlite

package models

// The embedded SQLite (modernc.org/sqlite, pure Go). Build with
// -tags cosworth_nosqlite to leave it out; open_sqlite_none.go then
// stands in.

import (
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	"github.com/uptrace/bun/driver/sqliteshim"
	"modernc.org/sqlite"
)

// SQLiteBuiltIn reports whether this binary has the embedded SQLite: false
// when built with -tags cosworth_nosqlite.
const SQLiteBuiltIn = true

func openSQLite(dsn string, o options) (*bun.DB, error) {
	path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite://"), "sqlite:")
	if path == "" {
		return nil, errors.New(`cosworth/models: empty SQLite path (use a file path, sqlite:FILE or ":memory:")`)
	}
	memory := path == ":memory:" || strings.Contains(path, "mode=memory")
	q := url.Values{}
	if i := strings.IndexByte(path, '?'); i >= 0 {
		parsed, err := url.ParseQuery(path[i+1:])
		if err != nil {
			return nil, fmt.Errorf("cosworth/models: invalid SQLite options: %w", err)
		}
		q, path = parsed, path[:i]
	}
	// Foreign keys are always enforced; the other defaults yield to
	// pragmas given in the DSN (e.g. ?_pragma=busy_timeout(100)).
	q.Add("_pragma", "foreign_keys(1)")
	setPragma(q, "busy_timeout", "5000")
	if !memory {
		setPragma(q, "journal_mode", "WAL")
		setPragma(q, "synchronous", "NORMAL")
	}
	if q.Get("_txlock") == "" {
		q.Set("_txlock", "immediate")
	}
	sqldb, err := sql.Open(sqliteshim.ShimName, "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("cosworth/models: open SQLite: %w", err)
	}
	if memory {
		// Every connection to :memory: is a database of its own: keep one.
		sqldb.SetMaxOpenConns(1)
		sqldb.SetMaxIdleConns(1)
		sqldb.SetConnMaxLifetime(0)
	} else {
		sqldb.SetMaxOpenConns(int(o.maxConns))
		sqldb.SetMaxIdleConns(int(o.maxConns))
	}
	return bun.NewDB(sqldb, sqlitedialect.New()), nil
}

// setPragma adds _pragma=name(value) to q unless q already sets name.
func setPragma(q url.Values, name, value string) {
	for _, p := range q["_pragma"] {
		if strings.HasPrefix(strings.ToLower(strings.TrimSpace(p)), name) {
			return
		}
	}
	q.Add("_pragma", name+"("+value+")")
}

// sqliteError returns the result code and message of a SQLite error in
// err's chain.
func sqliteError(err error) (code int, msg string, ok bool) {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return 0, "", false
	}
	return se.Code(), se.Error(), true
}
