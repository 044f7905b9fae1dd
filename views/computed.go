package views

import (
	"strings"

	"github.com/uptrace/bun"
)

// setComputed sets how the view's reads select the computed fields the
// serializer shows (models.Annotator): the model's columns by name, then
// "(expression) AS name" for each, so that bun and pgread scan them into
// their bun:",scanonly" fields. Without computed fields, reads select the
// model's columns as bun does by default.
func (p *plan[T]) setComputed() {
	var exprs []string
	for _, f := range p.fields.Fields {
		if !f.Computed {
			continue
		}
		bf, ok := p.table.FieldMap[f.SelectAs]
		if !ok {
			setupPanic("computed field %q of %s has no bun field %q; tag it bun:\"%s,scanonly\"", f.Name, p.table.TypeName, f.SelectAs, f.SelectAs)
		}
		exprs = append(exprs, "("+f.Expr+") AS "+string(bf.SQLName))
	}
	if len(exprs) == 0 {
		return
	}
	// One select list, formatted by bun (?TableAlias) on each query: the
	// same text as bun's own column list, then the expressions.
	cols := make([]string, 0, len(p.table.Fields)+len(exprs))
	for _, f := range p.table.Fields {
		cols = append(cols, "?TableAlias."+string(f.SQLName))
	}
	list := strings.Join(append(cols, exprs...), ", ")
	p.computed = func(q *bun.SelectQuery) *bun.SelectQuery { return q.ColumnExpr(list) }
}

// newSelect starts a read of the view's model into dst (a *T or a *[]T):
// its columns and computed fields.
func (p *plan[T]) newSelect(db *bun.DB, dst any) *bun.SelectQuery {
	q := db.NewSelect().Model(dst)
	if p.computed != nil {
		q = p.computed(q)
	}
	return q
}
