package openapi_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"os"
	"slices"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/openapi"
	"github.com/cosworth/cosworth/openapi/openapitest"
)

func generate(t *testing.T) (*openapi.Document, []byte) {
	t.Helper()
	db := dbtest.SQLite(t, tables()...)
	svc := newService(db)
	doc, err := openapi.Generate(svc.router, svc.config())
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	return doc, doc.JSON()
}

func TestDocumentIsValidOpenAPI31(t *testing.T) {
	_, b := generate(t)
	if p := os.Getenv("OPENAPI_DUMP"); p != "" {
		_ = os.WriteFile(p, b, 0o644)
	}
	if _, err := openapitest.New(b); err != nil {
		t.Fatal(err)
	}
}

// TestDocumentContent checks the parts of the document derived from the
// views: read through a plain JSON decode, not the package's own types.
func TestDocumentContent(t *testing.T) {
	_, b := generate(t)
	var d map[string]any
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	get := func(path ...string) any {
		var v any = d
		for _, p := range path {
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("%v: %v is not an object", path, p)
			}
			v = m[p]
		}
		return v
	}
	js := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	cases := []struct {
		path []string
		want string
	}{
		{[]string{"openapi"}, `"3.1.0"`},
		{[]string{"components", "securitySchemes", "jwtAuth"}, `{"type":"http","scheme":"bearer","bearerFormat":"JWT"}`},
		{[]string{"components", "securitySchemes", "tokenAuth"}, `{"type":"apiKey","description":"Token-based authentication with required prefix \"Token\"","name":"Authorization","in":"header"}`},
		// Response schema: everything written, read-only marked, owner overridden.
		{[]string{"components", "schemas", "Book", "required"}, `["id","created_at","title","isbn","author","price_cents","published_on","owner"]`},
		{[]string{"components", "schemas", "Book", "properties", "id"}, `{"type":"integer","format":"int64","readOnly":true}`},
		{[]string{"components", "schemas", "Book", "properties", "created_at"}, `{"type":"string","format":"date-time","readOnly":true}`},
		{[]string{"components", "schemas", "Book", "properties", "owner"}, `{"description":"The username of the user who created the book.","type":["string","null"],"readOnly":true}`},
		{[]string{"components", "schemas", "Book", "properties", "published_on"}, `{"type":["string","null"],"format":"date"}`},
		{[]string{"components", "schemas", "Book", "properties", "isbn"}, `{"type":"string","minLength":13,"maxLength":13,"pattern":"^[-+]?[0-9]+(\\.[0-9]+)?$"}`},
		{[]string{"components", "schemas", "Book", "properties", "price_cents"}, `{"type":"integer","format":"int64","minimum":0}`},
		// Request schemas: no read-only fields; PUT/POST require, PATCH does not.
		{[]string{"components", "schemas", "BookRequest", "required"}, `["title","isbn","author","price_cents"]`},
		{[]string{"components", "schemas", "BookRequest", "properties", "title"}, `{"type":"string","minLength":1,"maxLength":200}`},
		{[]string{"components", "schemas", "PatchedBookRequest", "required"}, `null`},
		{[]string{"components", "schemas", "PatchedBookRequest", "properties", "id"}, `null`},
		{[]string{"components", "schemas", "AuthorRequest", "properties", "email"}, `{"type":"string","format":"email","minLength":1}`},
		// Envelopes.
		{[]string{"components", "schemas", "PaginatedBookList", "required"}, `["count","next","previous","results"]`},
		{[]string{"components", "schemas", "CursorPaginatedBookList", "required"}, `["next","previous","results"]`},
		{[]string{"components", "schemas", "CursorPaginatedBookList", "properties", "count"}, `null`},
		// Paths and parameters.
		{[]string{"paths", "/api/books/{id}/", "get", "parameters"}, `[{"name":"id","in":"path","description":"A unique integer value identifying this book.","required":true,"schema":{"type":"integer","format":"int64"}},{"name":"format","in":"query","description":"The format of the answer; json, the only one, is the default. Another is 404.","schema":{"type":"string","enum":["json"]}},{"name":"If-Match","in":"header","description":"Entity tags, comma-separated, or *: answer only if the current ETag is among them (strong comparison), else 412.","schema":{"type":"string"}},{"name":"If-None-Match","in":"header","description":"Entity tags, comma-separated, or *: if the current ETag is among them (weak comparison), 304 without a body.","schema":{"type":"string"}}]`},
		{[]string{"paths", "/api/books/", "get", "operationId"}, `"books_list"`},
		{[]string{"paths", "/api/books/{id}/", "patch", "operationId"}, `"books_partial_update"`},
		{[]string{"paths", "/api/books/recent/", "get", "responses", "200", "content", "application/json", "schema"}, `{"$ref":"#/components/schemas/CursorPaginatedBookList"}`},
		{[]string{"paths", "/api/authors/", "get", "responses", "200", "content", "application/json", "schema"}, `{"$ref":"#/components/schemas/PaginatedAuthorList"}`},
		{[]string{"paths", "/api/books/{id}/", "delete", "responses", "204"}, `{"description":"No content"}`},
		// Security from permissions: reads are open, writes need credentials.
		{[]string{"paths", "/api/books/", "get", "security"}, `[{"jwtAuth":[]},{"tokenAuth":[]},{}]`},
		{[]string{"paths", "/api/books/", "post", "security"}, `[{"jwtAuth":[]},{"tokenAuth":[]}]`},
		{[]string{"paths", "/api/books/recent/", "get", "security"}, `[{"jwtAuth":[]},{"tokenAuth":[]},{}]`},
		{[]string{"paths", "/api/authors/{id}/", "delete", "security"}, `[{"jwtAuth":[]},{"tokenAuth":[]}]`},
		{[]string{"paths", "/api/me/", "get", "security"}, `[{"jwtAuth":[]},{"tokenAuth":[]}]`},
		// Error shapes.
		{[]string{"paths", "/api/books/", "post", "responses", "400", "content", "application/json", "schema"}, `{"$ref":"#/components/schemas/ValidationError"}`},
		{[]string{"paths", "/api/books/", "post", "responses", "415", "content", "application/json", "schema"}, `{"$ref":"#/components/schemas/Error"}`},
		{[]string{"paths", "/api/books/", "get", "responses", "403"}, `null`},
		{[]string{"paths", "/healthz"}, `null`},
		// Hand-registered operations.
		{[]string{"paths", "/api/token/", "post", "requestBody", "content", "application/json", "schema"}, `{"$ref":"#/components/schemas/TokenObtainPairRequest"}`},
		{[]string{"paths", "/api/me/", "get", "operationId"}, `"me_get"`},
	}
	for _, c := range cases {
		var want any // canonical: keys sorted, as the document is decoded
		if err := json.Unmarshal([]byte(c.want), &want); err != nil {
			t.Fatalf("%v: bad want: %v", c.path, err)
		}
		if got := js(get(c.path...)); got != js(want) {
			t.Errorf("%v:\n got %s\nwant %s", c.path, got, c.want)
		}
	}
	// Query parameters of the lists.
	names := func(path string) []string {
		var out []string
		for _, p := range get("paths", path, "get", "parameters").([]any) {
			out = append(out, p.(map[string]any)["name"].(string))
		}
		return out
	}
	for path, want := range map[string]string{
		"/api/books/":        `["limit","offset","author","ordering","search","format","If-Match","If-None-Match"]`,
		"/api/authors/":      `["page","page_size","ordering","search","format","If-Match","If-None-Match"]`,
		"/api/books/recent/": `["cursor","format","If-Match","If-None-Match"]`,
	} {
		if got := js(names(path)); got != want {
			t.Errorf("%s parameters: got %s, want %s", path, got, want)
		}
	}
}

