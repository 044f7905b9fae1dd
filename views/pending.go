package views

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/uptrace/bun/schema"

	"github.com/cosworth/cosworth/filters"
	"github.com/cosworth/cosworth/models"
	"github.com/cosworth/cosworth/pagination"
)

// classify stands in for models.Classify until it lands.
func classify(err error) error {
	if err != nil && errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: %w", models.ErrNotFound, err)
	}
	return err
}

// dbError classifies an error of a write, turning an integrity violation
// the serializer can name into its field error.
func (p *plan[T]) dbError(err error) error {
	err = classify(err)
	var ce *models.ConstraintError
	if errors.As(err, &ce) {
		_ = ce
	}
	return err
}

// builtinFilters builds the view's search, field and ordering filters and
// its default ordering from the model's bun table.
func (g *Generic[T]) builtinFilters(p *plan[T]) ([]filters.Filter, string) {
	if so, ok := g.Paginator.(pagination.SelfOrdering); ok && so.OrdersQuery() {
		return nil, ""
	}
	var b strings.Builder
	for _, name := range g.DefaultOrdering {
		desc := strings.HasPrefix(name, "-")
		name = strings.TrimPrefix(name, "-")
		f := fieldByName(p.fields, name)
		if f == nil || f.Column == "" || p.table.FieldMap[f.Column] == nil {
			setupPanic("DefaultOrdering field %q is not a column of %s", name, p.table.TypeName)
		}
		appendOrder(&b, p.table, p.table.FieldMap[f.Column], desc)
	}
	for _, pk := range p.table.PKs {
		appendOrder(&b, p.table, pk, false)
	}
	return nil, b.String()
}

func appendOrder(b *strings.Builder, t *schema.Table, f *schema.Field, desc bool) {
	if b.Len() > 0 {
		b.WriteString(", ")
	}
	b.WriteString(string(t.SQLAlias))
	b.WriteByte('.')
	b.WriteString(string(f.SQLName))
	if desc {
		b.WriteString(" DESC")
	} else {
		b.WriteString(" ASC")
	}
}
