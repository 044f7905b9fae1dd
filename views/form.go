package views

import (
	"errors"
	"net/http"
	"reflect"

	"github.com/cosworth/cosworth/internal/formbody"
	"github.com/cosworth/cosworth/internal/jsonbody"
	"github.com/cosworth/cosworth/serializers"
)

// readForm reads a form body (formbody.Read: bounded by limit, at most
// formbody.MaxFields fields, file parts ignored) and writes it into *buf
// as the JSON object the serializer decodes, the way DRF's fields read a
// QueryDict: the last value of each field, as a string (the serializer
// converts "5" to an integer, "on" to a boolean, with DRF's messages for
// bad values); an empty value is null for a nullable field and absent for
// a field that is not required, and a boolean missing from the form is
// false except in a PATCH (DRF's Field.get_value on HTML input).
func readForm(r *http.Request, limit int64, buf *[]byte, fields *serializers.Plan) ([]byte, error) {
	form, err := formbody.Read(r, limit)
	if err != nil {
		if errors.Is(err, formbody.ErrTooLarge) {
			return nil, tooLargeError{}
		}
		return nil, &badBodyError{err: err}
	}
	b := append((*buf)[:0], '{')
	first := true
	for _, k := range form.Keys {
		v := form.Values[k]
		null := false
		if v == "" && fields != nil {
			if f := planField(fields, k); f != nil {
				if f.Nullable {
					null = true
				} else if !f.Required {
					continue
				}
			}
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = jsonbody.AppendString(b, k)
		b = append(b, ':')
		if null {
			b = append(b, "null"...)
		} else {
			b = jsonbody.AppendString(b, v)
		}
	}
	if fields != nil && r.Method != http.MethodPatch {
		// An unchecked checkbox sends nothing: a boolean missing from a
		// form is false unless the update is partial (BooleanField's
		// default_empty_html).
		for i := range fields.Fields {
			f := &fields.Fields[i]
			if f.ReadOnly || f.Type.Kind() != reflect.Bool {
				continue
			}
			if _, ok := form.Values[f.Name]; ok {
				continue
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			b = jsonbody.AppendString(b, f.Name)
			b = append(b, ":false"...)
		}
	}
	b = append(b, '}')
	*buf = b
	return b, nil
}

// planField returns the field of the serializer plan p named name (its
// JSON name), or nil.
func planField(p *serializers.Plan, name string) *serializers.Field {
	for i := range p.Fields {
		if p.Fields[i].Name == name {
			return &p.Fields[i]
		}
	}
	return nil
}
