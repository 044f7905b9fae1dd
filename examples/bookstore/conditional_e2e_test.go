package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/internal/dbtest"
)

// TestConditionalRequests walks "Conditional requests" of version 2 of
// the contract on books and authors, in process on each database: ETag
// on GET and HEAD, 304 on If-None-Match, and (beyond DRF) 412 on PUT,
// PATCH and DELETE with a stale If-Match, which change nothing.
func TestConditionalRequests(t *testing.T) {
	for name, open := range dbtest.Dialects(t, tables()...) {
		t.Run(name, func(t *testing.T) {
			srv := condServer(t, open(t))
			alice := "Bearer " + condLogin(t, srv, "alice", "alice-pass-123")
			author := condID(t, condDo(t, srv, "POST", "/api/authors/", alice, `{"name":"Ann Leckie","email":"ann@example.com"}`).want(t, 201, ""))
			book := condID(t, condDo(t, srv, "POST", "/api/books/", alice,
				fmt.Sprintf(`{"title":"Ancillary Justice","isbn":"9780316246620","author":%d,"price_cents":1500}`, author)).want(t, 201, ""))
			for _, path := range []string{
				fmt.Sprintf("/api/books/%d/", book), fmt.Sprintf("/api/authors/%d/", author), "/api/books/", "/api/authors/",
			} {
				get := condDo(t, srv, "GET", path, "", "").want(t, 200, "")
				etag := get.header.Get("ETag")
				if len(etag) < 3 || etag[0] != '"' {
					t.Fatalf("GET %s: ETag %q", path, etag)
				}
				if head := condDo(t, srv, "HEAD", path, "", "").want(t, 200, ""); head.header.Get("ETag") != etag {
					t.Fatalf("HEAD %s: ETag %q, GET's %q", path, head.header.Get("ETag"), etag)
				}
				for _, m := range []string{"GET", "HEAD"} {
					nm := condDo(t, srv, m, path, "", "", "If-None-Match", etag).want(t, 304, "")
					if len(nm.body) != 0 || nm.header.Get("ETag") != etag {
						t.Fatalf("%s %s with If-None-Match: body %q, ETag %q", m, path, nm.body, nm.header.Get("ETag"))
					}
				}
				condDo(t, srv, "GET", path, "", "", "If-None-Match", `"stale"`).want(t, 200, string(get.body))
			}

			// If-Match on writes, checked on the locked row.
			b := fmt.Sprintf("/api/books/%d/", book)
			a := fmt.Sprintf("/api/authors/%d/", author)
			bookTag := condDo(t, srv, "GET", b, "", "").header.Get("ETag")
			authorTag := condDo(t, srv, "GET", a, "", "").header.Get("ETag")
			const failed = `{"detail": "Precondition failed."}`
			condDo(t, srv, "PATCH", b, alice, `{"price_cents":1}`, "If-Match", `"0000000000000000"`).want(t, 412, failed)
			condDo(t, srv, "PUT", a, alice, `{"name":"X","email":"x@example.com"}`, "If-Match", `"0000000000000000"`).want(t, 412, failed)
			condDo(t, srv, "DELETE", b, alice, "", "If-Match", `"0000000000000000"`).want(t, 412, failed)
			if got := condDo(t, srv, "GET", b, "", ""); got.header.Get("ETag") != bookTag || !strings.Contains(string(got.body), `"price_cents":1500`) {
				t.Fatalf("a refused write changed the book: %s", got.body)
			}
			// Two clients edit from the same version: the second is refused.
			first := condDo(t, srv, "PATCH", b, alice, `{"price_cents":1400}`, "If-Match", bookTag).want(t, 200, "")
			condDo(t, srv, "PATCH", b, alice, `{"title":"Ancillary Sword"}`, "If-Match", bookTag).want(t, 412, failed)
			next := first.header.Get("ETag")
			if next == "" || next == bookTag || condDo(t, srv, "GET", b, "", "").header.Get("ETag") != next {
				t.Fatalf("PATCH answered ETag %q; old %q", next, bookTag)
			}
			condDo(t, srv, "PATCH", b, alice, `{"title":"Ancillary Sword"}`, "If-Match", next).want(t, 200, "")
			condDo(t, srv, "PUT", a, alice, `{"name":"Ann Leckie","email":"ann@example.org"}`, "If-Match", authorTag).want(t, 200, "")
			condDo(t, srv, "DELETE", b, alice, "", "If-Match", "*").want(t, 204, "")
			condDo(t, srv, "DELETE", b, alice, "", "If-Match", "*").want(t, 404, `{"detail": "Not found."}`)
		})
	}
}

