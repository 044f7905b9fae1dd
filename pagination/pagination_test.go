package pagination_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/internal/httperror"
	"github.com/cosworth/cosworth/pagination"
)

// item is the test model.
type item struct {
	bun.BaseModel `bun:"table:items"`
	ID            int64     `bun:"id,pk,autoincrement" json:"id"`
	Name          string    `bun:"name,notnull" json:"name"`
	Rank          int64     `bun:"rank,notnull" json:"rank"`
	Note          *string   `bun:"note" json:"note"`
	Created       time.Time `bun:"created,notnull" json:"created"`
}

// forEachDB runs fn against a fresh items table on PostgreSQL and SQLite.
func forEachDB(t *testing.T, fn func(t *testing.T, db *bun.DB)) {
	for name, open := range dbtest.Dialects(t) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			_, err := db.NewCreateTable().Model((*item)(nil)).Exec(context.Background())
			dbtest.Must(t, err, "create table")
			fn(t, db)
		})
	}
}

var created0 = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

func insertItems(t testing.TB, db *bun.DB, n int) {
	t.Helper()
	if n == 0 {
		return
	}
	rows := make([]item, n)
	for i := range rows {
		// Created has ties (pairs of rows) and sub-second precision.
		rows[i] = item{Name: fmt.Sprintf("item %d", i+1), Rank: int64(i % 3), Created: created0.Add(time.Duration(i/2) * 1500 * time.Microsecond)}
	}
	_, err := db.NewInsert().Model(&rows).Exec(context.Background())
	dbtest.Must(t, err, "insert")
}

// result is a decoded envelope.
type result struct {
	Count    *int64  `json:"count"`
	Next     *string `json:"next"`
	Previous *string `json:"previous"`
	Results  []item  `json:"results"`
}

func str(s string) *string { return &s }

func ids(rows []item) []int64 {
	out := make([]int64, len(rows))
	for i, r := range rows {
		out[i] = r.ID
	}
	return out
}

func seq(from, to int64) []int64 {
	var out []int64
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

// run paginates the items ordered by id and decodes the envelope the view
// would write.
func run(t *testing.T, db *bun.DB, p pagination.Paginator, target string) (result, error) {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, target, nil)
	var rows []item
	q := db.NewSelect().Model(&rows)
	if so, ok := p.(pagination.SelfOrdering); !ok || !so.OrdersQuery() {
		q = q.OrderExpr("id ASC")
	}
	page, err := paginate(p, r, q, &rows)
	if err != nil {
		return result{}, err
	}
	body := page.AppendOpen(nil)
	rb, err := json.Marshal(rows)
	if err != nil {
		t.Fatal(err)
	}
	body = append(body, rb...)
	body = page.AppendClose(body)
	var res result
	if err := json.Unmarshal(body, &res); err != nil {
		t.Fatalf("envelope %s: %v", body, err)
	}
	if rows == nil {
		t.Errorf("rows is nil; want an empty slice")
	}
	return res, nil
}

func equalIDs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func ptrString(p *string) string {
	if p == nil {
		return "null"
	}
	return *p
}

func checkPage(t *testing.T, got result, count int64, wantIDs []int64, next, prev *string) {
	t.Helper()
	if count >= 0 {
		if got.Count == nil || *got.Count != count {
			t.Errorf("count = %v, want %d", got.Count, count)
		}
	} else if got.Count != nil {
		t.Errorf("count = %d, want none", *got.Count)
	}
	if !equalIDs(ids(got.Results), wantIDs) {
		t.Errorf("results = %v, want %v", ids(got.Results), wantIDs)
	}
	if ptrString(got.Next) != ptrString(next) {
		t.Errorf("next = %s, want %s", ptrString(got.Next), ptrString(next))
	}
	if ptrString(got.Previous) != ptrString(prev) {
		t.Errorf("previous = %s, want %s", ptrString(got.Previous), ptrString(prev))
	}
}

