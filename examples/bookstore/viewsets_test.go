package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/models"
)

// vsService is the bookstore's handler in process, on a test database,
// with users alice and bob (regular) and admin (staff) and their access
// tokens.
type vsService struct {
	h                  http.Handler
	db                 *bun.DB
	alice, bob, admin  string // Authorization header values
	author, aliceBook  int64
	otherAuthor, bobBk int64
}

func newVSService(t *testing.T, db *bun.DB) *vsService {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	d := newDeps(ctx, db, nil, config{secret: strings.Repeat("s", 32)}, nil)
	t.Cleanup(func() { cancel(); d.streams.Wait() })
	h, err := routes(d)
	dbtest.Must(t, err, "routes")
	s := &vsService{h: h, db: db}
	login := func(name string, staff bool) string {
		_, err := models.CreateUser(ctx, db, name, name+"-pass-123", staff)
		dbtest.Must(t, err, "create user %s", name)
		w := s.do("POST", "/api/token/", "", fmt.Sprintf(`{"username":%q,"password":%q}`, name, name+"-pass-123"))
		var pair struct{ Access string }
		if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &pair) != nil {
			t.Fatalf("token for %s: %d %s", name, w.Code, w.Body)
		}
		return "Bearer " + pair.Access
	}
	s.alice, s.bob, s.admin = login("alice", false), login("bob", false), login("admin", true)
	s.author = s.create(t, "/api/authors/", s.alice, `{"name":"Frank Herbert","email":"frank@example.com"}`)
	s.otherAuthor = s.create(t, "/api/authors/", s.alice, `{"name":"Ursula Le Guin","email":"ursula@example.com"}`)
	s.aliceBook = s.create(t, "/api/books/", s.alice, fmt.Sprintf(`{"title":"Dune","isbn":"9780441013593","author":%d,"price_cents":1000}`, s.author))
	s.bobBk = s.create(t, "/api/books/", s.bob, fmt.Sprintf(`{"title":"Earthsea","isbn":"9780547773742","author":%d,"price_cents":500}`, s.otherAuthor))
	return s
}

func (s *vsService) do(method, path, auth, body string, hdr ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	s.h.ServeHTTP(w, r)
	return w
}

func (s *vsService) create(t *testing.T, path, auth, body string) int64 {
	t.Helper()
	w := s.do("POST", path, auth, body)
	var obj struct{ ID int64 }
	if w.Code != 201 || json.Unmarshal(w.Body.Bytes(), &obj) != nil {
		t.Fatalf("POST %s: %d %s", path, w.Code, w.Body)
	}
	return obj.ID
}

// vsExpect checks a response's status and, unless want is "", its JSON
// body (compared as values).
func vsExpect(t *testing.T, what string, w *httptest.ResponseRecorder, status int, want string) {
	t.Helper()
	if w.Code != status {
		t.Fatalf("%s: status %d, want %d; body %s", what, w.Code, status, w.Body)
	}
	if want == "" {
		return
	}
	var got, exp any
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatalf("%s: body %q is not JSON: %v", what, w.Body, err)
	}
	if err := json.Unmarshal([]byte(want), &exp); err != nil {
		t.Fatalf("%s: bad want: %v", what, err)
	}
	if g, e := mustMarshal(got), mustMarshal(exp); g != e {
		t.Fatalf("%s: body %s, want %s", what, g, e)
	}
}

