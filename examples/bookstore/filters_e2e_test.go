package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"testing"

	"github.com/cosworth/cosworth/apitest"
	"github.com/cosworth/cosworth/internal/dbtest"
)

// TestFiltersAndBookCount walks "Filters on /api/books/" of version 2 of
// the contract in process (net/http/httptest), on SQLite and PostgreSQL:
// the django-filter lookups alone, together and with author, search and
// ordering; their 400s; and authors' read-only book_count, orderable.
func TestFiltersAndBookCount(t *testing.T) {
	for name, open := range dbtest.Dialects(t, tables()...) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			dbtest.Must(t, createDemoUsers(t.Context(), db, slog.New(slog.NewTextHandler(io.Discard, nil))), "demo users")
			walkFilters(t, apitest.New(inProcess(t, db)))
		})
	}
}

func walkFilters(t *testing.T, anon *apitest.Client) {
	tok := object(t, anon.Post("/api/token/", map[string]any{"username": "alice", "password": "alice-pass-123"}).AssertStatus(t, 200), "access", "refresh")
	alice := anon.Clone().Credentials(bearer(tok["access"].(string)))
	author := func(name, email string) int64 {
		return id(t, object(t, alice.Post("/api/authors/", map[string]any{"name": name, "email": email, "book_count": 42}).AssertStatus(t, 201), "id", "name", "email", "created_at", "book_count"))
	}
	ann, bea, cy := author("Ann", "ann@example.com"), author("Bea", "bea@example.com"), author("Cy", "cy@example.com")
	book := func(title, isbn string, a int64, price int, published any) int64 {
		return id(t, object(t, alice.Post("/api/books/", map[string]any{"title": title, "isbn": isbn, "author": a, "price_cents": price, "published_on": published}).AssertStatus(t, 201), "id", "title", "isbn", "author", "price_cents", "published_on", "owner", "created_at"))
	}
	b1 := book("First", "9780000000001", ann, 500, "2020-01-01")
	b2 := book("Second", "9780000000002", ann, 1500, "2021-06-15")
	b3 := book("Third", "9780000000003", bea, 2500, nil)
	b4 := book("Fourth", "9780000000004", ann, 900, nil)

	ids := func(path string) []int64 {
		t.Helper()
		var page struct {
			Count   int `json:"count"`
			Results []struct {
				ID int64 `json:"id"`
			} `json:"results"`
		}
		if err := json.Unmarshal(anon.Get(path).AssertStatus(t, 200).Body, &page); err != nil {
			t.Fatal(err)
		}
		out := []int64{}
		for _, r := range page.Results {
			out = append(out, r.ID)
		}
		if page.Count != len(out) {
			t.Errorf("GET %s: count %d, %d results", path, page.Count, len(out))
		}
		return out
	}
	for _, c := range []struct {
		query string
		want  []int64
	}{
		{"price_cents__gte=900", []int64{b2, b3, b4}},
		{"price_cents__lte=900", []int64{b1, b4}},
		{"price_cents__gte=600&price_cents__lte=2000", []int64{b2, b4}},
		{"published_on__gte=2021-01-01", []int64{b2}},
		{"published_on__lte=2020-12-31", []int64{b1}},
		{"published_on__gte=2020-01-01&published_on__lte=2021-06-15", []int64{b1, b2}},
		{"published_on__isnull=true", []int64{b3, b4}},
		{"published_on__isnull=false", []int64{b1, b2}},
		{"published_on__isnull=maybe", []int64{b1, b2, b3, b4}}, // BooleanWidget: no filter
		{fmt.Sprintf("author__in=%d,%d", ann, bea), []int64{b1, b2, b3, b4}},
		{fmt.Sprintf("author__in=%d", bea), []int64{b3}},
		{fmt.Sprintf("author__in=%d", cy), []int64{}},
		{fmt.Sprintf("author=%d&published_on__isnull=true", ann), []int64{b4}},
		{fmt.Sprintf("author__in=%d&ordering=-price_cents", ann), []int64{b2, b4, b1}},
		{"search=th&price_cents__lte=1000", []int64{b4}}, // "Fourth"; "Third" costs more
		{"price_cents__gte=", []int64{b1, b2, b3, b4}},   // empty: no filter
	} {
		if got := ids("/api/books/?" + c.query); !slices.Equal(got, c.want) {
			t.Errorf("GET /api/books/?%s: %v, want %v", c.query, got, c.want)
		}
	}
	const choice = `["Select a valid choice. That choice is not one of the available choices."]`
	for _, c := range []struct{ query, body string }{
		{"price_cents__gte=abc", `{"price_cents__gte": ["Enter a number."]}`},
		{"price_cents__lte=1;DROP+TABLE+books", `{"price_cents__lte": ["Enter a number."]}`},
		{"published_on__gte=2021-02-30", `{"published_on__gte": ["Enter a valid date."]}`},
		{"published_on__lte=yesterday", `{"published_on__lte": ["Enter a valid date."]}`},
		{"author__in=999", `{"author__in": ` + choice + `}`},
		{fmt.Sprintf("author__in=%d,x", ann), `{"author__in": ` + choice + `}`},
		{"author__in=1,999&price_cents__gte=x&author=x", `{"author": ` + choice + `, "price_cents__gte": ["Enter a number."], "author__in": ` + choice + `}`},
	} {
		anon.Get("/api/books/?"+c.query).AssertStatus(t, 400).AssertJSON(t, c.body)
	}

	// Authors: book_count is computed with every read, read-only, orderable.
	authors := func(query string) string {
		t.Helper()
		var page struct {
			Results []struct {
				Name      string `json:"name"`
				BookCount int64  `json:"book_count"`
			} `json:"results"`
		}
		if err := json.Unmarshal(anon.Get("/api/authors/?"+query).AssertStatus(t, 200).Body, &page); err != nil {
			t.Fatal(err)
		}
		out := ""
		for _, a := range page.Results {
			out += fmt.Sprintf("%s:%d ", a.Name, a.BookCount)
		}
		return out
	}
	for query, want := range map[string]string{
		"":                                   "Ann:3 Bea:1 Cy:0 ",
		"ordering=book_count":                "Cy:0 Bea:1 Ann:3 ",
		"ordering=-book_count":               "Ann:3 Bea:1 Cy:0 ",
		"ordering=-book_count,name&search=a": "Ann:3 Bea:1 ",
	} {
		if got := authors(query); got != want {
			t.Errorf("GET /api/authors/?%s: %s, want %s", query, got, want)
		}
	}
	a := fmt.Sprintf("/api/authors/%d/", ann)
	if m := object(t, anon.Get(a).AssertStatus(t, 200), "id", "name", "email", "created_at", "book_count"); m["book_count"] != 3.0 {
		t.Errorf("GET %s: book_count %v, want 3", a, m["book_count"])
	}
	if m := object(t, alice.Patch(a, map[string]any{"name": "Anne", "book_count": 7}).AssertStatus(t, 200), "id", "name", "email", "created_at", "book_count"); m["book_count"] != 3.0 || m["name"] != "Anne" {
		t.Errorf("PATCH %s: %v", a, m)
	}
	alice.Delete(fmt.Sprintf("/api/books/%d/", b1)).AssertStatus(t, 204)
	if got := authors("ordering=book_count"); got != "Cy:0 Bea:1 Anne:2 " {
		t.Errorf("after a delete: %s", got)
	}
}
