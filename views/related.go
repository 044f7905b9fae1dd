package views

import (
	"context"
	"reflect"
	"strconv"
	"strings"

	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/schema"

	"github.com/cosworth/cosworth/models"
	"github.com/cosworth/cosworth/serializers"
)

// Unique and foreign-key lookups of writes (DRF's UniqueValidator and
// PrimaryKeyRelatedField): so that a body with a duplicate isbn, an
// unknown author and a negative price gets all three errors in one 400,
// the views look the unique and foreign-key fields up in one query of
// EXISTS subqueries, their values bound parameters:
//
//	SELECT EXISTS (SELECT 1 FROM "books" WHERE "isbn" = $1),
//	       NOT EXISTS (SELECT 1 FROM "authors" WHERE "id" = $2)
//
// The query runs only when its answer is needed (see
// serializers.Related): with other field errors, after the write failed
// on a unique or foreign-key constraint (then for every such field), or,
// when a Perform hook will see the object, before it. A create or update
// whose body is valid therefore costs no round trip more, and the
// database's constraints stay the race-proof backstop.

// lookup is the EXISTS subquery of one field: its text around the
// placeholders of the value (and, for a unique field of an existing row,
// of the row's primary key, which must not count).
type lookup struct {
	field  *schema.Field // the field's column in T's table
	fk     bool          // a foreign key: NOT EXISTS in the referenced table
	create []string      // the text around one placeholder
	update []string      // unique: around two (value, primary key); fk: as create
}

// related is what a view's writes look up, built at setup.
type related struct {
	byField map[int]*lookup // by index in the serializer plan's Fields
	fields  []int
	pk      *schema.Field
	pg      bool // $N placeholders, else ?
}

// setRelated finds the fields of T a write must look up: serialized
// writable single-column unique columns (bun's `unique` tag without a
// group name) and foreign keys whose referenced table is known (a bun
// belongs-to relation or models.Referencer). Column and table names come
// from the model's metadata, quoted by the dialect.
func (g *Generic[T]) setRelated(p *plan[T]) {
	if p.caps&(capCreate|capUpdate) == 0 || len(p.table.PKs) != 1 {
		return
	}
	gen := g.DB.QueryGen()
	ident := func(name string) string { return string(gen.AppendIdent(nil, name)) }
	refs := map[string][2]string{} // column -> referenced table, column (quoted)
	for _, rel := range p.table.Relations {
		if rel.Type == schema.BelongsToRelation && len(rel.BasePKs) == 1 && len(rel.JoinPKs) == 1 {
			refs[rel.BasePKs[0].Name] = [2]string{string(rel.JoinTable.SQLName), string(rel.JoinPKs[0].SQLName)}
		}
	}
	if r, ok := any(new(T)).(models.Referencer); ok {
		for _, ref := range r.References() {
			col := ref.RefColumn
			if col == "" {
				col = "id"
			}
			refs[ref.Column] = [2]string{ident(ref.Table), ident(col)}
		}
	}
	rel := &related{byField: map[int]*lookup{}, pk: p.table.PKs[0], pg: g.DB.Dialect().Name() == dialect.PG}
	table := string(p.table.SQLName)
	for i, f := range p.fields.Fields {
		if f.ReadOnly || f.Column == "" || isPK(p.table, f.Column) {
			continue
		}
		bf := p.table.FieldMap[f.Column]
		if bf == nil {
			continue
		}
		var l *lookup
		if ref, ok := refs[f.Column]; ok && f.ForeignKey {
			text := []string{"NOT EXISTS (SELECT 1 FROM " + ref[0] + " WHERE " + ref[1] + " = ", ")"}
			l = &lookup{field: bf, fk: true, create: text, update: text}
		} else if isUnique(p.table, bf) {
			where := "EXISTS (SELECT 1 FROM " + table + " WHERE " + string(bf.SQLName) + " = "
			l = &lookup{field: bf,
				create: []string{where, ")"},
				update: []string{where, " AND " + string(rel.pk.SQLName) + " <> ", ")"}}
		}
		if l != nil {
			rel.byField[i] = l
			rel.fields = append(rel.fields, i)
		}
	}
	if len(rel.fields) == 0 {
		return
	}
	p.lookups = rel
	check := func(ctx context.Context, conn any, v *T, fields []int, mode serializers.Mode) ([]int, error) {
		return p.lookUp(ctx, conn, v, fields, mode)
	}
	p.relLazy = &serializers.Related[T]{Fields: rel.fields, Check: check}
	p.relEager = &serializers.Related[T]{Fields: rel.fields, Check: check, Eager: true}
}