func wantInvalid(t *testing.T, err error, detail string) {
	t.Helper()
	if !errors.Is(err, pagination.ErrInvalidPage) {
		t.Fatalf("err = %v, want ErrInvalidPage", err)
	}
	var re httperror.Error
	if !errors.As(err, &re) || re.StatusCode() != http.StatusNotFound {
		t.Fatalf("err %v does not answer 404", err)
	}
	bd, ok := re.(httperror.Body)
	if !ok {
		t.Fatalf("err %v has no body", err)
	}
	if got, want := string(bd.AppendJSON(nil)), `{"detail":"`+detail+`"}`; got != want {
		t.Errorf("body = %s, want %s", got, want)
	}
}

func TestPageNumber(t *testing.T) {
	const base = "http://example.com/items/"
	forEachDB(t, func(t *testing.T, db *bun.DB) {
		insertItems(t, db, 25)
		p := pagination.PageNumber{}
		tests := []struct {
			target     string
			ids        []int64
			next, prev *string
		}{
			{base, seq(1, 10), str(base + "?page=2"), nil},
			{base + "?page=1", seq(1, 10), str(base + "?page=2"), nil},
			{base + "?page=2", seq(11, 20), str(base + "?page=3"), str(base)},
			{base + "?page=3", seq(21, 25), nil, str(base + "?page=2")},
			{base + "?page=last", seq(21, 25), nil, str(base + "?page=2")},
			{base + "?page=+2", seq(11, 20), str(base + "?page=3"), str(base)},
			{base + "?page=%202%20", seq(11, 20), str(base + "?page=3"), str(base)},
			// The last value of a repeated parameter wins, as in Django.
			{base + "?page=1&page=2", seq(11, 20), str(base + "?page=3"), str(base)},
			// Other parameters are kept, sorted by key as DRF's urlencode(sorted(...)).
			{base + "?search=a+b&page=2&ordering=-id", seq(11, 20),
				str(base + "?ordering=-id&page=3&search=a+b"), str(base + "?ordering=-id&search=a+b")},
			{base + "?tag=x&tag=y&page=2", seq(11, 20),
				str(base + "?page=3&tag=x&tag=y"), str(base + "?tag=x&tag=y")},
			{base + "?q=%C3%A9%26%3D&page=2", seq(11, 20),
				str(base + "?page=3&q=%C3%A9%26%3D"), str(base + "?q=%C3%A9%26%3D")},
			// page_size: valid, above the max (cut to 100), invalid (default).
			{base + "?page_size=5", seq(1, 5), str(base + "?page=2&page_size=5"), nil},
			{base + "?page_size=5&page=5", seq(21, 25), nil, str(base + "?page=4&page_size=5")},
			{base + "?page_size=1000", seq(1, 25), nil, nil},
			{base + "?page_size=99999999999999999999999", seq(1, 25), nil, nil}, // beyond 64 bits: cut to the max too
			{base + "?page_size=0", seq(1, 10), str(base + "?page=2&page_size=0"), nil},
			{base + "?page_size=-3", seq(1, 10), str(base + "?page=2&page_size=-3"), nil},
			{base + "?page_size=abc", seq(1, 10), str(base + "?page=2&page_size=abc"), nil},
		}
		for _, tt := range tests {
			got, err := run(t, db, p, tt.target)
			if err != nil {
				t.Errorf("%s: %v", tt.target, err)
				continue
			}
			t.Run(tt.target, func(t *testing.T) { checkPage(t, got, 25, tt.ids, tt.next, tt.prev) })
		}
		for _, bad := range []string{"0", "-1", "4", "abc", "1.5", "", "2.0", "99999999999999999999999", "last1", "%00"} {
			_, err := run(t, db, p, base+"?page="+bad)
			wantInvalid(t, err, "Invalid page.")
		}
	})
}

