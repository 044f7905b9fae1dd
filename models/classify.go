package models

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/puddle/v2"
)

// Classify turns a database error into one of the typed values the rest of
// Cosworth understands, the same for PostgreSQL and SQLite:
//
//   - nil: nil
//   - sql.ErrNoRows: an error wrapping ErrNotFound (and sql.ErrNoRows)
//   - a unique, foreign-key, not-null or check violation: *ConstraintError
//     (Kind, Table, Constraint and Columns as far as the database names
//     them; the driver's message is kept in Err for logs only)
//   - a connection that cannot be made, was lost, a pool that is closed or
//     exhausted, a busy SQLite database, a PostgreSQL server shutting down
//     or refusing connections: an error wrapping ErrUnavailable (and the cause)
//   - an *AmbiguousError (ClassifyCommit): unchanged
//   - context.Canceled and context.DeadlineExceeded: unchanged
//   - anything else: unchanged
//
// Classify is idempotent: classifying a classified error returns it as is.
func Classify(err error) error {
	if err == nil {
		return nil
	}
	var ce *ConstraintError
	if errors.As(err, &ce) || errors.Is(err, ErrNotFound) || errors.Is(err, ErrUnavailable) || errors.Is(err, ErrAmbiguous) {
		return err
	}
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return classifyPostgres(err, pe)
	}
	if code, msg, ok := sqliteError(err); ok {
		return classifySQLite(err, code, msg)
	}
	if isConnectionError(err) {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
}

// IsDriverError reports whether err comes from the database or its
// driver (a PostgreSQL or SQLite error, a broken connection, a finished
// transaction): an error whose text is for logs, never for clients.
func IsDriverError(err error) bool {
	if err == nil {
		return false
	}
	var pe *pgconn.PgError
	var ce *ConstraintError
	_, _, isSQLite := sqliteError(err)
	return errors.As(err, &pe) || isSQLite || errors.As(err, &ce) ||
		errors.Is(err, sql.ErrTxDone) || errors.Is(err, ErrUnavailable) || errors.Is(err, ErrAmbiguous) || errors.Is(err, ErrNotFound) ||
		errors.Is(err, sql.ErrNoRows) || isConnectionError(err)
}

func isConnectionError(err error) bool {
	var connErr *pgconn.ConnectError
	var netErr net.Error
	switch {
	case errors.As(err, &connErr), errors.As(err, &netErr), pgconn.Timeout(err),
		errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, pgconn.ErrConnClosed), errors.Is(err, puddle.ErrClosedPool),
		errors.Is(err, net.ErrClosed):
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "conn closed") || strings.Contains(msg, "closed pool") || strings.Contains(msg, "sql: database is closed")
}

func classifyPostgres(err error, pe *pgconn.PgError) error {
	var kind ConstraintKind
	switch pe.Code {
	case "23505":
		kind = Unique
	case "23503":
		kind = ForeignKey
	case "23502":
		kind = NotNull
	case "23514":
		kind = Check
	default:
		// Class 08 is connection exception; 57P01-57P03 are shutdowns and
		// startup; 53300 is too_many_connections.
		if strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03" || pe.Code == "53300" {
			return fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		return err
	}
	ce := &ConstraintError{Kind: kind, Table: pe.TableName, Constraint: pe.ConstraintName, Err: err}
	if kind == NotNull && pe.ColumnName != "" {
		ce.Columns = []string{pe.ColumnName}
	} else {
		ce.Columns = detailColumns(pe.Detail)
	}
	return ce
}

// detailColumns parses the columns of PostgreSQL's detail text
// `Key (a, b)=(1, 2) already exists.`; nil when it is not of that form.
func detailColumns(detail string) []string {
	const prefix = "Key ("
	i := strings.Index(detail, prefix)
	if i < 0 {
		return nil
	}
	rest := detail[i+len(prefix):]
	j := strings.Index(rest, ")=(")
	if j <= 0 {
		return nil
	}
	var cols []string
	for c := range strings.SplitSeq(rest[:j], ",") {
		c = strings.TrimSpace(c)
		if len(c) >= 2 && c[0] == '"' && c[len(c)-1] == '"' {
			c = strings.ReplaceAll(c[1:len(c)-1], `""`, `"`)
		}
		if c == "" || strings.ContainsAny(c, "()") {
			// An expression index: no plain column to name.
			return nil
		}
		cols = append(cols, c)
	}
	return cols
}

