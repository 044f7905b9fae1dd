package pgread

import (
	"context"
	"reflect"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/schema"
)

// Statement is a query formatted once and run with new values: for a
// view whose query differs between requests only in its Args (a retrieve
// without a Queryset), it saves building and formatting the bun query on
// every request.
type Statement struct {
	db    *bun.DB
	sql   string
	model *model
	plan  *plan
	nargs int
	// vsql and vplan are the read with the row's version (ScanVersion);
	// nil when there is none.
	vsql  string
	vplan *plan
}

// Prepare formats q, whose model is dst (a pointer to a struct or to a
// slice of structs) and which must hold exactly nargs Args, each sent as a
// parameter. It returns nil when pgread would not run q on pgx (see the
// package documentation), when q's model has a BeforeAppendModel hook of its own
// (bun calls it with each query), or when an Arg's value would be a
// literal; run q with Scan then.
func Prepare(q *bun.SelectQuery, dst any, nargs int) *Statement {
	db := q.DB()
	if !directDB(db) {
		return nil
	}
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return nil
	}
	typ := rv.Elem().Type()
	if typ.Kind() == reflect.Slice {
		typ = typ.Elem()
	}
	if typ.Kind() != reflect.Struct {
		return nil
	}
	m := modelFor(db, typ)
	if !m.direct || m.opaqueHook {
		return nil
	}
	c := getCollector(db.Dialect())
	defer putCollector(c)
	b, err := q.AppendQuery(schema.NewQueryGen(c), c.buf)
	if err != nil || len(c.args)-1 != nargs {
		return nil
	}
	c.buf = b
	s := string(b)
	cols := analyze(s).cols
	if cols == nil {
		return nil // not plain columns: bun reads it
	}
	p := newPlan(m, cols)
	if p == nil {
		return nil
	}
	st := &Statement{db: db, sql: s, model: m, plan: p, nargs: nargs}
	if typ == rv.Elem().Type() && len(p.rels) == 0 {
		st.prepareVersion(db, cols)
	}
	return st
}

// Scan runs the statement with args, the Args of a query Prepare would
// format the same, in their order, and scans into dst, of the type given
// to Prepare. handled is false when it did not run (db is not the DB the
// statement was prepared on, or has query hooks now; an argument would be
// a literal; the columns no longer match): run the query with Scan then.
func (st *Statement) Scan(ctx context.Context, db *bun.DB, dst any, args ...any) (handled bool, err error) {
	if db != st.db || len(args) != st.nargs || !directDB(db) {
		return false, nil
	}
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return false, nil
	}
	elem := rv.Elem()
	slice := elem.Kind() == reflect.Slice
	typ := elem.Type()
	if slice {
		typ = typ.Elem()
	}
	if typ != st.model.typ {
		return false, nil
	}
	c := getCollector(db.Dialect())
	defer putCollector(c)
	for _, a := range args {
		if !c.appendArg(a) {
			return false, nil
		}
	}
	var s Session
	defer s.Close()
	err = s.run(ctx, db, st.sql, st.plan, st.model, c.args, elem, slice)
	if err == errFallback {
		return false, nil
	}
	return true, err
}

// appendArg records the parameter a sends (a models.Param), and reports
// false for a value that is not one or would be a literal.
func (c *collector) appendArg(a any) bool {
	qa, ok := a.(schema.QueryAppender)
	if !ok {
		return false
	}
	n := len(c.args)
	b, err := qa.AppendQuery(schema.NewQueryGen(c), c.buf[:0])
	c.buf = b[:0]
	return err == nil && len(c.args) == n+1
}

// Load is the package's Load of the statement with args: it begins a
// transaction on a connection of db and, in the same round trip, runs the
// statement (prepared from a locked read of one object) and scans its row
// into dst. Call Writable or Deletable first. handled is false when
// bun must run the query (see Scan); nothing is left open then.
func (st *Statement) Load(ctx context.Context, db *bun.DB, dst any, args ...any) (tx *Tx, handled bool, err error) {
	if db != st.db || len(args) != st.nargs || txModel(db, dst) == nil {
		return nil, false, nil
	}
	rv := reflect.ValueOf(dst)
	if rv.IsNil() || rv.Elem().Type() != st.model.typ {
		return nil, false, nil
	}
	elem := rv.Elem()
	c := getCollector(db.Dialect())
	defer putCollector(c)
	for _, a := range args {
		if !c.appendArg(a) {
			return nil, false, nil
		}
	}
	return begin(ctx, db, st.model, st.plan, st.sql, c.args[1:], elem)
}
