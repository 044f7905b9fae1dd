package serializers_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"testing"

	"github.com/cosworth/cosworth/models"
	"github.com/cosworth/cosworth/serializers"
)

type relAuthor struct {
	ID   int64  `bun:",pk" json:"id"`
	Name string `json:"name"`
}

type relBook struct {
	ID       int64      `bun:",pk" json:"id" cosworth:"read_only"`
	Title    string     `json:"title" validate:"required"`
	AuthorID int64      `bun:"author_id" json:"author" validate:"required"`
	Author   *relAuthor `bun:"rel:belongs-to,join:author_id=id" json:"-"`
}

type relShelf struct {
	ID    int64     `bun:",pk" json:"id"`
	Name  string    `json:"name"`
	Books []relBook `bun:"rel:has-many,join:id=shelf_id" json:"-"`
}

type ctxKey struct{}

// Method fields see the context; nested serializers show relations; a
// Slug writes and shows a foreign key by a unique field.
func ExampleMethod() {
	s := &serializers.Serializer[relBook]{
		Nested: []serializers.Nested[relBook]{{Name: "author", Relation: "Author", Serializer: &serializers.Serializer[relAuthor]{}}},
		Methods: []serializers.Method[relBook]{{
			Name: "is_mine", Type: reflect.TypeFor[bool](),
			Append: func(ctx context.Context, dst []byte, b *relBook) []byte {
				me, _ := ctx.Value(ctxKey{}).(string) // authentication.PrincipalFrom(ctx) in a view
				return strconv.AppendBool(dst, b.Author != nil && b.Author.Name == me)
			},
		}},
	}
	b := relBook{ID: 1, Title: "Dune", AuthorID: 7, Author: &relAuthor{ID: 7, Name: "frank"}}
	ctx := context.WithValue(context.Background(), ctxKey{}, "frank")
	fmt.Println(string(s.AppendJSONContext(ctx, nil, &b)))
	fmt.Println(s.Decode(ctx, []byte(`{"title":"Dune","author":{"id":7}}`), &b, serializers.Create))
	// Output:
	// {"id":1,"title":"Dune","author":{"id":7,"name":"frank"},"is_mine":true}
	// author: Nested writes are not supported; send the primary key.
}

