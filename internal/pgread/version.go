package pgread

import (
	"context"
	"database/sql"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/schema"

	"github.com/cosworth/cosworth/models"
)

// An update can run without a transaction or a row lock: read the object
// with its row version (PostgreSQL's xmin, which every update of the row
// changes), decide in Go (permissions, preconditions, validation), then
// UPDATE ... WHERE the key AND xmin is still that version, auto-committed,
// in one round trip. No row back means the row changed (or went) in
// between: the caller runs the update again, locked. A row version keeps
// its xmin for good (VACUUM's freezing marks it frozen and keeps the
// xid, since PostgreSQL 9.4), and a later version always has a newer
// one, so a version is never mistaken for another. Both round trips are
// single statements, where the locked update sends BEGIN, SELECT ... FOR
// UPDATE (a WAL record of its own), the UPDATE and COMMIT.

// xidOID is PostgreSQL's xid type, the type of the xmin system column.
const xidOID = 28

// prepareVersion sets st's versioned read: st's SQL with the table's
// xmin as one more column. It is left unset (ScanVersion does not run)
// unless st reads one struct and its SQL begins with its select list.
func (st *Statement) prepareVersion(db *bun.DB, cols []string) {
	t := db.Table(st.model.typ)
	if t == nil || len(t.PKs) == 0 {
		return
	}
	list := "SELECT " + strings.Join(cols, ", ")
	rest, ok := strings.CutPrefix(st.sql, list)
	if !ok || !strings.HasPrefix(rest, " FROM ") {
		return
	}
	vp := newPlan(st.model, cols)
	if vp == nil {
		return
	}
	vp.version = true
	st.vsql = list + ", " + string(t.SQLAlias) + ".xmin" + rest
	st.vplan = vp
}

// ScanVersion is Scan of one object (dst, a pointer to a struct of the
// type given to Prepare) with arg, which also reads the row's version
// for UpdateFieldsIfVersion. It runs on s's connection, which s keeps,
// so that the write that follows (UpdateFieldsIfVersion or
// DeleteIfVersion, given the same s) takes no second connection from the
// pool; the caller closes s when it does not write. handled is false
// when it did not run (see Scan): read the object another way then.
func (st *Statement) ScanVersion(ctx context.Context, s *Session, db *bun.DB, dst any, arg any) (version uint32, handled bool, err error) {
	if st.vplan == nil || db != st.db || st.nargs != 1 || !directDB(db) {
		return 0, false, nil
	}
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Type() != st.model.typ {
		return 0, false, nil
	}
	c := getCollector(db.Dialect())
	defer putCollector(c)
	if !c.appendArg(arg) {
		return 0, false, nil
	}
	conn, err := s.acquire(ctx, db)
	if errors.Is(err, models.ErrNoPool) {
		return 0, false, nil
	}
	if err != nil {
		return 0, true, err
	}
	c.args[0] = execMode(db)
	rows, err := conn.Query(ctx, st.vsql, c.args...)
	if err != nil {
		if isEncodeError(err) {
			return 0, false, nil
		}
		return 0, true, err
	}
	err = scanRowsVersion(ctx, rows, st.vplan, st.model, rv.Elem(), false, &version)
	if err == errFallback {
		return 0, false, nil
	}
	return version, true, err
}

// UpdateFieldsIfVersion runs the UPDATE of fields of dst (read by
// ScanVersion; fields are columns of table, the model's table) RETURNING
// returning (the model's columns, quoted), on condition that the row is
// still version, auto-committed in one round trip: the SQL of
// UpdateFieldsCommit with "AND alias.xmin = $N" in its WHERE, its values
// as parameters. updated is false when no row was updated (the row
// changed or went since it was read): nothing was written. handled is
// false when it did not run (as UpdateFieldsCommit, and when a returned
// column is not one of the model's fields): nothing ran. It runs on s's
// connection (ScanVersion's), and closes s.
func UpdateFieldsIfVersion(ctx context.Context, s *Session, db *bun.DB, table *schema.Table, fields []*schema.Field, returning string, dst any, version uint32) (handled, updated bool, err error) {
	if len(fields) == 0 {
		s.Close()
		return false, false, nil
	}
	return returningWrite(ctx, s, db, table, dst, true, func(b []byte, gen schema.QueryGen, elem reflect.Value, p *params) ([]byte, bool) {
		return appendUpdateIf(b, gen, table, fields, returning, elem, p, version), true
	})
}

