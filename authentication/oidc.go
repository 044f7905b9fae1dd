package authentication

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/models"
)

// OIDC authenticates "Authorization: Bearer <token>" requests carrying
// access tokens (JWTs) issued by an OpenID Connect provider (Keycloak,
// Auth0, Okta, Entra ID, ...), as a resource server does.
//
// The provider's discovery document (Issuer +
// "/.well-known/openid-configuration") and its JWKS are fetched on first
// use and cached. A token whose kid is not in the cached set makes the set
// be fetched again, at most once per MinRefreshInterval, so rotated keys
// are picked up and a flood of made-up kids costs at most one fetch a
// minute. Every fetch is bounded (HTTPClient's timeout, DefaultOIDCTimeout
// by default, and 1 MiB of body): while the provider is down, tokens
// signed with cached keys keep working and others are refused with 401,
// never left waiting.
//
// Only RS256, ES256 and EdDSA are accepted, each only with a key of its
// own type (an RS256 key's algorithm is RS256, whatever the token's header
// says, and no HMAC algorithm is accepted at all, so a public key can never
// serve as an HS256 secret). iss must equal Issuer, aud must contain
// Audience; exp is required and exp, nbf and iat are checked with Leeway.
//
// The principal's Username is the UsernameClaim ("sub" by default) and its
// Groups the GroupsClaim, when set. With DB, the principal is the user of
// that username (created on first sight when CreateUsers is set; an
// inactive user is refused); without, it has ID 0.
//
// Fields must not change after first use; an *OIDC is safe for concurrent
// use.
type OIDC struct {
	// Issuer is the provider's issuer URL, exactly as in its tokens'
	// "iss" (e.g. "https://keycloak.example.com/realms/shop"). Required.
	Issuer string
	// Audience must be among the token's "aud" (the API's client id or
	// identifier, e.g. "bookstore"). Required.
	Audience string
	// HTTPClient fetches the discovery document and the JWKS; nil means a
	// client with a DefaultOIDCTimeout timeout. Keep a timeout on it.
	HTTPClient *http.Client
	// Leeway tolerates clock skew on exp, nbf and iat: DefaultLeeway when
	// zero, none when negative, at most MaxOIDCLeeway.
	Leeway time.Duration
	// MinRefreshInterval is the least time between two fetches of the
	// JWKS caused by unknown kids: one minute when zero.
	MinRefreshInterval time.Duration
	// UsernameClaim names the claim giving the username: "sub" when empty
	// (Keycloak's "preferred_username" or an email claim are common).
	UsernameClaim string
	// GroupsClaim names a claim holding a list of group names (Keycloak's
	// "groups", an Auth0 namespaced claim); their permissions count for the
	// principal (see Principal.Permissions). Empty means none.
	GroupsClaim string
	// DB, when set, is where the principal's user is found by username.
	DB bun.IDB
	// CreateUsers creates an active, non-staff user with no usable
	// password the first time a username is seen (needs DB). When unset,
	// a token of an unknown user is refused.
	CreateUsers bool
	// Fallback receives the bearer tokens whose "iss" is not Issuer (the
	// service's own JWT, say), so both can share the Bearer scheme. When
	// nil, such tokens are refused.
	Fallback Authenticator
	// Realm is the realm of the WWW-Authenticate challenge: "api" when empty.
	Realm string

	once      sync.Once
	parser    *jwt.Parser
	client    *http.Client
	challenge string
	minGap    time.Duration
	keys      atomic.Pointer[oidcKeys]
	fetchMu   sync.Mutex    // one fetch at a time
	lastFetch time.Time     // guarded by fetchMu
	jwksURI   string        // guarded by fetchMu
	discovery oidcDiscovery // guarded by fetchMu
	fetches   atomic.Int64
}

// DefaultOIDCTimeout bounds each HTTP exchange with the provider when
// OIDC.HTTPClient is nil.
const DefaultOIDCTimeout = 5 * time.Second

// MaxOIDCLeeway caps OIDC.Leeway.
const MaxOIDCLeeway = 5 * time.Minute

// maxOIDCDocument bounds a discovery document or JWKS.
const maxOIDCDocument = 1 << 20

// oidcAlgs are the algorithms OIDC accepts.
var oidcAlgs = []string{"RS256", "ES256", "EdDSA"}

// oidcKey is one verification key and the one algorithm it serves.
type oidcKey struct {
	alg string
	key any
}

