package pgread

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/schema"

	"github.com/cosworth/cosworth/models"
)

// maxLockShapes bounds the locked reads (one SQL text per view and
// Queryset shape) that are kept prepared, by name, on every connection:
// pgx's named statements are not in its LRU statement cache, so a shape
// beyond the bound runs as a pgx batch (an unnamed statement, described
// on every run) instead.
const maxLockShapes = 64

var (
	lockShapes sync.Map // SQL text -> struct{}
	nLockShape atomic.Int32
)

// preparable reports whether sqlText may be kept prepared on every
// connection (see maxLockShapes).
func preparable(sqlText string) bool {
	if _, ok := lockShapes.Load(sqlText); ok {
		return true
	}
	if nLockShape.Add(1) > maxLockShapes {
		nLockShape.Add(-1)
		return false
	}
	if _, loaded := lockShapes.LoadOrStore(sqlText, struct{}{}); loaded {
		nLockShape.Add(-1)
	}
	return true
}

var tracedDBs sync.Map // *bun.DB -> bool

// traced reports whether db's pool has a pgx tracer (models.WithTracer),
// which sees pgx's batches but not pgconn's.
func traced(db *bun.DB) bool {
	if v, ok := tracedDBs.Load(db); ok {
		return v.(bool)
	}
	p := models.Pool(db)
	t := p != nil && p.Config().ConnConfig.Tracer != nil
	tracedDBs.Store(db, t)
	return t
}

var builders = sync.Pool{New: func() any { return new(pgx.ExtendedQueryBuilder) }}

// beginLocked sends BEGIN and the prepared statement sqlText (the locked
// read of one object) with args in one round trip, and scans its row
// through p into elem. The statement is prepared on the connection on its
// first run there (one more round trip, once), so every later run skips
// the parse and the row description and reads binary results, as the
// reads' statement cache does. The transaction is left open on conn (or
// failed: the caller rolls it back). It returns errFallback when the
// columns are not p's or an argument does not encode.
func beginLocked(ctx context.Context, conn *pgxpool.Conn, sqlText string, args []any, p *plan, m *model, elem reflect.Value) error {
	c := conn.Conn()
	sd, err := c.Prepare(ctx, sqlText, sqlText)
	if err != nil {
		return err
	}
	eqb := builders.Get().(*pgx.ExtendedQueryBuilder)
	defer builders.Put(eqb)
	if err := eqb.Build(c.TypeMap(), sd, args); err != nil {
		// A value pgx cannot encode for the parameter's type (a number
		// beyond an int4 column), where bun's literal compares: nothing
		// was sent, bun runs it.
		return errFallback
	}
	var b pgconn.Batch
	b.ExecParams("BEGIN", nil, nil, nil, nil)
	b.ExecStatement(sd, eqb.ParamValues, eqb.ParamFormats, eqb.ResultFormats)
	mrr := c.PgConn().ExecBatch(ctx, &b)
	defer mrr.Close()
	if !mrr.NextResult() {
		return closeErr(mrr)
	}
	if _, err := mrr.ResultReader().Close(); err != nil {
		return err
	}
	if !mrr.NextResult() {
		return closeErr(mrr)
	}
	if err := scanRows(ctx, pgx.RowsFromResultReader(c.TypeMap(), mrr.ResultReader()), p, m, elem, false); err != nil {
		return err
	}
	return mrr.Close()
}

// closeErr is the error of a batch that ended early.
func closeErr(mrr *pgconn.MultiResultReader) error {
	if err := mrr.Close(); err != nil {
		return err
	}
	return errors.New("pgread: the batch answered fewer results than it sent")
}

// simple reports whether the transaction's statements may be sent as one
// simple query: no tracer (models.WithTracer sees pgx's queries, not
// pgconn's), and a session where bun's literals mean what they say, as
// pgx requires for its own simple protocol (standard_conforming_strings
// on, so a backslash cannot end a quoted string; UTF8).
func (tx *Tx) simple() bool {
	pc := tx.conn.Conn().PgConn()
	return !traced(tx.db) && pc.ParameterStatus("standard_conforming_strings") == "on" && pc.ParameterStatus("client_encoding") == "UTF8"
}

// updateCommit sends sqlText, an UPDATE ... RETURNING whose columns
// scanReturning knows and whose values are all bun's literals, followed
// by ";COMMIT", as one simple query (one round trip, one message), and
// scans the returned row into elem. When the UPDATE fails PostgreSQL
// skips the COMMIT (the transaction is aborted: Close rolls it back).
func (tx *Tx) updateCommit(ctx context.Context, sqlText string, elem reflect.Value) error {
	c := tx.conn.Conn()
	mrr := c.PgConn().Exec(ctx, sqlText)
	defer mrr.Close()
	if !mrr.NextResult() {
		return closeErr(mrr)
	}
	if err := tx.scanReturning(ctx, pgx.RowsFromResultReader(c.TypeMap(), mrr.ResultReader()), elem); err != nil {
		return err
	}
	return mrr.Close()
}

