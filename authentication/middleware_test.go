package authentication_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cosworth/cosworth/authentication"
)

// TestMiddlewareAllocs guards what Middleware allocates per request: the
// context carrying the outcome (one allocation, the state included) and
// the request copy (one), for anonymous and authenticated requests alike.
// Storing the state with context.WithValue took three for an
// authenticated request.
func TestMiddlewareAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	user := &authentication.Principal{ID: 7, Username: "ada"}
	auth := authentication.AuthenticatorFunc(func(r *http.Request) (*authentication.Principal, error) {
		if r.Header.Get("Authorization") == "" {
			return nil, nil
		}
		return user, nil
	})
	var seen *authentication.Principal
	h := authentication.Middleware(auth)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := authentication.PrincipalFrom(r.Context()), authentication.ErrorFrom(r.Context())
		if err != nil {
			t.Errorf("ErrorFrom: %v", err)
		}
		seen = p
	}))
	for _, tc := range []struct {
		name  string
		authz string
		want  *authentication.Principal
	}{
		{"anonymous", "", nil},
		{"authenticated", "Token x", user},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			if tc.authz != "" {
				r.Header.Set("Authorization", tc.authz)
			}
			w := httptest.NewRecorder()
			got := testing.AllocsPerRun(100, func() { h.ServeHTTP(w, r) })
			if seen != tc.want {
				t.Fatalf("principal = %v, want %v", seen, tc.want)
			}
			if got > 2 {
				t.Fatalf("Middleware allocates %.0f times per request, want at most 2", got)
			}
		})
	}
}
