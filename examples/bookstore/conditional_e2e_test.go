package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/apitest"
	"github.com/cosworth/cosworth/internal/dbtest"
)

// TestConditionalRequests walks "Conditional requests" of version 2 of
// the contract on books and authors, in process on each database: ETag
// on GET and HEAD, 304 on If-None-Match, and (beyond DRF) 412 on PUT,
// PATCH and DELETE with a stale If-Match, which change nothing.
func TestConditionalRequests(t *testing.T) {
	for name, open := range dbtest.Dialects(t, tables()...) {
		t.Run(name, func(t *testing.T) {
			anon := condServer(t, open(t))
			alice := condLogin(t, anon, "alice", "alice-pass-123")
			author := condID(t, alice.Post("/api/authors/", `{"name":"Ann Leckie","email":"ann@example.com"}`).AssertStatus(t, 201))
			book := condID(t, alice.Post("/api/books/",
				fmt.Sprintf(`{"title":"Ancillary Justice","isbn":"9780316246620","author":%d,"price_cents":1500}`, author)).AssertStatus(t, 201))
			for _, path := range []string{
				fmt.Sprintf("/api/books/%d/", book), fmt.Sprintf("/api/authors/%d/", author), "/api/books/", "/api/authors/",
			} {
				get := anon.Get(path).AssertStatus(t, 200)
				etag := get.Header.Get("ETag")
				if len(etag) < 3 || etag[0] != '"' {
					t.Fatalf("GET %s: ETag %q", path, etag)
				}
				anon.Head(path).AssertStatus(t, 200).AssertHeader(t, "ETag", etag)
				for _, m := range []string{"GET", "HEAD"} {
					nm := anon.Do(m, path, nil, apitest.Header("If-None-Match", etag)).AssertStatus(t, 304).AssertHeader(t, "ETag", etag)
					if len(nm.Body) != 0 {
						t.Fatalf("%s %s with If-None-Match: body %q", m, path, nm.Body)
					}
				}
				condExactJSON(t, anon.Get(path, apitest.Header("If-None-Match", `"stale"`)).AssertStatus(t, 200), string(get.Body))
			}

			// If-Match on writes, checked on the locked row.
			b := fmt.Sprintf("/api/books/%d/", book)
			a := fmt.Sprintf("/api/authors/%d/", author)
			bookTag := anon.Get(b).Header.Get("ETag")
			authorTag := anon.Get(a).Header.Get("ETag")
			const failed = `{"detail": "Precondition failed."}`
			stale := apitest.Header("If-Match", `"0000000000000000"`)
			alice.Patch(b, `{"price_cents":1}`, stale).AssertStatus(t, 412).AssertJSON(t, failed)
			alice.Put(a, `{"name":"X","email":"x@example.com"}`, stale).AssertStatus(t, 412).AssertJSON(t, failed)
			alice.Delete(b, stale).AssertStatus(t, 412).AssertJSON(t, failed)
			if got := anon.Get(b); got.Header.Get("ETag") != bookTag || !strings.Contains(string(got.Body), `"price_cents":1500`) {
				t.Fatalf("a refused write changed the book: %s", got)
			}
			// Two clients edit from the same version: the second is refused.
			first := alice.Patch(b, `{"price_cents":1400}`, apitest.Header("If-Match", bookTag)).AssertStatus(t, 200)
			alice.Patch(b, `{"title":"Ancillary Sword"}`, apitest.Header("If-Match", bookTag)).AssertStatus(t, 412).AssertJSON(t, failed)
			next := first.Header.Get("ETag")
			if next == "" || next == bookTag || anon.Get(b).Header.Get("ETag") != next {
				t.Fatalf("PATCH answered ETag %q; old %q", next, bookTag)
			}
			alice.Patch(b, `{"title":"Ancillary Sword"}`, apitest.Header("If-Match", next)).AssertStatus(t, 200)
			alice.Put(a, `{"name":"Ann Leckie","email":"ann@example.org"}`, apitest.Header("If-Match", authorTag)).AssertStatus(t, 200)
			alice.Delete(b, apitest.Header("If-Match", "*")).AssertStatus(t, 204)
			alice.Delete(b, apitest.Header("If-Match", "*")).AssertStatus(t, 404).AssertJSON(t, `{"detail": "Not found."}`)
		})
	}
}