// TestDeterministic generates the document of two separately built
// services and expects the same bytes.
func TestDeterministic(t *testing.T) {
	_, a := generate(t)
	for range 3 {
		if _, b := generate(t); string(a) != string(b) {
			t.Fatal("two generations differ")
		}
	}
}

// A registered operation with a request body gets the 413 and 415 every
// body-reading endpoint can answer, and a default error, unless it lists
// them; the caller's Operation is not modified.
func TestManualOperationCommonResponses(t *testing.T) {
	r := chi.NewRouter()
	r.Post("/api/echo/", func(http.ResponseWriter, *http.Request) {})
	r.Post("/api/own/", func(http.ResponseWriter, *http.Request) {})
	r.Get("/api/ping/", func(http.ResponseWriter, *http.Request) {})
	echo := &openapi.Operation{
		RequestBody: openapi.JSONBody(&openapi.Schema{Type: openapi.Types{"object"}}),
		Responses:   map[string]*openapi.Response{"200": {Description: "OK"}},
	}
	own415 := openapi.ErrorResponse("Only JSON.")
	own := &openapi.Operation{
		RequestBody: openapi.JSONBody(&openapi.Schema{Type: openapi.Types{"object"}}),
		Responses:   map[string]*openapi.Response{"200": {Description: "OK"}, "415": own415},
	}
	doc, err := openapi.Generate(r, openapi.Config{Title: "T", Version: "1", Operations: map[string]*openapi.Operation{
		"POST /api/echo/": echo,
		"POST /api/own/":  own,
		"GET /api/ping/":  {},
	}})
	if err != nil {
		t.Fatal(err)
	}
	got := doc.Paths["/api/echo/"].Post.Responses
	for _, code := range []string{"200", "413", "415", "default"} {
		if got[code] == nil {
			t.Errorf("POST /api/echo/: no %s response; have %v", code, slices.Sorted(maps.Keys(got)))
		}
	}
	if len(echo.Responses) != 1 {
		t.Errorf("the caller's Responses map was changed: %v", slices.Sorted(maps.Keys(echo.Responses)))
	}
	if doc.Paths["/api/own/"].Post.Responses["415"] != own415 {
		t.Error("an operation's own 415 was replaced")
	}
	ping := doc.Paths["/api/ping/"].Get.Responses
	if ping["413"] != nil || ping["415"] != nil || ping["default"] == nil {
		t.Errorf("GET without a body: responses %v, want 200 and default only", slices.Sorted(maps.Keys(ping)))
	}
}
