package apitest_test

import (
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/cosworth/cosworth/apitest"
)

// fakeT records what an assertion reports and stops it as t.Fatalf does.
type fakeT struct {
	testing.TB
	msg string
}

func (f *fakeT) Helper() {}

func (f *fakeT) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// failure runs assert with a fakeT and returns what it reported ("" when
// it passed).
func failure(assert func(t testing.TB)) string {
	f := &fakeT{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		assert(f)
	}()
	<-done
	return f.msg
}

// fixed answers every request with one status, header and body.
func fixed(status int, body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Allow", "GET, POST")
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	})
}

// TestAssertions checks what each assertion accepts, and that a failure
// names the request and prints the whole response.
func TestAssertions(t *testing.T) {
	res := apitest.New(fixed(400, `{"title": ["This field is required.", "Second."], "author": {"name": ["Too long."]}, "items": [{}, {"qty": ["Bad."]}], "n": 1e3, "big": 9007199254740993, "s": "1", "detail": "Nope."}`)).
		Post("/api/books/?x=1", map[string]any{})
	for _, tc := range []struct {
		name   string
		assert func(t testing.TB)
		fails  string // part of the failure message; "" when it must pass
	}{
		{"status", func(t testing.TB) { res.AssertStatus(t, 400) }, ""},
		{"wrong status", func(t testing.TB) { res.AssertStatus(t, 201) }, "status 400, want 201"},
		{"header", func(t testing.TB) { res.AssertHeader(t, "allow", "GET, POST") }, ""},
		{"absent header", func(t testing.TB) { res.AssertHeader(t, "Location", "") }, ""},
		{"wrong header", func(t testing.TB) { res.AssertHeader(t, "Allow", "GET") }, `header Allow "GET, POST", want "GET"`},
		{"detail", func(t testing.TB) { res.AssertDetail(t, "Nope.") }, ""},
		{"wrong detail", func(t testing.TB) { res.AssertDetail(t, "Not found.") }, `detail Nope., want "Not found."`},
		{"field error", func(t testing.TB) { res.AssertFieldError(t, "title", "Second.") }, ""},
		{"nested field error", func(t testing.TB) { res.AssertFieldError(t, "author.name", "Too long.") }, ""},
		{"list field error", func(t testing.TB) { res.AssertFieldError(t, "items.1.qty", "Bad.") }, ""},
		{"missing field error", func(t testing.TB) { res.AssertFieldError(t, "isbn", "This field is required.") }, `errors of "isbn" are [], want one "This field is required."`},
		{"out of range", func(t testing.TB) { res.AssertFieldError(t, "items.7.qty", "Bad.") }, `errors of "items.7.qty"`},
		{"JSON in another order and spelling", func(t testing.TB) {
			res.AssertJSON(t, `{"detail": "Nope.", "s": "1", "big": 9007199254740993, "n": 1000.0, "items": [{}, {"qty": ["Bad."]}], "author": {"name": ["Too long."]}, "title": ["This field is required.", "Second."]}`)
		}, ""},
		{"JSON number for a string", func(t testing.TB) {
			res.AssertJSON(t, `{"detail": "Nope.", "s": 1, "big": 9007199254740993, "n": 1000, "items": [{}, {"qty": ["Bad."]}], "author": {"name": ["Too long."]}, "title": ["This field is required.", "Second."]}`)
		}, "JSON body differs"},
		{"JSON big integer off by one", func(t testing.TB) {
			res.AssertJSON(t, `{"detail": "Nope.", "s": "1", "big": 9007199254740992, "n": 1000, "items": [{}, {"qty": ["Bad."]}], "author": {"name": ["Too long."]}, "title": ["This field is required.", "Second."]}`)
		}, "JSON body differs"},
		{"JSON list order", func(t testing.TB) {
			res.AssertJSON(t, map[string]any{"detail": "Nope.", "s": "1", "big": 9007199254740993, "n": 1000, "items": []any{map[string]any{}, map[string]any{"qty": []string{"Bad."}}}, "author": map[string]any{"name": []string{"Too long."}}, "title": []string{"Second.", "This field is required."}})
		}, "JSON body differs"},
		{"want is not JSON", func(t testing.TB) { res.AssertJSON(t, `{`) }, "want is not JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg := failure(tc.assert)
			if tc.fails == "" {
				if msg != "" {
					t.Fatalf("failed: %s", msg)
				}
				return
			}
			if !strings.Contains(msg, tc.fails) {
				t.Fatalf("failure %q does not say %q", msg, tc.fails)
			}
			if tc.fails == "want is not JSON" {
				return
			}
			for _, part := range []string{"POST /api/books/?x=1: ", "HTTP 400 Bad Request", "Allow: GET, POST", "Content-Type: application/json", `"detail": "Nope."`} {
				if !strings.Contains(msg, part) {
					t.Errorf("failure lacks %q:\n%s", part, msg)
				}
			}
		})
	}

	notJSON := apitest.New(fixed(502, "<html>bad gateway</html>")).Get("/")
	if msg := failure(func(t testing.TB) { notJSON.AssertDetail(t, "x") }); !strings.Contains(msg, "body is not a JSON object") || !strings.Contains(msg, "<html>bad gateway</html>") {
		t.Errorf("non-JSON body: %s", msg)
	}
	unsent := apitest.New(fixed(200, "{}")).Post("/", make(chan int))
	if msg := failure(func(t testing.TB) { unsent.AssertStatus(t, 200) }); !strings.Contains(msg, "POST /: encoding the body as JSON") {
		t.Errorf("unsent request: %s", msg)
	}
	long := apitest.New(fixed(200, `"`+strings.Repeat("x", 20000)+`"`)).Get("/")
	if msg := failure(func(t testing.TB) { long.AssertStatus(t, 201) }); len(msg) > 9000 || !strings.Contains(msg, "more bytes)") {
		t.Errorf("a long body is not cut: %d bytes", len(msg))
	}
}