// oidcKeys is an immutable key set, replaced whole on a fetch.
type oidcKeys struct {
	byKID map[string]oidcKey
}

var (
	_ Authenticator = (*OIDC)(nil)
	_ Challenger    = (*OIDC)(nil)
)

func (o *OIDC) setup() {
	o.once.Do(func() {
		u, err := url.Parse(o.Issuer)
		if o.Issuer == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			panic("cosworth/authentication: OIDC needs an http(s) Issuer URL")
		}
		if o.Audience == "" {
			panic("cosworth/authentication: OIDC needs an Audience")
		}
		if o.CreateUsers && o.DB == nil {
			panic("cosworth/authentication: OIDC CreateUsers needs DB")
		}
		leeway := o.Leeway
		switch {
		case leeway == 0:
			leeway = DefaultLeeway
		case leeway < 0:
			leeway = 0
		case leeway > MaxOIDCLeeway:
			leeway = MaxOIDCLeeway
		}
		o.parser = jwt.NewParser(
			jwt.WithValidMethods(oidcAlgs),
			jwt.WithIssuer(o.Issuer),
			jwt.WithAudience(o.Audience),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(leeway),
			jwt.WithJSONNumber(),
		)
		o.client = o.HTTPClient
		if o.client == nil {
			o.client = &http.Client{Timeout: DefaultOIDCTimeout}
		}
		o.minGap = o.MinRefreshInterval
		if o.minGap <= 0 {
			o.minGap = time.Minute
		}
		realm := o.Realm
		if realm == "" {
			realm = "api"
		}
		o.challenge = `Bearer realm="` + realm + `"`
	})
}

// Challenge returns `Bearer realm="api"` (with Realm when set).
func (o *OIDC) Challenge() string {
	o.setup()
	return o.challenge
}

// msgOIDCInvalid is the detail of a refused provider token.
var errOIDCInvalid = &FailedError{Detail: MsgTokenInvalid, Code: codeTokenNotValid}

// Authenticate implements Authenticator.
func (o *OIDC) Authenticate(r *http.Request) (*Principal, error) {
	o.setup()
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, nil
	}
	scheme, raw, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || scheme != "Bearer" {
		if scheme == "Bearer" && o.Fallback != nil {
			return o.Fallback.Authenticate(r)
		}
		if scheme == "Bearer" {
			return nil, &FailedError{Detail: msgBadHeader, Code: "bad_authorization_header"}
		}
		return nil, nil
	}
	raw = strings.TrimSpace(raw)
	if len(raw) > MaxTokenBytes {
		return nil, errOIDCInvalid
	}
	if unverifiedIssuer(raw) != o.Issuer {
		if o.Fallback != nil {
			return o.Fallback.Authenticate(r)
		}
		return nil, errOIDCInvalid
	}
	ctx := r.Context()
	claims, err := o.verify(ctx, raw)
	if err != nil {
		return nil, errOIDCInvalid
	}
	name, _ := claims[o.usernameClaim()].(string)
	if name == "" || len(name) > 150 {
		return nil, &FailedError{Detail: msgNoUserID, Code: codeTokenNotValid}
	}
	p := &Principal{Username: name, Claims: claims, Backend: "oidc", Groups: o.groups(claims)}
	if o.DB == nil {
		return p, nil
	}
	lctx, cancel := lookupContext(ctx, 0)
	defer cancel()
	if err := o.user(lctx, p); err != nil {
		return nil, err
	}
	return p, nil
}

// verify checks raw's signature and claims and returns them.
func (o *OIDC) verify(ctx context.Context, raw string) (jwt.MapClaims, error) {
	o.setup()
	if len(raw) > MaxTokenBytes {
		return nil, errOIDCInvalid
	}
	claims := jwt.MapClaims{}
	if _, err := o.parser.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) { return o.keyFor(ctx, t) }); err != nil {
		return nil, err
	}
	return claims, nil
}

func (o *OIDC) usernameClaim() string {
	if o.UsernameClaim == "" {
		return "sub"
	}
	return o.UsernameClaim
}

// groups reads GroupsClaim: a list of strings (at most 100 are kept).
func (o *OIDC) groups(c jwt.MapClaims) []string {
	if o.GroupsClaim == "" {
		return nil
	}
	list, _ := c[o.GroupsClaim].([]any)
	var out []string
	for _, g := range list {
		if s, ok := g.(string); ok && s != "" && len(out) < 100 {
			out = append(out, strings.TrimPrefix(s, "/")) // Keycloak writes "/editors" with full paths
		}
	}
	return out
}

