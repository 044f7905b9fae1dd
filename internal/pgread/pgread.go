// Package pgread runs the generic views' reads (a page, an object, a
// count) on the pgx pool of a PostgreSQL DB opened by models.Open, instead
// of database/sql: the SQL text is bun's, with the values wrapped in
// models.Param (by views, filters, paginators and users' Querysets) sent
// as $N parameters, so each query shape has
// one text that pgx prepares once per connection (its statement cache, an
// LRU of pgx's StatementCacheCapacity, 512 by default, statements per
// connection) and answers with binary results, which are decoded straight
// into the model's fields through a plan cached per query text and model.
// A DSN that sets default_query_exec_mode or statement_cache_capacity=0
// keeps its choice (no prepared statements; text results, scanned the
// same). A query that never changes but for its Args can be formatted once
// (Prepare) and run with new values (Statement.Scan).
//
// Models with relations are read directly too: a relation the query does
// not join is left as bun leaves it (nil, or unchanged in a struct that
// already held it), and the columns of a joined has-one or belongs-to
// relation ("rel"."col" AS "rel__col") go into the related struct, which
// is allocated, as bun does, only when one of its columns is not NULL.
//
// An update's or a destroy's transaction (Load, Tx.UpdateCommit,
// Tx.UpdateFieldsCommit, Tx.DeleteCommit) runs the same way on one
// connection in two round trips: BEGIN with the locked load, then the
// UPDATE ... RETURNING or the DELETE with the COMMIT. An update can also
// run without a transaction (Statement.ScanVersion, then
// UpdateFieldsIfVersion, which writes the row only if it is still the
// version read), and a create's INSERT ... RETURNING (Insert,
// InsertFields) is one round trip. The writes pgread formats itself
// (InsertFields, UpdateFieldsCommit, UpdateFieldsIfVersion) send their
// values as text parameters of a statement prepared per connection and
// shape (params.go).
//
// A slice that holds rows is truncated and scanned over, as bun does: a
// row within its capacity goes over the old element (columns not selected
// keep their values), a NULL in a pointer field that pointed to a value
// points it to a new zero value, and a value goes into the value a
// pointer field already points to.
//
// It knows what it runs from bun's public API and the SQL text alone
// (no unexported bun field): when it cannot do that exactly as bun would,
// it lets bun run the query: SQLite, a DB other than the one
// models.Open returned (models.Pool: the copies WithQueryHook and
// WithNamedArg make, so query hooks see every query, and a bun.DB with a
// connection resolver), a model with select or BeforeScanRow hooks
// (interfaces of the model type, schema.Table), a model whose queries may
// join a has-many or many-to-many relation (it, or a has-one or
// belongs-to relation of it, declares one: bun loads such a relation with
// queries of its own, which the SQL text does not show), a query joining
// a relation of a relation, a select list other than the model's own
// columns and its joined relations' (a column expression), a field type it does not decode (JSON, arrays,
// sql.Scanner types other than models.Date), a column type that does not
// match the field, a value pgx cannot encode for the parameter's inferred
// type, and, for counts, a query whose count is not count(*) over its
// FROM ... WHERE (GROUP BY, DISTINCT, UNION, ...). docs/performance.md
// ("How the views read PostgreSQL") has the details and the figures.
//
// Nor does any public bun API show a query bound to a bun.Tx or a
// bun.Conn (tx.NewSelect, q.Conn): callers pass only queries built on the
// DB itself, which pgread runs on a connection of its own.
package pgread

import (
	"context"
	"database/sql"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/schema"

	"github.com/cosworth/cosworth/models"
)

// Scan runs q and scans its rows into dst, q's model: a pointer to a
// struct (the first row; sql.ErrNoRows when there is none) or to a slice
// of structs (truncated first, as bun does). It returns the database's
// error, wrapped by models.ErrUnavailable when no connection frees up
// within the acquire timeout.
func Scan(ctx context.Context, q *bun.SelectQuery, dst any) error {
	var s Session
	defer s.Close()
	return s.Scan(ctx, q, dst)
}

