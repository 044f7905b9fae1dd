package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/apitest"
	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/models"
)

// vsService is the bookstore's handler in process, on a test database,
// with users alice and bob (regular) and admin (staff), each a client
// carrying their access token, and an anonymous client.
type vsService struct {
	db                      *bun.DB
	anon, alice, bob, admin *apitest.Client
	author, aliceBook       int64
	otherAuthor, bobBk      int64
}

func newVSService(t *testing.T, db *bun.DB) *vsService {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	d := newDeps(ctx, db, nil, config{secret: strings.Repeat("s", 32)}, nil)
	t.Cleanup(func() { cancel(); d.streams.Wait() })
	h, err := routes(d)
	dbtest.Must(t, err, "routes")
	s := &vsService{db: db, anon: apitest.New(h)}
	login := func(name string, staff bool) *apitest.Client {
		_, err := models.CreateUser(ctx, db, name, name+"-pass-123", staff)
		dbtest.Must(t, err, "create user %s", name)
		var pair struct{ Access string }
		res := s.anon.Post("/api/token/", fmt.Sprintf(`{"username":%q,"password":%q}`, name, name+"-pass-123")).AssertStatus(t, 200)
		dbtest.Must(t, res.JSON(&pair), "token for %s", name)
		return s.anon.Clone().Credentials("Bearer " + pair.Access)
	}
	s.alice, s.bob, s.admin = login("alice", false), login("bob", false), login("admin", true)
	s.author = s.create(t, s.alice, "/api/authors/", `{"name":"Frank Herbert","email":"frank@example.com"}`)
	s.otherAuthor = s.create(t, s.alice, "/api/authors/", `{"name":"Ursula Le Guin","email":"ursula@example.com"}`)
	s.aliceBook = s.create(t, s.alice, "/api/books/", fmt.Sprintf(`{"title":"Dune","isbn":"9780441013593","author":%d,"price_cents":1000}`, s.author))
	s.bobBk = s.create(t, s.bob, "/api/books/", fmt.Sprintf(`{"title":"Earthsea","isbn":"9780547773742","author":%d,"price_cents":500}`, s.otherAuthor))
	return s
}

// create posts body to path as c and returns the new object's id.
func (s *vsService) create(t *testing.T, c *apitest.Client, path, body string) int64 {
	t.Helper()
	var obj struct{ ID int64 }
	dbtest.Must(t, c.Post(path, body).AssertStatus(t, 201).JSON(&obj), "POST %s", path)
	return obj.ID
}

// TestViewSetRouting: the DefaultRouter's API root, format suffixes, the
// trailing-slash redirect, unknown methods, and the recent list's
// permissions.
func TestViewSetRouting(t *testing.T) {
	s := newVSService(t, dbtest.SQLite(t, tables()...))
	const notAuthenticated = `{"detail": "Authentication credentials were not provided."}`
	const notFound = `{"detail": "Not found."}`

	s.anon.Get("/api/").AssertStatus(t, 200).
		AssertJSON(t, `{"authors": "http://example.com/api/authors/", "books": "http://example.com/api/books/"}`)
	// X-Forwarded-Proto is not trusted.
	s.anon.Get("/api/", apitest.Header("X-Forwarded-Proto", "https")).AssertStatus(t, 200).
		AssertJSON(t, `{"authors": "http://example.com/api/authors/", "books": "http://example.com/api/books/"}`)
	badHost := func(r *http.Request) { r.Host = "evil.com/x" }
	s.anon.Get("/api/", badHost).AssertStatus(t, 400).AssertJSON(t, `{"detail": "Invalid HTTP_HOST header."}`)
	s.anon.Get("/api/.json").AssertStatus(t, 200).
		AssertJSON(t, `{"authors": "http://example.com/api/authors.json", "books": "http://example.com/api/books.json"}`)

	// Format suffixes.
	res := s.anon.Get("/api/books.json?limit=1").AssertStatus(t, 200)
	if !strings.Contains(string(res.Body), `"count":2`) {
		t.Fatalf("books.json: %s", res.Body)
	}
	res = s.anon.Get(fmt.Sprintf("/api/books/%d.json", s.aliceBook)).AssertStatus(t, 200)
	if !strings.Contains(string(res.Body), `"title":"Dune"`) {
		t.Fatalf("books/{id}.json: %s", res.Body)
	}
	for _, p := range []string{"/api/books.xml", fmt.Sprintf("/api/books/%d.xml", s.aliceBook), "/api/.api", "/api/authors/1/books.yaml"} {
		s.anon.Get(p).AssertStatus(t, 404).AssertJSON(t, notFound)
	}
	s.anon.Get(fmt.Sprintf("/api/authors/%d/books.json", s.author)).AssertStatus(t, 200)

	// The trailing-slash redirect: GET and HEAD, to a route only, the
	// query kept, never to another host.
	for _, m := range []string{"GET", "HEAD"} {
		s.anon.Do(m, "/api/books?limit=1&offset=0", nil).AssertStatus(t, 301).
			AssertHeader(t, "Location", "/api/books/?limit=1&offset=0")
	}
	s.anon.Get(fmt.Sprintf("/api/books/%d/discount", s.aliceBook)).AssertStatus(t, 301).
		AssertHeader(t, "Location", fmt.Sprintf("/api/books/%d/discount/", s.aliceBook))
	s.alice.Post("/api/books", `{}`).AssertStatus(t, 404).AssertJSON(t, notFound)
	for _, p := range []string{"/api/nothing", "//evil.com", "//evil.com/api/books", "/\\evil.com"} {
		s.anon.Get(p).AssertStatus(t, 404).AssertHeader(t, "Location", "")
	}

	// An unknown method reaches the view: 401 first without credentials,
	// then 405 with Allow and a JSON body.
	s.anon.Do("FOO", "/api/books/", nil).AssertStatus(t, 401).AssertJSON(t, notAuthenticated)
	res = s.alice.Do("FOO", "/api/books/", nil).AssertStatus(t, 405).
		AssertJSON(t, `{"detail": "Method \"FOO\" not allowed."}`).
		AssertHeader(t, "Allow", "GET, POST, HEAD, OPTIONS")
	if got := res.Header.Get("Content-Type"); !strings.HasPrefix(got, "application/json") {
		t.Fatalf("FOO Content-Type %q", got)
	}
	s.alice.Do("FOO", fmt.Sprintf("/api/books/%d/discount/", s.aliceBook), nil).AssertStatus(t, 405).
		AssertJSON(t, `{"detail": "Method \"FOO\" not allowed."}`).
		AssertHeader(t, "Allow", "POST, OPTIONS")

	// /api/books/recent/ takes the project's default permissions.
	s.anon.Post("/api/books/recent/", `{}`).AssertStatus(t, 401).AssertJSON(t, notAuthenticated)
	s.alice.Post("/api/books/recent/", `{}`).AssertStatus(t, 405).AssertJSON(t, `{"detail": "Method \"POST\" not allowed."}`)

	// Only staff delete authors (PerAction); others may read and write.
	s.alice.Delete(fmt.Sprintf("/api/authors/%d/", s.otherAuthor)).AssertStatus(t, 403)
	s.alice.Patch(fmt.Sprintf("/api/authors/%d/", s.otherAuthor), `{"name":"U. K. Le Guin"}`).AssertStatus(t, 200)
}

