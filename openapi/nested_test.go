package openapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/models"
	"github.com/cosworth/cosworth/openapi"
	"github.com/cosworth/cosworth/openapi/openapitest"
	"github.com/cosworth/cosworth/pagination"
	"github.com/cosworth/cosworth/serializers"
	"github.com/cosworth/cosworth/views"
)

type Writer struct {
	bun.BaseModel `bun:"table:writers,alias:writer"`
	ID            int64  `bun:",pk,autoincrement" json:"id" cosworth:"read_only"`
	Name          string `bun:",notnull,unique" json:"name" validate:"required,max=50"`
}

type Novel struct {
	bun.BaseModel `bun:"table:novels,alias:novel"`
	ID            int64   `bun:",pk,autoincrement" json:"id" cosworth:"read_only"`
	Title         string  `bun:",notnull" json:"title" validate:"required,max=100"`
	WriterID      int64   `bun:"writer_id,notnull" json:"writer" validate:"required"`
	Writer        *Writer `bun:"rel:belongs-to,join:writer_id=id" json:"-"`
}

type WriterNovels struct {
	bun.BaseModel `bun:"table:writers,alias:writer"`
	ID            int64   `bun:",pk,autoincrement" json:"id" cosworth:"read_only"`
	Name          string  `bun:",notnull,unique" json:"name"`
	Novels        []Novel `bun:"rel:has-many,join:id=writer_id" json:"-"`
}

type SlugNovel struct {
	bun.BaseModel `bun:"table:novels,alias:novel"`
	ID            int64   `bun:",pk,autoincrement" json:"id" cosworth:"read_only"`
	Title         string  `bun:",notnull" json:"title"`
	WriterID      int64   `bun:"writer_id,notnull" json:"writer"`
	Writer        *Writer `bun:"rel:belongs-to,join:writer_id=id" json:"-"`
}

// ShownNovel and NamedNovel show their writer by a read-only slug (DRF's
// SlugRelatedField(read_only=True)); NamedNovel's schema is replaced by
// Config.FieldSchemas.
type ShownNovel struct {
	bun.BaseModel `bun:"table:novels,alias:novel"`
	ID            int64   `bun:",pk,autoincrement" json:"id" cosworth:"read_only"`
	Title         string  `bun:",notnull" json:"title"`
	WriterID      int64   `bun:"writer_id,notnull" json:"writer" cosworth:"read_only"`
	Writer        *Writer `bun:"rel:belongs-to,join:writer_id=id" json:"-"`
}

type NamedNovel ShownNovel

