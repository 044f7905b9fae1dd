package openapi_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/models"
	"github.com/cosworth/cosworth/openapi"
	"github.com/cosworth/cosworth/openapi/openapitest"
)

// TestValidatorCatchesMismatch shows the response checks can fail: a
// document whose Author schema or responses are wrong rejects the real
// responses that the generated document accepts.
func TestValidatorCatchesMismatch(t *testing.T) {
	db := dbtest.SQLite(t, tables()...)
	if _, err := models.CreateUser(t.Context(), db, "alice", "alice-pass-123", false); err != nil {
		t.Fatal(err)
	}
	svc := newService(db)
	srv := httptest.NewServer(svc.router)
	defer srv.Close()
	_, tok, err := svc.jwt.IssuePair(1, nil)
	if err != nil {
		t.Fatal(err)
	}
	post, err := http.NewRequest("POST", srv.URL+"/api/authors/", strings.NewReader(`{"name":"Ann","email":"ann@example.com"}`))
	if err != nil {
		t.Fatal(err)
	}
	post.Header.Set("Content-Type", "application/json")
	post.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(post)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d", resp.StatusCode)
	}

	check := func(mutate func(*openapi.Document), req *http.Request) error {
		t.Helper()
		doc, err := openapi.Generate(svc.router, svc.config())
		if err != nil {
			t.Fatal(err)
		}
		if mutate != nil {
			mutate(doc)
		}
		v, err := openapitest.New(doc.JSON())
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		return v.Response(req, resp)
	}
	get := func(path string) *http.Request {
		r, _ := http.NewRequest("GET", srv.URL+path, nil)
		return r
	}
	if err := check(nil, get("/api/authors/1/")); err != nil {
		t.Fatalf("the generated document rejects a real response: %v", err)
	}
	cases := map[string]struct {
		mutate func(*openapi.Document)
		path   string
	}{
		"wrong field type": {func(d *openapi.Document) {
			d.Components.Schemas["Author"].Properties.Get("name").Type = openapi.Types{"integer"}
		}, "/api/authors/1/"},
		"missing required field": {func(d *openapi.Document) {
			d.Components.Schemas["Author"].Required = append(d.Components.Schemas["Author"].Required, "nickname")
		}, "/api/authors/1/"},
		"undocumented status": {func(d *openapi.Document) {
			op := d.Paths["/api/authors/{id}/"].Get
			delete(op.Responses, "404")
			delete(op.Responses, "default")
		}, "/api/authors/999/"},
		"envelope without count": {func(d *openapi.Document) {
			d.Components.Schemas["PaginatedAuthorList"].Properties.Get("count").Type = openapi.Types{"string"}
		}, "/api/authors/"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if err := check(c.mutate, get(c.path)); err == nil {
				t.Error("the altered document accepted the response")
			}
		})
	}
}

// TestHandler serves the document with an ETag and answers revalidation
// with 304.
func TestHandler(t *testing.T) {
	doc, b := generate(t)
	h := openapi.Handler(doc)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/schema/", nil))
	if rec.Code != 200 || rec.Body.String() != string(b) {
		t.Fatalf("GET: %d, body equal %v", rec.Code, rec.Body.String() == string(b))
	}
	etag := rec.Header().Get("ETag")
	if rec.Header().Get("Content-Type") != "application/json" || etag == "" || rec.Header().Get("Cache-Control") != "no-cache" {
		t.Errorf("headers: %v", rec.Header())
	}
	req := httptest.NewRequest("GET", "/api/schema/", nil)
	req.Header.Set("If-None-Match", etag)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
		t.Errorf("revalidation: %d with %d bytes", rec.Code, rec.Body.Len())
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("HEAD", "/api/schema/", nil))
	if rec.Code != 200 || rec.Body.Len() != 0 {
		t.Errorf("HEAD: %d with %d bytes", rec.Code, rec.Body.Len())
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/api/schema/", nil))
	if rec.Code != 405 || rec.Body.String() != `{"detail":"Method \"POST\" not allowed."}` || rec.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %d %s %v", rec.Code, rec.Body, rec.Header())
	}
}
