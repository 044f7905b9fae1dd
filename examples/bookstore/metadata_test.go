package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/cosworth/cosworth/apitest"
	"github.com/cosworth/cosworth/authentication"
	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/models"
)

// bookFieldsInfo is what OPTIONS shows of a book's fields under "actions".
const bookFieldsInfo = `{
 "id":{"type":"integer","required":false,"read_only":true,"label":"ID"},
 "title":{"type":"string","required":true,"read_only":false,"label":"Title","max_length":200},
 "isbn":{"type":"string","required":true,"read_only":false,"label":"Isbn","min_length":13,"max_length":13},
 "author":{"type":"field","required":true,"read_only":false,"label":"Author"},
 "price_cents":{"type":"integer","required":true,"read_only":false,"label":"Price cents","min_value":0},
 "published_on":{"type":"date","required":false,"read_only":false,"label":"Published on"},
 "owner":{"type":"field","required":false,"read_only":true,"label":"Owner"},
 "created_at":{"type":"datetime","required":false,"read_only":true,"label":"Created at"}}`

// TestBooksOptions: OPTIONS on the books' list and detail routes is DRF's
// SimpleMetadata, with "actions" for a user who may write (POST on the
// list for any user, PUT on the detail for the book's owner, POST on the
// discount action with its body's fields) and none for an anonymous client
// or another user; content negotiation answers first.
func TestBooksOptions(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			if dialect == "postgres" {
				t.Setenv(apitest.DatabaseEnv, dbtest.PostgresURL())
			} else {
				t.Setenv(apitest.DatabaseEnv, "")
			}
			db := apitest.DB(t, tables()...)
			ctx := context.Background()
			h := inProcess(t, db)
			user := func(name string) *authentication.Principal {
				u, err := models.CreateUser(ctx, db, name, name+"-pass-123", false)
				dbtest.Must(t, err, "create %s", name)
				return &authentication.Principal{ID: u.ID, Username: u.Username}
			}
			anon := apitest.New(h)
			alice := anon.Clone().ForceAuthenticate(user("alice"))
			bob := anon.Clone().ForceAuthenticate(user("bob"))

			var author, book struct{ ID int64 }
			dbtest.Must(t, alice.Post("/api/authors/", map[string]any{"name": "Frank Herbert", "email": "frank@example.com"}).
				AssertStatus(t, http.StatusCreated).JSON(&author), "author")
			dbtest.Must(t, alice.Post("/api/books/", map[string]any{"title": "Dune", "isbn": "9780441013593", "author": author.ID, "price_cents": 1000}).
				AssertStatus(t, http.StatusCreated).JSON(&book), "book")
			detail := fmt.Sprintf("/api/books/%d/", book.ID)

			actions := func(c *apitest.Client, path string) string {
				t.Helper()
				res := c.Options(path).AssertStatus(t, http.StatusOK)
				var body map[string]json.RawMessage
				dbtest.Must(t, res.JSON(&body), "OPTIONS %s", path)
				for _, k := range []string{"name", "description", "renders", "parses"} {
					if _, ok := body[k]; !ok {
						t.Fatalf("OPTIONS %s: no %q in %s", path, k, res.Body)
					}
				}
				if string(body["renders"]) != `["application/json"]` {
					t.Fatalf("OPTIONS %s: renders %s", path, body["renders"])
				}
				return string(body["actions"])
			}
			same := func(got, want string) bool {
				var a, b any
				return json.Unmarshal([]byte(got), &a) == nil && json.Unmarshal([]byte(want), &b) == nil && fmt.Sprint(a) == fmt.Sprint(b)
			}
			if got := actions(anon, "/api/books/"); got != "" {
				t.Fatalf("anonymous list: actions %s", got)
			}
			if got := actions(bob, "/api/books/"); !same(got, `{"POST":`+bookFieldsInfo+`}`) {
				t.Fatalf("user list: actions %s", got)
			}
			if got := actions(anon, detail); got != "" {
				t.Fatalf("anonymous detail: actions %s", got)
			}
			if got := actions(bob, detail); got != "" {
				t.Fatalf("another user's detail: actions %s", got)
			}
			if got := actions(alice, detail); !same(got, `{"PUT":`+bookFieldsInfo+`}`) {
				t.Fatalf("owner's detail: actions %s", got)
			}
			// A POST action is described by its body.
			percent := `{"POST":{"percent":{"type":"integer","required":true,"read_only":false,"label":"Percent","min_value":1,"max_value":90}}}`
			if got := actions(alice, detail+"discount/"); !same(got, percent) {
				t.Fatalf("owner's discount: actions %s", got)
			}
			anon.Options(detail+"discount/").AssertStatus(t, http.StatusUnauthorized)

			anon.Get("/api/books/", apitest.Header("Accept", "text/html")).AssertStatus(t, http.StatusNotAcceptable).
				AssertDetail(t, "Could not satisfy the request Accept header.")
			anon.Get("/api/books/?format=xml").AssertStatus(t, http.StatusNotFound).AssertDetail(t, "Not found.")
			anon.Get("/api/books/?format=json", apitest.Header("Accept", "application/json; q=0.9, */*")).AssertStatus(t, http.StatusOK)
			anon.Get("/api/books/recent/", apitest.Header("Accept", "application/xml")).AssertStatus(t, http.StatusNotAcceptable)
		})
	}
}