func TestRelated(t *testing.T) {
	ctx := context.Background()
	authors := map[string]int64{"ursula": 3}
	lookup := func(_ context.Context, v string) (int64, error) {
		if id, ok := authors[v]; ok {
			return id, nil
		}
		if v == "down" {
			return 0, models.ErrUnavailable
		}
		return 0, models.ErrNotFound
	}
	slug := &serializers.Serializer[relBook]{Slugs: []serializers.Slug{{Name: "author", Relation: "Author", Field: "name", Lookup: lookup}}}
	var b relBook
	if err := slug.Decode(ctx, []byte(`{"title":"T","author":"ursula"}`), &b, serializers.Create); err != nil || b.AuthorID != 3 {
		t.Fatalf("slug: %v %+v", err, b)
	}
	b.Author = &relAuthor{ID: 3, Name: "ursula"}
	if got := string(slug.AppendJSON(nil, &b)); got != `{"id":0,"title":"T","author":"ursula"}` {
		t.Errorf("slug output %s", got)
	}
	b.Author = nil
	if got := string(slug.AppendJSON(nil, &b)); got != `{"id":0,"title":"T","author":null}` {
		t.Errorf("slug output without relation %s", got)
	}
	err := slug.Decode(ctx, []byte(`{"author":"x"}`), &b, serializers.Create)
	if got := errJSON(err); got != `{"title":["This field is required."],"author":["Object with name=x does not exist."]}` {
		t.Errorf("unknown slug: %s", got)
	}
	if b.AuthorID != 3 || b.Title != "T" {
		t.Errorf("failed decode changed the object: %+v", b)
	}
	if err := slug.Decode(ctx, []byte(`{"title":"T","author":"down"}`), &b, serializers.Create); !errors.Is(err, models.ErrUnavailable) {
		t.Errorf("lookup failure: %v", err)
	}
	if err := slug.Decode(ctx, []byte(`{"title":"T","author":null}`), &b, serializers.Create); errJSON(err) != `{"author":["This field may not be null."]}` {
		t.Errorf("null slug: %s", errJSON(err))
	}

	// A read-only slug (DRF's SlugRelatedField(read_only=True)) needs no
	// Lookup: it shows the related field and ignores input.
	shown := &serializers.Serializer[relBook]{ReadOnly: []string{"author"}, Slugs: []serializers.Slug{{Name: "author", Relation: "Author", Field: "name"}}}
	b = relBook{Title: "T", AuthorID: 3, Author: &relAuthor{ID: 3, Name: "ursula"}}
	if err := shown.Decode(ctx, []byte(`{"title":"U","author":"someone"}`), &b, serializers.Partial); err != nil || b.AuthorID != 3 || b.Title != "U" {
		t.Errorf("read-only slug input: %v %+v", err, b)
	}
	if got := string(shown.AppendJSON(nil, &b)); got != `{"id":0,"title":"U","author":"ursula"}` {
		t.Errorf("read-only slug output %s", got)
	}
	// An update in place may decode it (the slug takes no input); not a
	// writable slug, whose lookup needs the stored object's query.
	var in relBook
	if set, ok, err := shown.DecodeFields([]byte(`{"title":"V","author":"x"}`), &in, serializers.Partial); !ok || err != nil || in.Title != "V" || in.AuthorID != 0 || set == 0 {
		t.Errorf("DecodeFields with a read-only slug: %b %v %v %+v", set, ok, err, in)
	}
	if _, ok, _ := slug.DecodeFields([]byte(`{"title":"V"}`), &in, serializers.Partial); ok {
		t.Errorf("DecodeFields took a writable slug")
	}
	// A nested field without a Write hook: the key is the field's input,
	// an object refused, as Decode answers them.
	refusing := &serializers.Serializer[relBook]{Nested: []serializers.Nested[relBook]{{Name: "author", Relation: "Author", Serializer: &serializers.Serializer[relAuthor]{}}}}
	in = relBook{}
	if _, ok, err := refusing.DecodeFields([]byte(`{"author":3}`), &in, serializers.Partial); !ok || err != nil || in.AuthorID != 3 {
		t.Errorf("DecodeFields with a nested field, a key: %v %v %+v", ok, err, in)
	}
	if _, ok, err := refusing.DecodeFields([]byte(`{"author":{"id":4}}`), &in, serializers.Partial); !ok || errJSON(err) != `{"author":["Nested writes are not supported; send the primary key."]}` || in.AuthorID != 3 {
		t.Errorf("DecodeFields with a nested field, an object: %v %s %+v", ok, errJSON(err), in)
	}

	// A Write hook takes nested input; without one it is refused, unless ReadOnly.
	var got string
	hooked := &serializers.Serializer[relShelf]{Nested: []serializers.Nested[relShelf]{{Name: "books", Relation: "Books", Serializer: &serializers.Serializer[relBook]{},
		Write: func(_ context.Context, s *relShelf, data []byte) error {
			got = string(data)
			return json.Unmarshal(data, &s.Books)
		}}}}
	var sh relShelf
	if err := hooked.Decode(ctx, []byte(`{"name":"S","books":[{"title":"A","author":1}]}`), &sh, serializers.Create); err != nil || got != `[{"title":"A","author":1}]` || len(sh.Books) != 1 {
		t.Errorf("hook: %v %q %+v", err, got, sh)
	}
	refused := &serializers.Serializer[relShelf]{Nested: []serializers.Nested[relShelf]{{Name: "books", Relation: "Books", Serializer: &serializers.Serializer[relBook]{}}}}
	if err := refused.Decode(ctx, []byte(`{"name":"S","books":[]}`), &sh, serializers.Create); errJSON(err) != `{"books":["Nested writes are not supported."]}` {
		t.Errorf("refused: %s", errJSON(err))
	}
	ignored := &serializers.Serializer[relShelf]{Nested: []serializers.Nested[relShelf]{{Name: "books", Relation: "Books", ReadOnly: true, Serializer: &serializers.Serializer[relBook]{}}}}
	if err := ignored.Decode(ctx, []byte(`{"name":"S","books":[{}]}`), &sh, serializers.Create); err != nil {
		t.Errorf("read-only: %v", err)
	}
	sh.Books = []relBook{{ID: 1, Title: "A", AuthorID: 2}}
	if out := string(ignored.AppendJSON(nil, &sh)); out != `{"id":0,"name":"S","books":[{"id":1,"title":"A","author":2}]}` {
		t.Errorf("to-many output %s", out)
	}

	// DecodeList: DRF's ListSerializer.
	plain := &serializers.Serializer[relBook]{}
	list, err := plain.DecodeList(ctx, []byte(` [{"title":"A","author":1}, {"title":"B","author":"2"}] `), 5)
	if err != nil || len(list) != 2 || list[1].AuthorID != 2 {
		t.Fatalf("DecodeList: %v %+v", err, list)
	}
	for body, want := range map[string]string{
		`[{"title":"A","author":1},{"title":""},"x"]`: `[{},{"title":["This field may not be blank."],"author":["This field is required."]},{"non_field_errors":["Invalid data. Expected a dictionary, but got str."]}]`,
		`{"title":"A"}`:           `{"non_field_errors":["Expected a list of items but got type \"dict\"."]}`,
		`[{},{},{},{},{},{}]`:     `{"non_field_errors":["Ensure this field has no more than 5 elements."]}`,
		`[{"title":"A"}] [1]`:     `{"detail":"JSON parse error - Extra data: line 1 column 17 (char 16)"}`,
		`[{"title":"A"},]`:        `{"detail":"JSON parse error - Expecting value: line 1 column 16 (char 15)"}`,
		`[{"title":"A"} {"x":1}]`: `{"detail":"JSON parse error - Expecting ',' delimiter: line 1 column 16 (char 15)"}`,
	} {
		_, err := plain.DecodeList(ctx, []byte(body), 5)
		if got := errJSON(err); got != want {
			t.Errorf("DecodeList(%s):\n got %s\nwant %s", body, got, want)
		}
	}
	if list, err := plain.DecodeList(ctx, []byte(`[]`), 5); err != nil || len(list) != 0 {
		t.Errorf("empty list: %v %v", list, err)
	}
}

