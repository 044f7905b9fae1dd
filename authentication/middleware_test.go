package authentication_test

import (
	"net/http"
	"net/http/httptest"
	"reflect"
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

// TestForceAuthenticate checks that Middleware keeps a principal set with
// ForceAuthenticate (DRF's force_authenticate): no authenticator runs, even
// for credentials that would fail, and nothing is allocated; a principal
// set with WithPrincipal does not bypass the authenticators.
func TestForceAuthenticate(t *testing.T) {
	forced := &authentication.Principal{ID: 1, Username: "forced"}
	calls := 0
	auth := authentication.AuthenticatorFunc(func(r *http.Request) (*authentication.Principal, error) {
		calls++
		if r.Header.Get("Authorization") != "" {
			return nil, &authentication.FailedError{Detail: "Invalid token."}
		}
		return nil, nil
	})
	var seen *authentication.Principal
	var seenErr error
	var configured bool
	h := authentication.Middleware(auth)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen, seenErr = authentication.PrincipalFrom(r.Context()), authentication.ErrorFrom(r.Context())
		configured = authentication.HasAuthenticators(r.Context())
	}))
	for _, tc := range []struct {
		name      string
		ctx       func(*http.Request) *http.Request
		authz     string
		want      *authentication.Principal
		wantCalls int
		wantErr   bool
	}{
		{"forced", func(r *http.Request) *http.Request {
			return r.WithContext(authentication.ForceAuthenticate(r.Context(), forced))
		}, "", forced, 0, false},
		{"forced with bad credentials", func(r *http.Request) *http.Request {
			return r.WithContext(authentication.ForceAuthenticate(r.Context(), forced))
		}, "Token bad", forced, 0, false},
		{"forced nil is anonymous", func(r *http.Request) *http.Request {
			return r.WithContext(authentication.ForceAuthenticate(r.Context(), nil))
		}, "", nil, 1, false},
		{"WithPrincipal is re-authenticated", func(r *http.Request) *http.Request {
			return r.WithContext(authentication.WithPrincipal(r.Context(), forced))
		}, "", nil, 1, false},
		{"WithPrincipal with bad credentials fails", func(r *http.Request) *http.Request {
			return r.WithContext(authentication.WithPrincipal(r.Context(), forced))
		}, "Token bad", nil, 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.ctx(httptest.NewRequest(http.MethodGet, "/", nil))
			if tc.authz != "" {
				r.Header.Set("Authorization", tc.authz)
			}
			calls = 0
			h.ServeHTTP(httptest.NewRecorder(), r)
			// A forced principal arrives as a copy of its own (equal, not
			// the same pointer).
			if !reflect.DeepEqual(seen, tc.want) || (seen != nil && seen == tc.want) || calls != tc.wantCalls || (seenErr != nil) != tc.wantErr || !configured {
				t.Fatalf("principal %v, error %v, %d authenticator calls, configured %v; want %v, error %v, %d calls, configured",
					seen, seenErr, calls, configured, tc.want, tc.wantErr, tc.wantCalls)
			}
		})
	}
	if raceEnabled {
		return
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r = r.WithContext(authentication.ForceAuthenticate(r.Context(), forced))
	w := httptest.NewRecorder()
	if got := testing.AllocsPerRun(100, func() { h.ServeHTTP(w, r) }); got != 0 {
		t.Errorf("Middleware allocates %.0f times for a forced principal, want 0", got)
	}
}
