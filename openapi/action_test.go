package openapi_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/cosworth/cosworth/authentication"
	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/openapi"
	"github.com/cosworth/cosworth/openapi/openapitest"
	"github.com/cosworth/cosworth/permissions"
	"github.com/cosworth/cosworth/serializers"
	"github.com/cosworth/cosworth/views"
)

type discountIn struct {
	Percent int64 `json:"percent" validate:"required,min=1,max=90"`
}

// TestViewSetOperations: a viewset on a DefaultRouter is documented like
// the generic views, its actions get drf-spectacular's operationIds, their
// serializer as request body and the model as response, and the format
// suffix variants and the API root stay out.
func TestViewSetOperations(t *testing.T) {
	db := dbtest.SQLite(t, tables()...)
	auths := []authentication.Authenticator{&authentication.JWT{Key: []byte("openapi-test-secret-0123456789abcdef"), DB: db}}
	books := &views.ModelViewSet[Book]{
		Generic: views.Generic[Book]{DB: db, Serializer: bookSerializer(db)},
		PerAction: func(action string, g *views.Generic[Book]) {
			if action == "list" {
				g.Serializer = &serializers.Serializer[Book]{Fields: []string{"id", "title"}}
			}
		},
		Actions: []views.Action[Book]{
			{Name: "discount", Detail: true, Methods: []string{"POST"}, Description: "Lowers the price.",
				Permissions: []permissions.Permission{permissions.IsAuthenticated},
				Run:         views.RunBody(func(c *views.Call[Book], in *discountIn) error { return nil })},
			{Name: "cheapest", Run: views.Run(func(c *views.Call[Book]) error { return nil })},
		},
	}
	router := &views.DefaultRouter{SimpleRouter: views.SimpleRouter{Defaults: views.Defaults{
		Permissions: []permissions.Permission{permissions.IsAuthenticatedOrReadOnly},
	}}}
	router.Register("books", books, "book")
	r := chi.NewRouter()
	r.Route("/api", func(r chi.Router) { router.Install(r) })
	doc, err := openapi.Generate(r, openapi.Config{Authenticators: auths})
	if err != nil {
		t.Fatal(err)
	}
	b := doc.JSON()
	if _, err := openapitest.New(b); err != nil {
		t.Fatal(err)
	}
	var d struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
			Summary     string
			RequestBody *struct {
				Content map[string]struct{ Schema json.RawMessage }
			} `json:"requestBody"`
			Responses map[string]json.RawMessage
			Security  []map[string][]string
		}
	}
	dbtest.Must(t, json.Unmarshal(b, &d), "document")
	var paths []string
	for p := range d.Paths {
		paths = append(paths, p)
	}
	want := map[string]string{
		"/api/books/":               "books_list books_create",
		"/api/books/{id}/":          "books_retrieve books_update books_partial_update books_destroy",
		"/api/books/{id}/discount/": "books_discount_create",
		"/api/books/cheapest/":      "books_cheapest_list",
	}
	if len(d.Paths) != len(want) {
		t.Fatalf("paths %v, want those of %v", paths, want)
	}
	for path, ids := range want {
		got := ""
		for _, m := range []string{"get", "post", "put", "patch", "delete"} {
			if op, ok := d.Paths[path][m]; ok {
				if got != "" {
					got += " "
				}
				got += op.OperationID
			}
		}
		if got != ids {
			t.Errorf("%s: operations %q, want %q", path, got, ids)
		}
	}
	// PerAction's list serializer describes the list, the viewset's the
	// create.
	list, create := string(d.Paths["/api/books/"]["get"].Responses["200"]), string(d.Paths["/api/books/"]["post"].Responses["201"])
	if !strings.Contains(list, `"#/components/schemas/Book"`) || !strings.Contains(create, `"#/components/schemas/Book2"`) {
		t.Errorf("list 200 %s, create 201 %s: want Book and Book2", list, create)
	}
	disc := d.Paths["/api/books/{id}/discount/"]["post"]
	if disc.Summary != "Discount" || disc.RequestBody == nil || disc.Responses["200"] == nil || disc.Responses["404"] == nil || disc.Responses["400"] == nil {
		t.Fatalf("discount: %+v", disc)
	}
	var compact bytes.Buffer
	dbtest.Must(t, json.Compact(&compact, disc.RequestBody.Content["application/json"].Schema), "compact")
	body := compact.String()
	for _, s := range []string{`"percent"`, `"minimum":1`, `"maximum":90`, `"required":["percent"]`} {
		if !strings.Contains(body, s) {
			t.Errorf("discount body schema %s lacks %s", body, s)
		}
	}
	if len(disc.Security) != 1 {
		t.Errorf("discount security %v: authentication required", disc.Security)
	}
}
