package models

import (
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/uptrace/bun/schema"
)

// Param wraps v, a value a query compares with (a lookup value, a filter
// or search term, a cursor position, the caller's id in a Queryset), so
// that the query's SQL text is the same for every value:
//
//	q.Where("?TableAlias.owner_id = ?", models.Param(userID))
//
// Where the views run the query on the pgx pool of a PostgreSQL DB opened
// by Open, v is sent as a $N parameter, so every value shares one prepared
// statement; where bun formats the query itself (SQLite, a query the views
// leave to bun, q.String()), v is appended as the literal bun appends for
// it, so the query means the same everywhere. Integers, strings, booleans,
// time.Time and driver.Valuer values become parameters; other values
// (floats, whose float4 and float8 comparisons differ, nil) always stay
// literals.
//
// The mechanism is bun's: the wrapper is a schema.QueryAppender that asks
// the query generator's dialect for a placeholder when the dialect has a
// method AppendParam(b []byte, v any) ([]byte, bool), and appends the
// literal otherwise.
func Param(v any) schema.QueryAppender { return param{v} }

// IntParam is Param of an integer in one allocation instead of two: pgx
// receives the wrapper itself and encodes it without reflection.
func IntParam(n int64) schema.QueryAppender {
	p := intParam(n)
	return &p
}

// paramDialect is the dialect of a query generator that sends parameters.
type paramDialect interface {
	AppendParam(b []byte, v any) ([]byte, bool)
}

// param is an array, not a struct: bun reads the fields of a lone struct
// argument as named arguments (and allocates to do so).
type param [1]any

// AppendQuery appends a placeholder for the value when gen's dialect sends
// parameters, the literal otherwise.
func (p param) AppendQuery(gen schema.QueryGen, b []byte) ([]byte, error) {
	if d, ok := gen.Dialect().(paramDialect); ok {
		if b2, ok := d.AppendParam(b, p[0]); ok {
			return b2, nil
		}
	}
	return gen.Append(b, p[0]), nil
}

type intParam int64

// AppendQuery appends a placeholder for the value when gen's dialect sends
// parameters, the literal otherwise.
func (p *intParam) AppendQuery(gen schema.QueryGen, b []byte) ([]byte, error) {
	if d, ok := gen.Dialect().(paramDialect); ok {
		if b2, ok := d.AppendParam(b, p); ok {
			return b2, nil
		}
	}
	return gen.Append(b, int64(*p)), nil
}

// Int64Value is the value pgx encodes (pgtype.Int64Valuer).
func (p *intParam) Int64Value() (pgtype.Int8, error) {
	return pgtype.Int8{Int64: int64(*p), Valid: true}, nil
}
