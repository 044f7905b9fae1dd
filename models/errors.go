package models

import (
	"errors"
	"fmt"
)

// ErrNotFound is returned (wrapped) when a query that needs one row finds none.
// Views answer it with 404 {"detail": "Not found."}.
var ErrNotFound = errors.New("cosworth/models: not found")

// ErrUnavailable is returned (wrapped) when the database cannot be reached or
// a connection cannot be acquired within the pool's acquire timeout. Views
// answer it with a fast 503.
var ErrUnavailable = errors.New("cosworth/models: database unavailable")

// ConstraintKind says which kind of integrity constraint a write violated.
type ConstraintKind uint8

// The constraint kinds Classify recognises.
const (
	Unique ConstraintKind = iota + 1
	ForeignKey
	NotNull
	Check
)

// String names the kind: "unique", "foreign key", "not null" or "check".
func (k ConstraintKind) String() string {
	switch k {
	case Unique:
		return "unique"
	case ForeignKey:
		return "foreign key"
	case NotNull:
		return "not null"
	case Check:
		return "check"
	}
	return "unknown"
}

// ConstraintError is a write rejected by an integrity constraint, the same
// for PostgreSQL and SQLite. Columns holds the violated columns when the
// database names them (it may be empty).
type ConstraintError struct {
	Kind       ConstraintKind
	Table      string
	Constraint string
	Columns    []string
	Err        error // the driver's error
}

// Error describes the violation for logs; it includes the driver's
// message and is never shown to clients.
func (e *ConstraintError) Error() string {
	return fmt.Sprintf("cosworth/models: %s violation on %s%v: %v", e.Kind, e.Table, e.Columns, e.Err)
}

// Unwrap returns the driver's error.
func (e *ConstraintError) Unwrap() error { return e.Err }

// ErrAmbiguous is wrapped by the error of a write whose outcome is
// unknown: the connection was lost, or its deadline passed, after the
// statement that commits (a COMMIT, or a single auto-committed INSERT,
// UPDATE or DELETE) was sent, so the database may have applied it. Views
// answer it with 500 {"detail": "A server error occurred."} without
// Retry-After, never with the 503 that tells a client to retry, and log it
// as ambiguous with the request id. See ClassifyCommit.
var ErrAmbiguous = errors.New("cosworth/models: ambiguous write: the connection was lost after the commit was sent, it may or may not have been applied")

// AmbiguousError is a write whose outcome is unknown (see ErrAmbiguous).
// It matches ErrAmbiguous with errors.Is, and nothing else: in
// particular not ErrUnavailable or context.DeadlineExceeded, which would
// mean "not applied, retry". Err, the driver's error, is for logs.
type AmbiguousError struct {
	Err error
}

// Error describes the ambiguous write and its cause, for logs only.
func (e *AmbiguousError) Error() string { return ErrAmbiguous.Error() + ": " + e.Err.Error() }

// Is matches ErrAmbiguous.
func (e *AmbiguousError) Is(target error) bool { return target == ErrAmbiguous }