// UpdateFieldsCommit runs the UPDATE of fields of dst (the object Load
// scanned; fields are columns of table, the model's table) RETURNING
// returning (the model's columns, quoted) and COMMIT in one round trip,
// without a bun query: the SQL is bun's UpdateQuery's for
// Model(dst).Column(...).WherePK().Returning(returning), each value
// appended by its field as bun appends it. handled is false, nothing
// sent, when the model has a BeforeAppendModel hook of its own (bun calls it with
// the query) or a soft-delete field, before the model's first update
// (see UpdateCommit), or when the session cannot take bun's literals in a
// simple query: run UpdateCommit then. When the UPDATE fails nothing is
// committed and its error is returned; call Close.
func (tx *Tx) UpdateFieldsCommit(ctx context.Context, table *schema.Table, fields []*schema.Field, returning string, dst any) (handled bool, err error) {
	m := tx.m
	if m.opaqueHook || table.SoftDeleteField != nil || len(table.PKs) == 0 || len(fields) == 0 ||
		m.returning.Load() == nil || !tx.simple() {
		return false, nil
	}
	elem := reflect.ValueOf(dst).Elem()
	if elem.Type() != m.typ || table.Type != m.typ {
		return false, nil
	}
	if err := m.stamp(ctx, elem, (*bun.UpdateQuery)(nil)); err != nil {
		return true, err
	}
	c := getCollector(tx.db.Dialect())
	defer putCollector(c)
	gen := schema.NewQueryGen(tx.db.Dialect()) // literals, as bun's UpdateQuery
	if !traced(tx.db) && paramSession(tx.conn) {
		p := getParams()
		defer putParams(p)
		c.buf = appendUpdate(c.buf, gen, table, fields, returning, elem, p)
		ws := loadWriteShape(c.buf)
		if ws == nil {
			ws = storeWriteShape(c.buf, true)
		}
		if ws != nil {
			return true, tx.updateCommitPrepared(ctx, ws, p.slices(), elem)
		}
		c.buf = c.buf[:0]
	}
	b := appendUpdate(c.buf, gen, table, fields, returning, elem, nil)
	b = append(b, ";COMMIT"...)
	c.buf = b
	// The text is copied into the connection's write buffer before Exec
	// returns, and c (with b) is pooled only after updateCommit: b need
	// not be copied into a string of its own.
	return true, tx.updateCommit(ctx, unsafe.String(unsafe.SliceData(b), len(b)), elem)
}

// appendUpdate appends bun's UpdateQuery for
// Model(elem).Column(fields...).WherePK().Returning(returning): its values
// as $N parameters in p, or, with a nil p, as bun's literals.
func appendUpdate(b []byte, gen schema.QueryGen, table *schema.Table, fields []*schema.Field, returning string, elem reflect.Value, p *params) []byte {
	b = appendUpdateSet(b, gen, table, fields, elem, p)
	b = appendPKs(b, gen, table, elem, p)
	b = append(b, ") RETURNING "...)
	return append(b, returning...)
}

// appendPKs appends the condition that the primary key is elem's, as bun
// appends WherePK's: "alias"."pk" = value [AND ...].
func appendPKs(b []byte, gen schema.QueryGen, table *schema.Table, elem reflect.Value, p *params) []byte {
	for i, f := range table.PKs {
		if i > 0 {
			b = append(b, " AND "...)
		}
		b = append(b, table.SQLAlias...)
		b = append(b, '.')
		b = append(b, f.SQLName...)
		b = append(b, " = "...)
		b = appendFieldValue(b, gen, f, elem, p)
	}
	return b
}

// appendUpdateSet appends appendUpdate's SQL up to its WHERE's
// conditions: "UPDATE table AS alias SET ... WHERE (".
func appendUpdateSet(b []byte, gen schema.QueryGen, table *schema.Table, fields []*schema.Field, elem reflect.Value, p *params) []byte {
	b = append(b, "UPDATE "...)
	b = append(b, table.SQLName...)
	b = append(b, " AS "...)
	b = append(b, table.SQLAlias...)
	b = append(b, " SET "...)
	for i, f := range fields {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, f.SQLName...)
		b = append(b, " = "...)
		b = appendFieldValue(b, gen, f, elem, p)
	}
	return append(b, " WHERE ("...)
}

// appendFieldValue appends field f of elem: as a $N parameter in p, or,
// with a nil p, as bun's literal.
func appendFieldValue(b []byte, gen schema.QueryGen, f *schema.Field, elem reflect.Value, p *params) []byte {
	if p == nil {
		return f.AppendValue(gen, b, elem)
	}
	return p.appendValue(b, gen, f, elem)
}

// updateCommitPrepared runs ws (an UPDATE ... RETURNING with values as
// $N parameters) with values and COMMIT in one round trip (one
// pipeline, one Sync: when the UPDATE fails PostgreSQL skips the COMMIT
// and the transaction is left aborted, for Close to roll back), and
// scans the returned row into elem.
func (tx *Tx) updateCommitPrepared(ctx context.Context, ws *writeShape, values [][]byte, elem reflect.Value) error {
	sd, formats, err := ws.prepare(ctx, tx.conn)
	if err != nil {
		return err
	}
	var b pgconn.Batch
	b.ExecStatement(sd, values, nil, formats)
	b.ExecParams("COMMIT", nil, nil, nil, nil)
	mrr := tx.conn.Conn().PgConn().ExecBatch(ctx, &b)
	defer mrr.Close()
	if !mrr.NextResult() {
		return closeErr(mrr)
	}
	if err := tx.scanResult(ctx, mrr.ResultReader(), elem); err != nil {
		if isStalePlan(err) {
			_ = mrr.Close()
			ws.forget(ctx, tx.conn)
		}
		return err
	}
	return mrr.Close()
}
