package filters_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/filters"
	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/models"
)

type fuzzAuthor struct {
	bun.BaseModel `bun:"table:fuzz_authors"`
	ID            int64  `bun:"id,pk,autoincrement" json:"id"`
	Name          string `bun:"name,notnull" json:"name"`
}

type fuzzBook struct {
	bun.BaseModel `bun:"table:fuzz_books"`
	ID            int64        `bun:"id,pk,autoincrement" json:"id"`
	Title         string       `bun:"title,notnull" json:"title"`
	ISBN          string       `bun:"isbn,notnull" json:"isbn"`
	AuthorID      int64        `bun:"author_id,notnull" json:"author"`
	Author        *fuzzAuthor  `bun:"rel:belongs-to,join:author_id=id" json:"-"`
	PriceCents    int32        `bun:"price_cents,notnull" json:"price_cents"`
	InStock       bool         `bun:"in_stock,notnull" json:"in_stock"`
	Rating        *float64     `bun:"rating" json:"rating"`
	CreatedAt     time.Time    `bun:"created_at,notnull" json:"created_at"`
	PublishedOn   *models.Date `bun:"published_on,type:date" json:"published_on"`
}

const fuzzBooks = 12

// fuzzFilters fills db (with the fuzz tables) with books and returns the
// search, ordering and field filters the bookstore would put on them.
func fuzzFilters(f testing.TB, db *bun.DB) []filters.Filter {
	ctx := context.Background()
	authors := []fuzzAuthor{{Name: "Ann"}, {Name: "Bo%b_\\"}}
	_, err := db.NewInsert().Model(&authors).Exec(ctx)
	dbtest.Must(f, err, "insert authors")
	books := make([]fuzzBook, fuzzBooks)
	for i := range books {
		r := float64(i) / 3
		books[i] = fuzzBook{
			Title: fmt.Sprintf("Title %d ü%%_'\"", i), ISBN: fmt.Sprintf("978%010d", i),
			AuthorID: authors[i%2].ID, PriceCents: int32(i * 100), InStock: i%2 == 0,
			CreatedAt: time.Date(2024, 1, 1+i, 0, 0, 0, 0, time.UTC),
		}
		if i%3 == 0 {
			books[i].Rating = &r
			books[i].PublishedOn = &models.Date{Year: 2020, Month: time.Month(1 + i%12), Day: 1 + i}
		}
	}
	_, err = db.NewInsert().Model(&books).Exec(ctx)
	dbtest.Must(f, err, "insert books")

	table := db.Table(reflect.TypeFor[fuzzBook]())
	search, err := filters.NewSearch(table, []string{"title", "^isbn", "=title", "price_cents"})
	dbtest.Must(f, err, "NewSearch")
	ordering, err := filters.NewOrdering(table, []string{"title", "price_cents", "created_at", "rating", "id"}, []string{"-created_at"})
	dbtest.Must(f, err, "NewOrdering")
	fields, err := filters.NewFields(table, []string{"author", "price_cents", "in_stock", "rating", "created_at", "title", "published_on", "isbn",
		"author__in", "author__isnull", "price_cents__gte", "price_cents__lt", "price_cents__in", "price_cents__range",
		"rating__isnull", "rating__lte", "created_at__range", "published_on__gte", "published_on__isnull",
		"title__icontains", "title__istartswith", "title__in", "isbn__range", "in_stock__isnull"})
	dbtest.Must(f, err, "NewFields")
	return []filters.Filter{search, ordering, fields}
}

// FuzzFilters feeds arbitrary query strings to search, ordering and field
// filters and runs the resulting query on a real SQLite database: no
// panic, no error but the typed 400, no database error (no user text
// reaches SQL text), and never more rows than the table has.
func FuzzFilters(f *testing.F) {
	for _, s := range filterSeeds {
		f.Add(s)
	}
	db := dbtest.SQLite(f, (*fuzzAuthor)(nil), (*fuzzBook)(nil))
	fs := fuzzFilters(f, db)
	f.Fuzz(func(t *testing.T, raw string) { checkFilters(t, db, fs, raw) })
}

