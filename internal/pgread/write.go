package pgread

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"unsafe"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/schema"

	"github.com/cosworth/cosworth/models"
)

// Tx is an update's transaction on one pgx connection: Load begins it and
// runs the object's SELECT ... FOR UPDATE in one round trip, UpdateCommit
// runs the UPDATE ... RETURNING and the COMMIT in another, where
// database/sql takes four (BEGIN, SELECT, UPDATE, COMMIT). The row stays
// locked from the load to the commit, as in a bun.Tx.
type Tx struct {
	db   *bun.DB
	conn *pgxpool.Conn
	m    *model
}

// Writable reports whether Load and UpdateCommit can run dst's update on
// db as bun would: db is one pgread reads directly, in models.Open's exec
// mode (pgx's statement cache), and dst's model (a pointer to a struct)
// has no update hooks (bun.BeforeUpdateHook, bun.AfterUpdateHook) and
// only fields this package scans. Decide before loading: once Load has
// begun the transaction, the write must run on it.
func Writable(db *bun.DB, dst any) bool {
	m := txModel(db, dst)
	return m != nil && m.writable
}

// Deletable is Writable for Load and DeleteCommit: dst's model has no
// delete hooks (bun.BeforeDeleteHook, bun.AfterDeleteHook) and no soft
// delete field.
func Deletable(db *bun.DB, dst any) bool {
	m := txModel(db, dst)
	return m != nil && m.deletable
}

// txModel returns dst's model when db may run a Tx, nil otherwise.
func txModel(db *bun.DB, dst any) *model {
	// execMode is the statement cache only for a pool in models.Open's
	// exec mode (QueryExecModeExec, the default of the writes' queries,
	// whose values bun formats inline), or for a DB with no pool.
	if !directDB(db) || execMode(db) != pgx.QueryExecModeCacheStatement || models.Pool(db) == nil {
		return nil
	}
	t := reflect.TypeOf(dst)
	if t == nil || t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return nil
	}
	m := modelFor(db, t.Elem())
	if !m.loadable {
		return nil
	}
	return m
}

// Load begins a transaction on a connection of q's DB and, in the same
// round trip, runs q (the object's SELECT, with FOR UPDATE) and scans its
// row into dst, q's model (a pointer to a struct). Call Writable or
// Deletable first.
// handled is false when bun must run the transaction (q is not one pgread
// runs as bun would; nothing is left open then). With handled and a nil
// error, the caller must end tx with UpdateCommit, Commit or Close. A
// missing row is sql.ErrNoRows; the database's errors are returned as
// they are, wrapped by models.ErrUnavailable when no connection frees up
// within the acquire timeout.
func Load(ctx context.Context, q *bun.SelectQuery, dst any) (tx *Tx, handled bool, err error) {
	db := q.DB()
	rv := reflect.ValueOf(dst)
	if txModel(db, dst) == nil || rv.IsNil() {
		return nil, false, nil
	}
	elem := rv.Elem()
	m := modelFor(db, elem.Type())
	if !m.direct {
		return nil, false, nil
	}
	if m.beforeAppend {
		if err := beforeAppend(ctx, q, elem, false); err != nil {
			return nil, true, err
		}
	}
	c := getCollector(db.Dialect())
	defer putCollector(c)
	b, err := q.AppendQuery(schema.NewQueryGen(c), c.buf)
	if err != nil {
		return nil, true, err
	}
	c.buf = b
	sh := shapes.get(b)
	p := sh.planFor(m)
	if p == nil {
		return nil, false, nil
	}
	return begin(ctx, db, m, p, sh.sql, c.args[1:], elem)
}

