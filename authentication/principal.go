// Package authentication identifies the caller of a request. An
// Authenticator turns credentials (a JWT, a DRF token, a Redis-held token,
// or a forward-auth proxy's verdict) into a Principal; Middleware runs the
// configured authenticators in order, as DRF does, and stores the outcome in
// the request context, where views and permissions read it.
package authentication

import "context"

// Principal is the authenticated caller of a request.
type Principal struct {
	ID       int64
	Username string
	IsStaff  bool
	// Claims holds extra claims or attributes the authenticator found
	// (JWT claims, proxy headers). It may be nil.
	Claims map[string]any
	// Backend names the authenticator that recognised the credentials
	// ("jwt", "token", "redis", "forward").
	Backend string
	// Groups names groups an identity provider asserted (OIDC); their
	// permissions count with the user's own (see Permissions).
	Groups []string

	perms *permCache // see Permissions
}

type stateKey struct{}

// state is the outcome of authentication stored in the request context.
type state struct {
	principal *Principal
	err       error
	challenge string
	// configured is set when authenticators ran (Middleware with at least
	// one, or WithPrincipal): DRF's request.authenticators is non-empty.
	configured bool
	// forced is set by ForceAuthenticate: Middleware keeps the principal
	// instead of running its authenticators.
	forced bool
}

// WithPrincipal returns ctx carrying p as the authenticated principal.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	c := &stateContext{Context: ctx, st: state{principal: p, configured: true}}
	if old, ok := ctx.Value(stateKey{}).(*state); ok {
		c.st.challenge = old.challenge
	}
	return c
}

// ForceAuthenticate returns ctx carrying p as the authenticated principal,
// to be kept by [Middleware]: a request with this context is p whatever its
// credentials say, and no authenticator runs for it. It is the counterpart
// of DRF's force_authenticate, for tests (the apitest package's
// Client.ForceAuthenticate calls it). A context value cannot come from the
// network, so a client cannot reach this; a handler that calls it with a
// principal taken from the request would open that door, so call it only
// in tests or with a principal the server established itself. A nil p
// leaves ctx as it is.
//
// The request gets a copy of p, as it would get a principal of its own
// from an authenticator: its permissions are loaded for it (a group
// change between two requests shows in the second), and requests on
// other goroutines may force the same p.
func ForceAuthenticate(ctx context.Context, p *Principal) context.Context {
	if p == nil {
		return ctx
	}
	cp := *p
	cp.perms = nil
	return &stateContext{Context: ctx, st: state{principal: &cp, configured: true, forced: true}}
}

// PrincipalFrom returns the principal of ctx, or nil for an anonymous request.
func PrincipalFrom(ctx context.Context) *Principal {
	if s, ok := ctx.Value(stateKey{}).(*state); ok {
		return s.principal
	}
	return nil
}

// ErrorFrom returns the error that made the credentials of ctx's request
// unacceptable: a *FailedError (401/403) or an *UnavailableError (503), or
// nil when authentication accepted them or found none (then PrincipalFrom
// tells which). Views call it first and answer a non-nil error before any
// other work, as DRF does.
func ErrorFrom(ctx context.Context) error {
	if s, ok := ctx.Value(stateKey{}).(*state); ok {
		return s.err
	}
	return nil
}

// HasAuthenticators reports whether authentication ran for ctx with at
// least one authenticator (DRF's non-empty request.authenticators). When
// none did, a permission denial is a 403 with the permission's own message
// even for an anonymous request, as in DRF.
func HasAuthenticators(ctx context.Context) bool {
	if s, ok := ctx.Value(stateKey{}).(*state); ok {
		return s.configured
	}
	return false
}

// Challenge returns the WWW-Authenticate value of the first configured
// authenticator, or "" when none is configured or it has no challenge. An
// unauthenticated request denied by a permission is a 401 with this
// header when it is set, and a 403 otherwise (DRF's rule).
func Challenge(ctx context.Context) string {
	if s, ok := ctx.Value(stateKey{}).(*state); ok {
		return s.challenge
	}
	return ""
}
