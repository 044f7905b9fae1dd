package formbody_test

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cosworth/cosworth/internal/formbody"
)

func TestRead(t *testing.T) {
	const form = "application/x-www-form-urlencoded"
	r := httptest.NewRequest("POST", "/", strings.NewReader("a=1&b=x+y&a=2&c=%ZZ&&d"))
	r.Header.Set("Content-Type", form)
	f, err := formbody.Read(r, 100)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(f.Keys, ","); got != "a,b,c,d" || f.Values["a"] != "2" || f.Values["b"] != "x y" || f.Values["c"] != "%ZZ" || f.Values["d"] != "" {
		t.Errorf("Read = %v %v", f.Keys, f.Values)
	}
	r = httptest.NewRequest("POST", "/", strings.NewReader(strings.Repeat("x", 101)))
	r.Header.Set("Content-Type", form)
	if _, err := formbody.Read(r, 100); !errors.Is(err, formbody.ErrTooLarge) {
		t.Errorf("over the limit: %v", err)
	}
	var b strings.Builder
	for i := range formbody.MaxFields + 1 {
		b.WriteString("f" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + strings.Repeat("y", i/182) + "=1&")
	}
	r = httptest.NewRequest("POST", "/", strings.NewReader(b.String()))
	r.Header.Set("Content-Type", form)
	if f, err := formbody.Read(r, 1<<20); err == nil && len(f.Keys) > formbody.MaxFields {
		t.Errorf("%d fields read", len(f.Keys))
	}
	r = httptest.NewRequest("POST", "/", strings.NewReader("--x\r\nbad"))
	r.Header.Set("Content-Type", "multipart/form-data; boundary=x")
	if _, err := formbody.Read(r, 100); !errors.Is(err, formbody.ErrMalformed) {
		t.Errorf("bad multipart: %v", err)
	}
}