// isUnique reports whether f is unique on its own (bun's `unique` tag
// without a group name).
func isUnique(t *schema.Table, f *schema.Field) bool {
	for _, u := range t.Unique[""] {
		if u == f {
			return true
		}
	}
	return false
}

// relatedFor returns the lookups of a write whose object a Perform hook
// sees (eager: looked up before the hook runs, as DRF validates before
// perform_create) or not (lazy), to run on conn (a *tx, or nil for the
// pool); nil when T has none.
func (p *plan[T]) relatedFor(eager bool, conn *tx) *serializers.Related[T] {
	r := p.relLazy
	if eager {
		r = p.relEager
	}
	if r == nil || conn == nil {
		return r
	}
	withConn := *r
	withConn.Conn = conn
	return &withConn
}

// lookUp runs the lookups of fields of v in one query, on conn (the
// write's *tx) or on the pool, and returns the fields that fail.
func (p *plan[T]) lookUp(ctx context.Context, conn any, v *T, fields []int, mode serializers.Mode) ([]int, error) {
	rel := p.lookups
	rv := reflect.ValueOf(v).Elem()
	args := make([]any, 0, 2*len(fields))
	var b strings.Builder
	b.WriteString("SELECT ")
	for k, i := range fields {
		l := rel.byField[i]
		if k > 0 {
			b.WriteString(", ")
		}
		text := l.create
		vals := []any{l.field.Value(rv)}
		if mode != serializers.Create && !l.fk {
			text = l.update
			vals = append(vals, rel.pk.Value(rv))
		}
		for j, part := range text {
			b.WriteString(part)
			if j < len(vals) {
				args = append(args, plain(vals[j].(reflect.Value)))
				if rel.pg {
					b.WriteString("$" + strconv.Itoa(len(args)))
				} else {
					b.WriteByte('?')
				}
			}
		}
	}
	found := make([]bool, len(fields))
	t, _ := conn.(*tx)
	if err := p.run.exists(ctx, t, b.String(), args, found); err != nil {
		return nil, err
	}
	var failed []int
	for k, bad := range found {
		if bad {
			failed = append(failed, fields[k])
		}
	}
	return failed, nil
}

// plain is the value of a field as a query argument: a pointer's target.
func plain(v reflect.Value) any {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	return v.Interface()
}

// exists runs query, a SELECT of booleans, with args as bound parameters,
// into out: on t's connection when given (the lookup sees what the
// write's transaction sees, and needs no second connection), else on the
// pgx pool or database/sql.
func (rn *runner[T]) exists(ctx context.Context, t *tx, query string, args []any, out []bool) error {
	dst := make([]any, len(out))
	for i := range out {
		dst[i] = &out[i]
	}
	switch {
	case t != nil && t.pg != nil:
		return t.pg.QueryRow(ctx, query, args...).Scan(dst...)
	case t != nil && t.db:
		return t.bun.Tx.QueryRowContext(ctx, query, args...).Scan(dst...)
	case rn.pgx:
		return models.Pool(rn.db).QueryRow(ctx, query, args...).Scan(dst...)
	}
	return rn.db.DB.QueryRowContext(ctx, query, args...).Scan(dst...)
}
