package views_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/views"
)

// Profile has several independent fields, for concurrent partial updates.
type Profile struct {
	bun.BaseModel `bun:"table:profiles,alias:profile"`
	ID            int64  `bun:",pk,autoincrement" json:"id" cosworth:"read_only"`
	F0            string `bun:",notnull" json:"f0"`
	F1            string `bun:",notnull" json:"f1"`
	F2            string `bun:",notnull" json:"f2"`
	F3            string `bun:",notnull" json:"f3"`
	F4            string `bun:",notnull" json:"f4"`
	F5            string `bun:",notnull" json:"f5"`
	F6            string `bun:",notnull" json:"f6"`
	F7            string `bun:",notnull" json:"f7"`
}

// TestConcurrentPatches: N PATCHes, each changing a different field of the
// same row at the same time, all survive (the row is loaded FOR UPDATE in
// the transaction that writes it back).
func TestConcurrentPatches(t *testing.T) {
	db := dbtest.Postgres(t, (*Profile)(nil))
	r := chi.NewRouter()
	r.Handle("/profiles/", &views.CreateView[Profile]{DB: db})
	r.Handle("/profiles/{id}/", &views.RetrieveUpdateView[Profile]{DB: db})
	const rounds, fields = 5, 8
	for round := 1; round <= rounds; round++ {
		if w := do(r, "POST", "/profiles/", `{}`); w.Code != http.StatusCreated {
			t.Fatalf("create: %d %s", w.Code, w.Body)
		}
		path := fmt.Sprintf("/profiles/%d/", round)
		start := make(chan struct{})
		var wg sync.WaitGroup
		codes := make([]int, fields)
		for i := range fields {
			wg.Go(func() {
				<-start
				w := do(r, "PATCH", path, fmt.Sprintf(`{"f%d":"v%d"}`, i, i))
				codes[i] = w.Code
			})
		}
		close(start)
		wg.Wait()
		for i, c := range codes {
			if c != http.StatusOK {
				t.Fatalf("round %d: PATCH f%d: status %d", round, i, c)
			}
		}
		var p Profile
		dbtest.Must(t, db.NewSelect().Model(&p).Where("id = ?", round).Scan(context.Background()), "load")
		got := []string{p.F0, p.F1, p.F2, p.F3, p.F4, p.F5, p.F6, p.F7}
		for i, v := range got {
			if v != fmt.Sprintf("v%d", i) {
				t.Fatalf("round %d: lost update: fields %q", round, got)
			}
		}
	}
}

// TestConcurrentUniqueCreates: two creates of the same unique key at once
// give one 201 and one 400 on the field, never a 500.
func TestConcurrentUniqueCreates(t *testing.T) {
	db := dbtest.Postgres(t, allModels...)
	seedAuthors(t, db)
	h := &views.ListCreateView[Book]{DB: db}
	for round := range 10 {
		body := fmt.Sprintf(`{"title":"Twin","isbn":"97800000001%02d","author":1,"price_cents":1}`, round)
		start := make(chan struct{})
		var wg sync.WaitGroup
		codes := make([]int, 2)
		bodies := make([]string, 2)
		for i := range 2 {
			wg.Go(func() {
				<-start
				w := do(h, "POST", "/", body)
				codes[i], bodies[i] = w.Code, w.Body.String()
			})
		}
		close(start)
		wg.Wait()
		if slices.Sort(codes); codes[0] != 201 || codes[1] != 400 {
			t.Fatalf("round %d: statuses %v, bodies %q", round, codes, bodies)
		}
	}
}

// TestPanickingHookReleasesLock: a hook that panics inside the update
// transaction does not leave the row locked: the transaction is rolled
// back as the panic unwinds, even when the request's own deadline (not
// the view's) bounds the work.
func TestPanickingHookReleasesLock(t *testing.T) {
	db := dbtest.Postgres(t, (*Profile)(nil))
	dbtest.Must(t, db.NewInsert().Model(&Profile{}).Scan(context.Background()), "seed")
	boom := true
	h := chi.NewRouter()
	h.Handle("/{id}/", &views.UpdateView[Profile]{DB: db, Timeout: time.Hour,
		PerformUpdate: func(r *http.Request, tx bun.Tx, p *Profile) error {
			if boom {
				panic("hook bug")
			}
			_, err := tx.NewUpdate().Model(p).WherePK().Exec(r.Context())
			return err
		}})
	send := func(timeout time.Duration) *httptest.ResponseRecorder {
		// Canceled when the test ends, not when a panic unwinds this function.
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		t.Cleanup(cancel)
		r := httptest.NewRequest("PATCH", "/1/", strings.NewReader(`{"f0":"x"}`)).WithContext(ctx)
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	func() {
		defer func() {
			if v := recover(); v != "hook bug" {
				t.Fatalf("recovered %v", v)
			}
		}()
		send(time.Minute)
	}()
	boom = false
	if w := send(2 * time.Second); w.Code != http.StatusOK {
		t.Fatalf("after a panicking hook: status %d body %s (row still locked?)", w.Code, w.Body)
	}
}