// TestAllFieldErrors checks wire differences 1 and 9 of the DRF
// comparison: unique and foreign-key errors come with the other fields'
// in one 400, and the password and email bounds Django's fields carry.
func TestAllFieldErrors(t *testing.T) {
	for name, open := range dbtest.Dialects(t, tables()...) {
		t.Run(name, func(t *testing.T) {
			srv := condServer(t, open(t))
			alice := "Bearer " + condLogin(t, srv, "alice", "alice-pass-123")
			author := condID(t, condDo(t, srv, "POST", "/api/authors/", alice, `{"name":"Ann Leckie","email":"ann@example.com"}`).want(t, 201, ""))
			condDo(t, srv, "POST", "/api/books/", alice, fmt.Sprintf(`{"title":"Ancillary Justice","isbn":"9780316246620","author":%d,"price_cents":1500}`, author)).want(t, 201, "")
			allWrong := `{"title":"Copy","isbn":"9780316246620","author":99,"price_cents":-1,"published_on":"yesterday"}`
			want := `{"isbn":["book with this isbn already exists."],"author":["Invalid pk \"99\" - object does not exist."],` +
				`"price_cents":["Ensure this value is greater than or equal to 0."],"published_on":["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."]}`
			condDo(t, srv, "POST", "/api/books/", alice, allWrong).want(t, 400, want)
			// Valid otherwise: the database finds both, both are reported.
			condDo(t, srv, "POST", "/api/books/", alice, `{"title":"Copy","isbn":"9780316246620","author":99,"price_cents":1}`).
				want(t, 400, `{"isbn":["book with this isbn already exists."],"author":["Invalid pk \"99\" - object does not exist."]}`)
			condDo(t, srv, "POST", "/api/authors/", alice, `{"name":"","email":"ann@example.com"}`).
				want(t, 400, `{"name":["This field may not be blank."],"email":["author with this email already exists."]}`)

			long := strings.Repeat("a", 243) + "@example.com" // 255 characters
			condDo(t, srv, "POST", "/api/authors/", alice, `{"name":"Long","email":"`+long+`"}`).
				want(t, 400, `{"email":["Ensure this field has no more than 254 characters."]}`)
			condDo(t, srv, "POST", "/api/authors/", alice, `{"name":"Long","email":"`+long[1:]+`"}`).want(t, 201, "")
			condDo(t, srv, "POST", "/api/register/", "", `{"username":"carol","password":"`+strings.Repeat("p", 129)+`"}`).
				want(t, 400, `{"password":["Ensure this field has no more than 128 characters."]}`)
			condDo(t, srv, "POST", "/api/me/password/", alice, `{"old_password":"alice-pass-123","new_password":"`+strings.Repeat("é", 129)+`"}`).
				want(t, 400, `{"new_password":["Ensure this field has no more than 128 characters."]}`)
		})
	}
}

// condServer serves the bookstore's routes over db in process, with the
// demo users.
func condServer(t *testing.T, db *bun.DB) *httptest.Server {
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
	return srv
}

// condReply is an answer: status, headers, body.
type condReply struct {
	status int
	header http.Header
	body   []byte
}

// condDo sends one request; hdr holds header name/value pairs.
func condDo(t *testing.T, srv *httptest.Server, method, path, auth, body string, hdr ...string) condReply {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	dbtest.Must(t, err, "request")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := srv.Client().Do(req)
	dbtest.Must(t, err, "%s %s", method, path)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	dbtest.Must(t, err, "read body")
	return condReply{status: resp.StatusCode, header: resp.Header, body: b}
}

// want checks the status and, when body is not empty, the JSON body.
func (rp condReply) want(t *testing.T, status int, body string) condReply {
	t.Helper()
	if rp.status != status {
		t.Fatalf("status %d, want %d: %s", rp.status, status, rp.body)
	}
	if body != "" {
		var got, exp bytes.Buffer
		if json.Compact(&got, rp.body) != nil || json.Compact(&exp, []byte(body)) != nil || got.String() != exp.String() {
			t.Fatalf("body\n%s\nwant\n%s", rp.body, body)
		}
	}
	return rp
}

// condLogin returns an access token of user.
func condLogin(t *testing.T, srv *httptest.Server, user, password string) string {
	t.Helper()
	var m struct{ Access string }
	rp := condDo(t, srv, "POST", "/api/token/", "", `{"username":"`+user+`","password":"`+password+`"}`).want(t, 200, "")
	dbtest.Must(t, json.Unmarshal(rp.body, &m), "token")
	return m.Access
}

// condID is the id of the object in a reply.
func condID(t *testing.T, rp condReply) int64 {
	t.Helper()
	var m struct{ ID int64 }
	dbtest.Must(t, json.Unmarshal(rp.body, &m), "id")
	return m.ID
}