// user fills p from the user named p.Username, creating it when
// configured. A missing or inactive user is a *FailedError.
func (o *OIDC) user(ctx context.Context, p *Principal) error {
	_, err := providerUser(ctx, o.DB, o.CreateUsers, p)
	return err
}

// providerUser fills p's ID and staff flag from the user named p.Username
// in db, creating it when create is set, and returns the user (id,
// is_staff, is_active, token_version); a missing or inactive user is a
// *FailedError, a database failure wraps ErrUnavailable.
func providerUser(ctx context.Context, db bun.IDB, create bool, p *Principal) (*models.User, error) {
	for attempt := 0; ; attempt++ {
		u := new(models.User)
		err := db.NewSelect().Model(u).Column("id", "is_staff", "is_active", "token_version").Where("username = ?", p.Username).Limit(1).Scan(ctx)
		if err == nil {
			if !u.IsActive {
				return nil, &FailedError{Detail: msgUserInactive, Code: "user_inactive"}
			}
			p.ID, p.IsStaff = u.ID, u.IsStaff
			return u, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("%w: oidc user: %w", ErrUnavailable, err)
		}
		if !create || attempt > 0 {
			return nil, &FailedError{Detail: msgUserNotFound, Code: "user_not_found"}
		}
		// "!" is no password hash: CheckPassword never matches it (Django's
		// set_unusable_password), and nothing is hashed per first sight.
		nu := &models.User{Username: p.Username, Password: "!", IsActive: true}
		if _, err := db.NewInsert().Model(nu).On("CONFLICT (username) DO NOTHING").Exec(ctx); err != nil {
			return nil, fmt.Errorf("%w: oidc create user: %w", ErrUnavailable, err)
		}
	}
}

// unverifiedIssuer returns the "iss" of a compact JWS without verifying
// it, to route the token; "" when it cannot be read.
func unverifiedIssuer(raw string) string {
	_, rest, ok := strings.Cut(raw, ".")
	if !ok {
		return ""
	}
	payload, _, ok := strings.Cut(rest, ".")
	if !ok {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return ""
	}
	var c struct {
		Iss string `json:"iss"`
	}
	if json.Unmarshal(b, &c) != nil {
		return ""
	}
	return c.Iss
}

// keyFor returns the key of t's kid, pinned to t's algorithm, fetching the
// JWKS again when the kid is unknown (at most once per minGap).
func (o *OIDC) keyFor(ctx context.Context, t *jwt.Token) (any, error) {
	kid, _ := t.Header["kid"].(string)
	if k, ok := o.lookup(kid, t.Method.Alg()); ok {
		return k, nil
	}
	if err := o.refresh(ctx, kid); err != nil {
		return nil, err
	}
	if k, ok := o.lookup(kid, t.Method.Alg()); ok {
		return k, nil
	}
	return nil, errors.New("unknown key")
}

// lookup finds kid in the cached set. A token without a kid matches the
// only key of the set, if it has exactly one.
func (o *OIDC) lookup(kid, alg string) (any, bool) {
	ks := o.keys.Load()
	if ks == nil {
		return nil, false
	}
	k, ok := ks.byKID[kid]
	if !ok && kid == "" && len(ks.byKID) == 1 {
		for _, only := range ks.byKID {
			k, ok = only, true
		}
	}
	if !ok || k.alg != alg {
		return nil, false
	}
	return k.key, true
}

// errNoFetch is a refetch refused by the rate limit.
var errNoFetch = errors.New("cosworth/authentication: OIDC keys fetched recently")