// errJSON is the body a view would answer err with.
func errJSON(err error) string {
	switch e := err.(type) {
	case nil:
		return "<nil>"
	case interface{ AppendJSON([]byte) []byte }:
		return string(e.AppendJSON(nil))
	}
	b, _ := json.Marshal(map[string]string{"detail": err.Error()})
	return string(b)
}

func TestRelatedSetupErrors(t *testing.T) {
	for name, f := range map[string]func(){
		"relation missing": func() {
			(&serializers.Serializer[relBook]{Nested: []serializers.Nested[relBook]{{Name: "x", Relation: "Nope", Serializer: &serializers.Serializer[relAuthor]{}}}}).Plan()
		},
		"wrong serializer": func() {
			(&serializers.Serializer[relBook]{Nested: []serializers.Nested[relBook]{{Name: "x", Relation: "Author", Serializer: &serializers.Serializer[relShelf]{}}}}).Plan()
		},
		"method named like a field": func() {
			(&serializers.Serializer[relBook]{Methods: []serializers.Method[relBook]{{Name: "title", Append: func(_ context.Context, d []byte, _ *relBook) []byte { return d }}}}).Plan()
		},
		"writable slug without a lookup": func() {
			(&serializers.Serializer[relBook]{Slugs: []serializers.Slug{{Name: "author", Relation: "Author", Field: "name"}}}).Plan()
		},
		"slug on a non-key": func() {
			(&serializers.Serializer[relBook]{Slugs: []serializers.Slug{{Name: "title", Relation: "Author", Field: "name", Lookup: func(context.Context, string) (int64, error) { return 0, nil }}}}).Plan()
		},
	} {
		func() {
			defer func() {
				if v := recover(); v == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}
