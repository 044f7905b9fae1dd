package openapi

import (
	"encoding"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/cosworth/cosworth/models"
)

// Schemer is implemented by a field type that knows its own schema (a
// custom money or enum type). Generate calls it on the zero value.
type Schemer interface {
	OpenAPISchema() *Schema
}

var (
	schemerType   = reflect.TypeFor[Schemer]()
	timeType      = reflect.TypeFor[time.Time]()
	dateType      = reflect.TypeFor[models.Date]()
	rawType       = reflect.TypeFor[json.RawMessage]()
	marshalerType = reflect.TypeFor[json.Marshaler]()
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
)

// maxNesting bounds the nesting of struct schemas built from Go types.
const maxNesting = 8

// SchemaOf returns the schema of a Go type as encoding/json writes it:
// strings, booleans, integers (format int32/int64), numbers, time.Time
// (date-time), models.Date (date), slices, maps and structs (their json
// fields, every one required). Pointers are not marked nullable; use
// Nullable. It is meant for describing the bodies of hand-written
// endpoints registered in Config.Operations.
func SchemaOf(t reflect.Type) *Schema { return typeSchema(t, 0) }

// SchemaFor returns SchemaOf the type T.
func SchemaFor[T any]() *Schema { return typeSchema(reflect.TypeFor[T](), 0) }

// Nullable returns s allowing null too: "null" is added to its type, or,
// for a reference or a type-less schema, s is wrapped in anyOf with
// {type: null}.
func Nullable(s *Schema) *Schema {
	if s == nil {
		return &Schema{}
	}
	if len(s.Type) > 0 && s.Ref == "" {
		if !s.Type.Has("null") {
			s.Type = append(s.Type, "null")
		}
		if len(s.Enum) > 0 && !containsNil(s.Enum) {
			s.Enum = append(s.Enum, nil)
		}
		// anyOf and const apply to null too: let null through them.
		if len(s.AnyOf) > 0 && !slices.ContainsFunc(s.AnyOf, func(a *Schema) bool { return a.Type.Has("null") }) {
			s.AnyOf = append(s.AnyOf, &Schema{Type: Types{"null"}})
		}
		if s.Const != nil {
			s.Enum, s.Const = []any{s.Const, nil}, nil
		}
		return s
	}
	if s.Ref == "" && len(s.AnyOf) == 0 && len(s.OneOf) == 0 && len(s.AllOf) == 0 && s.Properties == nil {
		return s // {} already allows null
	}
	return &Schema{AnyOf: []*Schema{s, {Type: Types{"null"}}}}
}

func containsNil(vs []any) bool {
	for _, v := range vs {
		if v == nil {
			return true
		}
	}
	return false
}

func typeSchema(t reflect.Type, depth int) *Schema {
	for t.Kind() == reflect.Pointer {
		if t.Implements(schemerType) {
			break
		}
		t = t.Elem()
	}
	if t.Implements(schemerType) {
		if s := reflect.Zero(t).Interface().(Schemer).OpenAPISchema(); s != nil {
			return s.clone()
		}
		return &Schema{}
	}
	if reflect.PointerTo(t).Implements(schemerType) {
		if s := reflect.New(t).Interface().(Schemer).OpenAPISchema(); s != nil {
			return s.clone()
		}
		return &Schema{}
	}
	switch t {
	case timeType:
		return &Schema{Type: Types{"string"}, Format: "date-time"}
	case dateType:
		return &Schema{Type: Types{"string"}, Format: "date"}
	case rawType:
		return &Schema{}
	}
	if t.Implements(marshalerType) || reflect.PointerTo(t).Implements(marshalerType) {
		return &Schema{} // any JSON value: its MarshalJSON decides
	}
	if t.Implements(textMarshaler) || reflect.PointerTo(t).Implements(textMarshaler) {
		return &Schema{Type: Types{"string"}}
	}
	switch t.Kind() {
	case reflect.String:
		return &Schema{Type: Types{"string"}}
	case reflect.Bool:
		return &Schema{Type: Types{"boolean"}}
	case reflect.Int, reflect.Int64:
		return &Schema{Type: Types{"integer"}, Format: "int64"}
	case reflect.Int8, reflect.Int16, reflect.Int32:
		return &Schema{Type: Types{"integer"}, Format: "int32"}
	case reflect.Uint, reflect.Uint64, reflect.Uintptr:
		return &Schema{Type: Types{"integer"}, Format: "int64", Minimum: "0"}
	case reflect.Uint8, reflect.Uint16, reflect.Uint32:
		return &Schema{Type: Types{"integer"}, Format: "int32", Minimum: "0"}
	case reflect.Float32:
		return &Schema{Type: Types{"number"}, Format: "float"}
	case reflect.Float64:
		return &Schema{Type: Types{"number"}, Format: "double"}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return &Schema{Type: Types{"string"}, Format: "byte"}
		}
		fallthrough
	case reflect.Array:
		if depth >= maxNesting {
			return &Schema{Type: Types{"array"}}
		}
		return &Schema{Type: Types{"array"}, Items: typeSchema(t.Elem(), depth+1)}
	case reflect.Map:
		if depth >= maxNesting {
			return &Schema{Type: Types{"object"}}
		}
		return &Schema{Type: Types{"object"}, AdditionalProperties: typeSchema(t.Elem(), depth+1)}
	case reflect.Struct:
		return structSchema(t, depth)
	}
	return &Schema{}
}

// structSchema describes a struct as encoding/json writes it.
func structSchema(t reflect.Type, depth int) *Schema {
	s := &Schema{Type: Types{"object"}, Properties: &Properties{}}
	if depth >= maxNesting {
		s.Properties = nil
		return s
	}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for i := range t.NumField() {
			sf := t.Field(i)
			tag := sf.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			if sf.Anonymous && name == "" {
				ft := sf.Type
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if ft.Kind() == reflect.Struct && ft != timeType && ft != dateType {
					walk(ft)
					continue
				}
			}
			if !sf.IsExported() {
				continue
			}
			if name == "" {
				name = sf.Name
			}
			fs := typeSchema(sf.Type, depth+1)
			if sf.Type.Kind() == reflect.Pointer || sf.Type.Kind() == reflect.Slice || sf.Type.Kind() == reflect.Map {
				fs = Nullable(fs)
			}
			if s.Properties.Get(name) == nil {
				s.Properties.Set(name, fs)
				if !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") {
					s.Required = append(s.Required, name)
				}
			}
		}
	}
	walk(t)
	return s
}
