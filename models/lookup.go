package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"

	"github.com/uptrace/bun"
)

// LookupPK returns a function that finds the primary key of the R whose
// JSON field field holds a value, for serializers.Slug.Lookup (DRF's
// SlugRelatedField queryset.get(field=value)): the column comes from R's
// model plan and the primary key from its bun table, the value is a bound
// parameter. No such row is ErrNotFound; field should be unique, else the
// first match wins. It panics, with a "cosworth/models:" message, when
// field is not a column of R or R has no single integer primary key.
func LookupPK[R any](db bun.IDB, field string) func(ctx context.Context, value string) (int64, error) {
	t := reflect.TypeFor[R]()
	meta, err := MetaFor(t)
	if err != nil {
		panic("cosworth/models: " + err.Error())
	}
	f := meta.Field(field)
	if f == nil || f.Column == "" {
		panic(fmt.Sprintf("cosworth/models: LookupPK: %q is not a column field of %v", field, t))
	}
	table := db.Dialect().Tables().Get(t)
	if len(table.PKs) != 1 {
		panic(fmt.Sprintf("cosworth/models: LookupPK: %v needs a single primary key", t))
	}
	pk := table.PKs[0].Name
	col := f.Column
	return func(ctx context.Context, value string) (int64, error) {
		var id int64
		err := db.NewSelect().Model((*R)(nil)).Column(pk).Where("? = ?", bun.Ident(col), Param(value)).Limit(1).Scan(ctx, &id)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, ErrNotFound
		}
		return id, err
	}
}
