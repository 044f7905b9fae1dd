package authentication

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"golang.org/x/oauth2"

	"github.com/cosworth/cosworth/internal/httperror"
	"github.com/cosworth/cosworth/internal/jsonbody"
)

// OAuthProvider is an identity provider a browser logs in with through
// OAuth 2.0's authorization-code flow (OAuthLogin). OIDCProvider is the
// generic OpenID Connect one; a provider without OpenID Connect (GitHub,
// say) implements it by reading its user API in Identity.
type OAuthProvider interface {
	// OAuth2Config returns the client configuration: endpoints, client id
	// and secret, redirect URL and scopes.
	OAuth2Config(ctx context.Context) (*oauth2.Config, error)
	// AuthCodeOptions returns extra parameters of the authorization
	// request for nonce (OpenID Connect's "nonce"), or nil.
	AuthCodeOptions(nonce string) []oauth2.AuthCodeOption
	// Identity returns who tok belongs to, checking nonce where the
	// provider carries it back.
	Identity(ctx context.Context, tok *oauth2.Token, nonce string) (*Identity, error)
}

// Identity is a user as a provider names it.
type Identity struct {
	Username string
	Groups   []string
}

// OIDCProvider is the generic OpenID Connect OAuthProvider: endpoints come
// from the issuer's discovery document and the identity from the ID token,
// verified as OIDC verifies access tokens (the issuer's keys, RS256, ES256
// or EdDSA, iss, exp, nbf, iat) with ClientID as its audience and the
// login's nonce.
type OIDCProvider struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	// RedirectURL is the absolute URL of OAuthLogin's callback, as
	// registered with the provider.
	RedirectURL string
	// Scopes requested: "openid", "profile" and "email" when empty.
	Scopes []string
	// UsernameClaim names the ID token claim giving the username: "sub"
	// when empty. GroupsClaim names a claim listing groups.
	UsernameClaim, GroupsClaim string
	// HTTPClient talks to the provider: one with a DefaultOIDCTimeout
	// timeout when nil.
	HTTPClient *http.Client

	verifier *OIDC
}

var _ OAuthProvider = (*OIDCProvider)(nil)

func (p *OIDCProvider) oidc() *OIDC {
	if p.verifier == nil {
		// Set once by OAuthLogin.setup before concurrent use.
		p.verifier = &OIDC{Issuer: p.Issuer, Audience: p.ClientID, HTTPClient: p.HTTPClient,
			UsernameClaim: p.UsernameClaim, GroupsClaim: p.GroupsClaim}
		p.verifier.setup()
	}
	return p.verifier
}

// OAuth2Config implements OAuthProvider.
func (p *OIDCProvider) OAuth2Config(ctx context.Context) (*oauth2.Config, error) {
	d, err := p.oidc().endpoints(ctx)
	if err != nil {
		return nil, err
	}
	scopes := p.Scopes
	if len(scopes) == 0 {
		scopes = []string{"openid", "profile", "email"}
	}
	return &oauth2.Config{
		ClientID:     p.ClientID,
		ClientSecret: p.ClientSecret,
		RedirectURL:  p.RedirectURL,
		Scopes:       scopes,
		Endpoint:     oauth2.Endpoint{AuthURL: d.AuthorizationEndpoint, TokenURL: d.TokenEndpoint},
	}, nil
}

// AuthCodeOptions implements OAuthProvider: the nonce parameter.
func (p *OIDCProvider) AuthCodeOptions(nonce string) []oauth2.AuthCodeOption {
	return []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("nonce", nonce)}
}

// Identity implements OAuthProvider from the token response's id_token.
func (p *OIDCProvider) Identity(ctx context.Context, tok *oauth2.Token, nonce string) (*Identity, error) {
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, errors.New("cosworth/authentication: the provider returned no id_token")
	}
	o := p.oidc()
	claims, err := o.verify(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("cosworth/authentication: id_token: %w", err)
	}
	if got, _ := claims["nonce"].(string); subtle.ConstantTimeCompare([]byte(got), []byte(nonce)) != 1 {
		return nil, errors.New("cosworth/authentication: id_token nonce does not match")
	}
	name, _ := claims[o.usernameClaim()].(string)
	if name == "" || len(name) > 150 {
		return nil, errors.New("cosworth/authentication: id_token names no user")
	}
	return &Identity{Username: name, Groups: o.groups(claims)}, nil
}

// OAuthLogin logs a browser in with an OAuthProvider and answers with the
// service's own simplejwt token pair: StartHandler redirects to the
// provider with a random state, a PKCE (S256) challenge and a nonce, kept
// in a short-lived HttpOnly cookie; CallbackHandler checks the state
// against the cookie, exchanges the code with the PKCE verifier, asks the
// provider who logged in, finds (or, with CreateUsers, creates) the user
// of that username in DB, and answers 200 {"refresh": ..., "access": ...}
// as JWT.ObtainPairHandler does.
type OAuthLogin struct {
	Provider OAuthProvider
	JWT      *JWT
	DB       bun.IDB
	// CreateUsers creates an active, non-staff user without a usable
	// password for a username seen the first time.
	CreateUsers bool
	// CookieName holds the login's state: "cosworth_oauth" when empty.
	CookieName string
	// MaxAge bounds a login from start to callback: 10 minutes when zero.
	MaxAge time.Duration
}