// TestBookActions: POST /api/books/{id}/discount/ and GET
// /api/authors/{id}/books/, on both databases.
func TestBookActions(t *testing.T) {
	for name, open := range dbtest.Dialects(t, tables()...) {
		t.Run(name, func(t *testing.T) {
			s := newVSService(t, open(t))
			disc := fmt.Sprintf("/api/books/%d/discount/", s.aliceBook)
			s.anon.Post(disc, `{"percent":10}`).AssertStatus(t, 401).AssertJSON(t, `{"detail": "Authentication credentials were not provided."}`)
			s.bob.Post(disc, `{"percent":10}`).AssertStatus(t, 403).AssertJSON(t, `{"detail": "You do not have permission to perform this action."}`)
			s.alice.Post("/api/books/999999/discount/", `{"percent":10}`).AssertStatus(t, 404).AssertJSON(t, `{"detail": "Not found."}`)
			s.alice.Post("/api/books/x/discount/", `{"percent":10}`).AssertStatus(t, 404).AssertJSON(t, `{"detail": "Not found."}`)
			for body, want := range map[string]string{
				`{}`:                `{"percent": ["This field is required."]}`,
				`{"percent":0}`:     `{"percent": ["Ensure this value is greater than or equal to 1."]}`,
				`{"percent":91}`:    `{"percent": ["Ensure this value is less than or equal to 90."]}`,
				`{"percent":"ten"}`: `{"percent": ["A valid integer is required."]}`,
				`{"percent":null}`:  `{"percent": ["This field may not be null."]}`,
			} {
				s.alice.Post(disc, body).AssertStatus(t, 400).AssertJSON(t, want)
			}
			s.alice.Post(disc, `{"percent":`).AssertStatus(t, 400) // not JSON
			s.alice.Get(disc).AssertStatus(t, 405).AssertJSON(t, `{"detail": "Method \"GET\" not allowed."}`)

			var before Book
			dbtest.Must(t, s.db.NewSelect().Model(&before).Where("id = ?", s.aliceBook).Scan(context.Background()), "book before")
			res := s.alice.Post(disc, `{"percent":15}`).AssertStatus(t, 200)
			// Save wrote updated_at too (the auto_now column, once).
			var after Book
			dbtest.Must(t, s.db.NewSelect().Model(&after).Where("id = ?", s.aliceBook).Scan(context.Background()), "book after")
			if after.PriceCents != 850 || !after.UpdatedAt.After(before.UpdatedAt) {
				t.Fatalf("after the discount: price %d, updated_at %v (before %v)", after.PriceCents, after.UpdatedAt, before.UpdatedAt)
			}
			var book map[string]any
			dbtest.Must(t, res.JSON(&book), "discount body")
			if book["price_cents"] != float64(850) || book["owner"] != "alice" || book["title"] != "Dune" || len(book) != 8 {
				t.Fatalf("discounted book: %s", res.Body)
			}
			// Staff may discount anyone's book; 33 % of 850 rounds down.
			res = s.admin.Post(disc, `{"percent":33}`).AssertStatus(t, 200)
			if !strings.Contains(string(res.Body), `"price_cents":569`) {
				t.Fatalf("850 - 33%%: %s", res.Body)
			}

			// An author's books, with the books' limit/offset pagination.
			for i := range 3 {
				s.create(t, s.bob, "/api/books/", fmt.Sprintf(`{"title":"More","isbn":"%013d","author":%d,"price_cents":1}`, 9780000000000+i, s.author))
			}
			path := fmt.Sprintf("/api/authors/%d/books/", s.author)
			res = s.anon.Get(path+"?limit=2").AssertStatus(t, 200)
			var page struct {
				Count    int
				Next     *string
				Previous *string
				Results  []map[string]any
			}
			dbtest.Must(t, res.JSON(&page), "author's books")
			if page.Count != 4 || len(page.Results) != 2 || page.Next == nil || !strings.HasPrefix(*page.Next, "http://example.com"+path+"?") || page.Previous != nil {
				t.Fatalf("author's books: %s", res.Body)
			}
			if page.Results[0]["title"] != "Dune" || page.Results[0]["author"] != float64(s.author) {
				t.Fatalf("author's books, first: %v", page.Results[0])
			}
			s.anon.Get("/api/authors/999999/books/").AssertStatus(t, 404).AssertJSON(t, `{"detail": "Not found."}`)
			s.anon.Get(path+"?offset=100").AssertStatus(t, 200) // an offset past the end
		})
	}
}

