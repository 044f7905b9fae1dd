package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cosworth/cosworth/apitest"
)

// walkIdempotentCreates checks "Idempotent creates" of the contract on a
// running service, as the user of c: a repeat with the same key and body gets the first
// answer and creates nothing, another body is 422, another key creates.
// The book it creates is deleted again, so the totals of the walk hold.
func walkIdempotentCreates(t *testing.T, c *apitest.Client) {
	t.Helper()
	a := map[string]any{"name": "Octavia E. Butler", "email": "octavia@example.com"}
	author := c.Post("/api/authors/", a, apitest.Header("Idempotency-Key", "e2e-author-1")).AssertStatus(t, 201)
	c.Post("/api/authors/", a, apitest.Header("Idempotency-Key", "e2e-author-1")).AssertStatus(t, 201).AssertJSON(t, author.Body)
	c.Post("/api/authors/", a, apitest.Header("Idempotency-Key", strings.Repeat("k", 256))).
		AssertStatus(t, 400).AssertJSON(t, `{"detail": "Idempotency-Key must be 1 to 255 printable ASCII characters."}`)

	book := map[string]any{"title": "Kindred", "isbn": "9780807083697", "author": id(t, object(t, author, "id", "name", "email", "created_at", "book_count")), "price_cents": 1500}
	first := c.Post("/api/books/", book, apitest.Header("Idempotency-Key", "e2e-book-1")).AssertStatus(t, 201)
	again := c.Post("/api/books/", book, apitest.Header("Idempotency-Key", "e2e-book-1")).AssertStatus(t, 201).AssertJSON(t, first.Body)
	if again.Header.Get("Idempotent-Replayed") != "true" || again.Header.Get("Content-Type") != "application/json" {
		t.Errorf("replayed create: headers %v", again.Header)
	}
	book["price_cents"] = 1600
	c.Post("/api/books/", book, apitest.Header("Idempotency-Key", "e2e-book-1")).
		AssertStatus(t, 422).AssertJSON(t, `{"detail": "This Idempotency-Key was already used with a different request body."}`)
	// Another key is another create: the ISBN is taken now (400, kept).
	c.Post("/api/books/", book, apitest.Header("Idempotency-Key", "e2e-book-2")).
		AssertStatus(t, 400).AssertJSON(t, `{"isbn": ["book with this isbn already exists."]}`)
	c.Post("/api/books/", book, apitest.Header("Idempotency-Key", "")).AssertStatus(t, 400)
	c.Delete(fmt.Sprintf("/api/books/%d/", id(t, object(t, first, "id", "title", "isbn", "author", "price_cents", "published_on", "owner", "created_at")))).AssertStatus(t, 204)

}
