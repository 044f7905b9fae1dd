package filters_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"reflect"

	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/filters"
	"github.com/cosworth/cosworth/models"
)

// Novel is the model of the examples.
type Novel struct {
	bun.BaseModel `bun:"table:novels"`
	ID            int64  `bun:"id,pk,autoincrement" json:"id"`
	Title         string `bun:"title,notnull" json:"title"`
	Year          int    `bun:"year,notnull" json:"year"`
}

func novelsDB() *bun.DB {
	ctx := context.Background()
	db, err := models.Open(ctx, ":memory:")
	if err != nil {
		panic(err)
	}
	if _, err := db.NewCreateTable().Model((*Novel)(nil)).Exec(ctx); err != nil {
		panic(err)
	}
	novels := []Novel{{Title: "Dune", Year: 1965}, {Title: "Dune Messiah", Year: 1969}, {Title: "Solaris", Year: 1961}}
	if _, err := db.NewInsert().Model(&novels).Exec(ctx); err != nil {
		panic(err)
	}
	return db
}

// The filters are built once from the model's bun table (a view does it on
// first use) and applied to each request's query. Misconfiguration is an
// error at construction, never at request time.
func Example() {
	db := novelsDB()
	defer db.Close()
	table := db.Table(reflect.TypeFor[Novel]())

	search, err := filters.NewSearch(table, []string{"title"})
	if err != nil {
		panic(err)
	}
	ordering, err := filters.NewOrdering(table, []string{"title", "year"}, []string{"-year"})
	if err != nil {
		panic(err)
	}
	exact, err := filters.NewFields(table, []string{"year"})
	if err != nil {
		panic(err)
	}

	for _, query := range []string{"", "?search=dune&ordering=-title", "?ordering=nope", "?year=1961", "?year=soon"} {
		r := httptest.NewRequest("GET", "http://example.com/novels/"+query, nil)
		var novels []Novel
		q := db.NewSelect().Model(&novels)
		for _, f := range []filters.Filter{search, exact, ordering} {
			if q, err = f.Apply(r, q); err != nil {
				break
			}
		}
		if err != nil {
			fe := err.(*models.ValidationError) // a view answers it with 400
			fmt.Printf("%-30q 400 %s\n", query, fe.AppendJSON(nil))
			continue
		}
		if err := q.Scan(r.Context()); err != nil {
			panic(err)
		}
		var titles []string
		for _, n := range novels {
			titles = append(titles, n.Title)
		}
		fmt.Printf("%-30q %q\n", query, titles)
	}

	_, err = filters.NewSearch(table, []string{"titel"})
	fmt.Println(err)
	// Output:
	// ""                             ["Dune Messiah" "Dune" "Solaris"]
	// "?search=dune&ordering=-title" ["Dune Messiah" "Dune"]
	// "?ordering=nope"               ["Dune Messiah" "Dune" "Solaris"]
	// "?year=1961"                   ["Solaris"]
	// "?year=soon"                   400 {"year":["Enter a number."]}
	// cosworth/filters: search field "titel" is not a field of Novel (fields: id, title, year)
}