// ScanWindow is Scan of q.Limit(limit).Offset(offset), with the limit and
// the offset sent as parameters, so every page of a list has the same SQL
// text.
func ScanWindow(ctx context.Context, q *bun.SelectQuery, dst any, limit, offset int64) error {
	var s Session
	defer s.Close()
	return s.ScanWindow(ctx, q, dst, limit, offset)
}

// Count returns the number of rows q selects, as q.Count does (the query
// without its ORDER BY, LIMIT and OFFSET).
func Count(ctx context.Context, q *bun.SelectQuery) (int64, error) {
	var s Session
	defer s.Close()
	return s.Count(ctx, q)
}

// Session runs the reads of one request (a count, then a page) on one
// pooled connection, taken on the first read pgx runs and kept until
// Close: one wait for the pool instead of one per query. Its zero value is
// ready; it is not safe for concurrent use. Before a query that bun runs,
// it gives the connection back, so bun never waits for a connection the
// request holds.
type Session struct {
	db   *bun.DB
	conn *pgxpool.Conn
}

// Close gives the connection back to the pool.
func (s *Session) Close() {
	if s.conn != nil {
		s.conn.Release()
		s.conn = nil
	}
}

// acquire returns the session's connection, taking one from db's pool
// (waiting at most the acquire timeout) when it has none.
func (s *Session) acquire(ctx context.Context, db *bun.DB) (*pgxpool.Conn, error) {
	if s.conn != nil && s.db == db {
		return s.conn, nil
	}
	s.Close()
	conn, err := models.Acquire(ctx, db)
	if err != nil {
		return nil, err
	}
	s.db, s.conn = db, conn
	return conn, nil
}

// Scan is the package's Scan on the session's connection.
func (s *Session) Scan(ctx context.Context, q *bun.SelectQuery, dst any) error {
	return s.scan(ctx, q, dst, 0, 0, false)
}

// ScanWindow is the package's ScanWindow on the session's connection.
func (s *Session) ScanWindow(ctx context.Context, q *bun.SelectQuery, dst any, limit, offset int64) error {
	return s.scan(ctx, q.Limit(limit).Offset(offset), dst, limit, offset, limit > 0)
}

// Count is the package's Count on the session's connection.
func (s *Session) Count(ctx context.Context, q *bun.SelectQuery) (int64, error) {
	db := q.DB()
	if !directDB(db) {
		s.Close()
		return q.Count(ctx)
	}
	c := getCollector(db.Dialect())
	defer putCollector(c)
	b, err := q.AppendQuery(schema.NewQueryGen(c), c.buf)
	if err != nil {
		return 0, err
	}
	c.buf = b
	sh := shapes.get(b)
	if sh.count == "" {
		s.Close()
		return q.Count(ctx)
	}
	conn, err := s.acquire(ctx, db)
	if errors.Is(err, models.ErrNoPool) {
		return q.Count(ctx)
	}
	if err != nil {
		return 0, err
	}
	c.args[0] = execMode(db)
	var n int64
	if err := conn.QueryRow(ctx, sh.count, c.args...).Scan(&n); err != nil {
		if isEncodeError(err) {
			s.Close()
			return q.Count(ctx)
		}
		return 0, err
	}
	return n, nil
}

// isEncodeError reports whether pgx refused to encode a parameter for the
// type PostgreSQL inferred for it (an int64 beyond an int4 column's range).
// bun's literal compares such a value without failing (no row matches), so
// bun runs the query. Nothing was executed.
func isEncodeError(err error) bool {
	return strings.HasPrefix(err.Error(), "failed to encode args[")
}

// errFallback reports that bun must run the query.
var errFallback = errors.New("pgread: fallback")

func (s *Session) scan(ctx context.Context, q *bun.SelectQuery, dst any, limit, offset int64, window bool) error {
	err := s.direct(ctx, q, dst, limit, offset, window)
	if err == errFallback {
		s.Close()
		return q.Scan(ctx)
	}
	return err
}

