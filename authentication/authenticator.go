package authentication

import (
	"errors"
	"net/http"

	"github.com/cosworth/cosworth/internal/drfmsg"
	"github.com/cosworth/cosworth/internal/jsonbody"
)

// Authenticator identifies the caller of r. It returns (nil, nil) when r
// carries no credentials it understands, so the next authenticator can try;
// a *FailedError when it recognises the credentials and rejects them; and an
// error wrapping ErrUnavailable when its backend cannot answer (the request
// is then refused with 503, never let through as anonymous).
type Authenticator interface {
	Authenticate(r *http.Request) (*Principal, error)
}

// Challenger is implemented by an Authenticator that names a
// WWW-Authenticate challenge, such as `Bearer realm="api"` or `Token`.
type Challenger interface {
	Challenge() string
}

// AuthenticatorFunc adapts a function to Authenticator.
type AuthenticatorFunc func(r *http.Request) (*Principal, error)

// Authenticate calls f(r).
func (f AuthenticatorFunc) Authenticate(r *http.Request) (*Principal, error) { return f(r) }

// ErrUnavailable is wrapped by errors of an authentication backend (Redis, a
// database, a forward-auth proxy) that cannot answer in time. Middleware
// turns any such error into an *UnavailableError, refused with 503.
var ErrUnavailable = errors.New("cosworth/authentication: backend unavailable")

// UnavailableError is the refusal of a request whose credentials could not be
// checked because a backend failed: a 503 with DRF's ServiceUnavailable
// message and Retry-After; Err (the cause) goes to the log only. The
// request is never treated as anonymous.
type UnavailableError struct {
	Err error
}

// Error returns the public message (the cause is in Err).
func (e *UnavailableError) Error() string { return drfmsg.Unavailable }

// Unwrap returns the cause.
func (e *UnavailableError) Unwrap() error { return e.Err }

// StatusCode is 503.
func (e *UnavailableError) StatusCode() int { return http.StatusServiceUnavailable }

// SetHeaders sets Retry-After.
func (e *UnavailableError) SetHeaders(h http.Header) { h.Set("Retry-After", "1") }

// FailedError is the rejection of credentials an authenticator recognised: a
// 401 with {"detail": Detail} and, when Challenge is set, a WWW-Authenticate
// header. Code is simplejwt's "code" member ("token_not_valid") when set,
// and Messages simplejwt's per-token-class reasons.
//
// Middleware sets Challenge to the first configured authenticator's
// challenge, whichever authenticator failed, as DRF does; an authenticator
// need not set it.
type FailedError struct {
	Detail    string
	Code      string
	Challenge string
	Messages  []TokenMessage
}

// TokenMessage is one entry of simplejwt's "messages" list: why a token was
// not valid as a given token class.
type TokenMessage struct {
	TokenClass string // "AccessToken"
	TokenType  string // "access"
	Message    string // "Token is invalid or expired"
}

// AppendJSON appends {"detail": ..., "code": ..., "messages": [...]},
// leaving out the members that are not set.
func (e *FailedError) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"detail":`...)
	dst = jsonbody.AppendString(dst, e.Detail)
	if e.Code != "" {
		dst = append(dst, `,"code":`...)
		dst = jsonbody.AppendString(dst, e.Code)
	}
	if len(e.Messages) > 0 {
		dst = append(dst, `,"messages":[`...)
		for i, m := range e.Messages {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"token_class":`...)
			dst = jsonbody.AppendString(dst, m.TokenClass)
			dst = append(dst, `,"token_type":`...)
			dst = jsonbody.AppendString(dst, m.TokenType)
			dst = append(dst, `,"message":`...)
			dst = jsonbody.AppendString(dst, m.Message)
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	return append(dst, '}')
}

// Error returns Detail.
func (e *FailedError) Error() string { return e.Detail }

// StatusCode is 401, or 403 when no challenge can be offered (DRF's rule).
func (e *FailedError) StatusCode() int {
	if e.Challenge == "" {
		return http.StatusForbidden
	}
	return http.StatusUnauthorized
}

// SetHeaders sets WWW-Authenticate.
func (e *FailedError) SetHeaders(h http.Header) {
	if e.Challenge != "" {
		h["Www-Authenticate"] = []string{e.Challenge} // h.Set's canonical key, without its allocation
	}
}