func TestPageNumberEmptyAndLimits(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *bun.DB) {
		p := pagination.PageNumber{}
		got, err := run(t, db, p, "http://h/x/")
		dbtest.Must(t, err, "page 1 of nothing")
		checkPage(t, got, 0, nil, nil, nil)
		got, err = run(t, db, p, "http://h/x/?page=last")
		dbtest.Must(t, err, "last page of nothing")
		checkPage(t, got, 0, nil, nil, nil)
		_, err = run(t, db, p, "http://h/x/?page=2")
		wantInvalid(t, err, "Invalid page.")

		insertItems(t, db, 250)
		// Zero MaxPageSize means 100, never unbounded.
		got, err = run(t, db, p, "http://h/x/?page_size=100000")
		dbtest.Must(t, err, "big page")
		if len(got.Results) != 100 {
			t.Errorf("page_size=100000 gave %d results, want 100", len(got.Results))
		}
		// Custom sizes, parameter names, and a PageSize above the max.
		p = pagination.PageNumber{PageSize: 7, MaxPageSize: 20, PageQueryParam: "p", PageSizeQueryParam: "n"}
		got, err = run(t, db, p, "http://h/x/?p=2")
		dbtest.Must(t, err, "custom")
		checkPage(t, got, 250, seq(8, 14), str("http://h/x/?p=3"), str("http://h/x/"))
		got, err = run(t, db, p, "http://h/x/?n=50")
		dbtest.Must(t, err, "custom max")
		if len(got.Results) != 20 {
			t.Errorf("n=50 with MaxPageSize 20 gave %d", len(got.Results))
		}
		p = pagination.PageNumber{PageSize: 500, PageSizeQueryParam: "-"}
		got, err = run(t, db, p, "http://h/x/?page_size=3")
		dbtest.Must(t, err, "disabled size param")
		if len(got.Results) != 100 {
			t.Errorf("PageSize 500 (max 100), page_size param disabled: %d results, want 100", len(got.Results))
		}
	})
}

func TestLimitOffset(t *testing.T) {
	const base = "http://example.com/items/"
	forEachDB(t, func(t *testing.T, db *bun.DB) {
		insertItems(t, db, 25)
		p := pagination.LimitOffset{}
		tests := []struct {
			target     string
			ids        []int64
			next, prev *string
		}{
			{base, seq(1, 10), str(base + "?limit=10&offset=10"), nil},
			{base + "?limit=10&offset=10", seq(11, 20), str(base + "?limit=10&offset=20"), str(base + "?limit=10")},
			{base + "?offset=15", seq(16, 25), nil, str(base + "?limit=10&offset=5")},
			{base + "?offset=20&limit=10", seq(21, 25), nil, str(base + "?limit=10&offset=10")},
			{base + "?offset=5&limit=10", seq(6, 15), str(base + "?limit=10&offset=15"), str(base + "?limit=10")},
			// Past the end: an empty page, the right count, no error.
			{base + "?offset=100", nil, nil, str(base + "?limit=10&offset=90")},
			{base + "?offset=25", nil, nil, str(base + "?limit=10&offset=15")},
			// limit above the max is cut to 100; invalid values fall back.
			{base + "?limit=1000", seq(1, 25), nil, nil},
			{base + "?limit=0", seq(1, 10), str(base + "?limit=10&offset=10"), nil},
			{base + "?limit=-5", seq(1, 10), str(base + "?limit=10&offset=10"), nil},
			{base + "?limit=x", seq(1, 10), str(base + "?limit=10&offset=10"), nil},
			{base + "?offset=-5", seq(1, 10), str(base + "?limit=10&offset=10"), nil},
			{base + "?offset=abc", seq(1, 10), str(base + "?limit=10&offset=10"), nil},
			// Beyond 64 bits: past the end like any too-large offset (DRF's
			// previous link would keep Python's exact number; Cosworth's
			// offset saturates at the int64 maximum).
			{base + "?offset=99999999999999999999999", nil, nil, str(base + "?limit=10&offset=9223372036854775797")},
			{base + "?limit=99999999999999999999999", seq(1, 25), nil, nil},
			{base + "?offset=9223372036854775807", nil, nil, str(base + "?limit=10&offset=9223372036854775797")},
			{base + "?search=x&limit=5&offset=5", seq(6, 10), str(base + "?limit=5&offset=10&search=x"), str(base + "?limit=5&search=x")},
		}
		for _, tt := range tests {
			got, err := run(t, db, p, tt.target)
			if err != nil {
				t.Errorf("%s: %v", tt.target, err)
				continue
			}
			t.Run(tt.target, func(t *testing.T) { checkPage(t, got, 25, tt.ids, tt.next, tt.prev) })
		}
		got, err := run(t, db, pagination.LimitOffset{DefaultLimit: 3, MaxLimit: 4}, base+"?limit=9")
		dbtest.Must(t, err, "custom")
		checkPage(t, got, 25, seq(1, 4), str(base+"?limit=4&offset=4"), nil)
		// DRF's limit_query_param and offset_query_param: the links use
		// the new names, and the old ones are unknown parameters, kept.
		renamed := pagination.LimitOffset{LimitQueryParam: "take", OffsetQueryParam: "skip"}
		got, err = run(t, db, renamed, base+"?take=5&skip=5&limit=2&offset=20")
		dbtest.Must(t, err, "renamed")
		checkPage(t, got, 25, seq(6, 10), str(base+"?limit=2&offset=20&skip=10&take=5"), str(base+"?limit=2&offset=20&take=5"))
	})
}

