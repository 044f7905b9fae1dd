package openapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/go-chi/chi/v5"
	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/authentication"
	"github.com/cosworth/cosworth/models"
	"github.com/cosworth/cosworth/openapi"
	"github.com/cosworth/cosworth/pagination"
	"github.com/cosworth/cosworth/permissions"
	"github.com/cosworth/cosworth/views"
)

// Note is the model of the examples.
type Note struct {
	bun.BaseModel `bun:"table:notes"`
	models.Base
	Text string `bun:"text,notnull" json:"text" validate:"required,max=280"`
	Tag  string `bun:"tag,notnull" json:"tag" validate:"omitempty,oneof=work home"`
}

// Generate documents the views of a router: here a list/create view with
// page-number pagination whose writes need a JWT.
func ExampleGenerate() {
	db, err := models.Open(context.Background(), ":memory:")
	if err != nil {
		panic(err)
	}
	defer db.Close()
	r := chi.NewRouter()
	r.Handle("/api/notes/", &views.ListCreateView[Note]{
		DB:          db,
		Permissions: []permissions.Permission{permissions.IsAuthenticatedOrReadOnly},
		Paginator:   pagination.PageNumber{},
	})
	doc, err := openapi.Generate(r, openapi.Config{
		Title:          "Notes",
		Authenticators: []authentication.Authenticator{&authentication.JWT{Key: []byte("example-secret-of-at-least-32-bytes!")}},
	})
	if err != nil {
		panic(err)
	}
	show := func(v any) { b, _ := json.Marshal(v); fmt.Println(string(b)) }
	post := doc.Paths["/api/notes/"].Post
	fmt.Println(post.OperationID, "-", post.Summary)
	show(post.Security)
	show(doc.Paths["/api/notes/"].Get.Security)
	show(doc.Components.Schemas["NoteRequest"])
	// Output:
	// notes_create - Create a note
	// [{"jwtAuth":[]}]
	// [{"jwtAuth":[]},{}]
	// {"type":"object","properties":{"text":{"type":"string","minLength":1,"maxLength":280},"tag":{"type":"string","anyOf":[{"const":""},{"enum":["work","home"]}]}},"required":["text"]}
}

// Endpoints that are not generic views are described by registering their
// operations; Customize then adjusts any operation.
func ExampleConfig_operations() {
	r := chi.NewRouter()
	r.Post("/api/token/", func(http.ResponseWriter, *http.Request) {})
	r.Get("/api/ping/", func(http.ResponseWriter, *http.Request) {})
	doc, err := openapi.Generate(r, openapi.Config{
		Operations: map[string]*openapi.Operation{
			"POST /api/token/": openapi.TokenObtainPairOperation(),
			"GET /api/ping/": {
				Responses: map[string]*openapi.Response{
					"200": openapi.JSONResponse("OK", openapi.SchemaFor[struct {
						Pong bool `json:"pong"`
					}]()),
				},
			},
		},
		Customize: func(method, path string, op *openapi.Operation) {
			if path == "/api/ping/" {
				op.Summary = "Liveness"
			}
		},
	})
	if err != nil {
		panic(err)
	}
	ping := doc.Paths["/api/ping/"].Get
	fmt.Println(ping.OperationID, ping.Tags, ping.Summary)
	b, _ := json.Marshal(ping.Responses["200"].Content["application/json"].Schema)
	fmt.Println(string(b))
	fmt.Println(doc.Paths["/api/token/"].Post.RequestBody.Content["application/json"].Schema.Ref)
	// Output:
	// ping_get [ping] Liveness
	// {"type":"object","properties":{"pong":{"type":"boolean"}},"required":["pong"]}
	// #/components/schemas/TokenObtainPairRequest
}

// Handler serves the document, generated once at start.
func ExampleHandler() {
	r := chi.NewRouter()
	r.Get("/api/ping/", func(http.ResponseWriter, *http.Request) {})
	doc, err := openapi.Generate(r, openapi.Config{Title: "Ping", Version: "2.0.0",
		Operations: map[string]*openapi.Operation{"GET /api/ping/": {}}})
	if err != nil {
		panic(err)
	}
	r.Get("/api/schema/", openapi.Handler(doc).ServeHTTP)

	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest("GET", "/api/schema/", nil))
	var got struct {
		OpenAPI string
		Info    openapi.Info
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &got)
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"), got.OpenAPI, got.Info.Title, got.Info.Version)
	// Output: 200 application/json 3.1.0 Ping 2.0.0
}