// TestNestedSchemas checks the schemas of nested, slug and method fields
// and of bulk create, and that real responses match them.
func TestNestedSchemas(t *testing.T) {
	db := dbtest.SQLite(t, (*Writer)(nil), (*Novel)(nil))
	ctx := context.Background()
	_, err := db.NewInsert().Model(&[]Writer{{Name: "ursula"}}).Exec(ctx)
	dbtest.Must(t, err, "writers")
	r := chi.NewRouter()
	r.Handle("/novels/", &views.ListCreateView[Novel]{DB: db, AllowBulk: true, MaxBulk: 10, Serializer: &serializers.Serializer[Novel]{
		Nested: []serializers.Nested[Novel]{{Name: "writer", Relation: "Writer", Serializer: &serializers.Serializer[Writer]{Fields: []string{"id", "name"}}}},
		Methods: []serializers.Method[Novel]{{Name: "length", Type: reflect.TypeFor[int](),
			Append: func(_ context.Context, dst []byte, n *Novel) []byte {
				return strconv.AppendInt(dst, int64(len(n.Title)), 10)
			}}},
	}})
	r.Handle("/writers/", &views.ListView[WriterNovels]{DB: db, Paginator: pagination.LimitOffset{}, Serializer: &serializers.Serializer[WriterNovels]{
		Nested: []serializers.Nested[WriterNovels]{{Name: "novels", Relation: "Novels", Serializer: &serializers.Serializer[Novel]{Fields: []string{"id", "title"}}}},
	}})
	r.Handle("/slugs/", &views.ListView[SlugNovel]{DB: db, Serializer: &serializers.Serializer[SlugNovel]{
		Slugs: []serializers.Slug{{Name: "writer", Relation: "Writer", Field: "name", Lookup: models.LookupPK[Writer](db, "name")}},
	}})
	r.Handle("/shown/", &views.ListView[ShownNovel]{DB: db, Serializer: &serializers.Serializer[ShownNovel]{
		Slugs: []serializers.Slug{{Name: "writer", Relation: "Writer", Field: "name"}},
	}})
	r.Handle("/named/", &views.ListView[NamedNovel]{DB: db, Serializer: &serializers.Serializer[NamedNovel]{
		Slugs: []serializers.Slug{{Name: "writer", Relation: "Writer", Field: "name"}},
	}})
	doc, err := openapi.Generate(r, openapi.Config{FieldSchemas: map[string]*openapi.Schema{
		"NamedNovel.writer": {Type: openapi.Types{"string"}, Description: "The writer's name."},
	}})
	if err != nil {
		t.Fatal(err)
	}
	v, err := openapitest.New(doc.JSON())
	if err != nil {
		t.Fatal(err)
	}
	js := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	s := doc.Components.Schemas
	for _, c := range []struct{ name, got, want string }{
		{"nested to-one", js(s["Novel"].Properties.Get("writer")), `{"type":"object","properties":{"id":{"type":"integer","format":"int64","readOnly":true},"name":{"type":"string","maxLength":50}},"required":["id","name"]}`},
		{"foreign key input", js(s["NovelRequest"].Properties.Get("writer")), `{"type":"integer","format":"int64"}`},
		{"method field", js(s["Novel"].Properties.Get("length")), `{"type":"integer","format":"int64","readOnly":true}`},
		{"method field not in requests", js(s["NovelRequest"].Properties.Get("length")), `null`},
		{"nested to-many", js(s["WriterNovels"].Properties.Get("novels")), `{"type":"array","items":{"type":"object","properties":{"id":{"type":"integer","format":"int64","readOnly":true},"title":{"type":"string","maxLength":100}},"required":["id","title"]},"readOnly":true}`},
		{"slug", js(s["SlugNovel"].Properties.Get("writer")), `{"type":"string","maxLength":50}`},
		{"read-only slug", js(s["ShownNovel"].Properties.Get("writer")), `{"type":"string","maxLength":50,"readOnly":true}`},
		{"FieldSchemas replaces a slug's schema", js(s["NamedNovel"].Properties.Get("writer")), `{"description":"The writer's name.","type":"string","readOnly":true}`},
		{"bulk request", js(doc.Paths["/novels/"].Post.RequestBody.Content["application/json"].Schema), `{"oneOf":[{"$ref":"#/components/schemas/NovelRequest"},{"type":"array","items":{"$ref":"#/components/schemas/NovelRequest"},"maxItems":10}]}`},
	} {
		if c.got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, c.got, c.want)
		}
	}
	srv := httptest.NewServer(r)
	defer srv.Close()
	client := &http.Client{Transport: v.Transport(t, nil)}
	for _, req := range []struct{ method, path, body string }{
		{"POST", "/novels/", `{"title":"Dune","writer":1}`},
		{"POST", "/novels/", `[{"title":"A","writer":1},{"title":"B","writer":1}]`},
		{"GET", "/novels/", ""},
		{"GET", "/writers/", ""},
		{"GET", "/slugs/", ""},
		{"GET", "/shown/", ""},
		{"GET", "/named/", ""},
	} {
		hr, _ := http.NewRequest(req.method, srv.URL+req.path, strings.NewReader(req.body))
		if req.body != "" {
			hr.Header.Set("Content-Type", "application/json")
		}
		resp, err := client.Do(hr)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			t.Errorf("%s %s: %d %s", req.method, req.path, resp.StatusCode, b)
		}
	}
}
