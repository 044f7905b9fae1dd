package openapi

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/cosworth/cosworth/models"
)

func TestConvertPattern(t *testing.T) {
	cases := []struct {
		in, path string
		params   []pathParam
		ok       bool
	}{
		{"/api/books/{id}/", "/api/books/{id}/", []pathParam{{"id", ""}}, true},
		{"/a/{id:[0-9]+}/b/{slug}", "/a/{id}/b/{slug}", []pathParam{{"id", "^[0-9]+$"}, {"slug", ""}}, true},
		{"/a/{code:^[a-z]{3}$}/", "/a/{code}/", []pathParam{{"code", "^[a-z]{3}$"}}, true},
		{"/static/*", "", nil, false},
		{"/a/{broken/", "", nil, false},
	}
	for _, c := range cases {
		path, params, ok := convertPattern(c.in)
		if path != c.path || ok != c.ok || len(params) != len(c.params) {
			t.Errorf("%s: got %q %v %v", c.in, path, params, ok)
			continue
		}
		for i := range params {
			if params[i] != c.params[i] {
				t.Errorf("%s: param %d = %+v, want %+v", c.in, i, params[i], c.params[i])
			}
		}
	}
}

func TestNullable(t *testing.T) {
	cases := []struct {
		in   *Schema
		want string
	}{
		{&Schema{Type: Types{"string"}}, `{"type":["string","null"]}`},
		{&Schema{Type: Types{"string", "null"}}, `{"type":["string","null"]}`},
		{&Schema{Type: Types{"integer"}, Enum: []any{1, 2}}, `{"type":["integer","null"],"enum":[1,2,null]}`},
		{Ref("Author"), `{"anyOf":[{"$ref":"#/components/schemas/Author"},{"type":"null"}]}`},
		{&Schema{}, `{}`},
	}
	for _, c := range cases {
		b, err := json.Marshal(Nullable(c.in))
		if err != nil || string(b) != c.want {
			t.Errorf("got %s (%v), want %s", b, err, c.want)
		}
	}
}

func TestSchemaExtraAndOrder(t *testing.T) {
	s := &Schema{Type: Types{"object"}, Properties: &Properties{}, Extra: map[string]any{"x-b": 2, "multipleOf": 5}}
	s.Properties.Set("zeta", &Schema{Type: Types{"string"}})
	s.Properties.Set("alpha", &Schema{Type: Types{"boolean"}})
	s.Properties.Set("mid", &Schema{})
	s.Properties.Delete("mid")
	b, err := json.Marshal(s)
	want := `{"type":"object","properties":{"zeta":{"type":"string"},"alpha":{"type":"boolean"}},"multipleOf":5,"x-b":2}`
	if err != nil || string(b) != want {
		t.Errorf("got %s (%v), want %s", b, err, want)
	}
	var ty Types
	if err := json.Unmarshal([]byte(`["string","null"]`), &ty); err != nil || !ty.Has("null") {
		t.Errorf("Types: %v %v", ty, err)
	}
}

func TestRules(t *testing.T) {
	cases := []struct {
		typ, tag, want string
	}{
		{"string", "required,len=13,numeric", `{"minLength":13,"maxLength":13,"pattern":"^[-+]?[0-9]+(\\.[0-9]+)?$"}`},
		{"string", "gt=2,lt=5", `{"minLength":3,"maxLength":4}`},
		{"string", "datetime=2006-01-02", `{"format":"date"}`},
		{"string", "uuid4", `{"format":"uuid"}`},
		{"integer", "min=-5,max=5", `{"minimum":-5,"maximum":5}`},
		{"number", "gt=0.5", `{"exclusiveMinimum":0.5}`},
		{"integer", "oneof=1 x", `{}`}, // not numbers: left out
		{"array", "min=1,max=3,dive,max=10", `{"minItems":1,"maxItems":3}`},
		{"string", "email|url", `{}`},
		{"string", "omitempty", `{}`},
		{"string", "endswith=.txt", `{"pattern":"\\.txt$"}`},
	}
	for _, c := range cases {
		st := reflect.StructOf([]reflect.StructField{{Name: "X", Type: reflect.TypeFor[string](), Tag: reflect.StructTag(`validate:"` + c.tag + `"`)}})
		meta, err := models.MetaFor(st)
		if err != nil {
			t.Fatal(err)
		}
		s := &Schema{}
		applyRules(s, c.typ, meta.Fields[0].Rules)
		b, _ := json.Marshal(s)
		if string(b) != c.want {
			t.Errorf("%s %q: got %s, want %s", c.typ, c.tag, b, c.want)
		}
	}
}

func TestNames(t *testing.T) {
	for in, want := range map[string]string{"book": "books", "category": "categories", "box": "boxes", "day": "days"} {
		if got := plural(in); got != want {
			t.Errorf("plural(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"/api/v1/books/{id}/": "books_x", "/api/token-auth/": "token_auth_x", "/": "x"} {
		if got := operationID(in, "x"); got != want {
			t.Errorf("operationID(%q) = %q, want %q", in, got, want)
		}
	}
}
