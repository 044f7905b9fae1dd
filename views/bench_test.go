package views_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/pagination"
	"github.com/cosworth/cosworth/views"
)

// benchStore mounts a paginated book list and a book detail view over db,
// seeded with 50 books.
func benchStore(tb testing.TB, db *bun.DB) http.Handler {
	tb.Helper()
	authors := []Author{{Name: "Ursula K. Le Guin", Email: "ursula@example.com"}}
	dbtest.Must(tb, db.NewInsert().Model(&authors).Scan(context.Background()), "seed authors")
	books := make([]Book, 50)
	for i := range books {
		books[i] = Book{Title: fmt.Sprintf("The Left Hand of Darkness, volume %d", i+1), ISBN: fmt.Sprintf("97804410%05d", i), AuthorID: 1, PriceCents: 1299, Owner: "alice"}
	}
	dbtest.Must(tb, db.NewInsert().Model(&books).Scan(context.Background()), "seed books")
	r := chi.NewRouter()
	r.Handle("/books/", &views.ListView[Book]{DB: db, Paginator: pagination.LimitOffset{}, Ordering: []string{"title", "price_cents"}, Search: []string{"title"}})
	r.Handle("/books/{id}/", &views.RetrieveView[Book]{DB: db})
	return r
}

func serve(tb testing.TB, h http.Handler, r *http.Request) {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		tb.Fatalf("status %d: %s", w.Code, w.Body)
	}
}

// BenchmarkList serves a page of 10 books from PostgreSQL (with the count
// query of limit/offset pagination).
func BenchmarkList(b *testing.B) {
	h := benchStore(b, dbtest.Postgres(b, allModels...))
	r := httptest.NewRequest(http.MethodGet, "/books/?limit=10&offset=10", nil)
	b.ReportAllocs()
	for b.Loop() {
		serve(b, h, r)
	}
}

// BenchmarkRetrieve serves one book from PostgreSQL.
func BenchmarkRetrieve(b *testing.B) {
	h := benchStore(b, dbtest.Postgres(b, allModels...))
	r := httptest.NewRequest(http.MethodGet, "/books/7/", nil)
	b.ReportAllocs()
	for b.Loop() {
		serve(b, h, r)
	}
}

// TestAllocs pins the allocations of a list page and a retrieve on
// SQLite, so a regression fails. The bounds are the measured counts plus a
// small margin; most allocations are bun's and the driver's.
func TestAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts; run without -race")
	}
	h := benchStore(t, dbtest.SQLite(t, allModels...))
	tests := []struct {
		name string
		path string
		max  float64
	}{
		{"list", "/books/?limit=10&offset=10", listAllocs},
		{"retrieve", "/books/7/", retrieveAllocs},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, tt.path, nil)
			serve(t, h, r) // warm the plans and pools
			got := testing.AllocsPerRun(50, func() { serve(t, h, r) })
			t.Logf("%s: %.0f allocs/op (bound %.0f)", tt.name, got, tt.max)
			if got > tt.max {
				t.Errorf("%s: %.0f allocs/op, more than the pinned %.0f", tt.name, got, tt.max)
			}
		})
	}
}

// Pinned allocation bounds (measured on SQLite, see TestAllocs).
const (
	listAllocs     = 225 // measured 209
	retrieveAllocs = 70  // measured 63
)

// raceEnabled is set by race_test.go when the race detector is on.
var raceEnabled bool