func mustMarshal(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestViewSetRouting: the DefaultRouter's API root, format suffixes, the
// trailing-slash redirect, unknown methods, and the recent list's
// permissions.
func TestViewSetRouting(t *testing.T) {
	s := newVSService(t, dbtest.SQLite(t, tables()...))

	vsExpect(t, "API root", s.do("GET", "/api/", "", ""), 200,
		`{"authors": "http://example.com/api/authors/", "books": "http://example.com/api/books/"}`)
	w := s.do("GET", "/api/", "", "", "X-Forwarded-Proto", "https")
	vsExpect(t, "API root, X-Forwarded-Proto not trusted", w, 200,
		`{"authors": "http://example.com/api/authors/", "books": "http://example.com/api/books/"}`)
	r := httptest.NewRequest("GET", "/api/", nil)
	r.Host = "evil.com/x"
	w = httptest.NewRecorder()
	s.h.ServeHTTP(w, r)
	vsExpect(t, "API root, bad Host", w, 400, `{"detail": "Invalid HTTP_HOST header."}`)
	vsExpect(t, "API root .json", s.do("GET", "/api/.json", "", ""), 200,
		`{"authors": "http://example.com/api/authors.json", "books": "http://example.com/api/books.json"}`)

	// Format suffixes.
	w = s.do("GET", "/api/books.json?limit=1", "", "")
	vsExpect(t, "books.json", w, 200, "")
	if !strings.Contains(w.Body.String(), `"count":2`) {
		t.Fatalf("books.json: %s", w.Body)
	}
	w = s.do("GET", fmt.Sprintf("/api/books/%d.json", s.aliceBook), "", "")
	vsExpect(t, "books/{id}.json", w, 200, "")
	if !strings.Contains(w.Body.String(), `"title":"Dune"`) {
		t.Fatalf("books/{id}.json: %s", w.Body)
	}
	for _, p := range []string{"/api/books.xml", fmt.Sprintf("/api/books/%d.xml", s.aliceBook), "/api/.api", "/api/authors/1/books.yaml"} {
		vsExpect(t, p, s.do("GET", p, "", ""), 404, `{"detail": "Not found."}`)
	}
	vsExpect(t, "authors/{id}/books.json", s.do("GET", fmt.Sprintf("/api/authors/%d/books.json", s.author), "", ""), 200, "")

	// The trailing-slash redirect: GET and HEAD, to a route only, the
	// query kept, never to another host.
	for _, m := range []string{"GET", "HEAD"} {
		w = s.do(m, "/api/books?limit=1&offset=0", "", "")
		if w.Code != 301 || w.Header().Get("Location") != "/api/books/?limit=1&offset=0" {
			t.Fatalf("%s /api/books: %d %q", m, w.Code, w.Header().Get("Location"))
		}
	}
	w = s.do("GET", fmt.Sprintf("/api/books/%d/discount", s.aliceBook), "", "")
	if w.Code != 301 || w.Header().Get("Location") != fmt.Sprintf("/api/books/%d/discount/", s.aliceBook) {
		t.Fatalf("GET discount without slash: %d %q", w.Code, w.Header().Get("Location"))
	}
	vsExpect(t, "POST without slash", s.do("POST", "/api/books", s.alice, `{}`), 404, `{"detail": "Not found."}`)
	for _, p := range []string{"/api/nothing", "//evil.com", "//evil.com/api/books", "/\\evil.com"} {
		w = s.do("GET", p, "", "")
		if w.Code != 404 || w.Header().Get("Location") != "" {
			t.Fatalf("GET %s: %d Location %q, want 404 without a redirect", p, w.Code, w.Header().Get("Location"))
		}
	}

	// An unknown method reaches the view: 401 first without credentials,
	// then 405 with Allow and a JSON body.
	vsExpect(t, "FOO anonymous", s.do("FOO", "/api/books/", "", ""), 401, `{"detail": "Authentication credentials were not provided."}`)
	w = s.do("FOO", "/api/books/", s.alice, "")
	vsExpect(t, "FOO", w, 405, `{"detail": "Method \"FOO\" not allowed."}`)
	if got := w.Header().Get("Allow"); got != "GET, POST, HEAD, OPTIONS" {
		t.Fatalf("FOO Allow %q", got)
	}
	if got := w.Header().Get("Content-Type"); !strings.HasPrefix(got, "application/json") {
		t.Fatalf("FOO Content-Type %q", got)
	}
	w = s.do("FOO", fmt.Sprintf("/api/books/%d/discount/", s.aliceBook), s.alice, "")
	vsExpect(t, "FOO on an action", w, 405, `{"detail": "Method \"FOO\" not allowed."}`)
	if got := w.Header().Get("Allow"); got != "POST, OPTIONS" {
		t.Fatalf("discount Allow %q", got)
	}

	// /api/books/recent/ takes the project's default permissions.
	vsExpect(t, "POST recent anonymous", s.do("POST", "/api/books/recent/", "", `{}`), 401, `{"detail": "Authentication credentials were not provided."}`)
	vsExpect(t, "POST recent", s.do("POST", "/api/books/recent/", s.alice, `{}`), 405, `{"detail": "Method \"POST\" not allowed."}`)

	// Only staff delete authors (PerAction); others may read and write.
	vsExpect(t, "DELETE author by alice", s.do("DELETE", fmt.Sprintf("/api/authors/%d/", s.otherAuthor), s.alice, ""), 403, "")
	vsExpect(t, "PATCH author by alice", s.do("PATCH", fmt.Sprintf("/api/authors/%d/", s.otherAuthor), s.alice, `{"name":"U. K. Le Guin"}`), 200, "")
}

// TestBookActions: POST /api/books/{id}/discount/ and GET
// /api/authors/{id}/books/, on both databases.
func TestBookActions(t *testing.T) {
	for name, open := range dbtest.Dialects(t, tables()...) {
		t.Run(name, func(t *testing.T) {
			s := newVSService(t, open(t))
			disc := fmt.Sprintf("/api/books/%d/discount/", s.aliceBook)
			vsExpect(t, "discount anonymous", s.do("POST", disc, "", `{"percent":10}`), 401, `{"detail": "Authentication credentials were not provided."}`)
			vsExpect(t, "discount by bob", s.do("POST", disc, s.bob, `{"percent":10}`), 403, `{"detail": "You do not have permission to perform this action."}`)
			vsExpect(t, "discount unknown", s.do("POST", "/api/books/999999/discount/", s.alice, `{"percent":10}`), 404, `{"detail": "Not found."}`)
			vsExpect(t, "discount not a number", s.do("POST", "/api/books/x/discount/", s.alice, `{"percent":10}`), 404, `{"detail": "Not found."}`)
			for body, want := range map[string]string{
				`{}`:                `{"percent": ["This field is required."]}`,
				`{"percent":0}`:     `{"percent": ["Ensure this value is greater than or equal to 1."]}`,
				`{"percent":91}`:    `{"percent": ["Ensure this value is less than or equal to 90."]}`,
				`{"percent":"ten"}`: `{"percent": ["A valid integer is required."]}`,
				`{"percent":null}`:  `{"percent": ["This field may not be null."]}`,
			} {
				vsExpect(t, "discount "+body, s.do("POST", disc, s.alice, body), 400, want)
			}
			vsExpect(t, "discount, not JSON", s.do("POST", disc, s.alice, `{"percent":`), 400, "")
			vsExpect(t, "GET discount", s.do("GET", disc, s.alice, ""), 405, `{"detail": "Method \"GET\" not allowed."}`)

			var before Book
			dbtest.Must(t, s.db.NewSelect().Model(&before).Where("id = ?", s.aliceBook).Scan(context.Background()), "book before")
			w := s.do("POST", disc, s.alice, `{"percent":15}`)
			vsExpect(t, "discount", w, 200, "")
			// Save wrote updated_at too (the auto_now column, once).
			var after Book
			dbtest.Must(t, s.db.NewSelect().Model(&after).Where("id = ?", s.aliceBook).Scan(context.Background()), "book after")
			if after.PriceCents != 850 || !after.UpdatedAt.After(before.UpdatedAt) {
				t.Fatalf("after the discount: price %d, updated_at %v (before %v)", after.PriceCents, after.UpdatedAt, before.UpdatedAt)
			}
			var book map[string]any
			dbtest.Must(t, json.Unmarshal(w.Body.Bytes(), &book), "discount body")
			if book["price_cents"] != float64(850) || book["owner"] != "alice" || book["title"] != "Dune" || len(book) != 8 {
				t.Fatalf("discounted book: %s", w.Body)
			}
			// Staff may discount anyone's book; 33 % of 850 rounds down.
			w = s.do("POST", disc, s.admin, `{"percent":33}`)
			vsExpect(t, "discount by staff", w, 200, "")
			if !strings.Contains(w.Body.String(), `"price_cents":569`) {
				t.Fatalf("850 - 33%%: %s", w.Body)
			}

			// An author's books, with the books' limit/offset pagination.
			for i := range 3 {
				s.create(t, "/api/books/", s.bob, fmt.Sprintf(`{"title":"More","isbn":"%013d","author":%d,"price_cents":1}`, 9780000000000+i, s.author))
			}
			path := fmt.Sprintf("/api/authors/%d/books/", s.author)
			w = s.do("GET", path+"?limit=2", "", "")
			vsExpect(t, "author's books", w, 200, "")
			var page struct {
				Count    int
				Next     *string
				Previous *string
				Results  []map[string]any
			}
			dbtest.Must(t, json.Unmarshal(w.Body.Bytes(), &page), "author's books")
			if page.Count != 4 || len(page.Results) != 2 || page.Next == nil || !strings.HasPrefix(*page.Next, "http://example.com"+path+"?") || page.Previous != nil {
				t.Fatalf("author's books: %s", w.Body)
			}
			if page.Results[0]["title"] != "Dune" || page.Results[0]["author"] != float64(s.author) {
				t.Fatalf("author's books, first: %v", page.Results[0])
			}
			vsExpect(t, "author's books, unknown author", s.do("GET", "/api/authors/999999/books/", "", ""), 404, `{"detail": "Not found."}`)
			vsExpect(t, "author's books, bad limit", s.do("GET", path+"?offset=100", "", ""), 200, "")
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
				id := s.create(t, "/api/books/", s.alice, fmt.Sprintf(`{"title":"Round","isbn":"%013d","author":%d,"price_cents":1000}`, 9781000000000+round, s.author))
				path := fmt.Sprintf("/api/books/%d/discount/", id)
				start := make(chan struct{})
				var wg sync.WaitGroup
				codes := make([]int, 2)
				for i := range codes {
					wg.Go(func() {
						<-start
						w := s.do("POST", path, s.alice, `{"percent":10}`)
						codes[i] = w.Code
						if w.Code != 200 {
							t.Errorf("discount: %d %s", w.Code, w.Body)
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
	w := s.do("GET", "/api/schema/", "", "")
	vsExpect(t, "schema", w, 200, "")
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
		}
		Components struct{ Schemas map[string]any }
	}
	dbtest.Must(t, json.Unmarshal(w.Body.Bytes(), &doc), "schema")
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