func (s *Session) direct(ctx context.Context, q *bun.SelectQuery, dst any, limit, offset int64, window bool) error {
	db := q.DB()
	if !directDB(db) {
		return errFallback
	}
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return errFallback
	}
	elem := rv.Elem()
	slice := elem.Kind() == reflect.Slice
	typ := elem.Type()
	if slice {
		typ = typ.Elem()
	}
	if typ.Kind() != reflect.Struct {
		return errFallback
	}
	m := modelFor(db, typ)
	if !m.direct {
		return errFallback
	}
	if m.beforeAppend {
		if err := beforeAppend(ctx, q, elem, slice); err != nil {
			return err
		}
	}

	c := getCollector(db.Dialect())
	defer putCollector(c)
	b, err := q.AppendQuery(schema.NewQueryGen(c), c.buf)
	if err != nil {
		return err
	}
	if window {
		b = parameterizeWindow(c, b, limit, offset)
	}
	c.buf = b
	sh := shapes.get(b)
	p := sh.planFor(m)
	if p == nil {
		return errFallback
	}

	return s.run(ctx, db, sh.sql, p, m, c.args, elem, slice)
}

// run executes sqlText with args (args[0] is replaced by the exec mode)
// and scans the rows into elem (a struct, or a slice of them) through p.
// It returns errFallback when bun must run the query instead.
func (s *Session) run(ctx context.Context, db *bun.DB, sqlText string, p *plan, m *model, args []any, elem reflect.Value, slice bool) error {
	conn, err := s.acquire(ctx, db)
	if errors.Is(err, models.ErrNoPool) {
		return errFallback
	}
	if err != nil {
		return err
	}
	args[0] = execMode(db)
	rows, err := conn.Query(ctx, sqlText, args...)
	if err != nil {
		if isEncodeError(err) {
			return errFallback
		}
		return err
	}
	return scanRows(ctx, rows, p, m, elem, slice)
}

// scanRows scans rows into elem (a struct, or a slice of them) through p
// and closes rows. It returns errFallback, having read nothing into elem,
// when the columns are not p's.
func scanRows(ctx context.Context, rows pgx.Rows, p *plan, m *model, elem reflect.Value, slice bool) error {
	return scanRowsVersion(ctx, rows, p, m, elem, slice, nil)
}

