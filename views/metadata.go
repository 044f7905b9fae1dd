package views

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cosworth/cosworth/internal/jsonbody"
	"github.com/cosworth/cosworth/models"
	"github.com/cosworth/cosworth/permissions"
	"github.com/cosworth/cosworth/serializers"
)

// parses is the list of media types the views' bodies are read as, for
// OPTIONS ("parses" of DRF's SimpleMetadata).
const parses = `["application/json","application/x-www-form-urlencoded","multipart/form-data"]`

// options answers OPTIONS as DRF's SimpleMetadata: the view's name,
// description, renders and parses, and, when the caller may write,
// "actions" with the serializer's fields under "POST" (a view that
// creates) and "PUT" (a view that updates). As DRF's determine_actions,
// a method is listed when the request permissions pass for it, and for
// PUT when the object loads and its object permissions pass too; a
// missing object or a denial leaves the method out. On a viewset route
// each method is checked and described by the configuration of its
// action (PerAction may give create or update their own permissions and
// serializer).
func (g *Generic[T]) options(w http.ResponseWriter, r *http.Request, p *plan[T], c caps) error {
	gPost, gPut := g, g
	if g.optPost != nil {
		gPost = g.optPost
	}
	if g.optPut != nil {
		gPut = g.optPut
	}
	var postInfo, putInfo []byte
	if c&capCreate != 0 && permissions.Check(withMethod(r, http.MethodPost), gPost.Permissions) == nil {
		postInfo = gPost.setup(c).fieldInfo
	}
	if c&capUpdate != 0 {
		pp := gPut.setup(c)
		ok, err := gPut.mayPut(r, pp)
		if err != nil {
			return err
		}
		if ok {
			putInfo = pp.fieldInfo
		}
	}
	writeMetadata(w, p.options, postInfo, putInfo)
	return nil
}

// mayPut reports whether r's caller may PUT the object r names, as
// determine_actions tells: the request permissions pass for PUT, the
// object loads and its object permissions pass. An error other than a
// 404 or a denial (the database is down) is returned.
func (g *Generic[T]) mayPut(r *http.Request, p *plan[T]) (bool, error) {
	rp := withMethod(r, http.MethodPut)
	if permissions.Check(rp, g.Permissions) != nil {
		return false, nil
	}
	ctx, cancel := context.WithTimeout(r.Context(), p.timeout)
	defer cancel()
	_, err := g.load(rp.WithContext(ctx), p)
	if err != nil && !deniedOrMissing(err) {
		return false, err
	}
	return err == nil, nil
}

// writeMetadata answers OPTIONS: options (the body without "actions"),
// with "actions" holding the field information of POST and PUT when set.
func writeMetadata(w http.ResponseWriter, options, postInfo, putInfo []byte) {
	if postInfo == nil && putInfo == nil {
		jsonbody.Write(w, http.StatusOK, options)
		return
	}
	b := jsonbody.GetBuffer()
	defer jsonbody.PutBuffer(b)
	out := append((*b)[:0], options[:len(options)-1]...)
	out = append(out, `,"actions":{`...)
	if postInfo != nil {
		out = append(out, `"POST":`...)
		out = append(out, postInfo...)
	}
	if putInfo != nil {
		if postInfo != nil {
			out = append(out, ',')
		}
		out = append(out, `"PUT":`...)
		out = append(out, putInfo...)
	}
	out = append(out, "}}"...)
	*b = out
	jsonbody.Write(w, http.StatusOK, out)
}

// options answers OPTIONS on an action as DRF's SimpleMetadata on an
// @action route: "actions" with POST and PUT among the action's methods
// that the caller may use (for PUT on a detail action, on the loaded
// object too), described by the action's body (RunBody's In) or, for an
// action without one, by the viewset's serializer, as DRF's
// get_serializer gives.
func (a *actionRoute[T]) metadata(w http.ResponseWriter, r *http.Request, g *Generic[T], p *plan[T]) error {
	info := a.bodyInfo
	if info == nil {
		info = p.fieldInfo
	}
	var postInfo, putInfo []byte
	if slices.Contains(a.methods, http.MethodPost) && permissions.Check(withMethod(r, http.MethodPost), g.Permissions) == nil {
		postInfo = info
	}
	if slices.Contains(a.methods, http.MethodPut) {
		ok := permissions.Check(withMethod(r, http.MethodPut), g.Permissions) == nil
		if ok && a.spec.Detail {
			var err error
			if ok, err = g.mayPut(r, p); err != nil {
				return err
			}
		}
		if ok {
			putInfo = info
		}
	}
	writeMetadata(w, a.options, postInfo, putInfo)
	return nil
}

// withMethod is DRF's clone_request: r as if sent with method.
func withMethod(r *http.Request, method string) *http.Request {
	c := new(http.Request)
	*c = *r
	c.Method = method
	return c
}

// deniedOrMissing reports whether err is a 404 or another client error
// (a permission denial): what determine_actions takes as "not allowed".
func deniedOrMissing(err error) bool {
	if errors.Is(err, models.ErrNotFound) || errors.Is(err, sql.ErrNoRows) {
		return true
	}
	var e Error
	return errors.As(err, &e) && e.StatusCode() < 500
}

var (
	metaTimeType = reflect.TypeFor[time.Time]()
	metaDateType = reflect.TypeFor[models.Date]()
	metaRawType  = reflect.TypeFor[json.RawMessage]()
)

