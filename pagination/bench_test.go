package pagination_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/pagination"
)

// windowItem is item with the total row count of a window function.
type windowItem struct {
	bun.BaseModel `bun:"table:items,alias:item"`
	ID            int64     `bun:"id,pk,autoincrement"`
	Name          string    `bun:"name,notnull"`
	Rank          int64     `bun:"rank,notnull"`
	Note          *string   `bun:"note"`
	Created       time.Time `bun:"created,notnull"`
	Total         int64     `bun:"total,scanonly"`
}

func benchDB(b *testing.B, rows int) *bun.DB {
	db := dbtest.Postgres(b)
	ctx := context.Background()
	_, err := db.NewCreateTable().Model((*item)(nil)).Exec(ctx)
	dbtest.Must(b, err, "create")
	_, err = db.ExecContext(ctx, "INSERT INTO items (name, rank, created) SELECT 'item ' || g, g % 3, now() FROM generate_series(1, ?) AS g", rows)
	dbtest.Must(b, err, "fill")
	_, err = db.ExecContext(ctx, "ANALYZE items")
	dbtest.Must(b, err, "analyze")
	return db
}

// BenchmarkCountStrategies compares, on PostgreSQL, the two ways to get a
// page and the total: a separate SELECT count(*) then the page (what
// PageNumber and LimitOffset do: two round trips), and one query with
// count(*) OVER () (one round trip, but the window makes the database
// read and number every matching row before LIMIT, and an empty page
// carries no count, so it needs a fallback count).
func BenchmarkCountStrategies(b *testing.B) {
	for _, size := range []int{1000, 100000} {
		db := benchDB(b, size)
		for _, filtered := range []bool{false, true} {
			for _, offset := range []int{0, size / 2} {
				where := func(q *bun.SelectQuery) *bun.SelectQuery {
					if filtered {
						return q.Where("rank = 1")
					}
					return q
				}
				off := offset
				if filtered {
					off = offset / 3 // a third of the rows match
				}
				name := fmt.Sprintf("rows=%d/filtered=%v/offset=%d", size, filtered, offset)
				b.Run(name+"/count+page", func(b *testing.B) {
					p := pagination.LimitOffset{}
					r := httptest.NewRequest(http.MethodGet, fmt.Sprintf("http://h/items/?offset=%d", off), nil)
					b.ReportAllocs()
					for b.Loop() {
						var rows []item
						page, err := paginate(p, r, where(db.NewSelect().Model(&rows)).OrderExpr("id ASC"), &rows)
						if err != nil || page.Count == 0 || len(rows) != 10 {
							b.Fatalf("page %+v rows %d err %v", page, len(rows), err)
						}
					}
				})
				b.Run(name+"/window", func(b *testing.B) {
					ctx := context.Background()
					b.ReportAllocs()
					for b.Loop() {
						var rows []windowItem
						err := where(db.NewSelect().Model(&rows).ColumnExpr("?TableColumns").ColumnExpr("count(*) OVER () AS total")).
							OrderExpr("id ASC").Limit(10).Offset(int64(off)).Scan(ctx)
						if err != nil || len(rows) != 10 || rows[0].Total == 0 {
							b.Fatalf("rows %d err %v", len(rows), err)
						}
					}
				})
			}
		}
	}
}

func BenchmarkPaginate(b *testing.B) {
	db := benchDB(b, 10000)
	b.Run("PageNumber", func(b *testing.B) {
		r := httptest.NewRequest(http.MethodGet, "http://h/items/?page=3&search=x", nil)
		b.ReportAllocs()
		for b.Loop() {
			var rows []item
			if _, err := paginate((pagination.PageNumber{}), r, db.NewSelect().Model(&rows).OrderExpr("id ASC"), &rows); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Cursor", func(b *testing.B) {
		p := pagination.Cursor{Key: testKey}
		var rows []item
		first, err := paginate(p, httptest.NewRequest(http.MethodGet, "http://h/items/", nil), db.NewSelect().Model(&rows), &rows)
		dbtest.Must(b, err, "first page")
		r := httptest.NewRequest(http.MethodGet, first.Next, nil)
		b.ReportAllocs()
		for b.Loop() {
			var rows []item
			if _, err := paginate(p, r, db.NewSelect().Model(&rows), &rows); err != nil {
				b.Fatal(err)
			}
		}
	})
}