// TestFilterSeedsPostgres runs the fuzz seeds against PostgreSQL, whose
// ILIKE, casts and types differ from SQLite's.
func TestFilterSeedsPostgres(t *testing.T) {
	db := dbtest.Postgres(t, (*fuzzAuthor)(nil), (*fuzzBook)(nil))
	fs := fuzzFilters(t, db)
	for _, raw := range filterSeeds {
		checkFilters(t, db, fs, raw)
	}
}

var filterSeeds = []string{
	"", "search=title", "search=TITLE+1", "search=%25", "search=_", "search=%5C", "search=%27%3B+drop+table+fuzz_books%3B--",
	"search=a,b,c+d+e+f+g+h+i+j+k+l+m", "search=" + strings.Repeat("x", 300), "search=%00", "search=%ff",
	"ordering=title", "ordering=-price_cents,title", "ordering=--title", "ordering=secret", "ordering=title;drop",
	"ordering=" + strings.Repeat("title,", 50), "ordering=-rating,-id",
	"author=1", "author=999", "author=x", "author=1.9", "author=-0", "author=99999999999999999999999",
	"price_cents=100", "price_cents=1e2", "price_cents=3000000000", "price_cents=NaN", "rating=0.3333333333333333",
	"in_stock=true", "in_stock=maybe", "created_at=2024-01-02", "created_at=2024-01-02T00:00:00Z", "created_at=tomorrow",
	"published_on=2020-01-01", "published_on=2020-02-30", "title=Title+1", "title=%00", "isbn=978",
	"author=1&author=2&search=Title&ordering=-title&in_stock=1",
	"author__in=1,2", "author__in=1,,2,", "author__in=,", "author__in=1,999", "author__in=" + strings.Repeat("1,", 100) + "1",
	"author__isnull=true", "price_cents__gte=3000000000", "price_cents__lt=-3000000000", "price_cents__in=100,1e2,x",
	"price_cents__range=100,500", "price_cents__range=100", "price_cents__range=,", "price_cents__range=1,2,3",
	"rating__isnull=0", "rating__lte=1e308", "rating__lte=1e309", "created_at__range=2024-01-02,2024-01-05",
	"published_on__gte=2020-03-01", "published_on__isnull=TRUE", "title__icontains=%25_%5C", "title__icontains=%27%29+OR+1%3D1--",
	"title__istartswith=%C3%BC", "title__in=Title+1,Title+2", "isbn__range=978,979", "in_stock__isnull=1",
	"title__icontains=%00", "title__icontains=%ff", "price_cents__gte=100&price_cents__lt=500&author__in=1&published_on__isnull=false",
}

func checkFilters(t *testing.T, db *bun.DB, fs []filters.Filter, raw string) {
	{
		req, err := http.NewRequest(http.MethodGet, "http://example.com/books/", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.URL.RawQuery = raw
		var rows []fuzzBook
		q := db.NewSelect().Model(&rows)
		for _, flt := range fs {
			q, err = flt.Apply(req, q)
			if err != nil {
				var fe *models.ValidationError
				if !errors.As(err, &fe) || fe.StatusCode() != http.StatusBadRequest {
					t.Fatalf("?%s: %T %v, want a *models.ValidationError", raw, err, err)
				}
				if !json.Valid(fe.AppendJSON(nil)) {
					t.Fatalf("?%s: ValidationError body is not JSON", raw)
				}
				return
			}
		}
		if err := q.Limit(100).Scan(req.Context()); err != nil {
			t.Fatalf("?%s: the query failed: %v\n%s", raw, err, q.String())
		}
		if len(rows) > fuzzBooks {
			t.Fatalf("?%s: %d rows from a table of %d", raw, len(rows), fuzzBooks)
		}
	}
}
