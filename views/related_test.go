package views_test

import (
	"net/http"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/authentication"
	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/permissions"
	"github.com/cosworth/cosworth/views"
)

// Messages of DRF's UniqueValidator and PrimaryKeyRelatedField for Book.
const (
	msgDupISBN   = `"isbn":["book with this isbn already exists."]`
	msgNoAuthor  = `"author":["Invalid pk \"99\" - object does not exist."]`
	msgNegative  = `"price_cents":["Ensure this value is greater than or equal to 0."]`
	msgNoTitle   = `"title":["This field is required."]`
	takenISBN    = "9780000000001" // seedBooks' first book
	freeISBN     = "9780000000099"
	bodyAllWrong = `{"isbn":"` + takenISBN + `","author":99,"price_cents":-1}`
)

// TestRelatedErrors checks that unique and foreign-key errors come in the
// same 400 as the other fields' (DRF runs UniqueValidator and
// PrimaryKeyRelatedField during validation), in field order, for creates
// with a Perform hook (looked up before it) and without one (looked up
// when other fields fail, or after the INSERT failed), for PUT and PATCH
// (an existing row's own value is not a duplicate), on each database.
func TestRelatedErrors(t *testing.T) {
	for name, open := range dbtest.Dialects(t, allModels...) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			seedBooks(t, db, "alice", "alice")
			hooked := bookstore(db) // PerformCreate: eager lookups
			plain := plainCreate(db)
			for _, tt := range []struct {
				name, method, path, body string
				status                   int
				want                     string
			}{
				{"create: four errors", "POST", "/books/", bodyAllWrong, 400, `{` + msgNoTitle + `,` + msgDupISBN + `,` + msgNoAuthor + `,` + msgNegative + `}`},
				{"create: unique and fk only", "POST", "/books/", `{"title":"T","isbn":"` + takenISBN + `","author":99}`, 400, `{` + msgDupISBN + `,` + msgNoAuthor + `}`},
				{"create: nothing to look up", "POST", "/books/", `{"title":"","isbn":"12"}`, 400,
					`{"title":["This field may not be blank."],"isbn":["Ensure this field has exactly 13 characters."],"author":["This field is required."]}`},
				{"create: fk only", "POST", "/books/", `{"title":"T","isbn":"` + freeISBN + `","author":99}`, 400, `{` + msgNoAuthor + `}`},
				{"create: invalid isbn is not looked up", "POST", "/books/", `{"title":"T","isbn":"1","author":99}`, 400,
					`{"isbn":["Ensure this field has exactly 13 characters."],` + msgNoAuthor + `}`},
				{"create: null author is not looked up", "POST", "/books/", `{"title":"T","isbn":"` + takenISBN + `","author":null}`, 400,
					`{` + msgDupISBN + `,"author":["This field may not be null."]}`},
				// DRF reports field errors and does not run validate().
				{"create: unique before validate()", "POST", "/books/", `{"title":"` + takenISBN + `","isbn":"` + takenISBN + `","author":1}`, 400, `{` + msgDupISBN + `}`},
				{"create: validate() when the fields are valid", "POST", "/books/", `{"title":"` + freeISBN + `","isbn":"` + freeISBN + `","author":1}`, 400,
					`{"non_field_errors":["The title must differ from the ISBN."]}`},
				{"patch: other book's isbn, missing author", "PATCH", "/books/1/", `{"isbn":"9780000000002","author":99,"price_cents":-1}`, 400,
					`{` + msgDupISBN + `,` + msgNoAuthor + `,` + msgNegative + `}`},
				{"patch: own isbn is no duplicate", "PATCH", "/books/1/", `{"isbn":"` + takenISBN + `","price_cents":-1}`, 400, `{` + msgNegative + `}`},
				{"patch: unique and fk only", "PATCH", "/books/1/", `{"isbn":"9780000000002","author":99}`, 400, `{` + msgDupISBN + `,` + msgNoAuthor + `}`},
				{"put: four errors", "PUT", "/books/1/", `{"isbn":"9780000000002","author":99,"price_cents":-1}`, 400,
					`{` + msgNoTitle + `,` + msgDupISBN + `,` + msgNoAuthor + `,` + msgNegative + `}`},
				{"patch: own isbn succeeds", "PATCH", "/books/1/", `{"isbn":"` + takenISBN + `","author":2}`, 200, ""},
			} {
				for hname, h := range map[string]http.Handler{"hooked": hooked, "plain": plain} {
					w := do(h, tt.method, tt.path, tt.body, as("alice")...)
					if w.Code != tt.status || tt.want != "" && w.Body.String() != tt.want {
						t.Errorf("%s (%s): %s %s: %d %s\nwant %d %s", tt.name, hname, tt.method, tt.path, w.Code, w.Body, tt.status, tt.want)
					}
				}
			}
			// Nothing was written by the failures.
			if w := do(hooked, "GET", "/books/?limit=5", ""); !jsonEqual(w.Body.Bytes(), []byte(`{"count":2,"next":null,"previous":null,"results":[`+
				`{"id":1,"title":"Book 1","isbn":"9780000000001","author":2,"price_cents":100,"owner":"alice"},`+
				`{"id":2,"title":"Book 2","isbn":"9780000000002","author":1,"price_cents":200,"owner":"alice"}]}`)) {
				t.Errorf("books after the failed writes: %s", w.Body)
			}
		})
	}
}

// plainCreate mounts books without Perform hooks, so valid bodies are
// written without lookups and the database's constraints find problems.
func plainCreate(db *bun.DB) http.Handler {
	r := chi.NewRouter()
	r.Use(authentication.Middleware(testAuth{}))
	r.Handle("/books/", &views.ListCreateView[Book]{
		DB:          db,
		Serializer:  bookSerializer,
		Permissions: []permissions.Permission{authOrRead{}},
		BeforeCreate: func(r *http.Request, b *Book) error {
			b.Owner = authentication.PrincipalFrom(r.Context()).Username
			return nil
		},
	})
	r.Handle("/books/{id}/", &views.RetrieveUpdateDestroyView[Book]{
		DB:          db,
		Serializer:  bookSerializer,
		Permissions: []permissions.Permission{authOrRead{}, ownerOrRead{}},
	})
	return r
}