// FieldsWritable reports whether UpdateFieldsWhere can run dst's
// updates on db: Writable, and dst's model has no BeforeAppendModel hook of its own
// (bun calls it with its query) and no soft-delete field.
func FieldsWritable(db *bun.DB, dst any) bool {
	m := txModel(db, dst)
	return m != nil && m.writable && !m.opaqueHook && db.Dialect().Tables().Get(m.typ).SoftDeleteField == nil
}

// UpdateFieldsWhere runs the UPDATE of fields of dst (fields are columns
// of table, the model's table; dst holds their new values) of the rows
// that meet every condition of where, RETURNING returning (the model's
// columns, quoted) into dst, auto-committed in one round trip on a
// connection of db's pool, as a statement prepared per connection. Each
// condition is SQL with a ? for each of its values in args, taken in
// order: integers, strings and booleans, bare or wrapped by models.Param
// or models.IntParam, sent as parameters. A condition must hold no other
// ?. The conditions are expected to select at most one row (a key's);
// when they select none, updated is false and nothing was written.
// handled is false when it did not run (as UpdateFieldsIfVersion, and
// for a value of another type): nothing ran.
func UpdateFieldsWhere(ctx context.Context, db *bun.DB, table *schema.Table, fields []*schema.Field, returning string, dst any, where []string, args []any) (handled, updated bool, err error) {
	if len(fields) == 0 {
		return false, false, nil
	}
	var s Session
	return returningWrite(ctx, &s, db, table, dst, true, func(b []byte, gen schema.QueryGen, elem reflect.Value, p *params) ([]byte, bool) {
		b = appendUpdateSet(b, gen, table, fields, elem, p)
		return appendWhere(b, gen, p, where, args, returning)
	})
}

// RowsDeletable reports whether DeleteWhere can run dst's deletes on db:
// Deletable, and dst's model has no BeforeAppendModel hook of its own.
func RowsDeletable(db *bun.DB, dst any) bool {
	m := txModel(db, dst)
	return m != nil && m.deletable && !m.opaqueHook
}

// DeleteWhere runs the DELETE of the rows of table that meet every
// condition of where (as UpdateFieldsWhere's) RETURNING returning (the
// model's columns, quoted) into dst, auto-committed in one round trip on
// a connection of db's pool, as a statement prepared per connection.
// deleted is false when no row met them: nothing was deleted. handled is
// false when it did not run (see RowsDeletable; a traced DB, a value of
// another type, a returned column the model cannot hold): nothing ran.
func DeleteWhere(ctx context.Context, db *bun.DB, table *schema.Table, returning string, dst any, where []string, args []any) (handled, deleted bool, err error) {
	var s Session
	return returningWrite(ctx, &s, db, table, dst, false, func(b []byte, gen schema.QueryGen, _ reflect.Value, p *params) ([]byte, bool) {
		b = append(b, "DELETE FROM "...)
		b = append(b, table.SQLName...)
		b = append(b, " AS "...)
		b = append(b, table.SQLAlias...)
		b = append(b, " WHERE ("...)
		return appendWhere(b, gen, p, where, args, returning)
	})
}

