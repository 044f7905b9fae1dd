package views

import (
	"context"
	"reflect"
	"slices"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/schema"

	"github.com/cosworth/cosworth/serializers"
)

// shownRelation is a bun relation the representation shows.
type shownRelation struct {
	path string // "Author", or "Author.Books" for a relation of a relation
	// cols are the columns a slug's relation selects (the related
	// primary key and the slug's column); nil selects every column.
	cols []string
}

// maxNestedDepth bounds how deep nested serializers may nest relations.
const maxNestedDepth = 4

// setRelations collects the bun relations the serializer's nested and
// slug fields show (serializers.Plan.Nested), those of nested serializers
// of nested serializers included ("Author.Books"), checked against the
// model's tables once.
func (p *plan[T]) setRelations(db *bun.DB, typ reflect.Type) {
	var walk func(t *schema.Table, sp *serializers.Plan, prefix string, depth int)
	walk = func(t *schema.Table, sp *serializers.Plan, prefix string, depth int) {
		for _, n := range sp.Nested {
			rel, ok := t.Relations[n.Relation]
			if !ok {
				setupPanic("field %q of %s shows relation %q, which is not a bun relation of %s (tag it `bun:\"rel:belongs-to,join:...\"`, has-one, has-many or m2m)", n.Name, typ.Name(), n.Relation, t.TypeName)
			}
			if depth >= maxNestedDepth {
				setupPanic("nested serializers of %s nest relations deeper than %d (%s%s)", typ.Name(), maxNestedDepth, prefix, n.Relation)
			}
			path := prefix + n.Relation
			rt := db.Table(rel.JoinTable.Type)
			var cols []string
			if f := n.Plan.Meta.Field(n.Slug); n.Slug != "" && f != nil && f.Column != "" {
				// A slug shows one field: its column and the key, not
				// every column (a user's password hash).
				for _, pk := range rt.PKs {
					cols = append(cols, pk.Name)
				}
				cols = append(cols, f.Column)
			}
			switch i := slices.IndexFunc(p.relations, func(r shownRelation) bool { return r.path == path }); {
			case i < 0:
				p.relations = append(p.relations, shownRelation{path: path, cols: cols})
			case cols == nil:
				p.relations[i].cols = nil // a nested serializer shows more
			}
			if n.Slug == "" {
				// db.Table: the related table with its own relations resolved.
				walk(rt, n.Plan, path+".", depth+1)
			}
		}
	}
	walk(p.table, p.fields, "", 0)
	for _, sr := range p.relations {
		rel := p.table.Relations[sr.path] // nil for "A.B"
		if rel == nil || rel.Type != schema.BelongsToRelation && rel.Type != schema.HasOneRelation ||
			len(rel.Condition) > 0 || rel.PolymorphicField != nil || len(rel.BasePKs) != len(rel.JoinPKs) {
			p.toOne = nil
			return
		}
		p.toOne = append(p.toOne, rel)
	}
}

// relationsLoaded reports whether obj holds every relation its
// representation shows already, matching its keys: each is a to-one
// relation (see plan.toOne) whose object is set and whose keys equal
// obj's (a belongs-to relation's primary key is obj's foreign key). A
// hook that saved the object with its relation set (a BeforeCreate that
// sets the owner from the request), or a read that loaded it when the
// write left its key alone, then needs no reload: the answer shows the
// object as it was saved, as DRF's serializer.data does.
func (p *plan[T]) relationsLoaded(obj *T) bool {
	if len(p.toOne) == 0 {
		return false
	}
	v := reflect.ValueOf(obj).Elem()
	for _, rel := range p.toOne {
		rv := rel.Field.Value(v)
		if rv.Kind() != reflect.Pointer || rv.IsNil() {
			return false
		}
		rv = rv.Elem()
		for i, base := range rel.BasePKs {
			if !sameKey(base.Value(v), rel.JoinPKs[i].Value(rv)) {
				return false
			}
		}
	}
	return true
}

// sameKey reports whether two key values are equal and set (not a nil
// pointer).
func sameKey(a, b reflect.Value) bool {
	for a.Kind() == reflect.Pointer {
		if a.IsNil() {
			return false
		}
		a = a.Elem()
	}
	for b.Kind() == reflect.Pointer {
		if b.IsNil() {
			return false
		}
		b = b.Elem()
	}
	switch {
	case a.CanInt() && b.CanInt():
		return a.Int() == b.Int()
	case a.CanUint() && b.CanUint():
		return a.Uint() == b.Uint()
	case a.Kind() == reflect.String && b.Kind() == reflect.String:
		return a.String() == b.String()
	case a.Type() == b.Type() && a.Comparable():
		return a.Equal(b)
	}
	return false
}

// withRelations adds the relations the representation shows to q: bun
// joins a belongs-to or has-one relation into the SELECT (on pgx too) and
// loads a has-many or many-to-many one with one query per relation for
// all the rows (on bun), so a list makes the same number of queries
// whatever its page size. A Queryset that names the same relation refines
// the same join.
func (p *plan[T]) withRelations(q *bun.SelectQuery) *bun.SelectQuery {
	for _, sr := range p.relations {
		if cols := sr.cols; cols != nil {
			q = q.Relation(sr.path, func(q *bun.SelectQuery) *bun.SelectQuery { return q.Column(cols...) })
			continue
		}
		q = q.Relation(sr.path)
	}
	return q
}

// reload reads the relations the representation shows for an object just
// written (its keys may name other rows now): one query by primary key,
// plus one per to-many relation. It does nothing when there are none, or
// when obj holds them already (relationsLoaded).
//
// The key is a parameter: one SQL text for every row, prepared once per
// connection (with the key inline, each row's text was new, so each
// reload took a round trip more to prepare it and filled the statement
// cache).
func (g *Generic[T]) reload(ctx context.Context, p *plan[T], obj *T) error {
	if len(p.relations) == 0 || p.relationsLoaded(obj) {
		return nil
	}
	if p.pkWhere == "" {
		return p.run.object(ctx, p.withRelations(g.DB.NewSelect().Model(obj).WherePK()), obj)
	}
	pk := p.table.PKs[0]
	key := keyParam(pk.Value(reflect.ValueOf(obj).Elem()))
	if p.run.reload != nil {
		if ok, err := p.run.reload.Scan(ctx, g.DB, obj, key); ok || err != nil {
			return err
		}
	}
	return p.run.object(ctx, p.withRelations(p.newSelect(g.DB, obj)).Where(p.pkWhere, key), obj)
}

// reloadTx is reload inside a create's transaction tx, before the answer
// is kept with it (Idempotency-Key): obj is a *T or the *[]T of a bulk
// create, whose rows come back in primary-key order, the order of a bulk
// insert's keys.
func (p *plan[T]) reloadTx(ctx context.Context, tx bun.Tx, model any) error {
	if len(p.relations) == 0 {
		return nil
	}
	q := p.withRelations(tx.NewSelect().Model(model).WherePK())
	if _, many := model.(*[]T); many {
		q = q.OrderExpr(string(p.table.SQLAlias) + "." + string(p.table.PKs[0].SQLName))
	}
	return q.Scan(ctx)
}