func (l *OAuthLogin) cookieName() string {
	if l.CookieName == "" {
		return "cosworth_oauth"
	}
	return l.CookieName
}

func (l *OAuthLogin) check() {
	if l.Provider == nil || l.JWT == nil || l.JWT.Key == nil || l.DB == nil {
		panic("cosworth/authentication: OAuthLogin needs a Provider, a JWT with a Key and a DB")
	}
	if p, ok := l.Provider.(*OIDCProvider); ok {
		p.oidc()
	}
}

// random returns n random bytes in base64url.
func random(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// StartHandler answers GET with a 302 to the provider's authorization
// endpoint. A provider that cannot be reached is a 503.
func (l *OAuthLogin) StartHandler() http.Handler {
	l.check()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", "GET")
			jsonbody.Detail(w, http.StatusMethodNotAllowed, `Method "`+r.Method+`" not allowed.`)
			return
		}
		cfg, err := l.Provider.OAuth2Config(r.Context())
		if err != nil {
			httperror.Write(w, r, &UnavailableError{Err: err})
			return
		}
		state, nonce, verifier := random(24), random(24), oauth2.GenerateVerifier()
		maxAge := l.MaxAge
		if maxAge <= 0 {
			maxAge = 10 * time.Minute
		}
		http.SetCookie(w, &http.Cookie{
			Name: l.cookieName(), Value: state + "." + nonce + "." + verifier,
			Path: "/", MaxAge: int(maxAge / time.Second), HttpOnly: true, Secure: r.TLS != nil,
			SameSite: http.SameSiteLaxMode, // sent on the provider's top-level redirect back
		})
		opts := append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier)}, l.Provider.AuthCodeOptions(nonce)...)
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, cfg.AuthCodeURL(state, opts...), http.StatusFound)
	})
}

// Messages of the callback.
const (
	msgOAuthState  = "Invalid or expired login state."
	msgOAuthFailed = "Login with the identity provider failed."
)

// CallbackHandler answers the provider's redirect (GET ?code=&state=)
// with 200 {"refresh", "access"}. A missing or mismatched state or an
// error from the provider is a 400; a code the provider refuses or an
// identity that does not verify is a 401; an unknown user (without
// CreateUsers) or an inactive one is a 401 as ObtainPairHandler answers.
func (l *OAuthLogin) CallbackHandler() http.Handler {
	l.check()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", "GET")
			jsonbody.Detail(w, http.StatusMethodNotAllowed, `Method "`+r.Method+`" not allowed.`)
			return
		}
		// The login state is used once, whatever happens next.
		http.SetCookie(w, &http.Cookie{Name: l.cookieName(), Path: "/", MaxAge: -1, HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
		w.Header().Set("Cache-Control", "no-store")
		c, err := r.Cookie(l.cookieName())
		q := r.URL.Query()
		if err != nil {
			httperror.Write(w, r, &requestError{status: http.StatusBadRequest, detail: msgOAuthState})
			return
		}
		parts := strings.Split(c.Value, ".")
		state := q.Get("state")
		if len(parts) != 3 || state == "" || subtle.ConstantTimeCompare([]byte(state), []byte(parts[0])) != 1 {
			httperror.Write(w, r, &requestError{status: http.StatusBadRequest, detail: msgOAuthState})
			return
		}
		if q.Get("error") != "" || q.Get("code") == "" {
			httperror.Write(w, r, &requestError{status: http.StatusBadRequest, detail: msgOAuthFailed})
			return
		}
		ctx := r.Context()
		cfg, err := l.Provider.OAuth2Config(ctx)
		if err != nil {
			httperror.Write(w, r, &UnavailableError{Err: err})
			return
		}
		if hc := l.httpClient(); hc != nil {
			ctx = context.WithValue(ctx, oauth2.HTTPClient, hc)
		}
		ectx, cancel := context.WithTimeout(ctx, DefaultOIDCTimeout)
		defer cancel()
		tok, err := cfg.Exchange(ectx, q.Get("code"), oauth2.VerifierOption(parts[2]))
		if err != nil {
			httperror.Write(w, r, &FailedError{Detail: msgOAuthFailed, Challenge: l.JWT.Challenge()})
			return
		}
		id, err := l.Provider.Identity(ectx, tok, parts[1])
		if err != nil {
			httperror.Write(w, r, &FailedError{Detail: msgOAuthFailed, Challenge: l.JWT.Challenge()})
			return
		}
		p := &Principal{Username: id.Username}
		lctx, lcancel := lookupContext(r.Context(), 0)
		defer lcancel()
		u, err := providerUser(lctx, l.DB, l.CreateUsers, p)
		if err != nil {
			var f *FailedError
			if errors.As(err, &f) {
				err = &FailedError{Detail: msgNoActiveAccount, Challenge: l.JWT.Challenge()}
			} else {
				err = &UnavailableError{Err: err}
			}
			httperror.Write(w, r, err)
			return
		}
		refresh, access, err := l.JWT.IssuePair(u.ID, tokenVersionClaim(u))
		if err != nil {
			httperror.Write(w, r, err)
			return
		}
		writeJSON(w, "refresh", refresh, "access", access)
	})
}

// httpClient is the provider's HTTP client for the code exchange, when it
// has one.
func (l *OAuthLogin) httpClient() *http.Client {
	if p, ok := l.Provider.(*OIDCProvider); ok {
		return p.oidc().client
	}
	return nil
}
