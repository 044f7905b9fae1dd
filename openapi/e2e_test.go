package openapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/models"
	"github.com/cosworth/cosworth/openapi"
	"github.com/cosworth/cosworth/openapi/openapitest"
)

// TestResponsesMatchDocument serves the bookstore-like views over real HTTP
// on SQLite and PostgreSQL and checks every response, success and error,
// against the generated document with libopenapi-validator; the requests
// expected to succeed are checked against it too.
func TestResponsesMatchDocument(t *testing.T) {
	for name, open := range dbtest.Dialects(t, tables()...) {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			svc := newService(db)
			doc, err := openapi.Generate(svc.router, svc.config())
			if err != nil {
				t.Fatal(err)
			}
			v, err := openapitest.New(doc.JSON())
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(svc.router)
			defer srv.Close()
			walk(t, db, srv.URL, v)
		})
	}
}

type exchange struct {
	t      *testing.T
	base   string
	v      *openapitest.Validator
	client *http.Client
	count  int
}

// do sends a request, checks the status, validates the response (and the
// request when it should succeed) and returns the decoded body.
func (x *exchange) do(method, path, auth, ctype, body string, want int) map[string]any {
	x.t.Helper()
	req, err := http.NewRequest(method, x.base+path, strings.NewReader(body))
	if err != nil {
		x.t.Fatal(err)
	}
	if body == "" {
		req.Body = http.NoBody
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if want < 300 {
		vreq := req.Clone(context.Background())
		vreq.Body = io.NopCloser(strings.NewReader(body))
		if err := x.v.Request(vreq); err != nil {
			x.t.Errorf("request does not match the document: %v", err)
		}
	}
	resp, err := x.client.Do(req)
	if err != nil {
		x.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	x.count++
	if resp.StatusCode != want {
		x.t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, b)
	}
	var out map[string]any
	if len(b) > 0 && b[0] == '{' {
		if err := json.Unmarshal(b, &out); err != nil {
			x.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	return out
}

const jsonType = "application/json"

func walk(t *testing.T, db *bun.DB, base string, v *openapitest.Validator) {
	ctx := context.Background()
	for _, u := range []struct {
		name  string
		staff bool
	}{{"alice", false}, {"bob", false}, {"admin", true}} {
		if _, err := models.CreateUser(ctx, db, u.name, u.name+"-pass-123", u.staff); err != nil {
			t.Fatal(err)
		}
	}
	x := &exchange{t: t, base: base, v: v, client: &http.Client{Transport: v.Transport(t, nil)}}

	// Tokens.
	pair := x.do("POST", "/api/token/", "", jsonType, `{"username":"alice","password":"alice-pass-123"}`, 200)
	alice := "Bearer " + pair["access"].(string)
	x.do("POST", "/api/token/", "", jsonType, `{"username":"alice","password":"nope"}`, 401)
	x.do("POST", "/api/token/", "", jsonType, `{"username":"alice"}`, 400)
	x.do("POST", "/api/token/refresh/", "", jsonType, fmt.Sprintf(`{"refresh":%q}`, pair["refresh"]), 200)
	x.do("POST", "/api/token/verify/", "", jsonType, fmt.Sprintf(`{"token":%q}`, pair["access"]), 200)
	x.do("POST", "/api/token/verify/", "", jsonType, `{"token":"x.y.z"}`, 401)
	bobKey := x.do("POST", "/api/token-auth/", "", jsonType, `{"username":"bob","password":"bob-pass-123"}`, 200)
	bob := "Token " + bobKey["token"].(string)
	adminPair := x.do("POST", "/api/token/", "", jsonType, `{"username":"admin","password":"admin-pass-123"}`, 200)
	admin := "Bearer " + adminPair["access"].(string)
	x.do("GET", "/api/me/", alice, "", "", 200)
	x.do("GET", "/api/me/", bob, "", "", 200)
	x.do("GET", "/api/me/", "", "", "", 401)

	// Authors.
	x.do("POST", "/api/authors/", "", jsonType, `{"name":"Frank Herbert","email":"frank@example.com"}`, 401)
	a := x.do("POST", "/api/authors/", alice, jsonType, `{"name":"Frank Herbert","email":"frank@example.com"}`, 201)
	author := fmt.Sprint(a["id"])
	x.do("POST", "/api/authors/", alice, jsonType, `{"name":"Ursula","email":"ursula@example.com"}`, 201)
	x.do("POST", "/api/authors/", alice, jsonType, `{"name":"","email":"not-an-email"}`, 400)
	x.do("POST", "/api/authors/", alice, jsonType, `{"name":"X","email":"frank@example.com"}`, 400)
	x.do("POST", "/api/authors/", alice, jsonType, `{"name":`, 400)
	x.do("POST", "/api/authors/", alice, "text/plain", `name=x`, 415)
	x.do("GET", "/api/authors/", "", "", "", 200)
	x.do("GET", "/api/authors/?page=2&page_size=1&ordering=-name&search=r", "", "", "", 200)
	x.do("GET", "/api/authors/?page=99", "", "", "", 404)
	x.do("GET", "/api/authors/"+author+"/", "", "", "", 200)
	x.do("GET", "/api/authors/999999/", "", "", "", 404)
	x.do("PATCH", "/api/authors/"+author+"/", bob, jsonType, `{"name":"Frank P. Herbert"}`, 200)
	x.do("PUT", "/api/authors/"+author+"/", alice, jsonType, `{"name":"Frank Herbert","email":"fh@example.com"}`, 200)
	x.do("PUT", "/api/authors/"+author+"/", alice, jsonType, `{"name":"Frank Herbert"}`, 400)

	// Books.
	b := x.do("POST", "/api/books/", alice, jsonType, `{"title":"Dune","isbn":"9780441172719","author":`+author+`,"price_cents":999,"published_on":"1965-08-01"}`, 201)
	book := fmt.Sprint(b["id"])
	x.do("POST", "/api/books/", alice, jsonType, `{"title":"Dune Messiah","isbn":"9780441172696","author":`+author+`,"price_cents":0,"published_on":null}`, 201)
	x.do("POST", "/api/books/", bob, jsonType, `{"title":"Children of Dune","isbn":"9780441104024","author":`+author+`,"price_cents":1099}`, 201)
	x.do("POST", "/api/books/", alice, jsonType, `{"title":"Bad","isbn":"123","author":999999,"price_cents":-1}`, 400)
	x.do("GET", "/api/books/", "", "", "", 200)
	x.do("GET", "/api/books/?author="+author+"&limit=1&offset=1&ordering=-price_cents&search=dune", "", "", "", 200)
	x.do("GET", "/api/books/?author=abc", "", "", "", 400)
	x.do("GET", "/api/books/", "Bearer not-a-token", "", "", 401)
	page := x.do("GET", "/api/books/recent/", "", "", "", 200)
	if page["count"] != nil {
		t.Errorf("cursor page has a count: %v", page)
	}
	x.do("GET", "/api/books/recent/?cursor=forged", "", "", "", 404)
	x.do("GET", "/api/books/"+book+"/", "", "", "", 200)
	x.do("PATCH", "/api/books/"+book+"/", bob, jsonType, `{"price_cents":1}`, 403)
	x.do("PATCH", "/api/books/"+book+"/", alice, jsonType, `{"price_cents":1299,"published_on":null}`, 200)
	x.do("PUT", "/api/books/"+book+"/", admin, jsonType, `{"title":"Dune","isbn":"9780441172719","author":`+author+`,"price_cents":1399}`, 200)
	x.do("DELETE", "/api/books/"+book+"/", "", "", "", 401)
	x.do("DELETE", "/api/books/"+book+"/", alice, "", "", 204)
	x.do("DELETE", "/api/books/"+book+"/", alice, "", "", 404)
	x.do("DELETE", "/api/authors/"+author+"/", alice, "", "", 403)
	x.do("DELETE", "/api/authors/"+author+"/", admin, "", "", 204)
	if x.count < 45 {
		t.Errorf("only %d exchanges", x.count)
	}
}