// returningWrite runs the UPDATE (update) or DELETE appendSQL writes (its
// values in p) on s's connection, auto-committed, scans the returned row
// into dst and closes s; see UpdateFieldsIfVersion.
func returningWrite(ctx context.Context, s *Session, db *bun.DB, table *schema.Table, dst any, update bool, appendSQL func(b []byte, gen schema.QueryGen, elem reflect.Value, p *params) ([]byte, bool)) (handled, written bool, err error) {
	defer s.Close() // the write is the session's last statement
	m := txModel(db, dst)
	if m == nil || m.opaqueHook || table.SoftDeleteField != nil || len(table.PKs) == 0 || traced(db) ||
		(update && !m.writable) || (!update && !m.deletable) {
		return false, false, nil
	}
	elem := reflect.ValueOf(dst).Elem()
	if elem.Type() != m.typ || table.Type != m.typ {
		return false, false, nil
	}
	if update {
		if err := m.stamp(ctx, elem, (*bun.UpdateQuery)(nil)); err != nil {
			return true, false, err
		}
	}
	p := getParams()
	defer putParams(p)
	c := getCollector(db.Dialect())
	defer putCollector(c)
	var ok bool
	if c.buf, ok = appendSQL(c.buf, schema.NewQueryGen(db.Dialect()), elem, p); !ok {
		return false, false, nil
	}
	conn, err := s.acquire(ctx, db)
	if errors.Is(err, models.ErrNoPool) {
		return false, false, nil
	}
	if err != nil {
		return true, false, err
	}
	if !paramSession(conn) {
		return false, false, nil
	}
	ws := loadWriteShape(c.buf)
	if ws == nil {
		if ws = storeWriteShape(c.buf, true); ws == nil {
			return false, false, nil
		}
	}
	sd, formats, err := ws.prepare(ctx, conn)
	if err != nil {
		return true, false, err
	}
	// The returned columns are known before the statement runs: one the
	// model cannot hold leaves it to the caller's other way, which
	// reports it before its COMMIT.
	rp := ws.returning(m, sd)
	if rp == nil {
		return false, false, nil
	}
	rr := conn.Conn().PgConn().ExecStatement(ctx, sd, p.slices(), nil, formats)
	rows := pgx.RowsFromResultReader(conn.Conn().TypeMap(), rr)
	err = scanRows(ctx, rows, rp, m, elem, false)
	switch {
	case err == sql.ErrNoRows:
		return true, false, nil
	case isStalePlan(err):
		ws.forget(ctx, conn)
	}
	return true, err == nil, err
}

// appendWhere appends where's conditions, their ?s numbered after the
// values already in p and args appended to p, then ") RETURNING " and
// returning; b ends with "WHERE (". ok is false for an arg that cannot
// be sent as text or a count of ?s that is not len(args).
func appendWhere(b []byte, gen schema.QueryGen, p *params, where []string, args []any, returning string) (_ []byte, ok bool) {
	c := getCollector(gen.Dialect())
	defer putCollector(c)
	n := 0
	for i, cond := range where {
		if i > 0 {
			b = append(b, ") AND ("...)
		}
		for {
			q := strings.IndexByte(cond, '?')
			if q < 0 {
				b = append(b, cond...)
				break
			}
			if n == len(args) {
				return b, false
			}
			if p.text, ok = appendTextArg(p.text, c, args[n]); !ok {
				return b, false
			}
			n++
			p.ends = append(p.ends, len(p.text))
			b = append(b, cond[:q]...)
			b = append(b, '$')
			b = appendUint(b, len(p.ends))
			cond = cond[q+1:]
		}
	}
	if n != len(args) {
		return b, false
	}
	b = append(b, ") RETURNING "...)
	return append(b, returning...), true
}

// appendTextArg appends the text PostgreSQL reads v from as a text-format
// parameter: an integer, a string (without NUL) or a boolean, bare or
// wrapped by models.Param or models.IntParam (unwrapped through c, by
// the rules that make a value a parameter of a read). ok is false for
// any other value.
func appendTextArg(dst []byte, c *collector, v any) (_ []byte, ok bool) {
	if _, isParam := v.(schema.QueryAppender); isParam {
		if !c.appendArg(v) {
			return dst, false
		}
		v = c.args[len(c.args)-1]
	}
	switch x := v.(type) {
	case pgtype.Int64Valuer:
		n, err := x.Int64Value()
		if err != nil || !n.Valid {
			return dst, false
		}
		return strconv.AppendInt(dst, n.Int64, 10), true
	case int:
		return strconv.AppendInt(dst, int64(x), 10), true
	case int32:
		return strconv.AppendInt(dst, int64(x), 10), true
	case int64:
		return strconv.AppendInt(dst, x, 10), true
	case bool:
		return strconv.AppendBool(dst, x), true
	case string:
		if strings.IndexByte(x, 0) >= 0 || !utf8.ValidString(x) {
			return dst, false
		}
		return append(dst, x...), true
	}
	return dst, false
}

