package views_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/models"
	"github.com/cosworth/cosworth/permissions"
	"github.com/cosworth/cosworth/views"
)

// notBob refuses the objects owned by "bob".
type notBob struct{}

func (notBob) HasPermission(*http.Request) bool { return true }
func (notBob) HasObjectPermission(_ *http.Request, obj any) bool {
	return obj.(*Book).Owner != "bob"
}

// TestUpdateOnPgx checks that an update without PerformUpdate runs on
// pgx (bun runs none of its queries) and answers what the same view
// answers on bun (a DB with a query hook keeps every query on bun): a
// PUT, a PATCH, a missing object, an object permission denial, a
// validation error, a unique violation, an id that does not parse.
func TestUpdateOnPgx(t *testing.T) {
	type answer struct {
		code int
		body string
		row  Book
	}
	run := func(db *bun.DB, counted *bun.DB) []answer {
		seedAuthors(t, db)
		_, err := db.NewInsert().Model(&[]Book{
			{Title: "One", ISBN: "9780000000001", AuthorID: 1, PriceCents: 100, Owner: "ann"},
			{Title: "Two", ISBN: "9780000000002", AuthorID: 2, PriceCents: 200, Owner: "bob"},
		}).Exec(t.Context())
		dbtest.Must(t, err, "books")
		r := chi.NewRouter()
		r.Handle("/books/{id}/", &views.UpdateView[Book]{DB: db, Permissions: []permissions.Permission{notBob{}}})
		var out []answer
		for _, c := range []struct{ method, path, body string }{
			{http.MethodPut, "/books/1/", `{"title":"Uno","isbn":"9780000000011","author":2,"price_cents":150}`},
			{http.MethodPatch, "/books/1/", `{"price_cents":175}`},
			{http.MethodPatch, "/books/9/", `{"price_cents":1}`},
			{http.MethodPatch, "/books/2/", `{"price_cents":1}`},
			{http.MethodPatch, "/books/1/", `{"price_cents":-1}`},
			{http.MethodPatch, "/books/1/", `{"isbn":"9780000000002"}`},
			{http.MethodPatch, "/books/x/", `{"price_cents":1}`},
			{http.MethodPatch, "/books/1/", `{"title":`},
		} {
			before := counted.DBStats().Queries
			w := do(r, c.method, c.path, c.body)
			// An id that does not parse is answered before any query.
			if n := counted.DBStats().Queries - before; db == counted && n != 0 {
				t.Errorf("%s %s %s: bun ran %d queries; pgx should run them", c.method, c.path, c.body, n)
			}
			var row Book
			dbtest.Must(t, db.NewSelect().Model(&row).Where("id = 1").Scan(t.Context()), "row")
			out = append(out, answer{w.Code, w.Body.String(), row})
		}
		return out
	}
	pg := dbtest.Postgres(t, allModels...)
	onPgx := run(pg, pg)
	bunDB := dbtest.Postgres(t, allModels...)
	onBun := run(bunDB.WithQueryHook(noHook{}), bunDB)
	for i := range onPgx {
		if onPgx[i] != onBun[i] {
			t.Errorf("request %d: on pgx %+v\non bun %+v", i, onPgx[i], onBun[i])
		}
	}
	if onPgx[0].code != http.StatusOK || onPgx[1].row.PriceCents != 175 || onPgx[1].row.Title != "Uno" || onPgx[2].code != http.StatusNotFound ||
		onPgx[3].code != http.StatusForbidden || onPgx[4].code != http.StatusBadRequest || onPgx[5].code != http.StatusBadRequest {
		t.Fatalf("answers: %+v", onPgx)
	}
}

// TestDestroyOnPgx is TestUpdateOnPgx for a destroy without
// PerformDestroy: a delete, a missing object, a denial, an id that does
// not parse.
func TestDestroyOnPgx(t *testing.T) {
	type answer struct {
		code int
		body string
		left int64
	}
	run := func(db *bun.DB, counted *bun.DB) []answer {
		seedAuthors(t, db)
		_, err := db.NewInsert().Model(&[]Book{
			{Title: "One", ISBN: "9780000000001", AuthorID: 1, PriceCents: 100, Owner: "ann"},
			{Title: "Two", ISBN: "9780000000002", AuthorID: 2, PriceCents: 200, Owner: "bob"},
		}).Exec(t.Context())
		dbtest.Must(t, err, "books")
		r := chi.NewRouter()
		r.Handle("/books/{id}/", &views.DestroyView[Book]{DB: db, Permissions: []permissions.Permission{notBob{}}})
		var out []answer
		for _, path := range []string{"/books/1/", "/books/1/", "/books/2/", "/books/x/"} {
			before := counted.DBStats().Queries
			w := do(r, http.MethodDelete, path, "")
			if n := counted.DBStats().Queries - before; db == counted && n != 0 {
				t.Errorf("DELETE %s: bun ran %d queries; pgx should run them", path, n)
			}
			left, err := db.NewSelect().Model((*Book)(nil)).Count(t.Context())
			dbtest.Must(t, err, "count")
			out = append(out, answer{w.Code, w.Body.String(), left})
		}
		return out
	}
	pg := dbtest.Postgres(t, allModels...)
	onPgx := run(pg, pg)
	bunDB := dbtest.Postgres(t, allModels...)
	onBun := run(bunDB.WithQueryHook(noHook{}), bunDB)
	for i := range onPgx {
		if onPgx[i] != onBun[i] {
			t.Errorf("request %d: on pgx %+v\non bun %+v", i, onPgx[i], onBun[i])
		}
	}
	if onPgx[0].code != http.StatusNoContent || onPgx[0].left != 1 || onPgx[1].code != http.StatusNotFound || onPgx[2].code != http.StatusForbidden || onPgx[2].left != 1 {
		t.Fatalf("answers: %+v", onPgx)
	}
}

