package querystring_test

import (
	"testing"

	"github.com/cosworth/cosworth/internal/querystring"
)

func TestGet(t *testing.T) {
	tests := []struct {
		raw, key, want string
		found          bool
	}{
		{"", "a", "", false},
		{"a=1", "a", "1", true},
		{"a=1&a=2", "a", "2", true}, // the last wins, as Django's QueryDict.get
		{"a=1&b=2", "b", "2", true},
		{"ab=1", "a", "", false},
		{"a", "a", "", true},
		{"a=", "a", "", true},
		{"%61=x", "a", "x", true},
		{"a=x+y%2Cz", "a", "x y,z", true},
		{"a=%zz", "a", "%zz", true},     // an invalid escape is kept, as Python's unquote
		{"a=%FF", "a", "\uFFFD", true},  // invalid UTF-8 becomes U+FFFD
		{"a=\xff", "a", "\uFFFD", true}, // unescaped too (pagination once kept it)
		{"a=1;b=2", "a", "1;b=2", true}, // only '&' separates pairs
		{"a=%00", "a", "\x00", true},
		{"\xff=1", "\uFFFD", "1", true}, // keys are decoded the same way
	}
	for _, tt := range tests {
		got, found := querystring.Get(tt.raw, tt.key)
		if got != tt.want || found != tt.found {
			t.Errorf("Get(%q, %q) = %q, %v; want %q, %v", tt.raw, tt.key, got, found, tt.want, tt.found)
		}
	}
	raw := "search=go&ordering=-id&page=2&author=3"
	if n := testing.AllocsPerRun(100, func() { _, _ = querystring.Get(raw, "author") }); n != 0 {
		t.Errorf("Get of a plain value allocates %v times", n)
	}
}

func TestUnescape(t *testing.T) {
	for in, want := range map[string]string{
		"":          "",
		"plain":     "plain",
		"a+b":       "a b",
		"%41%2b":    "A+",
		"%4":        "%4",
		"100%":      "100%",
		"%e2%82%ac": "€",
		"%e2%82":    "\uFFFD",
		"caf\xe9":   "caf\uFFFD",
	} {
		if got := querystring.Unescape(in); got != want {
			t.Errorf("Unescape(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPlainName(t *testing.T) {
	for name, want := range map[string]bool{
		"q": true, "page_size": true, "sort.by": true, "a~b-c": true, "Take2": true,
		"": false, "a b": false, "a&b": false, "a=b": false, "é": false, "a%20": false, "a+b": false,
	} {
		if got := querystring.PlainName(name); got != want {
			t.Errorf("PlainName(%q) = %v, want %v", name, got, want)
		}
	}
}
