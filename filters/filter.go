// Package filters narrows and orders list queries from the query string:
// Search (?search=, case-insensitive contains over whitelisted fields),
// Ordering (?ordering=, whitelisted fields, "-" for descending) and Fields
// (?field=value exact matches, typed by the model field). Every column name
// comes from a whitelist checked against the model's bun schema when the
// filter is built; no user text ever becomes SQL text: columns go into
// queries only as bun.Ident values and user values only as bun's quoted
// arguments.
//
// Fields are named by their JSON names (the struct field's json tag, or
// the Go field name without one), the names clients see. The constructors
// validate their configuration once and return errors that say what is
// wrong and how to fix it; views call them on first use and panic with the
// error's text.
package filters

import (
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/schema"
)

// Filter narrows or orders q from r's query string. It returns a
// *models.ValidationError for a query parameter with a bad value: a 400
// {"field": ["message"]}, with one member for each bad parameter, as
// django-filter's.
type Filter interface {
	Apply(r *http.Request, q *bun.SelectQuery) (*bun.SelectQuery, error)
}

// Compile-time checks of the contracts.
var (
	_ Filter = (*Search)(nil)
	_ Filter = (*Ordering)(nil)
	_ Filter = (*Fields)(nil)
)

// queryValue returns the last value of key in the raw query string, as
// Django's QueryDict.get does (a repeated parameter: the last one wins).
// Pairs are separated by '&' only; keys and values are unescaped as
// application/x-www-form-urlencoded, and invalid UTF-8 becomes U+FFFD as
// Django decodes it. It allocates only when the value needs decoding.
func queryValue(raw, key string) (string, bool) {
	var (
		val   string
		found bool
	)
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		k, v, _ := strings.Cut(pair, "=")
		if k != key && (!strings.ContainsAny(k, "%+") || unescape(k) != key) {
			continue
		}
		val, found = v, true
	}
	if !found {
		return "", false
	}
	if strings.ContainsAny(val, "%+") {
		return unescape(val), true
	}
	if !utf8.ValidString(val) {
		return strings.ToValidUTF8(val, "\uFFFD"), true
	}
	return val, true
}

// unescape decodes a form-encoded query component the way Python's
// unquote_plus does: '+' is a space, a valid %XX is its byte, an invalid one
// is kept literally, and invalid UTF-8 becomes U+FFFD.
func unescape(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '+':
			b.WriteByte(' ')
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
		default:
			b.WriteByte(c)
		}
	}
	out := b.String()
	if !utf8.ValidString(out) {
		out = strings.ToValidUTF8(out, "\uFFFD")
	}
	return out
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// jsonName returns the JSON name of a bun field: its json tag's name, the
// Go field name without one, "" when it is hidden (json:"-").
func jsonName(f *schema.Field) string {
	tag, ok := f.StructField.Tag.Lookup("json")
	if !ok {
		return f.GoName
	}
	name, _, _ := strings.Cut(tag, ",")
	switch name {
	case "-":
		if tag == "-" {
			return ""
		}
	case "":
		return f.GoName
	}
	return name
}

// lookupField returns the field of table whose JSON name is name, or an
// error naming the filter, the model and its fields.
func lookupField(table *schema.Table, what, name string) (*schema.Field, error) {
	if table == nil {
		return nil, errorf("%s: nil table; pass db.Table(reflect.TypeFor[Model]())", what)
	}
	if name != "" {
		for _, f := range table.Fields {
			if jsonName(f) == name {
				return f, nil
			}
		}
	}
	names := make([]string, 0, len(table.Fields))
	for _, f := range table.Fields {
		if n := jsonName(f); n != "" {
			names = append(names, n)
		}
	}
	return nil, errorf("%s field %q is not a field of %s (fields: %s)", what, name, table.Type.Name(), strings.Join(names, ", "))
}

func errorf(format string, args ...any) error {
	return fmt.Errorf("cosworth/filters: "+format, args...)
}