// begin takes a connection of db and runs BEGIN and sqlText (the locked
// read of one object, scanned through p into elem) with args in one round
// trip; see Load.
func begin(ctx context.Context, db *bun.DB, m *model, p *plan, sqlText string, args []any, elem reflect.Value) (tx *Tx, handled bool, err error) {
	conn, err := models.Acquire(ctx, db)
	if errors.Is(err, models.ErrNoPool) {
		return nil, false, nil
	}
	if err != nil {
		return nil, true, err
	}
	tx = &Tx{db: db, conn: conn, m: m}
	// A tracer (models.WithTracer) sees pgx's batches, not pgconn's.
	prepared := !traced(db) && preparable(sqlText)
	if prepared {
		err = beginLocked(ctx, conn, sqlText, args, p, m, elem)
	} else {
		pr := getPair("BEGIN", nil, sqlText, args)
		br := conn.SendBatch(ctx, &pr.batch)
		_, err = br.Exec()
		if err == nil {
			var rows pgx.Rows
			if rows, err = br.Query(); err == nil {
				err = scanRows(ctx, rows, p, m, elem, false)
			}
		}
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		pr.release()
	}
	if err != nil {
		if prepared && isStalePlan(err) {
			// The table changed under the statement prepared on this
			// connection: forget it (after the rollback, on the same
			// connection), so the next run prepares it again.
			if _, rerr := conn.Exec(ctx, "ROLLBACK"); rerr == nil {
				_ = conn.Conn().Deallocate(ctx, sqlText)
			}
		}
		tx.Close(ctx)
		if err == errFallback || isDataException(err) {
			// Columns that are not the plan's, or a value the server
			// would not take as a parameter where bun's literal compares
			// (a number beyond an int4 column): nothing was written.
			return nil, false, nil
		}
		return nil, true, err
	}
	return tx, true, nil
}

// isStalePlan reports whether err is PostgreSQL's "cached plan must not
// change result type" (a prepared statement older than a change of its
// table).
func isStalePlan(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "0A000"
}

// isDataException reports whether err is PostgreSQL's class 22 (a value
// out of range or of the wrong form) or an undeterminable parameter type.
func isDataException(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (len(pe.Code) == 5 && pe.Code[:2] == "22" || pe.Code == "42P18" || pe.Code == "42725")
}