// TestAllFieldErrors checks wire differences 1 and 9 of the DRF
// comparison: unique and foreign-key errors come with the other fields'
// in one 400, and the password and email bounds Django's fields carry.
func TestAllFieldErrors(t *testing.T) {
	for name, open := range dbtest.Dialects(t, tables()...) {
		t.Run(name, func(t *testing.T) {
			anon := condServer(t, open(t))
			alice := condLogin(t, anon, "alice", "alice-pass-123")
			author := condID(t, alice.Post("/api/authors/", `{"name":"Ann Leckie","email":"ann@example.com"}`).AssertStatus(t, 201))
			alice.Post("/api/books/", fmt.Sprintf(`{"title":"Ancillary Justice","isbn":"9780316246620","author":%d,"price_cents":1500}`, author)).AssertStatus(t, 201)
			allWrong := `{"title":"Copy","isbn":"9780316246620","author":99,"price_cents":-1,"published_on":"yesterday"}`
			want := `{"isbn":["book with this isbn already exists."],"author":["Invalid pk \"99\" - object does not exist."],` +
				`"price_cents":["Ensure this value is greater than or equal to 0."],"published_on":["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."]}`
			condExactJSON(t, alice.Post("/api/books/", allWrong).AssertStatus(t, 400), want)
			// Valid otherwise: the database finds both, both are reported.
			condExactJSON(t, alice.Post("/api/books/", `{"title":"Copy","isbn":"9780316246620","author":99,"price_cents":1}`).AssertStatus(t, 400),
				`{"isbn":["book with this isbn already exists."],"author":["Invalid pk \"99\" - object does not exist."]}`)
			condExactJSON(t, alice.Post("/api/authors/", `{"name":"","email":"ann@example.com"}`).AssertStatus(t, 400),
				`{"name":["This field may not be blank."],"email":["author with this email already exists."]}`)

			long := strings.Repeat("a", 243) + "@example.com" // 255 characters
			alice.Post("/api/authors/", `{"name":"Long","email":"`+long+`"}`).AssertStatus(t, 400).
				AssertJSON(t, `{"email":["Ensure this field has no more than 254 characters."]}`)
			alice.Post("/api/authors/", `{"name":"Long","email":"`+long[1:]+`"}`).AssertStatus(t, 201)
			anon.Post("/api/register/", `{"username":"carol","password":"`+strings.Repeat("p", 129)+`"}`).AssertStatus(t, 400).
				AssertJSON(t, `{"password":["Ensure this field has no more than 128 characters."]}`)
			alice.Post("/api/me/password/", `{"old_password":"alice-pass-123","new_password":"`+strings.Repeat("é", 129)+`"}`).AssertStatus(t, 400).
				AssertJSON(t, `{"new_password":["Ensure this field has no more than 128 characters."]}`)
		})
	}
}

// condServer serves the bookstore's routes over db on a test server, with
// the demo users, and returns an anonymous client of it.
func condServer(t *testing.T, db *bun.DB) *apitest.Client {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	dbtest.Must(t, createDemoUsers(ctx, db, logger), "demo users")
	dbtest.Must(t, setupAccounts(ctx, db, true, logger), "accounts")
	h, err := routes(newDeps(ctx, db, nil, config{secret: strings.Repeat("k", 32)}, nil))
	dbtest.Must(t, err, "routes")
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return apitest.NewLive(srv.URL, srv.Client())
}

// condExactJSON checks, beyond AssertJSON, that the body is want once both
// are compacted: the same keys in the same order, as the errors of a 400
// come in field order.
func condExactJSON(t *testing.T, res *apitest.Response, want string) *apitest.Response {
	t.Helper()
	res.AssertJSON(t, want)
	var got, exp bytes.Buffer
	if json.Compact(&got, res.Body) != nil || json.Compact(&exp, []byte(want)) != nil || got.String() != exp.String() {
		t.Fatalf("body\n%s\nwant (in this order)\n%s", res.Body, want)
	}
	return res
}

// condLogin returns a clone of c with the access token of user.
func condLogin(t *testing.T, c *apitest.Client, user, password string) *apitest.Client {
	t.Helper()
	var m struct{ Access string }
	res := c.Post("/api/token/", `{"username":"`+user+`","password":"`+password+`"}`).AssertStatus(t, 200)
	dbtest.Must(t, res.JSON(&m), "token")
	return c.Clone().Credentials("Bearer " + m.Access)
}

// condID is the id of the object in a response.
func condID(t *testing.T, res *apitest.Response) int64 {
	t.Helper()
	var m struct{ ID int64 }
	dbtest.Must(t, res.JSON(&m), "id")
	return m.ID
}
