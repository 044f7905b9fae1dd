package views_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/pagination"
	"github.com/cosworth/cosworth/views"
)

// lookupStore is benchStore with the list's django-filter lookups.
func lookupStore(tb testing.TB, db *bun.DB) http.Handler {
	benchStore(tb, db) // seeds 50 books
	r := chi.NewRouter()
	r.Handle("/books/", &views.ListView[Book]{
		DB: db, Paginator: pagination.LimitOffset{}, Ordering: []string{"title", "price_cents"},
		Filter: []string{"price_cents__gte", "price_cents__lte", "author__in", "title__icontains"},
	})
	return r
}

// Lists with two lookups: two comparisons, and a foreign key in-list
// (whose keys are checked with one count, which the view's runner runs)
// with a comparison.
const (
	pathTwoLookups = "/books/?limit=10&offset=10&price_cents__gte=1000&price_cents__lte=2000"
	pathFKLookups  = "/books/?limit=10&offset=10&author__in=1&title__icontains=darkness"
)

// BenchmarkListLookups serves a page of 10 books from PostgreSQL filtered
// by two lookups.
func BenchmarkListLookups(b *testing.B) {
	h := lookupStore(b, dbtest.Postgres(b, allModels...))
	for name, path := range map[string]string{"comparisons": pathTwoLookups, "fk_in_icontains": pathFKLookups} {
		b.Run(name, func(b *testing.B) {
			r := httptest.NewRequest(http.MethodGet, path, nil)
			b.ReportAllocs()
			for b.Loop() {
				serve(b, h, r)
			}
		})
	}
}

// TestListLookupsOnPgx: a list filtered by two comparisons, or by a
// foreign key in-list (whose keys are checked by a count), runs on pgx
// (bun runs no query), with its allocations logged next to the plain
// list's.
func TestListLookupsOnPgx(t *testing.T) {
	db := dbtest.Postgres(t, allModels...)
	h := lookupStore(t, db)
	plain := benchStoreRouter(db)
	for _, c := range []struct {
		name    string
		h       http.Handler
		path    string
		bunRuns uint32
	}{
		{"plain list", plain, "/books/?limit=10&offset=10", 0},
		{"two lookups", h, pathTwoLookups, 0},
		{"fk in + icontains", h, pathFKLookups, 0},
	} {
		r := httptest.NewRequest(http.MethodGet, c.path, nil)
		serve(t, c.h, r) // warm the plans and pools
		before := db.DBStats().Queries
		serve(t, c.h, r)
		if n := db.DBStats().Queries - before; n != c.bunRuns {
			t.Errorf("%s: bun ran %d queries, want %d", c.name, n, c.bunRuns)
		}
		if !raceEnabled {
			t.Logf("%s: %.0f allocs/op", c.name, testing.AllocsPerRun(50, func() { serve(t, c.h, r) }))
		}
	}
}

// benchStoreRouter is benchStore's list without seeding.
func benchStoreRouter(db *bun.DB) http.Handler {
	r := chi.NewRouter()
	r.Handle("/books/", &views.ListView[Book]{DB: db, Paginator: pagination.LimitOffset{}, Ordering: []string{"title", "price_cents"}, Search: []string{"title"}})
	return r
}