func TestLinksSchemeHostAndBaseURL(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *bun.DB) {
		insertItems(t, db, 15)
		var rows []item
		r := httptest.NewRequest(http.MethodGet, "https://api.example.com:8443/v1/items/?page=2", nil)
		r.TLS = &tls.ConnectionState{}
		page, err := paginate(pagination.PageNumber{}, r, db.NewSelect().Model(&rows).OrderExpr("id"), &rows)
		dbtest.Must(t, err, "tls")
		if page.Previous != "https://api.example.com:8443/v1/items/" {
			t.Errorf("previous over TLS = %q", page.Previous)
		}
		r = httptest.NewRequest(http.MethodGet, "http://10.0.0.1/items/", nil)
		rows = nil
		page, err = paginate(pagination.LimitOffset{BaseURL: "https://public.example.com/api/"}, r, db.NewSelect().Model(&rows).OrderExpr("id"), &rows)
		dbtest.Must(t, err, "base url")
		if page.Next != "https://public.example.com/api/items/?limit=10&offset=10" {
			t.Errorf("next with BaseURL = %q", page.Next)
		}
	})
}

func TestPageAppendOpen(t *testing.T) {
	tests := []struct {
		page pagination.Page
		want string
	}{
		{pagination.Page{HasCount: true}, `{"count":0,"next":null,"previous":null,"results":`},
		{pagination.Page{HasCount: true, Count: 42, Next: "http://h/?page=3&q=a", Previous: "http://h/"},
			`{"count":42,"next":"http://h/?page=3\u0026q=a","previous":"http://h/","results":`},
		{pagination.Page{Next: "http://h/?cursor=abc"}, `{"next":"http://h/?cursor=abc","previous":null,"results":`},
	}
	for _, tt := range tests {
		got := tt.page.AppendOpen([]byte("x"))
		if string(got) != "x"+tt.want {
			t.Errorf("AppendOpen = %s, want %s", got[1:], tt.want)
		}
		if got := string(tt.page.AppendClose(nil)); got != "}" {
			t.Errorf("AppendClose = %s", got)
		}
	}
	p := pagination.Page{HasCount: true, Count: 1, Next: "http://h/?page=2", Previous: "http://h/"}
	buf := make([]byte, 0, 256)
	if n := testing.AllocsPerRun(100, func() { buf = p.AppendOpen(buf[:0]) }); n != 0 {
		t.Errorf("AppendOpen allocates %v times", n)
	}
}
