package views

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

func TestReadBody(t *testing.T) {
	tests := []struct {
		name   string
		ct     string
		body   string
		chunk  bool // no Content-Length (as a chunked body)
		limit  int64
		want   string
		status int // expected error status, 0 for none
	}{
		{name: "json", ct: "application/json", body: `{"a":1}`, want: `{"a":1}`},
		{name: "json with charset", ct: "application/json; charset=utf-8", body: `{"a":1}`, want: `{"a":1}`},
		{name: "json upper case", ct: "Application/JSON", body: `{}`, want: `{}`},
		{name: "wildcard", ct: "*/*", body: `[]`, want: `[]`},
		{name: "empty body no type", body: "", want: `{}`},
		{name: "empty body text type", ct: "text/plain", body: "", want: `{}`},
		{name: "empty chunked body", ct: "application/json", body: "", chunk: true, want: `{}`},
		{name: "text plain", ct: "text/plain", body: "hello", status: 415},
		{name: "no content type", body: `{"a":1}`, status: 415},
		{name: "json suffix is not json", ct: "application/vnd.api+json", body: `{}`, status: 415},
		{name: "too large by length", ct: "application/json", body: strings.Repeat("a", 11), limit: 10, status: 413},
		{name: "exactly the limit", ct: "application/json", body: strings.Repeat("a", 10), limit: 10, want: strings.Repeat("a", 10)},
		{name: "too large chunked", ct: "application/json", body: strings.Repeat("a", 5000), chunk: true, limit: 4097, status: 413},
		{name: "large chunked within limit", ct: "application/json", body: strings.Repeat("a", 9000), chunk: true, limit: 9000, want: strings.Repeat("a", 9000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tt.body))
			if tt.chunk {
				r.ContentLength = -1
				r.Body = struct{ readCloser }{readCloser{iotest.HalfReader(strings.NewReader(tt.body))}}
			}
			if tt.ct != "" {
				r.Header.Set("Content-Type", tt.ct)
			}
			limit := tt.limit
			if limit == 0 {
				limit = defaultMaxBody
			}
			buf := make([]byte, 0, 16)
			got, err := readBody(r, limit, &buf, nil)
			if tt.status != 0 {
				var se interface{ StatusCode() int }
				if !errors.As(err, &se) || se.StatusCode() != tt.status {
					t.Fatalf("readBody error = %v, want status %d", err, tt.status)
				}
				return
			}
			if err != nil {
				t.Fatalf("readBody: %v", err)
			}
			if string(got) != tt.want {
				t.Fatalf("readBody = %q, want %q", got, tt.want)
			}
		})
	}
}

type readCloser struct {
	r interface{ Read([]byte) (int, error) }
}

func (rc readCloser) Read(p []byte) (int, error) { return rc.r.Read(p) }
func (readCloser) Close() error                  { return nil }

func TestUnsupportedMediaTypeMessage(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("x"))
	r.Header.Set("Content-Type", "text/plain")
	buf := []byte{}
	_, err := readBody(r, 100, &buf, nil)
	if err == nil || err.Error() != `Unsupported media type "text/plain" in request.` {
		t.Fatalf("error = %v", err)
	}
}

func TestAllowed(t *testing.T) {
	tests := []struct {
		c    caps
		want string
	}{
		{capList, "GET, HEAD, OPTIONS"},
		{capCreate, "POST, OPTIONS"},
		{capRetrieve, "GET, HEAD, OPTIONS"},
		{capUpdate, "PUT, PATCH, OPTIONS"},
		{capDestroy, "DELETE, OPTIONS"},
		{capList | capCreate, "GET, POST, HEAD, OPTIONS"},
		{capRetrieve | capUpdate, "GET, PUT, PATCH, HEAD, OPTIONS"},
		{capRetrieve | capDestroy, "GET, DELETE, HEAD, OPTIONS"},
		{capRetrieve | capUpdate | capDestroy, "GET, PUT, PATCH, DELETE, HEAD, OPTIONS"},
	}
	for _, tt := range tests {
		allow, _ := allowed(tt.c)
		if allow[0] != tt.want {
			t.Errorf("allowed(%b) = %q, want %q", tt.c, allow[0], tt.want)
		}
	}
}

func TestSplitCamel(t *testing.T) {
	for in, want := range map[string]string{"Book": "Book", "BookAuthor": "Book Author", "HTTPLog": "HTTP Log", "": ""} {
		if got := splitCamel(in); got != want {
			t.Errorf("splitCamel(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLookupParser(t *testing.T) {
	type id16 int16
	tests := []struct {
		typ  reflect.Type
		in   string
		want any
		ok   bool
	}{
		{reflect.TypeFor[int64](), "42", int64(42), true},
		{reflect.TypeFor[int64](), "-1", int64(-1), true},
		{reflect.TypeFor[int64](), "4x", nil, false},
		{reflect.TypeFor[id16](), "40000", nil, false},
		{reflect.TypeFor[*int32](), "7", int64(7), true},
		{reflect.TypeFor[uint32](), "7", uint64(7), true},
		{reflect.TypeFor[uint32](), "-7", nil, false},
		{reflect.TypeFor[string](), "abc", "abc", true},
		{reflect.TypeFor[string](), "", nil, false},
		{reflect.TypeFor[netip.Addr](), "127.0.0.1", netip.MustParseAddr("127.0.0.1"), true},
		{reflect.TypeFor[netip.Addr](), "nope", nil, false},
	}
	for _, tt := range tests {
		got, ok := lookupParser(reflect.TypeFor[struct{}](), "id", tt.typ)(tt.in)
		if ok != tt.ok || (ok && got != tt.want) {
			t.Errorf("%s(%q) = %v, %v; want %v, %v", tt.typ, tt.in, got, ok, tt.want, tt.ok)
		}
	}
	defer func() {
		if v, _ := recover().(string); !strings.HasPrefix(v, "cosworth/views: lookup field \"at\"") {
			t.Fatalf("panic %q", v)
		}
	}()
	lookupParser(reflect.TypeFor[struct{}](), "at", reflect.TypeFor[[]byte]())
}
