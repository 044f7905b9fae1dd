package apitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// Response is one response, read completely. Its assertions stop the test
// (t.Fatalf) with the request line and the whole response (status,
// headers, body) when they fail, and return the response for chaining:
//
//	c.Post("/api/books/", book).AssertStatus(t, 201).AssertJSON(t, want)
type Response struct {
	Status int
	Header http.Header
	Body   []byte
	// Err says why the request could not be sent or its response read
	// (then Status is 0); every assertion fails on it.
	Err error

	method, path string
}

// JSON decodes the body into v. It returns Err when the request failed.
func (r *Response) JSON(v any) error {
	if r.Err != nil {
		return fmt.Errorf("%s %s: %w", r.method, r.path, r.Err)
	}
	if err := json.Unmarshal(r.Body, v); err != nil {
		return fmt.Errorf("%s %s: body does not decode into %T: %w", r.method, r.path, v, err)
	}
	return nil
}

// AssertStatus fails the test unless the status code is want.
func (r *Response) AssertStatus(t testing.TB, want int) *Response {
	t.Helper()
	r.sent(t)
	if r.Status != want {
		r.fatalf(t, "status %d, want %d", r.Status, want)
	}
	return r
}

// AssertHeader fails the test unless header key has the value want ("" for
// a header that must be absent).
func (r *Response) AssertHeader(t testing.TB, key, want string) *Response {
	t.Helper()
	r.sent(t)
	if got := r.Header.Get(key); got != want {
		r.fatalf(t, "header %s %q, want %q", key, got, want)
	}
	return r
}

// AssertJSON fails the test unless the body equals want as JSON values:
// key order, spacing and number spelling (1 and 1.0) do not count. want is
// JSON text (a string or []byte) or a value encoded with encoding/json
// (a map, a slice, a struct).
func (r *Response) AssertJSON(t testing.TB, want any) *Response {
	t.Helper()
	r.sent(t)
	var wantJSON []byte
	switch w := want.(type) {
	case string:
		wantJSON = []byte(w)
	case []byte:
		wantJSON = w
	default:
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(want); err != nil {
			t.Fatalf("apitest: AssertJSON: encoding want: %v", err)
		}
		wantJSON = buf.Bytes()
	}
	w, err := decode(wantJSON)
	if err != nil {
		t.Fatalf("apitest: AssertJSON: want is not JSON: %v: %s", err, wantJSON)
	}
	g, err := decode(r.Body)
	if err != nil {
		r.fatalf(t, "body is not JSON: %v", err)
	}
	if !reflect.DeepEqual(g, w) {
		r.fatalf(t, "JSON body differs\nwant %s", indent(wantJSON))
	}
	return r
}

// AssertDetail fails the test unless the body is a JSON object whose
// "detail" is want, DRF's shape for errors that are not about fields:
// "Not found.", "Authentication credentials were not provided.", ...
func (r *Response) AssertDetail(t testing.TB, want string) *Response {
	t.Helper()
	r.sent(t)
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		r.fatalf(t, "body is not a JSON object: %v", err)
	}
	if got, ok := m["detail"].(string); !ok || got != want {
		r.fatalf(t, "detail %v, want %q", m["detail"], want)
	}
	return r
}

// AssertFieldError fails the test unless the body holds message among the
// errors of field, DRF's validation error shape ({"title": ["This field is
// required."]}). field may be a dotted path into nested serializers and
// lists ("author.name", "items.0.quantity"); "non_field_errors" is a field
// like the others.
func (r *Response) AssertFieldError(t testing.TB, field, message string) *Response {
	t.Helper()
	r.sent(t)
	var v any
	if err := json.Unmarshal(r.Body, &v); err != nil {
		r.fatalf(t, "body is not JSON: %v", err)
	}
	for _, k := range strings.Split(field, ".") {
		switch n := v.(type) {
		case map[string]any:
			v = n[k]
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(n) {
				v = nil
			} else {
				v = n[i]
			}
		default:
			v = nil
		}
	}
	var got []string
	switch n := v.(type) {
	case string:
		got = []string{n}
	case []any:
		for _, m := range n {
			if s, ok := m.(string); ok {
				got = append(got, s)
			}
		}
	}
	if !slices.Contains(got, message) {
		r.fatalf(t, "errors of %q are %q, want one %q", field, got, message)
	}
	return r
}

// String returns the response as text: status line, headers, and the body
// (indented when it is JSON, cut after 8 KiB).
func (r *Response) String() string {
	var b strings.Builder
	if r.Err != nil {
		fmt.Fprintf(&b, "no response: %v\n", r.Err)
	}
	fmt.Fprintf(&b, "HTTP %d %s\n", r.Status, http.StatusText(r.Status))
	for _, k := range slices.Sorted(maps.Keys(r.Header)) {
		for _, v := range r.Header[k] {
			fmt.Fprintf(&b, "%s: %s\n", k, v)
		}
	}
	if len(r.Body) > 0 {
		b.WriteString("\n")
		b.Write(indent(r.Body))
	}
	return b.String()
}

// sent fails the test when the request could not be sent.
func (r *Response) sent(t testing.TB) {
	t.Helper()
	if r.Err != nil {
		t.Fatalf("%s %s: %v", r.method, r.path, r.Err)
	}
}

func (r *Response) fatalf(t testing.TB, format string, args ...any) {
	t.Helper()
	t.Fatalf("%s %s: %s\n--- response\n%s", r.method, r.path, fmt.Sprintf(format, args...), r)
}

// indent returns JSON indented, anything else as is; both cut after 8 KiB.
func indent(b []byte) []byte {
	var buf bytes.Buffer
	if json.Indent(&buf, b, "", "  ") == nil {
		b = buf.Bytes()
	}
	const max = 8 << 10
	if len(b) > max {
		return append(b[:max:max], fmt.Sprintf("\n... (%d more bytes)", len(b)-max)...)
	}
	return b
}

// number is a JSON number in canonical form (a distinct type, so that the
// number 1 and the string "1" differ).
type number string

// decode parses JSON with every number as a canonical number, so that 1,
// 1.0 and 1e0 compare equal and large integers keep their digits.
func decode(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if d.More() {
		return nil, fmt.Errorf("data after the JSON value")
	}
	return canonical(v), nil
}

func canonical(v any) any {
	switch n := v.(type) {
	case json.Number:
		if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
			return number(strconv.FormatInt(i, 10))
		}
		if f, err := strconv.ParseFloat(string(n), 64); err == nil {
			if f == float64(int64(f)) && f >= -1<<53 && f <= 1<<53 {
				return number(strconv.FormatInt(int64(f), 10))
			}
			return number(strconv.FormatFloat(f, 'g', -1, 64))
		}
		return number(n)
	case map[string]any:
		for k, e := range n {
			n[k] = canonical(e)
		}
	case []any:
		for i, e := range n {
			n[i] = canonical(e)
		}
	}
	return v
}
