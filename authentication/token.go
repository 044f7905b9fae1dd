package authentication

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/internal/httperror"
	"github.com/cosworth/cosworth/models"
)

// Token authenticates "Authorization: Token <key>" requests against
// models.Token, as DRF's TokenAuthentication: one indexed query by the
// key's SHA-256 digest (the key itself is never stored), joined with the
// user. Its messages are DRF's: "Invalid token header. No credentials
// provided.", "Invalid token header. Token string should not contain
// spaces.", "Invalid token.", "User inactive or deleted.". Keys of the
// wrong shape are refused without a query.
//
// Choose it for long-lived keys handed to scripts and integrations that a
// user or an admin revokes by deleting the row; choose JWT for short-lived
// stateless tokens, Redis for instant revocation without a database query.
type Token struct {
	DB bun.IDB
	// Keyword is the scheme: "Token" when empty (matched
	// case-insensitively, as DRF does).
	Keyword string
	// Timeout bounds the lookup: DefaultLookupTimeout when zero. A lookup
	// that does not finish in time is a 503.
	Timeout time.Duration

	once  sync.Once
	users *models.PrincipalLookup
}

// DefaultLookupTimeout bounds a database lookup made while
// authenticating (Token, JWT with DB) when no Timeout is set.
const DefaultLookupTimeout = 2 * time.Second

func lookupContext(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		d = DefaultLookupTimeout
	}
	return context.WithTimeout(ctx, d)
}

var (
	_ Authenticator = (*Token)(nil)
	_ Challenger    = (*Token)(nil)
)

// DRF's TokenAuthentication messages.
const (
	msgTokenNoCredentials = "Invalid token header. No credentials provided."
	msgTokenSpaces        = "Invalid token header. Token string should not contain spaces."
	msgTokenInvalid       = "Invalid token."
	msgTokenInvalidChars  = "Invalid token header. Token string should not contain invalid characters."
	msgTokenUserInactive  = "User inactive or deleted."
	msgUnableToLogIn      = "Unable to log in with provided credentials."
)

func (t *Token) keyword() string {
	if t.Keyword == "" {
		return "Token"
	}
	return t.Keyword
}

// Challenge returns the keyword, "Token".
func (t *Token) Challenge() string { return t.keyword() }

// schemeCredentials splits an Authorization header the way DRF does (on
// white space): ok is false when the scheme is not keyword (compared
// case-insensitively); otherwise n is the number of parts.
func schemeCredentials(h, keyword string) (cred string, n int, ok bool) {
	var scheme string
	for f := range strings.FieldsSeq(h) {
		switch n {
		case 0:
			scheme = f
		case 1:
			cred = f
		}
		n++
	}
	if n == 0 || !strings.EqualFold(scheme, keyword) {
		return "", 0, false
	}
	if n != 2 {
		cred = ""
	}
	return cred, n, true
}

// Authenticate implements Authenticator. A database failure is returned
// as an error (Middleware answers 503).
func (t *Token) Authenticate(r *http.Request) (*Principal, error) {
	if t.DB == nil {
		panic("cosworth/authentication: Token needs DB")
	}
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, nil
	}
	key, n, ok := schemeCredentials(h, t.keyword())
	if !ok {
		return nil, nil
	}
	switch {
	case n == 1:
		return nil, &FailedError{Detail: msgTokenNoCredentials}
	case n > 2:
		return nil, &FailedError{Detail: msgTokenSpaces}
	case !utf8.ValidString(key):
		return nil, &FailedError{Detail: msgTokenInvalidChars}
	}
	ctx, cancel := lookupContext(r.Context(), t.Timeout)
	defer cancel()
	t.once.Do(func() { t.users = models.NewPrincipalLookup(t.DB) })
	var u models.Principal
	if err := t.users.ByToken(ctx, key, &u); err != nil {
		if errors.Is(err, models.ErrNotFound) {
			return nil, &FailedError{Detail: msgTokenInvalid}
		}
		return nil, err
	}
	if !u.IsActive {
		return nil, &FailedError{Detail: msgTokenUserInactive}
	}
	return &Principal{ID: u.ID, Username: u.Username, IsStaff: u.IsStaff, Backend: "token"}, nil
}

// ObtainHandler answers POST {"username", "password"} with 200 {"token":
// <key>}, a new models.Token, as DRF's ObtainAuthToken (which returns the
// user's one key; here each call creates a key, since only digests are
// stored). Errors are DRF's: 400 {"username": ["This field is
// required."]}, 400 {"non_field_errors": ["Unable to log in with provided
// credentials."]}, 415 for a non-JSON body. As in DRF, the request's own
// authentication outcome is answered first (a bad Authorization header is
// a 401). Throttle it: the bookstore allows 5 a minute per client (see
// throttling.Handler).
func (t *Token) ObtainHandler() http.Handler {
	if t.DB == nil {
		panic("cosworth/authentication: Token.ObtainHandler needs DB")
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !postOnly(w, r) {
			return
		}
		if err := ErrorFrom(r.Context()); err != nil {
			httperror.Write(w, r, err)
			return
		}
		vals, err := readFields(r, credentialField{name: "username"}, credentialField{name: "password", keepSpace: true})
		if err != nil {
			httperror.Write(w, r, err)
			return
		}
		ctx := r.Context()
		u, err := models.AuthenticateUser(ctx, t.DB, vals[0], vals[1])
		if err != nil {
			if errors.Is(err, models.ErrNotFound) {
				err = nonFieldError(msgUnableToLogIn)
			}
			httperror.Write(w, r, err)
			return
		}
		_, key, err := models.NewToken(ctx, t.DB, u.ID)
		if err != nil {
			httperror.Write(w, r, err)
			return
		}
		writeJSON(w, "token", key)
	})
}