// appendUpdateIf is appendUpdate with the version condition.
func appendUpdateIf(b []byte, gen schema.QueryGen, table *schema.Table, fields []*schema.Field, returning string, elem reflect.Value, p *params, version uint32) []byte {
	b = appendUpdateSet(b, gen, table, fields, elem, p)
	b = appendPKs(b, gen, table, elem, p)
	b = append(b, " AND "...)
	b = append(b, table.SQLAlias...)
	b = append(b, ".xmin = $"...)
	p.text = appendUint(p.text, int(version))
	p.ends = append(p.ends, len(p.text))
	b = appendUint(b, len(p.ends))
	b = append(b, ") RETURNING "...)
	return append(b, returning...)
}

// DeleteIfVersion runs the DELETE of dst (read by ScanVersion; a struct
// of table's model) by primary key on condition that the row is still
// version, auto-committed in one round trip, its key a parameter of a
// statement prepared per connection: the SQL of bun's
// DeleteQuery.Model(dst).WherePK() with "AND alias.xmin = $N" in its
// WHERE. deleted is false when no row was deleted (the row changed or
// went since it was read): nothing was written. handled is false when it
// did not run (see Deletable; a model with a BeforeAppendModel hook of its own, a
// traced DB): nothing ran. It runs on s's connection (ScanVersion's), and
// closes s.
func DeleteIfVersion(ctx context.Context, s *Session, db *bun.DB, table *schema.Table, dst any, version uint32) (handled, deleted bool, err error) {
	m := txModel(db, dst)
	if m == nil || !m.deletable || m.opaqueHook || table.SoftDeleteField != nil || len(table.PKs) == 0 || traced(db) {
		return false, false, nil
	}
	elem := reflect.ValueOf(dst).Elem()
	if elem.Type() != m.typ || table.Type != m.typ {
		return false, false, nil
	}
	conn, err := s.acquire(ctx, db)
	defer s.Close() // the write is the session's last statement
	if errors.Is(err, models.ErrNoPool) {
		return false, false, nil
	}
	if err != nil {
		return true, false, err
	}
	if !paramSession(conn) {
		return false, false, nil
	}
	p := getParams()
	defer putParams(p)
	c := getCollector(db.Dialect())
	defer putCollector(c)
	gen := schema.NewQueryGen(db.Dialect())
	b := append(c.buf, "DELETE FROM "...)
	b = append(b, table.SQLName...)
	b = append(b, " AS "...)
	b = append(b, table.SQLAlias...)
	b = append(b, " WHERE ("...)
	b = appendPKs(b, gen, table, elem, p)
	b = append(b, " AND "...)
	b = append(b, table.SQLAlias...)
	b = append(b, ".xmin = $"...)
	p.text = appendUint(p.text, int(version))
	p.ends = append(p.ends, len(p.text))
	b = appendUint(b, len(p.ends))
	c.buf = append(b, ')')
	ws := loadWriteShape(c.buf)
	if ws == nil {
		if ws = storeWriteShape(c.buf, true); ws == nil {
			return false, false, nil
		}
	}
	sd, formats, err := ws.prepare(ctx, conn)
	if err != nil {
		return true, false, err
	}
	tag, err := conn.Conn().PgConn().ExecStatement(ctx, sd, p.slices(), nil, formats).Close()
	if err != nil {
		if isStalePlan(err) {
			ws.forget(ctx, conn)
		}
		return true, false, err
	}
	return true, tag.RowsAffected() > 0, nil
}
