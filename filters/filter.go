// Package filters narrows and orders list queries from the query string:
// Search (?search=, case-insensitive contains over whitelisted fields),
// Ordering (?ordering=, whitelisted fields, "-" for descending) and Fields
// (?field=value exact matches, typed by the model field). Every column name
// comes from a whitelist checked against the model's bun schema when the
// filter is built; no user text ever becomes SQL text: columns go into
// queries only as bun.Ident values and user values only as bun's quoted
// arguments.
//
// Fields fields may also name a lookup, django-filter's way
// (?price_cents__gte=500, ?author__in=1,2, ?published_on__isnull=true),
// and computed fields (models.Annotator) can be filtered and ordered on.
//
// Fields are named by their JSON names in the model plan (models.MetaFor:
// the struct field's json tag, or the Go field name without one), the
// names clients see and the serializer uses. The constructors
// validate their configuration once and return errors that say what is
// wrong and how to fix it; views call them on first use and panic with the
// error's text.
package filters

import (
	"fmt"
	"net/http"
	"reflect"
	"strings"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/schema"

	"github.com/cosworth/cosworth/models"
)

// Filter narrows or orders q from r's query string. It returns a
// *models.ValidationError for a query parameter with a bad value: a 400
// {"field": ["message"]}, with one member for each bad parameter, as
// django-filter's.
type Filter interface {
	Apply(r *http.Request, q *bun.SelectQuery) (*bun.SelectQuery, error)
}

// Compile-time checks of the contracts.
var (
	_ Filter = (*Search)(nil)
	_ Filter = (*Ordering)(nil)
	_ Filter = (*Fields)(nil)

	_ Parameterized = (*Search)(nil)
	_ Parameterized = (*Ordering)(nil)
	_ Parameterized = (*Fields)(nil)
)

// Parameter describes a query parameter a filter reads, for API
// documentation (the openapi package lists them as the list operation's
// parameters).
type Parameter struct {
	Name        string
	Description string
	// Type is the Go type of one value (a model field's type, a pointer
	// meaning the value may be absent); nil means a string.
	Type reflect.Type
	// List says the parameter takes comma-separated values of Type (in,
	// range); it is documented as a string.
	List bool
}

// Parameterized is implemented by a Filter that can say which query
// parameters it reads. The built-in filters implement it; implement it
// on a Filter of your own so that the OpenAPI document lists its
// parameters too.
type Parameterized interface {
	Parameters() []Parameter
}

// column is a field a filter or an ordering names: its SQL, a column of
// the model's table or a computed field's expression, and its Go type.
type column struct {
	sql   string        // ?TableAlias."col", or (expr) for a computed field
	field *schema.Field // nil for a computed field
	typ   reflect.Type
}

// lookupColumn returns the column or computed field of table whose JSON
// name is name, or an error naming the filter, the model and its fields.
func lookupColumn(table *schema.Table, what, name string) (column, error) {
	if table != nil {
		if meta, err := models.MetaFor(table.Type); err == nil {
			if f := meta.Field(name); f != nil && f.Computed {
				return column{sql: "(" + f.Expr + ")", typ: f.Type}, nil
			}
		}
	}
	f, err := lookupField(table, what, name)
	if err != nil {
		return column{}, err
	}
	return column{sql: "?TableAlias." + string(f.SQLName), field: f, typ: f.StructField.Type}, nil
}

// lookupField returns the bun field of table whose JSON name, in the
// model plan (models.MetaFor), is name, or an error naming the filter, the
// model and its fields.
func lookupField(table *schema.Table, what, name string) (*schema.Field, error) {
	if table == nil {
		return nil, errorf("%s: nil table; pass db.Table(reflect.TypeFor[Model]())", what)
	}
	meta, err := models.MetaFor(table.Type)
	if err != nil {
		return nil, errorf("%s: %v", what, err)
	}
	if f := meta.Field(name); f != nil {
		if bf, ok := table.FieldMap[f.Column]; ok {
			return bf, nil
		}
	}
	return nil, errorf("%s field %q is not a field of %s (fields: %s)", what, name, table.Type.Name(), strings.Join(meta.Names(true), ", "))
}

func errorf(format string, args ...any) error {
	return fmt.Errorf("cosworth/filters: "+format, args...)
}
