package pagination_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/pagination"
)

// fuzzRow is the model the fuzz targets page through.
type fuzzRow struct {
	bun.BaseModel `bun:"table:fuzz_rows"`
	ID            int64  `bun:"id,pk,autoincrement" json:"id"`
	Name          string `bun:"name,notnull" json:"name"`
}

const fuzzRows = 23

var fuzzKey = []byte("fuzz-cursor-key-0123456789abcdef")

// fuzzDB returns a SQLite database with fuzzRows rows whose names repeat,
// so orderings by name have ties.
func fuzzDB(f *testing.F) *bun.DB {
	db := dbtest.SQLite(f, (*fuzzRow)(nil))
	rows := make([]fuzzRow, fuzzRows)
	for i := range rows {
		rows[i].Name = fmt.Sprintf("n%d é", i%4)
	}
	_, err := db.NewInsert().Model(&rows).Exec(context.Background())
	dbtest.Must(f, err, "insert")
	return db
}

type fuzzPaginator struct {
	name  string
	p     pagination.Paginator
	max   int
	order bool // the view orders the query (not SelfOrdering)
}

var fuzzPaginators = []fuzzPaginator{
	{"page number", pagination.PageNumber{PageSize: 5, MaxPageSize: 7}, 7, true},
	{"limit offset", pagination.LimitOffset{DefaultLimit: 5, MaxLimit: 7}, 7, true},
	{"cursor -id", pagination.Cursor{PageSize: 5, Key: fuzzKey}, 5, false},
	{"cursor name", pagination.Cursor{PageSize: 4, Ordering: "name", Key: fuzzKey}, 4, false},
}

// fuzzPage runs p for the raw query and checks the invariants every page
// obeys; it returns the page, or nil for an invalid page.
func fuzzPage(t *testing.T, db *bun.DB, fp fuzzPaginator, rawQuery string) *pagination.Page {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://example.com/rows/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.URL.RawQuery = rawQuery
	var rows []fuzzRow
	q := db.NewSelect().Model(&rows)
	if fp.order {
		q = q.Order("id")
	}
	page, err := paginate(fp.p, req, q, &rows)
	if err != nil {
		var ip *pagination.InvalidPageError
		if !errors.As(err, &ip) || ip.StatusCode() != http.StatusNotFound || !errors.Is(err, pagination.ErrInvalidPage) {
			t.Fatalf("%s ?%s: error %T %v, want an *InvalidPageError", fp.name, rawQuery, err, err)
		}
		if !json.Valid(ip.AppendJSON(nil)) {
			t.Fatalf("%s: invalid page body is not JSON", fp.name)
		}
		return nil
	}
	if len(rows) > fp.max {
		t.Fatalf("%s ?%s: %d rows, bound is %d", fp.name, rawQuery, len(rows), fp.max)
	}
	env := append(page.AppendOpen(nil), "[]"...)
	if env = page.AppendClose(env); !json.Valid(env) {
		t.Fatalf("%s ?%s: envelope is not JSON: %s", fp.name, rawQuery, env)
	}
	for _, link := range []string{page.Next, page.Previous} {
		if link == "" {
			continue
		}
		u, err := url.Parse(link)
		if err != nil || u.Host != "example.com" || u.Path != "/rows/" {
			t.Fatalf("%s ?%s: link %q does not point back at the endpoint", fp.name, rawQuery, link)
		}
	}
	return page
}

// FuzzPaginationQuery feeds arbitrary query strings to every paginator
// over a real SQLite table: no panic, no error but the typed 404, never
// more rows than the bound, and every next/previous link it hands out
// leads to a valid page.
func FuzzPaginationQuery(f *testing.F) {
	for _, s := range []string{
		"", "page=2", "page=last", "page=0", "page=-1", "page=99999999999999999999", "page=1e3",
		"page_size=1000", "page_size=-5", "page_size=0", "page=2&page_size=3&page=4",
		"limit=3&offset=20", "limit=-1&offset=-1", "offset=9223372036854775807", "limit=%00",
		"cursor=", "cursor=abc", "cursor=%ff%fe", "page=%zz", "page=2;drop table fuzz_rows",
		"page=" + strings.Repeat("9", 400), "a=1&b=2&page=2&b=3",
	} {
		f.Add(s)
	}
	db := fuzzDB(f)
	f.Fuzz(func(t *testing.T, raw string) {
		for _, fp := range fuzzPaginators {
			page := fuzzPage(t, db, fp, raw)
			if page == nil {
				continue
			}
			for _, link := range []string{page.Next, page.Previous} {
				if link == "" {
					continue
				}
				u, _ := url.Parse(link)
				if fuzzPage(t, db, fp, u.RawQuery) == nil {
					t.Fatalf("%s ?%s: its own link %q is an invalid page", fp.name, raw, link)
				}
			}
		}
	})
}

// FuzzCursor feeds arbitrary cursor tokens, seeded with real ones, to the
// cursor paginators: a forged, truncated or re-signed cursor is the typed
// 404, never a panic or a database error.
func FuzzCursor(f *testing.F) {
	db := fuzzDB(f)
	for _, fp := range fuzzPaginators[2:] {
		// Walk the whole table, seeding every cursor handed out.
		raw := ""
		for range fuzzRows {
			req, _ := http.NewRequest(http.MethodGet, "http://example.com/rows/?"+raw, nil)
			var rows []fuzzRow
			page, err := paginate(fp.p, req, db.NewSelect().Model(&rows), &rows)
			if err != nil {
				f.Fatalf("%s walk: %v", fp.name, err)
			}
			for _, l := range []string{page.Next, page.Previous} {
				if u, err := url.Parse(l); l != "" && err == nil {
					f.Add(u.Query().Get("cursor"))
				}
			}
			if page.Next == "" {
				break
			}
			u, _ := url.Parse(page.Next)
			raw = u.RawQuery
		}
	}
	f.Add("")
	f.Add("AQ")
	f.Add(strings.Repeat("A", 4000))
	f.Fuzz(func(t *testing.T, cursor string) {
		for _, fp := range fuzzPaginators[2:] {
			fuzzPage(t, db, fp, "cursor="+url.QueryEscape(cursor))
		}
	})
}