// SQLite result codes Classify looks at.
const (
	sqliteBusy            = 5
	sqliteLocked          = 6
	sqliteConstraintCheck = 275
	sqliteConstraintFK    = 787
	sqliteConstraintNN    = 1299
	sqliteConstraintPK    = 1555
	sqliteConstraintUniq  = 2067
)

// classifySQLite classifies a SQLite error with result code code and
// message msg (see sqliteError).
func classifySQLite(err error, code int, msg string) error {
	var kind ConstraintKind
	switch code {
	case sqliteConstraintUniq, sqliteConstraintPK:
		kind = Unique
	case sqliteConstraintFK:
		kind = ForeignKey
	case sqliteConstraintNN:
		kind = NotNull
	case sqliteConstraintCheck:
		kind = Check
	default:
		if c := code & 0xff; c == sqliteBusy || c == sqliteLocked {
			return fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		return err
	}
	ce := &ConstraintError{Kind: kind, Err: err}
	// Messages are "UNIQUE constraint failed: t.a, t.b",
	// "NOT NULL constraint failed: t.a", "CHECK constraint failed: name"
	// and "FOREIGN KEY constraint failed" (which names nothing).
	const marker = "constraint failed: "
	i := strings.LastIndex(msg, marker)
	if i < 0 {
		return ce
	}
	rest := msg[i+len(marker):]
	if j := strings.Index(rest, " ("); j >= 0 {
		rest = rest[:j]
	}
	if kind == Check {
		ce.Constraint = strings.TrimSpace(rest)
		return ce
	}
	for part := range strings.SplitSeq(rest, ",") {
		part = strings.TrimSpace(part)
		table, col, ok := strings.Cut(part, ".")
		if !ok || col == "" {
			continue
		}
		ce.Table = table
		ce.Columns = append(ce.Columns, col)
	}
	return ce
}

// ClassifyCommit is Classify for the error of a statement that commits: a
// COMMIT, or a single auto-committed INSERT, UPDATE or DELETE. An error
// that may have come after the database received it (a connection lost or
// a deadline passed while waiting for the answer: pgconn reports it as not
// safe to retry) is an *AmbiguousError, because the write may have been
// applied; the rest is Classify's, where ErrUnavailable means "not
// applied, safe to retry": the connection could not be acquired or made,
// or failed before the statement was sent. A PostgreSQL error answered by
// the server (a deferred constraint, a serialization failure) is not
// ambiguous: the server reported that it did not commit.
//
//	err = models.ClassifyCommit(tx.Commit())
func ClassifyCommit(err error) error {
	if err == nil {
		return nil
	}
	if IsAmbiguous(err) {
		return err
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) || errors.Is(err, ErrUnavailable) || errors.Is(err, ErrNotFound) {
		// The server answered, or nothing was sent.
		return Classify(err)
	}
	if sentToPostgres(err) {
		return &AmbiguousError{Err: err}
	}
	return Classify(err)
}

// IsAmbiguous reports whether err is a write whose outcome is unknown
// (ClassifyCommit).
func IsAmbiguous(err error) bool { return errors.Is(err, ErrAmbiguous) }

// sentToPostgres reports whether err comes from a pgx connection that
// may have sent the statement before failing: pgconn's own errors say
// whether they are safe to retry (nothing was sent); a network error or
// a timeout on the connection is not.
func sentToPostgres(err error) bool {
	var retry interface{ SafeToRetry() bool }
	if errors.As(err, &retry) {
		return !retry.SafeToRetry()
	}
	if pgconn.Timeout(err) {
		return true
	}
	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, net.ErrClosed)
}
