package authentication

import (
	"errors"
	"fmt"
	"net/http"
)

// Middleware runs auths in order on every request and stores the outcome in
// the request context: the first authenticator that returns a principal or
// an error decides; when none recognises the credentials the request is
// anonymous. A *FailedError gets the first authenticator's challenge (DRF's
// WWW-Authenticate rule); any other error becomes an *UnavailableError (503),
// never anonymous access. It never writes a response itself: views answer an
// authentication error (401, or 503 for an unavailable backend) when they
// start, so a handler that needs no identity is not blocked by it. A request
// whose context comes from [ForceAuthenticate] keeps its principal and runs
// no authenticator.
func Middleware(auths ...Authenticator) func(http.Handler) http.Handler {
	challenge := ""
	if len(auths) > 0 {
		if c, ok := auths[0].(Challenger); ok {
			challenge = c.Challenge()
		}
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if s, ok := r.Context().Value(stateKey{}).(*state); ok && s.forced {
				next.ServeHTTP(w, r) // ForceAuthenticate: the principal stands
				return
			}
			c := &stateContext{Context: r.Context(), st: state{challenge: challenge, configured: len(auths) > 0}}
			for _, a := range auths {
				p, err := a.Authenticate(r)
				if err != nil {
					var f *FailedError
					if errors.As(err, &f) {
						// Copy: the authenticator may return a shared value.
						cp := *f
						cp.Challenge = challenge
						err = &cp
					} else {
						if !errors.Is(err, ErrUnavailable) {
							err = fmt.Errorf("%w: %w", ErrUnavailable, err)
						}
						err = &UnavailableError{Err: err}
					}
					c.st.err = err
					break
				}
				if p != nil {
					c.st.principal = p
					break
				}
			}
			next.ServeHTTP(w, r.WithContext(c))
		})
	}
}
