package models

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// Annotator is implemented by a model with computed fields (Django's
// annotate): fields whose value an SQL expression computes when the model
// is read, such as an author's number of books. Annotations maps the JSON
// name of each computed field to its expression:
//
//	type Author struct {
//		bun.BaseModel `bun:"table:authors,alias:author"`
//		models.Base
//		Name      string `bun:"name,notnull" json:"name"`
//		BookCount int64  `bun:"book_count,scanonly" json:"book_count"`
//	}
//
//	func (*Author) Annotations() map[string]string {
//		return map[string]string{
//			"book_count": "SELECT count(*) FROM books AS b WHERE b.author_id = ?TableAlias.id",
//		}
//	}
//
// The field must be tagged bun:",scanonly" (bun reads it from a query's
// results but never writes it nor creates its column). It is read-only:
// shown in the representation, never decoded from a request body. The
// generic views select it with the rows of lists and detail reads, as
// "(expression) AS name", and filters and ordering may name it; its
// expression then stands for it in WHERE and ORDER BY.
//
// The expression is SQL text written by the developer, never user input.
// It must be a scalar expression (a correlated subquery, or arithmetic
// over the row's columns: "?TableAlias.price_cents * 2") that yields a
// value of the field's type on every database the model runs on (cast an
// aggregate that could be NULL or another type: COALESCE(sum(x), 0)).
// ?TableAlias is the model's table alias; a literal ? is written \?.
// Annotations is called once per type, on a zero value.
type Annotator interface {
	Annotations() map[string]string
}

// annotate marks the computed fields of m, declared by t's Annotations.
func annotate(t reflect.Type, m *Meta) error {
	a, ok := reflect.New(t).Interface().(Annotator)
	if !ok {
		return nil
	}
	ann := a.Annotations()
	names := make([]string, 0, len(ann))
	for name := range ann {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		expr := strings.TrimSpace(ann[name])
		f := m.Field(name)
		if f == nil {
			return fmt.Errorf("%v.Annotations names %q, which is not a JSON field of %v (fields: %s)", t, name, t, strings.Join(m.Names(false), ", "))
		}
		if expr == "" {
			return fmt.Errorf("%v.Annotations gives %q an empty expression", t, name)
		}
		sf := t.FieldByIndex(f.Index)
		if !hasBunOption(sf.Tag.Get("bun"), "scanonly") {
			return fmt.Errorf("%v.%s is computed (Annotations) but not tagged bun:\",scanonly\"; tag it `bun:\"%s,scanonly\"` so that bun reads it and never writes it", t, sf.Name, bunColumn(sf))
		}
		f.SelectAs = f.Column
		f.Column = ""
		f.Computed = true
		f.Expr = expr
		f.ReadOnly = true
		f.Required = false
		if f.WriteOnly {
			return fmt.Errorf("%v.%s is computed (Annotations) and cannot be write_only", t, sf.Name)
		}
	}
	return nil
}

// hasBunOption reports whether a bun tag carries option opt.
func hasBunOption(tag, opt string) bool {
	_, opts, _ := strings.Cut(tag, ",")
	for o := range strings.SplitSeq(opts, ",") {
		if o == opt {
			return true
		}
	}
	return false
}
