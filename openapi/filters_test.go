package openapi_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/filters"
	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/models"
	"github.com/cosworth/cosworth/openapi"
	"github.com/cosworth/cosworth/openapi/openapitest"
	"github.com/cosworth/cosworth/pagination"
	"github.com/cosworth/cosworth/views"
)

// Shelf has a computed field, the number of its items.
type Shelf struct {
	bun.BaseModel `bun:"table:shelves,alias:shelf"`
	ID            int64        `bun:"id,pk,autoincrement" json:"id"`
	Label         string       `bun:"label,notnull" json:"label"`
	Built         *models.Date `bun:"built,type:date" json:"built"`
	ItemCount     int64        `bun:"item_count,scanonly" json:"item_count"`
}

// Annotations declares Shelf's computed field.
func (*Shelf) Annotations() map[string]string {
	return map[string]string{"item_count": "SELECT 0"}
}

// colour is a filter of the user's own that documents its parameter.
type colour struct{}

func (colour) Apply(_ *http.Request, q *bun.SelectQuery) (*bun.SelectQuery, error) { return q, nil }

func (colour) Parameters() []filters.Parameter {
	return []filters.Parameter{{Name: "colour", Description: "Only shelves of this colour."}, {Name: "min_height", Description: "In cm.", Type: reflect.TypeFor[int32]()}}
}

// TestFilterParameters: lookups are documented with their field's type
// (lists as comma-separated arrays), a filter of the user's own through
// filters.Parameterized, and a computed field as a read-only property.
func TestFilterParameters(t *testing.T) {
	db := dbtest.SQLite(t, (*Shelf)(nil))
	r := chi.NewRouter()
	r.Handle("/shelves/", &views.ListView[Shelf]{
		DB:       db,
		Filter:   []string{"label__icontains", "built__gte", "built__isnull", "id__in", "item_count__gte", "built__range"},
		Ordering: []string{"item_count"},
		Filters:  []filters.Filter{colour{}},
	})
	r.Handle("/renamed/", &views.ListView[Shelf]{DB: db, Search: []string{"label"}, Ordering: []string{"label"}, SearchParam: "q", OrderingParam: "sort",
		Paginator: pagination.LimitOffset{LimitQueryParam: "take", OffsetQueryParam: "skip"}})
	doc, err := openapi.Generate(r, openapi.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := openapitest.New(doc.JSON()); err != nil {
		t.Fatal(err)
	}
	js := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	params := map[string]string{}
	var names []string
	for _, p := range doc.Paths["/shelves/"].Get.Parameters {
		params[p.Name] = js(p)
		names = append(names, p.Name)
	}
	if got := js(names); got != `["label__icontains","built__gte","built__isnull","id__in","item_count__gte","built__range","colour","min_height","ordering","format","If-Match","If-None-Match"]` {
		t.Errorf("parameters %s", got)
	}
	for name, want := range map[string]string{
		"label__icontains": `{"name":"label__icontains","in":"query","description":"Only results whose label contains this text, ignoring case.","schema":{"type":"string"}}`,
		"built__gte":       `{"name":"built__gte","in":"query","description":"Only results whose built is greater than or equal to this value.","schema":{"type":"string","format":"date"}}`,
		"built__isnull":    `{"name":"built__isnull","in":"query","description":"true: only results whose built is null; false: only those whose built is not.","schema":{"type":"boolean"}}`,
		"id__in":           `{"name":"id__in","in":"query","description":"Only results whose id is one of these comma-separated values (at most 100).","style":"form","explode":false,"schema":{"type":"array","items":{"type":"integer","format":"int64"}}}`,
		"item_count__gte":  `{"name":"item_count__gte","in":"query","description":"Only results whose item_count is greater than or equal to this value.","schema":{"type":"integer","format":"int64"}}`,
		"built__range":     `{"name":"built__range","in":"query","description":"Only results whose built is between these two comma-separated values, inclusive.","style":"form","explode":false,"schema":{"type":"array","items":{"type":"string","format":"date"}}}`,
		"colour":           `{"name":"colour","in":"query","description":"Only shelves of this colour.","schema":{"type":"string"}}`,
		"min_height":       `{"name":"min_height","in":"query","description":"In cm.","schema":{"type":"integer","format":"int32"}}`,
	} {
		if params[name] != want {
			t.Errorf("%s:\n got %s\nwant %s", name, params[name], want)
		}
	}
	if got := js(doc.Components.Schemas["Shelf"].Properties.Get("item_count")); got != `{"type":"integer","format":"int64","readOnly":true}` {
		t.Errorf("computed field: %s", got)
	}
	if doc.Paths["/shelves/"].Get.Responses["400"] == nil {
		t.Error("no 400 response for bad filter values")
	}
	names = nil
	for _, p := range doc.Paths["/renamed/"].Get.Parameters {
		names = append(names, p.Name)
	}
	if got := js(names); got != `["take","skip","sort","q","format","If-Match","If-None-Match"]` {
		t.Errorf("renamed search and ordering: parameters %s", got)
	}
}
