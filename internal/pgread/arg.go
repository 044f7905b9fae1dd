package pgread

import (
	"database/sql/driver"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/uptrace/bun/schema"
)

// Arg wraps v, a value a view, filter or paginator puts in a query (a
// lookup value, a filter or search value, a cursor position), so that the
// query text stays the same for every value: when the query runs on pgx
// through this package, v is sent as a $N parameter; when bun formats the
// query itself (SQLite, a fallback, String), v is appended as the literal
// bun would have appended for v. Values of other types than integers,
// strings, booleans, time.Time and driver.Valuer are always appended as
// literals: floats too, since a float4 column compares with a float8
// literal differently than with a float4 parameter.
func Arg(v any) any { return arg{v} }

// arg is an array, not a struct: bun reads the fields of a lone struct
// argument as named arguments (and allocates to do so).
type arg [1]any

// AppendQuery appends $N and records v when gen is a collector's, the
// literal otherwise.
func (a arg) AppendQuery(gen schema.QueryGen, b []byte) ([]byte, error) {
	if c, ok := gen.Dialect().(*collector); ok {
		if v, ok := paramValue(a[0]); ok {
			return c.add(b, v), nil
		}
	}
	return gen.Append(b, a[0]), nil
}

// Int64 is Arg(n) in one allocation instead of two: the parameter pgx
// receives is the *int64Arg itself, which pgx encodes through
// Int64Value without reflection.
func Int64(n int64) any {
	a := int64Arg(n)
	return &a
}

type int64Arg int64

// AppendQuery appends $N and records the value when gen is a collector's,
// the literal otherwise.
func (a *int64Arg) AppendQuery(gen schema.QueryGen, b []byte) ([]byte, error) {
	if c, ok := gen.Dialect().(*collector); ok {
		return c.add(b, a), nil
	}
	return gen.Append(b, int64(*a)), nil
}

// Int64Value is the value pgx encodes (pgtype.Int64Valuer).
func (a *int64Arg) Int64Value() (pgtype.Int8, error) {
	return pgtype.Int8{Int64: int64(*a), Valid: true}, nil
}

// paramValue returns v as pgx should receive it, or false when v must stay
// a literal (a type whose encoding by pgx could differ from bun's).
func paramValue(v any) (any, bool) {
	switch x := v.(type) {
	case nil:
		return nil, false // a NULL literal: "= NULL" has no parameter type to infer
	case int, int8, int16, int32, int64, uint8, uint16, uint32, bool, string:
		return v, true
	case uint:
		return v, uint64(x) <= math.MaxInt64
	case uint64:
		return v, x <= math.MaxInt64
	case time.Time:
		// bun appends time.Time in UTC; so the wall clock a timestamp
		// (without time zone) column compares with is the same.
		return x.UTC(), true
	case driver.Valuer:
		return v, true
	}
	return nil, false
}

// collector is the dialect of the QueryGen this package formats queries
// with: the database's dialect, plus the parameters appended so far. Args
// that find it write $N instead of a literal.
type collector struct {
	schema.Dialect
	args []any // args[0] is the exec mode, then $1, $2, ...
	buf  []byte
}

func (c *collector) add(b []byte, v any) []byte {
	c.args = append(c.args, v)
	b = append(b, '$')
	return strconv.AppendInt(b, int64(len(c.args)-1), 10)
}

// Bounds of the pooled collectors.
const (
	maxPooledArgs = 64
	maxPooledBuf  = 16 << 10
)

var collectors = sync.Pool{New: func() any {
	return &collector{args: make([]any, 0, 8), buf: make([]byte, 0, 512)}
}}

func getCollector(d schema.Dialect) *collector {
	c := collectors.Get().(*collector)
	c.Dialect = d
	c.args = append(c.args[:0], pgx.QueryExecModeCacheStatement)
	c.buf = c.buf[:0]
	return c
}

func putCollector(c *collector) {
	if cap(c.args) > maxPooledArgs || cap(c.buf) > maxPooledBuf {
		return
	}
	clear(c.args[:cap(c.args)])
	c.Dialect = nil
	collectors.Put(c)
}
