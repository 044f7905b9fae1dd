package views

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/schema"

	"github.com/cosworth/cosworth/internal/pgread"
	"github.com/cosworth/cosworth/internal/sqlcount"
	"github.com/cosworth/cosworth/models"
	"github.com/cosworth/cosworth/pagination"
)

// The counts filters need (a foreign key's check) run as the view's own
// counts do.
func init() { sqlcount.Use(pgread.Count) }

// runner runs every query of a view: the count and the page of a list,
// an object's read, the locked read that begins a write's transaction,
// the insert, the update and the delete, and the commit. The views build
// queries (a Queryset, the filters and the paginator shape them) and hand
// them to the runner; nothing else in views runs a query.
//
// The engine is chosen once, when the view is set up: on a PostgreSQL DB
// opened by models.Open (it has a pgx pool) the runner goes through
// internal/pgread, which sends the query's models.Param values as $N
// parameters (one SQL text, one prepared statement per query shape),
// scans binary results straight into the model and runs a write's
// transaction in two round trips; pgread itself hands a query it cannot
// run exactly as bun would back to bun (docs/performance.md lists when).
// Elsewhere (SQLite, a DB not opened by models.Open) bun runs everything.
// A user's Queryset goes through the same runner, so it gets the same
// fast path.
type runner[T any] struct {
	db  *bun.DB
	pgx bool // the engine: internal/pgread with bun's fallback, or bun alone
	// get is the read of one object by its lookup value when the view has
	// no Queryset: the same SQL for every request, formatted once at setup
	// (nil when pgread would not run it on pgx).
	get *pgread.Statement
	// getLocked is get's locked read (FOR UPDATE), which begins a write's
	// transaction.
	getLocked *pgread.Statement
	// reload is the read of one object by primary key with the relations
	// its representation shows, after a write (nil without relations, or
	// when pgread would not run it on pgx).
	reload *pgread.Statement
	// write and delete report whether pgread can run the model's update
	// and delete transactions (no hooks of theirs). pgread.Insert checks
	// the insert hooks itself.
	write, delete bool
	// inPlace and deleteInPlace: an update may be one UPDATE ... WHERE
	// with its fields as parameters (updateWhere), a destroy one DELETE
	// ... WHERE (deleteWhere); the model has no BeforeAppendModel hook of its own (models.Base's is called by pgread).
	inPlace, deleteInPlace bool
}

// newRunner chooses the engine for db, once.
func newRunner[T any](db *bun.DB) runner[T] {
	rn := runner[T]{db: db, pgx: models.Pool(db) != nil}
	if rn.pgx {
		rn.write = pgread.Writable(db, new(T))
		rn.inPlace = pgread.FieldsWritable(db, new(T))
		rn.deleteInPlace = pgread.RowsDeletable(db, new(T))
		rn.delete = pgread.Deletable(db, new(T))
	}
	return rn
}

// prepareGet formats q, the lookup of one object with a single
// models.Param value, once, and its locked read (q with FOR forUpdate,
// when that is set): later lookups run them with new values.
func (rn *runner[T]) prepareGet(q *bun.SelectQuery, forUpdate string) {
	if rn.pgx {
		rn.get = pgread.Prepare(q, new(T), 1)
		if forUpdate != "" {
			rn.getLocked = pgread.Prepare(q.For(forUpdate), new(T), 1)
		}
	}
}

// prepareReload formats q, the read by primary key after a write, once.
func (rn *runner[T]) prepareReload(q *bun.SelectQuery) {
	if rn.pgx {
		rn.reload = pgread.Prepare(q, new(T), 1)
	}
}

// lockKey is lock of the object whose lookup value is key through the
// prepared locked read, when direct. ok is false when it did not run
// (nothing is left open then): run lock.
func (rn *runner[T]) lockKey(ctx context.Context, obj *T, key any, direct bool) (t *tx, ok bool, err error) {
	if rn.getLocked == nil || !direct {
		return nil, false, nil
	}
	pt, ok, err := rn.getLocked.Load(ctx, rn.db, obj, key)
	if !ok || err != nil {
		return nil, ok, err
	}
	return &tx{pg: pt}, true, nil
}

// errStale is an update without a lock (readVersion) that did not run,
// or found the row changed since it was read: nothing was written; run
// the update again, locked.
var errStale = errors.New("cosworth/views: the row changed since it was read")

// readVersion reads the object whose lookup value is key, with its row
// version, through the prepared statement, for an update without a
// transaction or a row lock: tx.updateFields writes it only if the row
// is unchanged (errStale otherwise), in one auto-committed statement. ok
// is false when it did not run (nothing ran then): lock the object.
func (rn *runner[T]) readVersion(ctx context.Context, obj *T, key any) (t *tx, ok bool, err error) {
	if rn.get == nil {
		return nil, false, nil
	}
	t = &tx{opt: rn.db}
	t.version, ok, err = rn.get.ScanVersion(ctx, &t.sess, rn.db, obj, key)
	if !ok || err != nil {
		t.sess.Close()
		return nil, ok, err
	}
	return t, true, nil
}