// UpdateCommit runs u, an UPDATE ... RETURNING of dst (the object Load
// scanned), and COMMIT in one round trip (two on the model's first
// update, whose returned columns are checked before the COMMIT), and scans the returned row into
// dst, as bun's u.Exec does in a transaction followed by its Commit: the
// model's BeforeAppendModel hook is called with u first. When the UPDATE
// fails, nothing is committed and its error is returned; call Close.
func (tx *Tx) UpdateCommit(ctx context.Context, u *bun.UpdateQuery, dst any) error {
	elem := reflect.ValueOf(dst).Elem()
	c, err := tx.format(ctx, u, dst)
	if err != nil {
		return err
	}
	defer putCollector(c)
	b := c.buf
	if tx.m.returning.Load() == nil {
		// The first update of the model: no returned row has been
		// scanned yet, so a column the model cannot hold is still
		// possible. Scan before committing, so such an error rolls the
		// UPDATE back as bun's path does; later updates return the same
		// columns and pipeline the COMMIT.
		rows, err := tx.conn.Query(ctx, string(b), c.args[1:]...)
		if err == nil {
			err = tx.scanReturning(ctx, rows, elem)
		}
		if err != nil {
			return err
		}
		return tx.Commit(ctx)
	}
	if len(c.args) == 1 && tx.simple() {
		return tx.updateCommit(ctx, string(append(b, ";COMMIT"...)), elem)
	}
	pr := getPair(string(b), c.args[1:], "COMMIT", nil)
	defer pr.release()
	br := tx.conn.SendBatch(ctx, &pr.batch)
	rows, err := br.Query()
	if err == nil {
		err = tx.scanReturning(ctx, rows, elem)
	}
	if _, cerr := br.Exec(); err == nil {
		err = cerr
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return err
}

// DeleteCommit runs d, a DELETE of dst (the object Load scanned), and
// COMMIT in one round trip, as bun's d.Exec does in a transaction
// followed by its Commit: the model's BeforeAppendModel hook is called
// with d first. When the DELETE fails, nothing is committed and its error
// is returned; call Close.
func (tx *Tx) DeleteCommit(ctx context.Context, d *bun.DeleteQuery, dst any) error {
	c, err := tx.format(ctx, d, dst)
	if err != nil {
		return err
	}
	defer putCollector(c)
	if len(c.args) == 1 && tx.simple() {
		// bun's literals only: the DELETE and the COMMIT as one simple
		// query, which skips the COMMIT when the DELETE fails.
		b := append(c.buf, ";COMMIT"...)
		c.buf = b
		return tx.conn.Conn().PgConn().Exec(ctx, unsafe.String(unsafe.SliceData(b), len(b))).Close()
	}
	pr := getPair(string(c.buf), c.args[1:], "COMMIT", nil)
	defer pr.release()
	br := tx.conn.SendBatch(ctx, &pr.batch)
	_, err = br.Exec()
	if _, cerr := br.Exec(); err == nil {
		err = cerr
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return err
}

// format calls the model's BeforeAppendModel hook with q, as bun's Exec
// does, and formats q into a collector (its SQL in buf, its parameters in
// args); put the collector back when done.
func (tx *Tx) format(ctx context.Context, q schema.Query, dst any) (*collector, error) {
	if tx.m.beforeAppend {
		if err := dst.(bun.BeforeAppendModelHook).BeforeAppendModel(ctx, q); err != nil {
			return nil, err
		}
	}
	c := getCollector(tx.db.Dialect())
	b, err := q.AppendQuery(schema.NewQueryGen(c), c.buf)
	if err != nil {
		putCollector(c)
		return nil, err
	}
	c.buf = b
	return c, nil
}

// Commit commits the transaction.
func (tx *Tx) Commit(ctx context.Context) error {
	_, err := tx.conn.Exec(ctx, "COMMIT")
	return err
}

// Close rolls the transaction back unless it ended, and gives the
// connection back to the pool (which closes it when a rollback failed).
func (tx *Tx) Close(ctx context.Context) {
	if tx == nil || tx.conn == nil {
		return
	}
	if pc := tx.conn.Conn().PgConn(); !pc.IsClosed() && pc.TxStatus() != 'I' {
		_, _ = tx.conn.Exec(ctx, "ROLLBACK")
	}
	tx.conn.Release()
	tx.conn = nil
}

// scanReturning scans the row of RETURNING * into elem by column name, as
// bun scans it: every column must be a field of the model.
func (tx *Tx) scanReturning(ctx context.Context, rows pgx.Rows, elem reflect.Value) error {
	m := tx.m
	fds := rows.FieldDescriptions()
	p := m.returning.Load()
	if p == nil || !p.matches(fds) {
		var err error
		if p, err = returningPlan(m, fds); err != nil {
			rows.Close()
			return err
		}
		m.returning.Store(p)
	}
	err := scanRows(ctx, rows, p, m, elem, false)
	if err == sql.ErrNoRows {
		return nil // bun's Exec does not fail when RETURNING has no row
	}
	return err
}

// returningPlan is the plan that scans the columns fds (a RETURNING
// list) by name into m's fields; an error names a column m cannot hold.
func returningPlan(m *model, fds []pgconn.FieldDescription) (*plan, error) {
	p := &plan{model: m}
	for _, fd := range fds {
		f := m.byName[fd.Name]
		if f == nil || f.kind == 0 || !f.kind.accepts(fd.DataTypeOID) {
			if f == nil {
				return nil, fmt.Errorf("bun: %s does not have column %q", m.typ.Name(), fd.Name)
			}
			return nil, fmt.Errorf("cosworth: cannot scan column %q into its field", fd.Name)
		}
		p.fields = append(p.fields, f)
		p.relOf = append(p.relOf, 0)
	}
	return p, nil
}

// Insert runs q, an INSERT of dst (a pointer to a struct) with a
// RETURNING list of dst's columns, on a pooled connection in one round
// trip, and scans the returned row into dst, as bun's q.Exec does: the
// model's BeforeAppendModel hook is called with q first. The statement
// commits on its own. The model's first insert runs in a transaction
// committed only once the returned row has been scanned, so a RETURNING
// column the model cannot hold fails the insert instead of answering an
// error for a committed row; later inserts return the same columns.
// handled is false when bun must run q (see Writable; a model with
// insert hooks, bun.BeforeInsertHook or bun.AfterInsertHook); nothing
// ran then. The database's errors are returned as they are, wrapped by
// models.ErrUnavailable when no connection frees up within the acquire
// timeout.
func Insert(ctx context.Context, q *bun.InsertQuery, dst any) (handled bool, err error) {
	db := q.DB()
	m := txModel(db, dst)
	if m == nil || !insertable(m.typ) {
		return false, nil
	}
	conn, err := models.Acquire(ctx, db)
	if errors.Is(err, models.ErrNoPool) {
		return false, nil
	}
	if err != nil {
		return true, err
	}
	tx := &Tx{db: db, conn: conn, m: m}
	defer tx.Close(ctx)
	c, err := tx.format(ctx, q, dst)
	if err != nil {
		return true, err
	}
	defer putCollector(c)
	elem := reflect.ValueOf(dst).Elem()
	if m.returning.Load() == nil {
		if _, err := conn.Exec(ctx, "BEGIN"); err != nil {
			return true, err
		}
		rows, err := conn.Query(ctx, string(c.buf), c.args[1:]...)
		if err == nil {
			err = tx.scanReturning(ctx, rows, elem)
		}
		if err != nil {
			return true, err
		}
		return true, tx.Commit(ctx)
	}
	rows, err := conn.Query(ctx, string(c.buf), c.args[1:]...)
	if err == nil {
		err = tx.scanReturning(ctx, rows, elem)
	}
	return true, err
}

var (
	beforeInsertType = reflect.TypeFor[bun.BeforeInsertHook]()
	afterInsertType  = reflect.TypeFor[bun.AfterInsertHook]()
	insertables      sync.Map // reflect.Type -> bool
)

// insertable reports whether the model type t has no insert hooks.
func insertable(t reflect.Type) bool {
	if v, ok := insertables.Load(t); ok {
		return v.(bool)
	}
	ptr := reflect.PointerTo(t)
	ok := !ptr.Implements(beforeInsertType) && !ptr.Implements(afterInsertType)
	insertables.Store(t, ok)
	return ok
}

// pair is a batch of two queries, pooled: pgx's Batch.Queue allocates
// each queued query and the slice that holds them.
type pair struct {
	batch pgx.Batch
	qq    [2]pgx.QueuedQuery
	ptrs  [2]*pgx.QueuedQuery
}

var pairs = sync.Pool{New: func() any { return new(pair) }}

// getPair returns a batch of sql1 with args1, then sql2 with args2.
// Release it once the batch's results are closed.
func getPair(sql1 string, args1 []any, sql2 string, args2 []any) *pair {
	p := pairs.Get().(*pair)
	p.qq[0] = pgx.QueuedQuery{SQL: sql1, Arguments: args1}
	p.qq[1] = pgx.QueuedQuery{SQL: sql2, Arguments: args2}
	p.ptrs = [2]*pgx.QueuedQuery{&p.qq[0], &p.qq[1]}
	p.batch.QueuedQueries = p.ptrs[:]
	return p
}

// release forgets the queries (and their arguments) and pools p.
func (p *pair) release() {
	p.qq = [2]pgx.QueuedQuery{}
	p.batch.QueuedQueries = nil
	pairs.Put(p)
}