// A column the table has and the model lacks (a migration ahead of the
// code) does not fail an update on pgx: RETURNING names the model's own
// columns. The update is answered and stored, and the extra column keeps
// its value.
func TestUpdateOnPgxExtraColumn(t *testing.T) {
	db := dbtest.Postgres(t, allModels...)
	seedAuthors(t, db)
	_, err := db.NewInsert().Model(&Book{Title: "One", ISBN: "9780000000001", AuthorID: 1, PriceCents: 100, Owner: "ann"}).Exec(t.Context())
	dbtest.Must(t, err, "book")
	_, err = db.ExecContext(t.Context(), `ALTER TABLE books ADD COLUMN extra integer NOT NULL DEFAULT 7`)
	dbtest.Must(t, err, "add column")
	r := chi.NewRouter()
	r.Handle("/books/{id}/", &views.UpdateView[Book]{DB: db})
	for _, price := range []string{"150", "175"} { // the first update, then a pipelined one
		w := do(r, http.MethodPatch, "/books/1/", `{"price_cents":`+price+`}`)
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"price_cents":`+price) {
			t.Fatalf("PATCH price_cents=%s: %d %s", price, w.Code, w.Body)
		}
		var got struct {
			Price int64
			Extra int
		}
		dbtest.Must(t, db.QueryRowContext(t.Context(), `SELECT price_cents, extra FROM books WHERE id = 1`).Scan(&got.Price, &got.Extra), "row")
		if strconv.FormatInt(got.Price, 10) != price || got.Extra != 7 {
			t.Fatalf("stored price_cents %d extra %d, want %s and 7", got.Price, got.Extra, price)
		}
	}
}

// TestCreateOnPgx checks that a create without PerformCreate runs its
// INSERT on pgx (bun runs no query) and answers what the same view
// answers on bun: a create (BeforeCreate setting the owner), a unique
// violation, a foreign-key violation, a validation error, a BeforeCreate
// that refuses.
func TestCreateOnPgx(t *testing.T) {
	type answer struct {
		code  int
		body  string
		books int64
	}
	run := func(db *bun.DB, counted *bun.DB) []answer {
		seedAuthors(t, db)
		r := chi.NewRouter()
		r.Handle("/books/", &views.CreateView[Book]{DB: db, BeforeCreate: func(r *http.Request, b *Book) error {
			if b.Title == "refused" {
				return models.ErrNotFound
			}
			b.Owner = "ann"
			return nil
		}})
		var out []answer
		for _, body := range []string{
			`{"title":"One","isbn":"9780000000001","author":1,"price_cents":100,"owner":"mallory"}`,
			`{"title":"Again","isbn":"9780000000001","author":1,"price_cents":100}`,
			`{"title":"Nobody's","isbn":"9780000000003","author":99,"price_cents":100}`,
			`{"title":"","isbn":"9780000000004","author":1}`,
			`{"title":"refused","isbn":"9780000000005","author":1}`,
			`{"title":"Two","isbn":"9780000000002","author":2,"price_cents":200}`,
		} {
			before := counted.DBStats().Queries
			w := do(r, http.MethodPost, "/books/", body)
			if n := counted.DBStats().Queries - before; db == counted && n != 0 {
				t.Errorf("POST %s: bun ran %d queries; pgx should run them", body, n)
			}
			n, err := db.NewSelect().Model((*Book)(nil)).Count(t.Context())
			dbtest.Must(t, err, "count")
			out = append(out, answer{w.Code, w.Body.String(), n})
		}
		return out
	}
	pg := dbtest.Postgres(t, allModels...)
	onPgx := run(pg, pg)
	bunDB := dbtest.Postgres(t, allModels...)
	onBun := run(bunDB.WithQueryHook(noHook{}), bunDB)
	for i := range onPgx {
		if onPgx[i] != onBun[i] {
			t.Errorf("request %d: on pgx %+v\non bun %+v", i, onPgx[i], onBun[i])
		}
	}
	if onPgx[0].code != http.StatusCreated || !strings.Contains(onPgx[0].body, `"owner":"ann"`) || onPgx[1].code != http.StatusBadRequest ||
		onPgx[2].code != http.StatusBadRequest || onPgx[3].code != http.StatusBadRequest || onPgx[4].code != http.StatusNotFound ||
		onPgx[5].code != http.StatusCreated || onPgx[5].books != 2 {
		t.Fatalf("answers: %+v", onPgx)
	}
}