// updateWhere writes fields of obj to the row that meets every condition
// of where (? for each of args), in one auto-committed statement, and
// scans the row back into obj. updated is false when it wrote nothing
// (no row met them, or it could not run here).
func (rn *runner[T]) updateWhere(ctx context.Context, table *schema.Table, fields []*schema.Field, returning string, obj *T, where []string, args []any) (updated bool, err error) {
	_, updated, err = pgread.UpdateFieldsWhere(ctx, rn.db, table, fields, returning, obj, where, args)
	return updated, err
}

// deleteWhere deletes the row that meets every condition of where (? for
// each of args), in one auto-committed statement, and scans the deleted
// row into obj. deleted is false when it deleted nothing (no row met
// them, or it could not run here).
func (rn *runner[T]) deleteWhere(ctx context.Context, table *schema.Table, returning string, obj *T, where []string, args []any) (deleted bool, err error) {
	_, deleted, err = pgread.DeleteWhere(ctx, rn.db, table, returning, obj, where, args)
	return deleted, err
}

// lookup reads the object whose lookup value is key through the prepared
// statement. ok is false when there is none or it could not run (nothing
// ran then): run the query with object.
func (rn *runner[T]) lookup(ctx context.Context, key any) (obj *T, ok bool, err error) {
	if rn.get == nil {
		return nil, false, nil
	}
	obj = new(T)
	ok, err = rn.get.Scan(ctx, rn.db, obj, key)
	return obj, ok, err
}

// object reads the first row q selects into obj, q's model; no row is
// sql.ErrNoRows.
func (rn *runner[T]) object(ctx context.Context, q *bun.SelectQuery, obj *T) error {
	if rn.pgx {
		return pgread.Scan(ctx, q, obj)
	}
	return q.Scan(ctx)
}

// rows reads the rows q selects into rows, q's model.
func (rn *runner[T]) rows(ctx context.Context, q *bun.SelectQuery, rows *[]T) error {
	if rn.pgx {
		return pgread.Scan(ctx, q, rows)
	}
	return q.Scan(ctx)
}

// page reads the window a paginator asked for into rows, q's model: the
// count first when the window asks for it (on the same connection), then
// the rows unless the count shows the window is past the end. It returns
// the count and the window settled by it.
func (rn *runner[T]) page(ctx context.Context, q *bun.SelectQuery, rows *[]T, w pagination.Window) (int64, pagination.Window, error) {
	var (
		s     pgread.Session
		count int64
		err   error
	)
	defer s.Close()
	if w.Count && !w.Last && rn.pgx {
		// The window does not depend on the count: both in one round
		// trip (the rows are dropped when the count shows the window is
		// past the end).
		count, handled, err := s.CountScanWindow(ctx, q, rows, w.Limit, w.Offset)
		if handled {
			w = w.Counted(count)
			if err == nil && !w.Reads(count) {
				*rows = (*rows)[:0]
			}
			return count, w, err
		}
	}
	if w.Count {
		if rn.pgx {
			count, err = s.Count(ctx, q)
		} else {
			count, err = q.Count(ctx)
		}
		if err != nil {
			return 0, w, err
		}
		w = w.Counted(count)
	}
	if !w.Reads(count) {
		*rows = (*rows)[:0]
		return count, w, nil
	}
	if rn.pgx {
		err = s.ScanWindow(ctx, q, rows, w.Limit, w.Offset)
	} else {
		err = q.Limit(w.Limit).Offset(w.Offset).Scan(ctx)
	}
	return count, w, err
}

// tx is a write's transaction, begun by runner.lock with the object's
// locked read. End it with update, delete or commit, and always close it.
type tx struct {
	pg  *pgread.Tx // on pgx
	bun bun.Tx     // on bun (pg is nil)
	db  bool       // bun is open
	// opt is an update without a transaction (readVersion): the object
	// was read with its row version, and updateFields writes it only if
	// the row is still that version, or answers errStale.
	opt     *bun.DB
	version uint32
	// sess holds the connection the object was read on until the write
	// (which closes it) or close: one connection from the pool per write.
	sess pgread.Session
	// etag holds the ETag header value of the write's answer, so that
	// it costs no allocation of its own (the tx is never reused).
	etag etagValue
}

// lock begins a transaction and reads the first row q (built on the
// view's DB) selects into obj, locked FOR UPDATE until the transaction
// ends when forUpdate is set (PostgreSQL; SQLite's write transactions are
// exclusive already). direct says the write that follows can run on pgx
// (no Perform hook that needs a bun.Tx, and a model without the write's
// hooks): the begin and the read are then one round trip. On error the
// transaction is closed already.
func (rn *runner[T]) lock(ctx context.Context, q *bun.SelectQuery, obj *T, forUpdate string, direct bool) (*tx, error) {
	if forUpdate != "" {
		q = q.For(forUpdate)
	}
	if direct && rn.pgx {
		t, handled, err := pgread.Load(ctx, q, obj)
		if handled {
			if err != nil {
				return nil, err
			}
			return &tx{pg: t}, nil
		}
	}
	btx, err := rn.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	t := &tx{bun: btx, db: true}
	if err := q.Conn(btx).Scan(ctx); err != nil {
		t.close(ctx)
		return nil, err
	}
	return t, nil
}

