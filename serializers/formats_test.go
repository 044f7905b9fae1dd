package serializers_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/cosworth/cosworth/serializers"
)

type formats struct {
	Email string `json:"email" validate:"omitempty,email"`
	URL   string `json:"url" validate:"omitempty,url"`
	Num   string `json:"num" validate:"omitempty,numeric"`
	Digit string `json:"digit" validate:"omitempty,number"`
	Hex   string `json:"hex" validate:"hexadecimal"`
}

// Cases from Django's EmailValidator and URLValidator behaviour and
// validator/v10's numeric and number.
func TestFormats(t *testing.T) {
	s := &serializers.Serializer[formats]{}
	tests := []struct {
		field, value string
		ok           bool
	}{
		{"email", "email@here.com", true},
		{"email", "weirder-email@here.and.there.com", true},
		{"email", "email@[127.0.0.1]", true},
		{"email", "email@[2001:dB8::1]", true},
		{"email", "example@valid-----hyphens.com", true},
		{"email", "email@localhost", true},
		{"email", `"test@test"@example.com`, true},
		{"email", "first.o'last+tag{x}@sub.example.co", true},
		{"email", "user@domain.with.idn.tld.उदाहरण.परीक्षा", true},
		{"email", "example@atm." + strings.Repeat("a", 63), true},
		{"email", "abc", false},
		{"email", "abc@", false},
		{"email", "abc@bar", false},
		{"email", "a @x.cz", false},
		{"email", "abc@.com", false},
		{"email", "something@@somewhere.com", false},
		{"email", "email@127.0.0.1", false},
		{"email", "email@[127.0.0.256]", false},
		{"email", "example@invalid-.com", false},
		{"email", "example@-invalid.com", false},
		{"email", "example@inv-.alid-.com", false},
		{"email", "test@example.com\n\n<script src=\"x.js\">", false},
		{"email", "trailingdot@shouldfail.com.", false},
		{"email", ".dot@example.com", false},
		{"email", "two..dots@example.com", false},
		{"email", "example@atm." + strings.Repeat("a", 64), false},
		{"email", strings.Repeat("a", 310) + "@example.com", false},
		{"url", "http://www.djangoproject.com/", true},
		{"url", "HTTP://WWW.DJANGOPROJECT.COM/", true},
		{"url", "http://localhost/", true},
		{"url", "http://www.example.com:8000/test", true},
		{"url", "http://valid-----hyphens.com/", true},
		{"url", "http://200.8.9.10:8000/test", true},
		{"url", "http://example.com?something=value", true},
		{"url", "http://example.com#frag", true},
		{"url", "https://user:pass@example.com/", true},
		{"url", "ftps://example.com/", true},
		{"url", "http://[::ffff:192.9.5.5]", true},
		{"url", "http://xn--7sbb4ac0ad0be6cf.xn--p1ai", true},
		{"url", "http://www.example.com./", true},
		{"url", "foo", false},
		{"url", "http://", false},
		{"url", "http://example", false},
		{"url", "http://.com", false},
		{"url", "http://invalid-.com", false},
		{"url", "http://-invalid.com", false},
		{"url", "file://localhost/path", false},
		{"url", "git://example.com/", false},
		{"url", "http://?", false},
		{"url", "http://#", false},
		{"url", "http:// shouldfail.com", false},
		{"url", "http://foo.bar/foo(bar)baz quux", false},
		{"url", "http://1.1.1.1.1", false},
		{"url", "http://999.999.999.999/", false},
		{"url", "http://3628126748", false},
		{"url", "http://example.com:99999999/", false},
		{"num", "12", true},
		{"num", "-1.5", true},
		{"num", "+0.25", true},
		{"num", "1.", false},
		{"num", ".5", false},
		{"num", "1e5", false},
		{"digit", "0123", true},
		{"digit", "-1", false},
		{"digit", "1.0", false},
		{"hex", "", true}, // blank: no validator runs, as in DRF
		{"hex", "  ", true},
		{"hex", "beef", true},
		{"hex", "xyz", false},
	}
	for _, tt := range tests {
		var v formats
		err := s.Decode(context.Background(), []byte(`{"`+tt.field+`":`+strconv.Quote(tt.value)+`}`), &v, serializers.Create)
		if (err == nil) != tt.ok {
			t.Errorf("%s %q: err = %v, want ok=%v", tt.field, tt.value, err, tt.ok)
		}
	}
}
