package openapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/openapi"
	"github.com/cosworth/cosworth/openapi/openapitest"
	"github.com/cosworth/cosworth/pagination"
	"github.com/cosworth/cosworth/permissions"
	"github.com/cosworth/cosworth/views"
)

// Cents is a custom type that describes itself.
type Cents int64

func (Cents) OpenAPISchema() *openapi.Schema {
	return &openapi.Schema{Type: openapi.Types{"integer"}, Description: "An amount in cents."}
}

// Gadget has a field of every kind the generator maps.
type Gadget struct {
	bun.BaseModel `bun:"table:gadgets,alias:gadget"`
	ID            int64      `bun:"id,pk,autoincrement" json:"id" cosworth:"read_only"`
	Code          string     `bun:"code,notnull" json:"code" validate:"required,oneof=red green 'dark blue'"`
	Level         int32      `bun:"level,notnull" json:"level" validate:"gte=1,lt=10"`
	Ratio         float64    `bun:"ratio,notnull" json:"ratio" validate:"gt=0,lte=1.5"`
	Kind          *int       `bun:"kind" json:"kind" validate:"omitempty,oneof=1 2 3"`
	Secret        string     `bun:"secret,notnull" json:"secret" cosworth:"write_only" validate:"required,min=8"`
	Active        bool       `bun:"active,notnull" json:"active" cosworth:"default=true"`
	Homepage      string     `bun:"homepage,notnull" json:"homepage" validate:"omitempty,url"`
	Serial        string     `bun:"serial,notnull" json:"serial" validate:"omitempty,alphanum,startswith=SN"`
	Price         Cents      `bun:"price,notnull" json:"price"`
	Seen          *time.Time `bun:"seen" json:"seen"`
	Count         uint16     `bun:"count,notnull" json:"count"`
	Note          string     `bun:"note,notnull" json:"note" validate:"max=50|len=0"`
}

func gadgetRouter(db *bun.DB, p pagination.Paginator) chi.Router {
	r := chi.NewRouter()
	r.Handle("/gadgets/", &views.ListCreateView[Gadget]{DB: db, Paginator: p, Filter: []string{"level", "active"}})
	r.With(func(h http.Handler) http.Handler { return h }).Handle("/gadgets/{id:[0-9]+}/", &views.RetrieveUpdateDestroyView[Gadget]{
		DB:          db,
		Permissions: []permissions.Permission{permissions.IsAdminUser},
	})
	return r
}

func TestFieldSchemas(t *testing.T) {
	db := dbtest.SQLite(t, (*Gadget)(nil))
	doc, err := openapi.Generate(gadgetRouter(db, nil), openapi.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := openapitest.New(doc.JSON()); err != nil {
		t.Fatal(err)
	}
	js := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	canon := func(s string) string {
		var v any
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			t.Fatalf("bad want %s: %v", s, err)
		}
		return js(v)
	}
	decoded := func(v any) any {
		var out any
		_ = json.Unmarshal([]byte(js(v)), &out)
		return out
	}
	resp := doc.Components.Schemas["Gadget"]
	req := doc.Components.Schemas["GadgetRequest"]
	cases := []struct {
		name string
		got  any
		want string
	}{
		{"code enum", resp.Properties.Get("code"), `{"type":"string","enum":["red","green","dark blue"]}`},
		{"level bounds", resp.Properties.Get("level"), `{"type":"integer","format":"int32","minimum":1,"exclusiveMaximum":10}`},
		{"ratio bounds", resp.Properties.Get("ratio"), `{"type":"number","format":"double","exclusiveMinimum":0,"maximum":1.5}`},
		{"nullable enum with omitempty", resp.Properties.Get("kind"), `{"type":["integer","null"],"format":"int64","anyOf":[{"const":0},{"enum":[1,2,3]},{"type":"null"}]}`},
		{"secret not in responses", resp.Properties.Get("secret"), `null`},
		{"secret write-only in requests", req.Properties.Get("secret"), `{"type":"string","minLength":8,"writeOnly":true}`},
		{"default", req.Properties.Get("active"), `{"type":"boolean","default":true}`},
		{"url with omitempty", resp.Properties.Get("homepage"), `{"type":"string","anyOf":[{"const":""},{"format":"uri"}]}`},
		{"two patterns", resp.Properties.Get("serial"), `{"type":"string","anyOf":[{"const":""},{"pattern":"^[a-zA-Z0-9]+$","allOf":[{"pattern":"^SN"}]}]}`},
		{"Schemer", resp.Properties.Get("price"), `{"type":"integer","description":"An amount in cents."}`},
		{"nullable time", resp.Properties.Get("seen"), `{"type":["string","null"],"format":"date-time"}`},
		{"unsigned", resp.Properties.Get("count"), `{"type":"integer","format":"int32","minimum":0}`},
		{"alternatives left out", resp.Properties.Get("note"), `{"type":"string"}`},
		{"request required", req.Required, `["code","secret"]`},
		{"id read-only", resp.Properties.Get("id"), `{"type":"integer","format":"int64","readOnly":true}`},
		{"regex path param", doc.Paths["/gadgets/{id}/"].Get.Parameters, `[{"name":"id","in":"path","description":"A unique integer value identifying this gadget.","required":true,"schema":{"type":"integer","format":"int64","pattern":"^[0-9]+$"}},{"name":"format","in":"query","description":"The format of the answer; json, the only one, is the default. Another is 404.","schema":{"type":"string","enum":["json"]}},{"name":"If-Match","in":"header","description":"Entity tags, comma-separated, or *: answer only if the current ETag is among them (strong comparison), else 412.","schema":{"type":"string"}},{"name":"If-None-Match","in":"header","description":"Entity tags, comma-separated, or *: if the current ETag is among them (weak comparison), 304 without a body.","schema":{"type":"string"}}]`},
		{"admin only", doc.Paths["/gadgets/{id}/"].Get.Responses["403"] != nil, `true`},
		{"unpaginated list", doc.Paths["/gadgets/"].Get.Responses["200"].Content["application/json"].Schema, `{"type":"array","items":{"$ref":"#/components/schemas/Gadget"}}`},
		{"filters typed", doc.Paths["/gadgets/"].Get.Parameters, `[{"name":"level","in":"query","description":"Only results whose level equals this value.","schema":{"type":"integer","format":"int32"}},{"name":"active","in":"query","description":"Only results whose active equals this value.","schema":{"type":"boolean"}},{"name":"format","in":"query","description":"The format of the answer; json, the only one, is the default. Another is 404.","schema":{"type":"string","enum":["json"]}},{"name":"If-Match","in":"header","description":"Entity tags, comma-separated, or *: answer only if the current ETag is among them (strong comparison), else 412.","schema":{"type":"string"}},{"name":"If-None-Match","in":"header","description":"Entity tags, comma-separated, or *: if the current ETag is among them (weak comparison), 304 without a body.","schema":{"type":"string"}}]`},
		{"no security without authenticators", doc.Paths["/gadgets/"].Get.Security, `null`},
	}
	for _, c := range cases {
		if got := js(decoded(c.got)); got != canon(c.want) {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, canon(c.want))
		}
	}
}

