package views_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/pagination"
	"github.com/cosworth/cosworth/views"
)

// Memo is a model without relations, whose reads the views run on pgx
// directly (internal/pgread) on PostgreSQL.
type Memo struct {
	bun.BaseModel `bun:"table:memos,alias:memo"`

	ID      int64     `bun:"id,pk,autoincrement" json:"id"`
	Title   string    `bun:"title,notnull" json:"title"`
	Rank    int64     `bun:"rank,notnull" json:"rank"`
	Created time.Time `bun:"created,notnull" json:"created"`
}

// TestReadsOnPgx checks that list pages (limit/offset, page number,
// cursor), their counts, search, field filters, ordering and retrieves run
// without bun on PostgreSQL (bun counts the queries it runs), and answer
// what they should.
func TestReadsOnPgx(t *testing.T) {
	db := dbtest.Postgres(t, (*Memo)(nil))
	memos := make([]Memo, 0, 12)
	for i := range 12 {
		memos = append(memos, Memo{Title: []string{"alpha", "beta", "it's 100% _odd_"}[i%3], Rank: int64(i % 4), Created: time.Unix(int64(1000+i), 0).UTC()})
	}
	_, err := db.NewInsert().Model(&memos).Exec(t.Context())
	dbtest.Must(t, err, "insert")

	r := chi.NewRouter()
	list := func(p pagination.Paginator) http.Handler {
		return &views.ListView[Memo]{DB: db, Paginator: p, Search: []string{"title"}, Filter: []string{"rank"}, Ordering: []string{"title", "rank"}}
	}
	r.Handle("/lo/", list(pagination.LimitOffset{}))
	r.Handle("/pn/", list(pagination.PageNumber{PageSize: 2}))
	r.Handle("/cur/", list(pagination.Cursor{PageSize: 2, Ordering: "-id"}))
	r.Handle("/all/", list(nil))
	r.Handle("/memos/{id}/", &views.RetrieveView[Memo]{DB: db})

	get := func(path string) []byte {
		t.Helper()
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		if w.Code != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, w.Code, w.Body)
		}
		return w.Body.Bytes()
	}
	ids := func(body []byte) (count int64, out []int64) {
		var page struct {
			Count   int64  `json:"count"`
			Next    string `json:"next"`
			Results []Memo `json:"results"`
		}
		var all []Memo
		if err := json.Unmarshal(body, &page); err != nil {
			if err := json.Unmarshal(body, &all); err != nil {
				t.Fatalf("%s: %v", body, err)
			}
		} else {
			all = page.Results
		}
		for _, m := range all {
			out = append(out, m.ID)
		}
		return page.Count, out
	}
	for _, c := range []struct {
		path  string
		count int64
		ids   []int64
	}{
		{"/lo/?limit=3&offset=2", 12, []int64{3, 4, 5}},
		{"/lo/?limit=3&offset=4&ordering=-rank", 12, []int64{7, 11, 2}},
		{"/lo/?search=100%25+_odd", 4, []int64{3, 6, 9, 12}},
		{"/lo/?search=it%27s&rank=2", 1, []int64{3}},
		{"/lo/?rank=1&limit=2&offset=1", 3, []int64{6, 10}},
		{"/pn/?page=2&search=alpha", 4, []int64{7, 10}},
		{"/cur/?search=beta", 0, []int64{11, 8}},
		{"/all/?rank=3", 0, []int64{4, 8, 12}},
	} {
		before := db.DBStats().Queries
		count, got := ids(get(c.path))
		if count != c.count || !slices.Equal(got, c.ids) {
			t.Errorf("GET %s: count %d, ids %v; want %d, %v", c.path, count, got, c.count, c.ids)
		}
		if n := db.DBStats().Queries - before; n != 0 {
			t.Errorf("GET %s: bun ran %d queries; pgx should run them all", c.path, n)
		}
	}
	// The cursor's second page: a position sent as parameters.
	var first struct {
		Next string `json:"next"`
	}
	dbtest.Must(t, json.Unmarshal(get("/cur/?search=beta"), &first), "cursor page")
	next, err := url.Parse(first.Next)
	dbtest.Must(t, err, "next link")
	before := db.DBStats().Queries
	if _, got := ids(get(next.RequestURI())); !slices.Equal(got, []int64{5, 2}) {
		t.Errorf("cursor page 2: %v, want [5 2]", got)
	}
	var m Memo
	if err := json.Unmarshal(get("/memos/3/"), &m); err != nil || m.ID != 3 || m.Title != "it's 100% _odd_" || !m.Created.Equal(time.Unix(1002, 0)) {
		t.Errorf("retrieve: %+v, %v", m, err)
	}
	if n := db.DBStats().Queries - before; n != 0 {
		t.Errorf("retrieve: bun ran %d queries; pgx should run it", n)
	}
}