// refresh fetches the discovery document (once) and the JWKS, unless
// another fetch happened within minGap or one already brought kid.
func (o *OIDC) refresh(ctx context.Context, kid string) error {
	o.fetchMu.Lock()
	defer o.fetchMu.Unlock()
	if ks := o.keys.Load(); ks != nil {
		if _, ok := ks.byKID[kid]; ok {
			return nil // a concurrent fetch brought it
		}
	}
	if !o.lastFetch.IsZero() && time.Since(o.lastFetch) < o.minGap {
		return errNoFetch
	}
	o.lastFetch = time.Now()
	o.fetches.Add(1)
	if o.jwksURI == "" {
		if err := o.discover(ctx); err != nil {
			return err
		}
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := o.getJSON(ctx, o.jwksURI, &set); err != nil {
		return err
	}
	ks := &oidcKeys{byKID: make(map[string]oidcKey, len(set.Keys))}
	for _, raw := range set.Keys {
		kid, k, ok := parseJWK(raw)
		if ok {
			ks.byKID[kid] = k
		}
	}
	o.keys.Store(ks)
	return nil
}

// oidcDiscovery is what OIDC reads of the discovery document.
type oidcDiscovery struct {
	Issuer                string `json:"issuer"`
	JWKSURI               string `json:"jwks_uri"`
	AuthorizationEndpoint string `json:"authorization_endpoint"`
	TokenEndpoint         string `json:"token_endpoint"`
}

// discover fetches the discovery document; fetchMu must be held.
func (o *OIDC) discover(ctx context.Context) error {
	var doc oidcDiscovery
	if err := o.getJSON(ctx, strings.TrimSuffix(o.Issuer, "/")+"/.well-known/openid-configuration", &doc); err != nil {
		return err
	}
	u, err := url.Parse(doc.JWKSURI)
	if doc.Issuer != o.Issuer || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return errors.New("cosworth/authentication: OIDC discovery document does not match the issuer")
	}
	o.discovery = doc
	o.jwksURI = doc.JWKSURI
	return nil
}

// endpoints returns the provider's authorization and token endpoints,
// fetching the discovery document when it has not been.
func (o *OIDC) endpoints(ctx context.Context) (oidcDiscovery, error) {
	o.setup()
	o.fetchMu.Lock()
	defer o.fetchMu.Unlock()
	if o.discovery.TokenEndpoint == "" {
		if err := o.discover(ctx); err != nil {
			return oidcDiscovery{}, err
		}
	}
	if o.discovery.AuthorizationEndpoint == "" || o.discovery.TokenEndpoint == "" {
		return oidcDiscovery{}, errors.New("cosworth/authentication: OIDC discovery document has no authorization or token endpoint")
	}
	return o.discovery, nil
}

// getJSON GETs url into v: a 200 JSON body of at most maxOIDCDocument.
func (o *OIDC) getJSON(ctx context.Context, url string, v any) error {
	ctx, cancel := context.WithTimeout(ctx, DefaultOIDCTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := o.client.Do(req)
	if err != nil {
		return fmt.Errorf("cosworth/authentication: OIDC fetch: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("cosworth/authentication: OIDC fetch %s: status %d", url, resp.StatusCode)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxOIDCDocument)).Decode(v); err != nil {
		return fmt.Errorf("cosworth/authentication: OIDC fetch %s: %w", url, err)
	}
	return nil
}

// parseJWK reads one signing key of the three accepted kinds: RSA (2048
// bits or more, RS256), EC P-256 (ES256) and OKP Ed25519 (EdDSA). A key
// for another use, of another kind, or whose "alg" names another algorithm
// is skipped.
func parseJWK(raw json.RawMessage) (string, oidcKey, bool) {
	var j struct {
		Kty, Kid, Alg, Use, Crv, N, E, X, Y string
	}
	if json.Unmarshal(raw, &j) != nil || (j.Use != "" && j.Use != "sig") {
		return "", oidcKey{}, false
	}
	b64 := base64.RawURLEncoding.DecodeString
	var k oidcKey
	switch j.Kty {
	case "RSA":
		n, err1 := b64(j.N)
		e, err2 := b64(j.E)
		if err1 != nil || err2 != nil || len(e) == 0 || len(e) > 4 {
			return "", k, false
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		if pub.N.BitLen() < 2048 || pub.E < 3 || pub.E%2 == 0 {
			return "", k, false
		}
		k = oidcKey{alg: "RS256", key: pub}
	case "EC":
		x, err1 := b64(j.X)
		y, err2 := b64(j.Y)
		if j.Crv != "P-256" || err1 != nil || err2 != nil || len(x) != 32 || len(y) != 32 {
			return "", k, false
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
		if err != nil {
			return "", k, false
		}
		k = oidcKey{alg: "ES256", key: pub}
	case "OKP":
		x, err := b64(j.X)
		if j.Crv != "Ed25519" || err != nil || len(x) != ed25519.PublicKeySize {
			return "", k, false
		}
		k = oidcKey{alg: "EdDSA", key: ed25519.PublicKey(x)}
	default:
		return "", k, false
	}
	if j.Alg != "" && j.Alg != k.alg {
		return "", k, false
	}
	return j.Kid, k, true
}
