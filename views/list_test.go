package views_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/authentication"

	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/pagination"
	"github.com/cosworth/cosworth/views"
)

// TestListFilters: field filters, search, ordering (with the default and
// the primary-key tie-breaker), a bad filter value, and a cursor paginator
// that orders the query itself, on each database.
func TestListFilters(t *testing.T) {
	for name, open := range dbtest.Dialects(t, allModels...) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			seedBooks(t, db, "alice", "bob", "carol", "dave")
			// Book 4 by the second author, and a title to search for.
			_, err := db.NewUpdate().Model((*Book)(nil)).Set("author_id = 2, title = 'Use of Weapons'").Where("id = 4").Exec(t.Context())
			dbtest.Must(t, err, "update")
			r := chi.NewRouter()
			r.Handle("/books/", &views.ListView[Book]{
				DB:              db,
				Filter:          []string{"author"},
				Search:          []string{"title", "isbn"},
				Ordering:        []string{"title", "price_cents"},
				DefaultOrdering: []string{"-price_cents"},
			})
			// DRF's SEARCH_PARAM and ORDERING_PARAM, set through Defaults
			// on one view and on the view itself on the other.
			renamed := &views.ListView[Book]{DB: db, Search: []string{"title"}, Ordering: []string{"title"}, DefaultOrdering: []string{"-price_cents"}}
			views.ApplyDefaults((*views.Generic[Book])(renamed), views.Defaults{SearchParam: "q", OrderingParam: "sort"})
			r.Handle("/renamed/", renamed)
			r.Handle("/own/", &views.ListView[Book]{DB: db, Search: []string{"title"}, Ordering: []string{"title"}, SearchParam: "find"})
			r.Handle("/recent/", &views.ListView[Book]{
				DB:        db,
				Paginator: pagination.Cursor{PageSize: 2, Ordering: "-id"},
				Ordering:  []string{"title"}, // ignored: the cursor orders
			})
			tests := []struct {
				path string
				ids  []int64
				code int
				body string
			}{
				{path: "/books/", ids: []int64{4, 3, 2, 1}},
				{path: "/books/?ordering=title", ids: []int64{1, 2, 3, 4}},
				{path: "/books/?ordering=-title", ids: []int64{4, 3, 2, 1}},
				{path: "/books/?ordering=owner", ids: []int64{4, 3, 2, 1}}, // not allowed: ignored
				{path: "/books/?author=1", ids: []int64{3, 2, 1}},
				{path: "/books/?author=2", ids: []int64{4}},
				{path: "/books/?search=weapons", ids: []int64{4}},
				{path: "/books/?search=book&author=1&ordering=price_cents", ids: []int64{1, 2, 3}},
				{path: "/books/?search=9780000000002", ids: []int64{2}},
				{path: "/books/?author=x", code: 400, body: `{"author":["Select a valid choice. That choice is not one of the available choices."]}`},
				{path: "/recent/?ordering=title", ids: []int64{4, 3}},
				{path: "/renamed/?q=weapons", ids: []int64{4}},
				{path: "/renamed/?sort=title", ids: []int64{1, 2, 3, 4}},
				{path: "/renamed/?search=weapons&ordering=title", ids: []int64{4, 3, 2, 1}}, // the old names are plain unknown parameters
				{path: "/own/?find=weapons", ids: []int64{4}},
				{path: "/own/?search=weapons&ordering=-title", ids: []int64{4, 3, 2, 1}},
			}
			for _, tt := range tests {
				w := do(r, "GET", tt.path, "")
				want := tt.code
				if want == 0 {
					want = 200
				}
				if w.Code != want {
					t.Fatalf("%s: status %d body %s", tt.path, w.Code, w.Body)
				}
				if tt.body != "" {
					if !jsonEqual(w.Body.Bytes(), []byte(tt.body)) {
						t.Fatalf("%s: body %s, want %s", tt.path, w.Body, tt.body)
					}
					continue
				}
				var books []Book
				if err := json.Unmarshal(w.Body.Bytes(), &books); err != nil {
					var page struct{ Results []Book }
					if err := json.Unmarshal(w.Body.Bytes(), &page); err != nil {
						t.Fatalf("%s: body %s: %v", tt.path, w.Body, err)
					}
					books = page.Results
				}
				ids := make([]int64, len(books))
				for i, b := range books {
					ids[i] = b.ID
				}
				if fmt.Sprint(ids) != fmt.Sprint(tt.ids) {
					t.Fatalf("%s: ids %v, want %v; body %s", tt.path, ids, tt.ids, w.Body)
				}
			}
		})
	}
}

// TestPooledRowsDoNotLeak: list views reuse row slices between requests;
// a column one request's Queryset leaves out must not show another
// request's value.
func TestPooledRowsDoNotLeak(t *testing.T) {
	db := dbtest.SQLite(t, allModels...)
	seedBooks(t, db, "alice", "bob", "carol")
	h := chi.NewRouter()
	h.Use(authentication.Middleware(testAuth{}))
	h.Handle("/", &views.ListView[Book]{DB: db, Queryset: func(r *http.Request, q *bun.SelectQuery) *bun.SelectQuery {
		if p := authentication.PrincipalFrom(r.Context()); p != nil && p.IsStaff {
			return q
		}
		return q.ExcludeColumn("owner")
	}})
	for range 3 {
		if w := do(h, "GET", "/", "", as("admin")...); !strings.Contains(w.Body.String(), `"owner":"bob"`) {
			t.Fatalf("staff: %s", w.Body)
		}
		w := do(h, "GET", "/", "")
		if w.Code != 200 || strings.Contains(w.Body.String(), "bob") || !strings.Contains(w.Body.String(), `"owner":""`) {
			t.Fatalf("anonymous sees another request's column: %s", w.Body)
		}
	}
}
