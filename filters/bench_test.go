package filters_test

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/schema"

	"github.com/cosworth/cosworth/filters"
)

// BenchmarkApply measures building the query (Apply plus rendering the SQL
// text, without running it) for each filter, on the PostgreSQL dialect.
func BenchmarkApply(b *testing.B) {
	db := bun.NewDB(nil, pgdialect.New())
	tb := db.Table(reflect.TypeFor[book]())
	search := must(filters.NewSearch(tb, []string{"title", "isbn", "price_cents"}))
	ordering := must(filters.NewOrdering(tb, []string{"title", "price_cents", "created_at"}, []string{"-created_at"}))
	fields := must(filters.NewFields(tb, []string{"price_cents", "in_stock", "title"}))
	cases := []struct {
		name  string
		f     filters.Filter
		query string
	}{
		{"Search/none", search, "page=2"},
		{"Search/2terms", search, "search=go+prog%25"},
		{"Search/10terms", search, "search=a+b+c+d+e+f+g+h+i+j+k+l"},
		{"Ordering/default", ordering, ""},
		{"Ordering/2fields", ordering, "ordering=-price_cents,title"},
		{"Fields/none", fields, "page=2"},
		{"Fields/3values", fields, "price_cents=500&in_stock=true&title=Dune"},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			r := httptest.NewRequest(http.MethodGet, "http://h/books/?"+c.query, nil)
			buf := make([]byte, 0, 1024)
			b.ReportAllocs()
			for b.Loop() {
				var rows []book
				q, err := c.f.Apply(r, db.NewSelect().Model(&rows))
				if err != nil {
					b.Fatal(err)
				}
				buf, err = q.AppendQuery(schema.NewQueryGen(db.Dialect()), buf[:0])
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
