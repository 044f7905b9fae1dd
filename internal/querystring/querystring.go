// Package querystring reads a request's raw query string the way Django's
// QueryDict does, for the filters and paginators: Get returns one
// parameter without parsing the whole query (and without allocating for
// a value that needs no decoding), Unescape decodes one component.
package querystring

import (
	"strings"
	"unicode/utf8"
)

// Get returns the last value of key in the raw query string, as Django's
// QueryDict.get does (a repeated parameter: the last one wins). Pairs are
// separated by '&' only; keys and values are unescaped as
// application/x-www-form-urlencoded (Unescape), and invalid UTF-8 becomes
// U+FFFD as Django decodes it, escaped or not. It allocates only when the
// value needs decoding.
func Get(raw, key string) (string, bool) {
	var (
		val   string
		found bool
	)
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		k, v, _ := strings.Cut(pair, "=")
		if k != key && (!strings.ContainsAny(k, "%+") && utf8.ValidString(k) || Unescape(k) != key) {
			continue
		}
		val, found = v, true
	}
	if !found {
		return "", false
	}
	return Unescape(val), true
}

// Unescape decodes a form-encoded query component the way Python's
// unquote_plus does: '+' is a space, a valid %XX is its byte, an invalid
// one is kept literally, and invalid UTF-8 becomes U+FFFD. It returns s
// itself, without allocating, when there is nothing to decode.
func Unescape(s string) string {
	if !strings.ContainsAny(s, "%+") {
		if utf8.ValidString(s) {
			return s
		}
		return strings.ToValidUTF8(s, "\uFFFD")
	}
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

// PlainName reports whether name can be a query parameter's name as it
// is: not empty, and only letters, digits and _ . ~ - (URL-unreserved
// characters), so links carry it without escaping and Get finds it.
func PlainName(name string) bool {
	return name != "" && strings.Trim(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.~-") == ""
}
