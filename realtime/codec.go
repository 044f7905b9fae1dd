package realtime

import (
	"encoding/json"
	"reflect"
)

// codec carries an object to the other instances whole, for their
// object-permission checks: every exported field, JSON tags ignored at the
// top level (a field tagged json:"-", such as an owner id, is kept). It
// converts *T to a pointer to a copy of T's struct type without tags (Go
// converts between struct types that differ only in tags) and lets
// encoding/json do the rest; nested structs keep their tags. A type this
// cannot apply to (unexported fields, embedded types StructOf refuses) is
// carried with its own JSON tags.
type codec[T any] struct {
	shadow reflect.Type // *struct without tags; nil means T's own JSON
}

func newCodec[T any]() (c codec[T]) {
	t := reflect.TypeFor[T]()
	if t.Kind() != reflect.Struct {
		return c
	}
	fields := make([]reflect.StructField, t.NumField())
	for i := range fields {
		f := t.Field(i)
		if !f.IsExported() {
			return c
		}
		f.Tag = ""
		fields[i] = f
	}
	defer func() {
		if recover() != nil { // StructOf refuses some embedded types
			c.shadow = nil
		}
	}()
	p := reflect.PointerTo(reflect.StructOf(fields))
	if reflect.PointerTo(t).ConvertibleTo(p) {
		c.shadow = p
	}
	return c
}

func (c codec[T]) encode(obj *T) ([]byte, error) {
	if c.shadow == nil {
		return json.Marshal(obj)
	}
	return json.Marshal(reflect.ValueOf(obj).Convert(c.shadow).Interface())
}

func (c codec[T]) decode(s string) (*T, error) {
	obj := new(T)
	var dst any = obj
	if c.shadow != nil {
		dst = reflect.ValueOf(obj).Convert(c.shadow).Interface()
	}
	return obj, json.Unmarshal([]byte(s), dst)
}