// scanRowsVersion is scanRows, which also stores the version column of a
// versioned plan (see Statement.ScanVersion) of the last row in version.
func scanRowsVersion(ctx context.Context, rows pgx.Rows, p *plan, m *model, elem reflect.Value, slice bool, version *uint32) error {
	defer rows.Close()
	if !p.matches(rows.FieldDescriptions()) {
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		return errFallback
	}
	st := p.getState(slice)
	defer p.putState(st)
	n := 0
	if slice && elem.Len() > 0 {
		elem.SetLen(0)
	}
	for rows.Next() {
		var base reflect.Value
		if slice {
			if n == elem.Cap() {
				elem.Grow(1)
			}
			// Within the slice's capacity, the row goes over the old
			// element, as in bun (which scans over it): the columns the
			// query does not select keep their values.
			elem.SetLen(n + 1)
			base = elem.Index(n)
		} else {
			base = elem
		}
		st.point(p, base.Addr().UnsafePointer())
		if err := rows.Scan(st.targets...); err != nil {
			return err
		}
		if len(p.rels) > 0 {
			st.finish(p, base.Addr().UnsafePointer())
		}
		if version != nil {
			*version = st.version
		}
		if m.afterScanRow {
			if err := base.Addr().Interface().(bun.AfterScanRowHook).AfterScanRow(ctx); err != nil {
				return err
			}
		}
		n++
		if !slice {
			break
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if n == 0 && !slice {
		return sql.ErrNoRows
	}
	return nil
}

// beforeAppend calls the model's BeforeAppendModel hook, as bun does
// before it formats a select: on the struct, or on each element of the
// slice.
func beforeAppend(ctx context.Context, q *bun.SelectQuery, elem reflect.Value, slice bool) error {
	if !slice {
		return elem.Addr().Interface().(bun.BeforeAppendModelHook).BeforeAppendModel(ctx, q)
	}
	for i := range elem.Len() {
		if err := elem.Index(i).Addr().Interface().(bun.BeforeAppendModelHook).BeforeAppendModel(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// parameterizeWindow replaces the " LIMIT l OFFSET o" bun appended last
// with " LIMIT $k OFFSET $k+1". When the text does not end so (something
// follows the limit), it is left as it is: correct, with a text of its own.
func parameterizeWindow(c *collector, b []byte, limit, offset int64) []byte {
	var tmp [64]byte
	want := append(tmp[:0], " LIMIT "...)
	want = strconv.AppendInt(want, limit, 10)
	if offset > 0 {
		want = append(want, " OFFSET "...)
		want = strconv.AppendInt(want, offset, 10)
	}
	if len(b) < len(want) || string(b[len(b)-len(want):]) != string(want) {
		return b
	}
	b = append(b[:len(b)-len(want)], " LIMIT "...)
	b = c.add(b, limit)
	b = append(b, " OFFSET "...)
	return c.add(b, offset)
}

// directDB reports whether queries on db may skip bun: db is the
// PostgreSQL DB models.Open returned (models.Pool answers only for it, not
// for the copies bun's WithQueryHook and WithNamedArg make, nor for
// another bun.DB on its *sql.DB, such as one with a connection resolver),
// with no named arguments.
func directDB(db *bun.DB) bool {
	if db == nil || db.Dialect().Name() != dialect.PG || models.Pool(db) == nil {
		return false
	}
	return db.QueryGen() == schema.NewQueryGen(db.Dialect())
}

// execMode returns the pgx exec mode of pgread's queries on db: the
// statement cache when the pool's default is models.Open's exec mode and
// the cache is enabled; otherwise the pool's own default, so a DSN that
// sets default_query_exec_mode (simple_protocol for PgBouncer in
// transaction mode) or statement_cache_capacity=0 keeps prepared
// statements off. Decided once per pool.
func execMode(db *bun.DB) any {
	if m, ok := execModes.Load(db.DB); ok {
		return m
	}
	var mode any = pgx.QueryExecModeCacheStatement
	if p := models.Pool(db); p != nil {
		cc := p.Config().ConnConfig
		if cc.DefaultQueryExecMode != pgx.QueryExecModeExec || cc.StatementCacheCapacity <= 0 {
			mode = cc.DefaultQueryExecMode
		}
	}
	if execModesLen.Add(1) > maxExecModes {
		execModes.Clear()
		execModesLen.Store(1)
	}
	execModes.Store(db.DB, mode)
	return mode
}

// execModes caches execMode per *sql.DB, bounded: past maxExecModes DBs
// (tests open many) it starts over.
var (
	execModes    sync.Map
	execModesLen atomic.Int64
)

const maxExecModes = 256

func modelFor(db *bun.DB, typ reflect.Type) *model {
	if m, ok := modelCache.Load(typ); ok {
		return m.(*model)
	}
	m := newModel(db, typ)
	v, _ := modelCache.LoadOrStore(typ, m)
	return v.(*model)
}

// shape is one query text, with what this package derived from it.
type shape struct {
	sql   string
	cols  []string
	count string
	plan  atomic.Pointer[planEntry]
}

type planEntry struct {
	model *model
	plan  *plan // nil: the model cannot be scanned from these columns
}

func (sh *shape) planFor(m *model) *plan {
	if e := sh.plan.Load(); e != nil && e.model == m {
		return e.plan
	}
	e := &planEntry{model: m}
	if sh.cols != nil {
		e.plan = newPlan(m, sh.cols)
	}
	sh.plan.Store(e)
	return e.plan
}

// maxShapes bounds the query texts remembered. Texts with values a
// Queryset put inline are one per value; past the bound the cache starts
// over, and pgx's statement cache is an LRU bounded per connection.
const maxShapes = 1024

type shapeCache struct {
	mu sync.RWMutex
	m  map[string]*shape
}

var shapes = &shapeCache{m: make(map[string]*shape)}

func (c *shapeCache) get(b []byte) *shape {
	c.mu.RLock()
	sh := c.m[string(b)]
	c.mu.RUnlock()
	if sh != nil {
		return sh
	}
	s := string(b)
	a := analyze(s)
	sh = &shape{sql: s, cols: a.cols, count: a.count}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.m[s]; old != nil {
		return old
	}
	if len(c.m) >= maxShapes {
		clear(c.m)
	}
	c.m[s] = sh
	return sh
}
