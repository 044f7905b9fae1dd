package main

import (
	"fmt"
	"strings"
	"testing"
)

// walkIdempotentCreates checks "Idempotent creates" of the contract on a
// running service: a repeat with the same key and body gets the first
// answer and creates nothing, another body is 422, another key creates.
// The book it creates is deleted again, so the totals of the walk hold.
func walkIdempotentCreates(t *testing.T, s *service, auth string) {
	t.Helper()
	a := map[string]any{"name": "Octavia E. Butler", "email": "octavia@example.com"}
	author := s.req(t, "POST", "/api/authors/", auth, a, "Idempotency-Key", "e2e-author-1").expect(t, 201, "")
	s.req(t, "POST", "/api/authors/", auth, a, "Idempotency-Key", "e2e-author-1").expect(t, 201, string(author.body))
	s.req(t, "POST", "/api/authors/", auth, a, "Idempotency-Key", strings.Repeat("k", 256)).
		expect(t, 400, `{"detail": "Idempotency-Key must be 1 to 255 printable ASCII characters."}`)

	book := map[string]any{"title": "Kindred", "isbn": "9780807083697", "author": id(t, author.object(t, "id", "name", "email", "created_at", "book_count")), "price_cents": 1500}
	first := s.req(t, "POST", "/api/books/", auth, book, "Idempotency-Key", "e2e-book-1").expect(t, 201, "")
	again := s.req(t, "POST", "/api/books/", auth, book, "Idempotency-Key", "e2e-book-1").expect(t, 201, string(first.body))
	if again.header.Get("Idempotent-Replayed") != "true" || again.header.Get("Content-Type") != "application/json" {
		t.Errorf("replayed create: headers %v", again.header)
	}
	book["price_cents"] = 1600
	s.req(t, "POST", "/api/books/", auth, book, "Idempotency-Key", "e2e-book-1").
		expect(t, 422, `{"detail": "This Idempotency-Key was already used with a different request body."}`)
	// Another key is another create: the ISBN is taken now (400, kept).
	s.req(t, "POST", "/api/books/", auth, book, "Idempotency-Key", "e2e-book-2").
		expect(t, 400, `{"isbn": ["book with this isbn already exists."]}`)
	s.req(t, "POST", "/api/books/", auth, book, "Idempotency-Key", "").expect(t, 400, "")
	s.req(t, "DELETE", fmt.Sprintf("/api/books/%d/", id(t, first.object(t, "id", "title", "isbn", "author", "price_cents", "published_on", "owner", "created_at"))), auth, nil).expect(t, 204, "")

}
