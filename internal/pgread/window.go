package pgread

import (
	"context"
	"database/sql"
	"errors"
	"reflect"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/schema"

	"github.com/cosworth/cosworth/models"
)

// CountScanWindow is Count of q followed by ScanWindow of q with limit
// and offset into dst (a pointer to a slice of structs, q's model), sent
// together in one round trip on the session's connection: the two
// statements, each prepared by name on the connection the first time it
// runs there, in one pipeline. The rows are read whatever the count is,
// so use it when the window does not depend on the count (see
// pagination.Window.Counted). handled is false when it did not run
// (nothing was read; the query is not one this package counts or scans,
// the model has a BeforeAppendModel hook of its own, a tracer sees the queries, or
// the texts are beyond the bound of those kept prepared): call Count and
// ScanWindow then.
func (s *Session) CountScanWindow(ctx context.Context, q *bun.SelectQuery, dst any, limit, offset int64) (count int64, handled bool, err error) {
	db := q.DB()
	if !directDB(db) || traced(db) || limit <= 0 {
		return 0, false, nil
	}
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Slice {
		return 0, false, nil
	}
	elem := rv.Elem()
	typ := elem.Type().Elem()
	if typ.Kind() != reflect.Struct {
		return 0, false, nil
	}
	m := modelFor(db, typ)
	if !m.direct || m.opaqueHook {
		return 0, false, nil
	}
	cc := getCollector(db.Dialect())
	defer putCollector(cc)
	b, err := q.AppendQuery(schema.NewQueryGen(cc), cc.buf)
	if err != nil {
		return 0, true, err
	}
	cc.buf = b
	csh := shapes.get(b)
	if csh.count == "" {
		return 0, false, nil
	}
	pc := getCollector(db.Dialect())
	defer putCollector(pc)
	b, err = q.Limit(limit).Offset(offset).AppendQuery(schema.NewQueryGen(pc), pc.buf)
	if err != nil {
		return 0, true, err
	}
	pc.buf = parameterizeWindow(pc, b, limit, offset)
	psh := shapes.get(pc.buf)
	p := psh.planFor(m)
	if p == nil || !preparable(csh.count) || !preparable(psh.sql) {
		return 0, false, nil
	}
	conn, err := s.acquire(ctx, db)
	if errors.Is(err, models.ErrNoPool) {
		return 0, false, nil
	}
	if err != nil {
		return 0, true, err
	}
	c := conn.Conn()
	csd, err := c.Prepare(ctx, csh.count, csh.count)
	if err != nil {
		return 0, true, err
	}
	psd, err := c.Prepare(ctx, psh.sql, psh.sql)
	if err != nil {
		return 0, true, err
	}
	ceqb := builders.Get().(*pgx.ExtendedQueryBuilder)
	defer builders.Put(ceqb)
	peqb := builders.Get().(*pgx.ExtendedQueryBuilder)
	defer builders.Put(peqb)
	if ceqb.Build(c.TypeMap(), csd, cc.args[1:]) != nil || peqb.Build(c.TypeMap(), psd, pc.args[1:]) != nil {
		// A value pgx cannot encode for its parameter's type: nothing
		// was sent.
		return 0, false, nil
	}
	var batch pgconn.Batch
	batch.ExecStatement(csd, ceqb.ParamValues, ceqb.ParamFormats, ceqb.ResultFormats)
	batch.ExecStatement(psd, peqb.ParamValues, peqb.ParamFormats, peqb.ResultFormats)
	mrr := c.PgConn().ExecBatch(ctx, &batch)
	defer mrr.Close()
	if !mrr.NextResult() {
		return 0, true, closeErr(mrr)
	}
	rows := pgx.RowsFromResultReader(c.TypeMap(), mrr.ResultReader())
	if rows.Next() {
		err = rows.Scan(&count)
	}
	rows.Close()
	if err == nil {
		err = rows.Err()
	}
	if err != nil {
		if isStalePlan(err) {
			_ = mrr.Close()
			_ = c.Deallocate(ctx, csh.count)
			_ = c.Deallocate(ctx, psh.sql)
		}
		return 0, true, err
	}
	if !mrr.NextResult() {
		return 0, true, closeErr(mrr)
	}
	err = scanRows(ctx, pgx.RowsFromResultReader(c.TypeMap(), mrr.ResultReader()), p, m, elem, true)
	if err == errFallback {
		// Columns that are not the plan's: read nothing, bun reads it.
		_ = mrr.Close()
		elem.SetLen(0)
		return 0, false, nil
	}
	if err == nil || err == sql.ErrNoRows {
		err = mrr.Close()
	}
	if err != nil && isStalePlan(err) {
		_ = mrr.Close()
		_ = c.Deallocate(ctx, csh.count)
		_ = c.Deallocate(ctx, psh.sql)
	}
	return count, true, err
}