// fieldInfo is DRF's SimpleMetadata.get_serializer_info of a serializer
// plan: each field's "type" (DRF's names), "required", "read_only",
// "label", its bounds ("min_length", "max_length", "min_value",
// "max_value") and, for a writable field limited by oneof, "choices".
// A field shown by a Represent function is of type "field", as DRF's
// SerializerMethodField and ReadOnlyField.
func fieldInfo(fp *serializers.Plan, represented func(name string) bool) []byte {
	b := []byte{'{'}
	for i := range fp.Fields {
		f := &fp.Fields[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonbody.AppendString(b, f.Name)
		typ, choices := metaType(f)
		if represented(f.Name) {
			typ, choices = "field", nil
		}
		b = append(b, `:{"type":`...)
		b = jsonbody.AppendString(b, typ)
		b = append(b, `,"required":`...)
		b = strconv.AppendBool(b, f.Required && !f.ReadOnly)
		b = append(b, `,"read_only":`...)
		b = strconv.AppendBool(b, f.ReadOnly)
		b = append(b, `,"label":`...)
		b = jsonbody.AppendString(b, metaLabel(f.Name))
		b = appendBounds(b, f, typ)
		if choices != nil && !f.ReadOnly {
			b = append(b, `,"choices":[`...)
			for j, c := range choices {
				if j > 0 {
					b = append(b, ',')
				}
				b = append(b, `{"value":`...)
				if typ == "choice" && isNumberKind(f.Type) {
					b = append(b, c...)
				} else {
					b = jsonbody.AppendString(b, c)
				}
				b = append(b, `,"display_name":`...)
				b = jsonbody.AppendString(b, c)
				b = append(b, '}')
			}
			b = append(b, ']')
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

// fieldRules are the rules of f that apply to the field itself (those
// after "dive" or "keys" apply to elements).
func fieldRules(f *models.Field) []models.Rule {
	for i, r := range f.Rules {
		if r.Name == "dive" || r.Name == "keys" {
			return f.Rules[:i]
		}
	}
	return f.Rules
}

// metaType is the type name DRF's SimpleMetadata gives the serializer
// field DRF's ModelSerializer would build for f, and the choices of a
// oneof rule (valid numbers only for a number field).
func metaType(f *models.Field) (string, []string) {
	if f.ForeignKey {
		return "field", nil // PrimaryKeyRelatedField
	}
	for _, r := range fieldRules(f) {
		switch r.Name {
		case "oneof":
			if len(r.Choices) > 0 && validChoices(f.Type, r.Choices) {
				return "choice", r.Choices
			}
		case "email":
			return "email", nil
		case "url", "uri", "http_url":
			return "url", nil
		}
	}
	t := f.Type
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t {
	case metaTimeType:
		return "datetime", nil
	case metaDateType:
		return "date", nil
	case metaRawType:
		return "field", nil
	}
	switch t.Kind() {
	case reflect.Bool:
		return "boolean", nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer", nil
	case reflect.Float32, reflect.Float64:
		return "float", nil
	case reflect.String:
		return "string", nil
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return "string", nil // encoding/json writes bytes as base64 text
		}
		return "list", nil
	case reflect.Map, reflect.Struct:
		return "nested object", nil
	}
	return "field", nil
}

func isNumberKind(t reflect.Type) bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

// validChoices reports whether every choice can be written as a value of
// a field of type t: any text for a string, a number for a number.
func validChoices(t reflect.Type, choices []string) bool {
	if !isNumberKind(t) {
		return true
	}
	for _, c := range choices {
		if _, err := strconv.ParseFloat(c, 64); err != nil || !json.Valid([]byte(c)) {
			return false
		}
	}
	return true
}

// appendBounds appends the length bounds of a text field and the value
// bounds of a number field from its max, lte, min, gte and len rules.
func appendBounds(b []byte, f *models.Field, typ string) []byte {
	text := typ == "string" || typ == "email" || typ == "url"
	num := typ == "integer" || typ == "float" || (typ == "choice" && isNumberKind(f.Type))
	if !text && !num {
		return b
	}
	var lo, hi string
	for _, r := range fieldRules(f) {
		if r.Param == "" {
			continue
		}
		if text {
			if n, err := strconv.Atoi(r.Param); err != nil || n < 0 {
				continue
			}
		} else if _, err := strconv.ParseFloat(r.Param, 64); err != nil || !json.Valid([]byte(r.Param)) {
			continue
		}
		switch r.Name {
		case "max", "lte":
			hi = r.Param
		case "min", "gte":
			lo = r.Param
		case "len", "eq":
			if text && r.Name == "eq" {
				continue // eq on text is a value, not a length
			}
			lo, hi = r.Param, r.Param
		}
	}
	minKey, maxKey := `,"min_value":`, `,"max_value":`
	if text {
		minKey, maxKey = `,"min_length":`, `,"max_length":`
	}
	if lo != "" {
		b = append(b, minKey...)
		b = append(b, lo...)
	}
	if hi != "" {
		b = append(b, maxKey...)
		b = append(b, hi...)
	}
	return b
}

// metaLabel is DRF's default label of a model field: its verbose name
// (the name with underscores as spaces) with the first letter in upper
// case; the primary key "id" is "ID", as Django names it.
func metaLabel(name string) string {
	if name == "id" {
		return "ID"
	}
	s := strings.ReplaceAll(name, "_", " ")
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