// Tx returns the bun transaction a Perform hook runs in. It is only
// called on a transaction begun without direct, which is always bun's.
func (t *tx) Tx() bun.Tx { return t.bun }

// update runs u (an UPDATE ... RETURNING of obj, built on the view's DB)
// and commits: on pgx in one round trip. When the UPDATE fails nothing is
// committed.
func (t *tx) update(ctx context.Context, u *bun.UpdateQuery, obj any) error {
	if t.pg != nil {
		return models.ClassifyCommit(t.pg.UpdateCommit(ctx, u, obj))
	}
	if _, err := u.Conn(t.bun).Exec(ctx); err != nil {
		return err
	}
	return t.commit(ctx)
}

// updateFields runs the UPDATE of fields (obj's columns, in order) of obj
// in table, RETURNING returning, and commits, on pgx without building a
// bun query, in one round trip. handled is false when it did not run
// (bun, or a case pgread leaves to bun's UpdateQuery): run update then.
func (t *tx) updateFields(ctx context.Context, table *schema.Table, fields []*schema.Field, returning string, obj any) (handled bool, err error) {
	if t.opt != nil {
		handled, updated, err := pgread.UpdateFieldsIfVersion(ctx, &t.sess, t.opt, table, fields, returning, obj, t.version)
		switch {
		case err != nil:
			// A lost answer to the auto-committed UPDATE is ambiguous.
			return true, models.ClassifyCommit(err)
		case !handled || !updated:
			return true, errStale
		}
		return true, nil
	}
	if t.pg == nil {
		return false, nil
	}
	handled, err = t.pg.UpdateFieldsCommit(ctx, table, fields, returning, obj)
	return handled, models.ClassifyCommit(err)
}

// delete runs d (a DELETE of obj, built on the view's DB) and commits: on
// pgx in one round trip. Without a transaction (readVersion) it deletes
// the row of table only if it is unchanged, or answers errStale.
func (t *tx) delete(ctx context.Context, table *schema.Table, d *bun.DeleteQuery, obj any) error {
	if t.opt != nil {
		handled, deleted, err := pgread.DeleteIfVersion(ctx, &t.sess, t.opt, table, obj, t.version)
		switch {
		case err != nil:
			// A lost answer to the auto-committed DELETE is ambiguous.
			return models.ClassifyCommit(err)
		case !handled || !deleted:
			return errStale
		}
		return nil
	}
	if t.pg != nil {
		return models.ClassifyCommit(t.pg.DeleteCommit(ctx, d, obj))
	}
	if _, err := d.Conn(t.bun).Exec(ctx); err != nil {
		return err
	}
	return t.commit(ctx)
}

// commit commits the transaction.
func (t *tx) commit(ctx context.Context) error {
	if t.opt != nil {
		return nil // nothing is open
	}
	if t.pg != nil {
		return models.ClassifyCommit(t.pg.Commit(ctx))
	}
	err := t.bun.Commit()
	if err == nil || errors.Is(err, sql.ErrTxDone) {
		t.db = false
	}
	return models.ClassifyCommit(err)
}

// close rolls the transaction back unless it ended and gives its
// connection back. It is safe on every path, after a panic too.
func (t *tx) close(ctx context.Context) {
	t.sess.Close()
	if t.pg != nil {
		t.pg.Close(ctx)
		return
	}
	if t.db {
		_ = t.bun.Rollback()
		t.db = false
	}
}

// insertOne runs the INSERT ... RETURNING of obj (every column, the
// model's columns returned), which commits on its own: on pgx in one
// round trip, as a statement prepared once per connection; through bun
// (build's query, built on the view's DB) elsewhere.
func (rn *runner[T]) insertOne(ctx context.Context, table *schema.Table, returning string, obj *T, build func() *bun.InsertQuery) error {
	if rn.pgx {
		if handled, err := pgread.InsertFields(ctx, rn.db, table, returning, obj, build); handled {
			return models.ClassifyCommit(err)
		}
	}
	_, err := build().Exec(ctx)
	// A lost answer to a single auto-committed INSERT is ambiguous.
	return models.ClassifyCommit(err)
}

// begin begins a bun transaction for a Perform hook (PerformCreate).
func (rn *runner[T]) begin(ctx context.Context) (*tx, error) {
	btx, err := rn.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	return &tx{bun: btx, db: true}, nil
}

// exec runs q (an UPDATE or DELETE built on the view's DB: an action's
// Call.Save or Call.Delete) in the transaction, which it does not end.
func (t *tx) exec(ctx context.Context, q bun.Query) error {
	var err error
	switch q := q.(type) {
	case *bun.UpdateQuery:
		_, err = q.Conn(t.bun).Exec(ctx)
	case *bun.DeleteQuery:
		_, err = q.Conn(t.bun).Exec(ctx)
	default:
		err = fmt.Errorf("cosworth/views: tx.exec of %T", q)
	}
	return err
}
