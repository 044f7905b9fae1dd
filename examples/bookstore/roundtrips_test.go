package main

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/cosworth/cosworth/apitest"
	"github.com/cosworth/cosworth/authentication"
	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/models"
)

// TestBookRoundTrips counts the round trips to PostgreSQL of the book
// detail, through a proxy that counts what the service's pool sends: the
// owner is a serializer's slug, not a Queryset, so a read is one
// prepared statement (the owner joined), a create the INSERT alone (its
// BeforeCreate sets the owner), and the owner's PATCH the lookup of the
// caller's permissions (bookWriters ORs ownership with ModelPermissions;
// a principal's permissions load once per request), one UPDATE ...
// RETURNING in place (no transaction, no row lock held between round
// trips), and the read of the owner's username for the answer. The pool
// has one connection: a request that held one while taking another
// would wait on itself.
func TestBookRoundTrips(t *testing.T) {
	db, proxy := dbtest.ProxiedPostgres(t, tables()...)
	ctx := t.Context()
	h := inProcess(t, db)

	alice, err := models.CreateUser(ctx, db, "alice", "alice-pass-123", false)
	dbtest.Must(t, err, "alice")
	anon := apitest.New(h)
	owner := anon.Clone().ForceAuthenticate(&authentication.Principal{ID: alice.ID, Username: "alice"})
	var author, book struct{ ID int64 }
	dbtest.Must(t, owner.Post("/api/authors/", map[string]any{"name": "Frank Herbert", "email": "frank@example.com"}).
		AssertStatus(t, http.StatusCreated).JSON(&author), "author")
	dbtest.Must(t, owner.Post("/api/books/", map[string]any{"title": "Dune", "isbn": "9780441013593", "author": author.ID, "price_cents": 1000}).
		AssertStatus(t, http.StatusCreated).JSON(&book), "book")
	path := fmt.Sprintf("/api/books/%d/", book.ID)
	isbn := 9780000000000
	create := func() *apitest.Response {
		isbn++
		return owner.Post("/api/books/", map[string]any{"title": "T", "isbn": fmt.Sprint(isbn), "author": author.ID, "price_cents": 1}).
			AssertStatus(t, http.StatusCreated)
	}

	for _, tt := range []struct {
		name  string
		send  func() *apitest.Response
		trips int
	}{
		{"GET", func() *apitest.Response { return anon.Get(path).AssertStatus(t, http.StatusOK) }, 1},
		{"POST", create, 1}, // the INSERT ... RETURNING (ownBook set the owner)
		{"owner's PATCH", func() *apitest.Response {
			return owner.Patch(path, map[string]any{"price_cents": 900}).AssertStatus(t, http.StatusOK)
		}, 3},
	} {
		// The first run prepares the connection's statements; count the second.
		tt.send()
		before := proxy.Sends()
		res := tt.send()
		if got := proxy.Sends() - before; got != tt.trips {
			t.Errorf("%s: %d round trips, want %d", tt.name, got, tt.trips)
		}
		if o := jsonField(t, res, "owner"); o != "alice" {
			t.Errorf("%s: owner %v, want alice", tt.name, o)
		}
	}
}