type opaquePaginator struct{ pagination.Cursor }

func TestGenerateErrors(t *testing.T) {
	db := dbtest.SQLite(t, (*Gadget)(nil))
	cases := []struct {
		name   string
		router func() chi.Router
		cfg    openapi.Config
		want   string
	}{
		{"unknown paginator", func() chi.Router { return gadgetRouter(db, opaquePaginator{}) }, openapi.Config{}, "implement openapi.PaginatorDescriber"},
		{"operation without route", func() chi.Router { return gadgetRouter(db, nil) },
			openapi.Config{Operations: map[string]*openapi.Operation{"POST /nowhere/": {}}}, `names no route`},
		{"operation with a bad key", func() chi.Router { return gadgetRouter(db, nil) },
			openapi.Config{Operations: map[string]*openapi.Operation{"/gadgets/": {}}}, `is not "METHOD /path"`},
		{"misconfigured view", func() chi.Router {
			r := chi.NewRouter()
			r.Handle("/x/", &views.ListView[Gadget]{}) // no DB
			return r
		}, openapi.Config{}, "the view at /x/ is misconfigured: cosworth/views:"},
		{"duplicate operationId", func() chi.Router {
			r := gadgetRouter(db, nil)
			r.Handle("/api/gadgets/", &views.ListView[Gadget]{DB: db})
			return r
		}, openapi.Config{}, `operationId "gadgets_list"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := openapi.Generate(c.router(), c.cfg)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error containing %q", err, c.want)
			}
		})
	}
}

// unwrapping is a middleware's handler exposing what it wraps.
type unwrapping struct{ next http.Handler }

func (u unwrapping) ServeHTTP(w http.ResponseWriter, r *http.Request) { u.next.ServeHTTP(w, r) }
func (u unwrapping) Unwrap() http.Handler                             { return u.next }

func TestWrappedViews(t *testing.T) {
	db := dbtest.SQLite(t, (*Gadget)(nil))
	hidden := &views.RetrieveView[Gadget]{DB: db}
	r := chi.NewRouter()
	r.Handle("/a/", unwrapping{&views.ListView[Gadget]{DB: db}})
	r.Handle("/b/{id}/", http.HandlerFunc(hidden.ServeHTTP)) // opaque
	r.Handle("/c/{id}/", http.HandlerFunc(hidden.ServeHTTP))
	r.Method("GET", "/split/", &views.ListView[Gadget]{DB: db})
	r.Method("POST", "/split/", &views.CreateView[Gadget]{DB: db})
	doc, err := openapi.Generate(r, openapi.Config{Views: map[string]views.Describer{"/c/{id}/": hidden}})
	if err != nil {
		t.Fatal(err)
	}
	if doc.Paths["/a/"] == nil || doc.Paths["/a/"].Get == nil {
		t.Error("a view behind Unwrap is missing")
	}
	if split := doc.Paths["/split/"]; split == nil || split.Get == nil || split.Post == nil ||
		split.Get.OperationID != "split_list" || split.Post.OperationID != "split_create" {
		t.Errorf("one view per method: %+v", split)
	}
	if doc.Paths["/b/{id}/"] != nil {
		t.Error("an opaque handler was documented")
	}
	if doc.Paths["/c/{id}/"] == nil || doc.Paths["/c/{id}/"].Get == nil || doc.Paths["/c/{id}/"].Post != nil {
		t.Errorf("Config.Views: %+v", doc.Paths["/c/{id}/"])
	}
}
