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

	"github.com/cosworth/cosworth/models"
)

// Arg is models.Param and Int64 is models.IntParam: a value sent as a $N
// parameter when this package runs the query, the literal bun appends
// otherwise. Views, filters, paginators and users' Querysets use models'
// names; these remain for this package's tests.
func Arg(v any) any { return models.Param(v) }

// Int64 is models.IntParam(n); see Arg.
func Int64(n int64) any { return models.IntParam(n) }

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
	case driver.Valuer, pgtype.Int64Valuer:
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

// AppendParam appends $N for v, a value models.Param wraps, and records
// it; it reports false for a value that must stay a literal.
func (c *collector) AppendParam(b []byte, v any) ([]byte, bool) {
	p, ok := paramValue(v)
	if !ok {
		return b, false
	}
	return c.add(b, p), true
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
