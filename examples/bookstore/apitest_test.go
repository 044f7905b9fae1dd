package main

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/cosworth/cosworth/apitest"
	"github.com/cosworth/cosworth/authentication"
	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/models"
)

// TestBooksInProcess is the bookstore tested the way a DRF project tests
// itself (APIClient, force_authenticate, a test database): the service's
// handler in process on a database of the test's own, SQLite and then a
// PostgreSQL schema. It checks who may change a book: its owner, the
// editors group and staff, not another user nor an anonymous client.
func TestBooksInProcess(t *testing.T) {
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

			user := func(name string, staff bool, groups ...string) *authentication.Principal {
				u, err := models.CreateUser(ctx, db, name, name+"-pass-123", staff)
				dbtest.Must(t, err, "create %s", name)
				dbtest.Must(t, models.SetUserGroups(ctx, db, u.ID, groups), "groups of %s", name)
				return &authentication.Principal{ID: u.ID, Username: u.Username, IsStaff: staff}
			}
			anon := apitest.New(h)
			alice := anon.Clone().ForceAuthenticate(user("alice", false))
			bob := anon.Clone().ForceAuthenticate(user("bob", false))
			eddie := anon.Clone().ForceAuthenticate(user("eddie", false, editorsGroup))
			staff := anon.Clone().ForceAuthenticate(user("root", true))

			var author, book struct{ ID int64 }
			dbtest.Must(t, alice.Post("/api/authors/", map[string]any{"name": "Frank Herbert", "email": "frank@example.com"}).
				AssertStatus(t, http.StatusCreated).JSON(&author), "author")
			res := alice.Post("/api/books/", map[string]any{"title": "Dune", "isbn": "9780441013593", "author": author.ID, "price_cents": 1000}).
				AssertStatus(t, http.StatusCreated)
			dbtest.Must(t, res.JSON(&book), "book")
			path := fmt.Sprintf("/api/books/%d/", book.ID)
			want := map[string]any{"id": book.ID, "title": "Dune", "isbn": "9780441013593", "author": author.ID,
				"price_cents": 1000, "published_on": nil, "owner": "alice", "created_at": jsonField(t, res, "created_at")}
			res.AssertJSON(t, want)

			anon.Patch(path, map[string]any{"price_cents": 1}).AssertStatus(t, http.StatusUnauthorized).
				AssertDetail(t, "Authentication credentials were not provided.")
			bob.Patch(path, map[string]any{"price_cents": 1}).AssertStatus(t, http.StatusForbidden).
				AssertDetail(t, "You do not have permission to perform this action.")
			bob.Delete(path).AssertStatus(t, http.StatusForbidden)
			alice.Patch(path, map[string]any{"price_cents": -1}).AssertStatus(t, http.StatusBadRequest).
				AssertFieldError(t, "price_cents", "Ensure this value is greater than or equal to 0.")
			alice.Patch(path, map[string]any{"price_cents": 900}).AssertStatus(t, http.StatusOK)
			eddie.Patch(path, map[string]any{"price_cents": 800}).AssertStatus(t, http.StatusOK)
			staff.Patch(path, map[string]any{"title": "Dune (staff edit)"}).AssertStatus(t, http.StatusOK)
			want["title"], want["price_cents"] = "Dune (staff edit)", 800
			anon.Get(path).AssertStatus(t, http.StatusOK).AssertJSON(t, want)

			// A forced principal needs no credentials, and wins over any:
			// Logout makes the client anonymous again.
			bob.Credentials("Bearer not.a.jwt").Get("/api/me/").AssertStatus(t, http.StatusOK)
			bob.Logout()
			bob.Get("/api/me/").AssertStatus(t, http.StatusUnauthorized)

			eddie.Delete(path).AssertStatus(t, http.StatusNoContent)
			anon.Get(path).AssertStatus(t, http.StatusNotFound).AssertDetail(t, "Not found.")
		})
	}
}

// jsonField returns field f of a JSON object response.
func jsonField(t *testing.T, res *apitest.Response, f string) any {
	t.Helper()
	var m map[string]any
	dbtest.Must(t, res.JSON(&m), "object")
	return m[f]
}