// TestDiscountConcurrent: two concurrent 10 % discounts of a 1000-cent
// book compose (the row is read and locked in the action's transaction)
// and end at 810, on both databases.
func TestDiscountConcurrent(t *testing.T) {
	for name, open := range dbtest.Dialects(t, tables()...) {
		t.Run(name, func(t *testing.T) {
			s := newVSService(t, open(t))
			for round := range 3 {
				id := s.create(t, s.alice, "/api/books/", fmt.Sprintf(`{"title":"Round","isbn":"%013d","author":%d,"price_cents":1000}`, 9781000000000+round, s.author))
				path := fmt.Sprintf("/api/books/%d/discount/", id)
				start := make(chan struct{})
				var wg sync.WaitGroup
				codes := make([]int, 2)
				for i := range codes {
					c := s.alice.Clone() // a client per goroutine
					wg.Go(func() {
						<-start
						// Not AssertStatus: it would call t.Fatalf off the
						// test's goroutine.
						res := c.Post(path, `{"percent":10}`)
						codes[i] = res.Status
						if res.Status != 200 {
							t.Errorf("discount: %s", res)
						}
					})
				}
				close(start)
				wg.Wait()
				var price int64
				dbtest.Must(t, s.db.NewSelect().Model((*Book)(nil)).Column("price_cents").Where("id = ?", id).Scan(context.Background(), &price), "price")
				if price != 810 {
					t.Fatalf("round %d: price %d after two 10%% discounts of 1000, want 810 (codes %v)", round, price, codes)
				}
			}
		})
	}
}

// TestViewSetSchema: the viewsets' routes and actions are in the OpenAPI
// document, the format-suffix variants are not.
func TestViewSetSchema(t *testing.T) {
	s := newVSService(t, dbtest.SQLite(t, tables()...))
	res := s.anon.Get("/api/schema/").AssertStatus(t, 200)
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
		}
		Components struct{ Schemas map[string]any }
	}
	dbtest.Must(t, res.JSON(&doc), "schema")
	for path, ops := range map[string]map[string]string{
		"/api/books/":               {"get": "books_list", "post": "books_create"},
		"/api/books/{id}/":          {"get": "books_retrieve", "delete": "books_destroy"},
		"/api/books/{id}/discount/": {"post": "books_discount_create"},
		"/api/authors/{id}/books/":  {"get": "authors_books_list"},
		"/api/authors/{id}/":        {"patch": "authors_partial_update"},
		"/api/books/recent/":        {"get": "books_recent_list"},
	} {
		for m, id := range ops {
			if got := doc.Paths[path][m].OperationID; got != id {
				t.Errorf("%s %s: operationId %q, want %q", m, path, got, id)
			}
		}
	}
	for p := range doc.Paths {
		if strings.Contains(p, "{format}") || p == "/api/" {
			t.Errorf("schema documents %s", p)
		}
	}
	if doc.Components.Schemas["PaginatedBookList"] == nil {
		t.Errorf("schema lacks PaginatedBookList")
	}
}
