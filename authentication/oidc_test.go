package authentication_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/cosworth/cosworth/authentication"
	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/models"
)

// provider is an in-process OpenID Connect provider: discovery and JWKS
// over HTTP, keys added and removed while a test runs.
type provider struct {
	srv   *httptest.Server
	mu    sync.Mutex
	jwks  map[string]map[string]string // kid -> public JWK
	hits  atomic.Int64                 // JWKS fetches
	state atomic.Int32                 // 0 up, 1 failing (500), 2 hanging
}

func newProvider(t *testing.T) *provider {
	p := &provider{jwks: map[string]map[string]string{}}
	stop := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		if p.unwell(w, r, stop) {
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": p.srv.URL, "jwks_uri": p.srv.URL + "/jwks", "id_token_signing_alg_values_supported": []string{"RS256", "ES256", "EdDSA"}})
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, r *http.Request) {
		p.hits.Add(1)
		if p.unwell(w, r, stop) {
			return
		}
		p.mu.Lock()
		keys := make([]map[string]string, 0, len(p.jwks))
		for _, k := range p.jwks {
			keys = append(keys, k)
		}
		p.mu.Unlock()
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": keys})
	})
	p.srv = httptest.NewServer(mux)
	t.Cleanup(func() { close(stop); p.srv.Close() })
	return p
}

func (p *provider) unwell(w http.ResponseWriter, r *http.Request, stop chan struct{}) bool {
	switch p.state.Load() {
	case 1:
		http.Error(w, "down", http.StatusInternalServerError)
		return true
	case 2:
		select { // hang until the client gives up
		case <-r.Context().Done():
		case <-stop:
		}
		return true
	}
	return false
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// publish serves key's public half under kid.
func (p *provider) publish(kid string, key any) {
	var jwk map[string]string
	switch k := key.(type) {
	case *rsa.PrivateKey:
		jwk = map[string]string{"kty": "RSA", "alg": "RS256", "use": "sig", "n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes())}
	case *ecdsa.PrivateKey:
		raw, _ := k.PublicKey.Bytes() // 0x04 || X || Y
		jwk = map[string]string{"kty": "EC", "crv": "P-256", "x": b64(raw[1:33]), "y": b64(raw[33:])}
	case ed25519.PrivateKey:
		jwk = map[string]string{"kty": "OKP", "crv": "Ed25519", "x": b64(k.Public().(ed25519.PublicKey))}
	}
	jwk["kid"] = kid
	p.mu.Lock()
	p.jwks[kid] = jwk
	p.mu.Unlock()
}

func (p *provider) retract(kid string) {
	p.mu.Lock()
	delete(p.jwks, kid)
	p.mu.Unlock()
}

var (
	rsaKey   = must(rsa.GenerateKey(rand.Reader, 2048))
	rsaOther = must(rsa.GenerateKey(rand.Reader, 2048))
	ecKey    = must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))
	_, edKey = must2(ed25519.GenerateKey(rand.Reader))
)

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func must2[A, B any](a A, b B, err error) (A, B) {
	if err != nil {
		panic(err)
	}
	return a, b
}

// claims returns valid claims for p, changed by edits.
func (p *provider) claims(edits ...func(jwt.MapClaims)) jwt.MapClaims {
	now := time.Now()
	c := jwt.MapClaims{"iss": p.srv.URL, "aud": []string{"bookstore", "other"}, "sub": "alice", "exp": now.Add(5 * time.Minute).Unix(), "iat": now.Unix(), "groups": []string{"/editors", "readers"}}
	for _, e := range edits {
		e(c)
	}
	return c
}

func signIdP(t *testing.T, m jwt.SigningMethod, key any, kid string, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func bearerRequest(tok string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	return r
}

func TestOIDCAccepts(t *testing.T) {
	p := newProvider(t)
	p.publish("rsa1", rsaKey)
	p.publish("ec1", ecKey)
	p.publish("ed1", edKey)
	o := &authentication.OIDC{Issuer: p.srv.URL, Audience: "bookstore", GroupsClaim: "groups"}
	for _, c := range []struct {
		m   jwt.SigningMethod
		key any
		kid string
	}{{jwt.SigningMethodRS256, rsaKey, "rsa1"}, {jwt.SigningMethodES256, ecKey, "ec1"}, {jwt.SigningMethodEdDSA, edKey, "ed1"}} {
		pr, err := o.Authenticate(bearerRequest(signIdP(t, c.m, c.key, c.kid, p.claims())))
		if err != nil || pr == nil {
			t.Fatalf("%s: %v", c.m.Alg(), err)
		}
		if pr.Username != "alice" || pr.Backend != "oidc" || pr.ID != 0 || len(pr.Groups) != 2 || pr.Groups[0] != "editors" {
			t.Errorf("%s: principal %+v", c.m.Alg(), pr)
		}
	}
	if n := p.hits.Load(); n != 1 {
		t.Errorf("%d JWKS fetches for three tokens of known keys, want 1", n)
	}
	// Another scheme is not OIDC's business.
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Token abc")
	if pr, err := o.Authenticate(r); pr != nil || err != nil {
		t.Errorf("Token scheme: %v %v", pr, err)
	}
}

// Each must-hold refusal, one case each.
func TestOIDCRefuses(t *testing.T) {
	p := newProvider(t)
	p.publish("rsa1", rsaKey)
	p.publish("ec1", ecKey)
	o := &authentication.OIDC{Issuer: p.srv.URL, Audience: "bookstore"}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: must(x509.MarshalPKIXPublicKey(&rsaKey.PublicKey))})
	past := func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Minute).Unix() }
	for name, tok := range map[string]string{
		"forged":         signIdP(t, jwt.SigningMethodRS256, rsaOther, "rsa1", p.claims()),
		"expired":        signIdP(t, jwt.SigningMethodRS256, rsaKey, "rsa1", p.claims(past)),
		"no exp":         signIdP(t, jwt.SigningMethodRS256, rsaKey, "rsa1", p.claims(func(c jwt.MapClaims) { delete(c, "exp") })),
		"not yet valid":  signIdP(t, jwt.SigningMethodRS256, rsaKey, "rsa1", p.claims(func(c jwt.MapClaims) { c["nbf"] = time.Now().Add(time.Hour).Unix() })),
		"issued later":   signIdP(t, jwt.SigningMethodRS256, rsaKey, "rsa1", p.claims(func(c jwt.MapClaims) { c["iat"] = time.Now().Add(time.Hour).Unix() })),
		"wrong audience": signIdP(t, jwt.SigningMethodRS256, rsaKey, "rsa1", p.claims(func(c jwt.MapClaims) { c["aud"] = "someone-else" })),
		"wrong issuer":   signIdP(t, jwt.SigningMethodRS256, rsaKey, "rsa1", p.claims(func(c jwt.MapClaims) { c["iss"] = "https://evil.example.com" })),
		"unknown kid":    signIdP(t, jwt.SigningMethodRS256, rsaOther, "rsa-unknown", p.claims()),
		// The RS256 public key used as an HS256 secret.
		"alg confusion": signIdP(t, jwt.SigningMethodHS256, pubPEM, "rsa1", p.claims()),
		"alg none":      signIdP(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "rsa1", p.claims()),
		// An EC key's kid with an RS256 header: the key's algorithm rules.
		"alg of another key": signIdP(t, jwt.SigningMethodRS256, rsaKey, "ec1", p.claims()),
		"no subject":         signIdP(t, jwt.SigningMethodRS256, rsaKey, "rsa1", p.claims(func(c jwt.MapClaims) { delete(c, "sub") })),
		"garbage":            "not.a.jwt",
	} {
		pr, err := o.Authenticate(bearerRequest(tok))
		var f *authentication.FailedError
		if pr != nil || !errors.As(err, &f) {
			t.Errorf("%s: principal %v, error %v; want a *FailedError", name, pr, err)
		}
	}
}

// Keys rotated by the provider are picked up on the first unknown kid once
// MinRefreshInterval has passed since the last fetch.
func TestOIDCRotation(t *testing.T) {
	p := newProvider(t)
	p.publish("k1", rsaKey)
	o := &authentication.OIDC{Issuer: p.srv.URL, Audience: "bookstore", MinRefreshInterval: time.Millisecond}
	old := signIdP(t, jwt.SigningMethodRS256, rsaKey, "k1", p.claims())
	if _, err := o.Authenticate(bearerRequest(old)); err != nil {
		t.Fatal(err)
	}
	// Rotation: k2 replaces k1 at the provider.
	p.publish("k2", ecKey)
	p.retract("k1")
	time.Sleep(5 * time.Millisecond) // past MinRefreshInterval
	nu := signIdP(t, jwt.SigningMethodES256, ecKey, "k2", p.claims())
	for range 3 {
		if _, err := o.Authenticate(bearerRequest(nu)); err != nil {
			t.Fatalf("token of the rotated key: %v", err)
		}
	}
	if n := p.hits.Load(); n != 2 {
		t.Fatalf("%d JWKS fetches, want 2 (first use, rotation)", n)
	}
	// The retired key left with the refetched set.
	time.Sleep(5 * time.Millisecond)
	if _, err := o.Authenticate(bearerRequest(old)); err == nil {
		t.Fatal("token of a retired key accepted")
	}
}

// A flood of unknown kids within MinRefreshInterval costs one fetch.
func TestOIDCRefetchRateLimited(t *testing.T) {
	p := newProvider(t)
	p.publish("k1", rsaKey)
	o := &authentication.OIDC{Issuer: p.srv.URL, Audience: "bookstore", MinRefreshInterval: time.Hour}
	for i := range 20 {
		tok := signIdP(t, jwt.SigningMethodRS256, rsaOther, "made-up-"+string(rune('a'+i)), p.claims())
		if _, err := o.Authenticate(bearerRequest(tok)); err == nil {
			t.Fatal("unknown kid accepted")
		}
	}
	if n := p.hits.Load(); n != 1 {
		t.Fatalf("%d JWKS fetches for a flood of unknown kids, want 1", n)
	}
	if _, err := o.Authenticate(bearerRequest(signIdP(t, jwt.SigningMethodRS256, rsaKey, "k1", p.claims()))); err != nil {
		t.Fatalf("known key after the flood: %v", err)
	}
}

// While the provider is down or hanging, cached keys keep working and an
// unknown kid is refused (401), never left waiting beyond the client's
// timeout.
func TestOIDCOutage(t *testing.T) {
	p := newProvider(t)
	p.publish("k1", edKey)
	o := &authentication.OIDC{Issuer: p.srv.URL, Audience: "bookstore", MinRefreshInterval: time.Nanosecond,
		HTTPClient: &http.Client{Timeout: 200 * time.Millisecond}}
	good := signIdP(t, jwt.SigningMethodEdDSA, edKey, "k1", p.claims())
	if _, err := o.Authenticate(bearerRequest(good)); err != nil {
		t.Fatal(err)
	}
	unknown := signIdP(t, jwt.SigningMethodRS256, rsaKey, "k9", p.claims())
	for _, state := range []int32{1, 2} { // failing, hanging
		p.state.Store(state)
		if pr, err := o.Authenticate(bearerRequest(good)); err != nil || pr == nil {
			t.Errorf("state %d: token of a cached key: %v", state, err)
		}
		before := p.hits.Load()
		pr, err := o.Authenticate(bearerRequest(unknown))
		var f *authentication.FailedError
		if pr != nil || !errors.As(err, &f) {
			t.Errorf("state %d: unknown kid: %v %v, want a *FailedError", state, pr, err)
		}
		if p.hits.Load() == before {
			t.Errorf("state %d: the provider was not asked", state)
		}
	}
	// Through Middleware the refusal is a 401 with the challenge.
	var status int
	h := authentication.Middleware(o)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := authentication.ErrorFrom(r.Context())
		var f *authentication.FailedError
		if errors.As(err, &f) {
			status = f.StatusCode()
		}
	}))
	h.ServeHTTP(httptest.NewRecorder(), bearerRequest(unknown))
	if status != http.StatusUnauthorized {
		t.Errorf("unknown kid through Middleware: status %d, want 401", status)
	}
}

// Tokens of other issuers go to Fallback (the service's own JWT).
func TestOIDCFallback(t *testing.T) {
	p := newProvider(t)
	p.publish("k1", rsaKey)
	own := &authentication.JWT{Key: []byte("0123456789abcdef0123456789abcdef")}
	o := &authentication.OIDC{Issuer: p.srv.URL, Audience: "bookstore", Fallback: own}
	_, access, err := own.IssuePair(7, nil)
	if err != nil {
		t.Fatal(err)
	}
	pr, err := o.Authenticate(bearerRequest(access))
	if err != nil || pr == nil || pr.ID != 7 || pr.Backend != "jwt" {
		t.Fatalf("own token through Fallback: %+v %v", pr, err)
	}
	pr, err = o.Authenticate(bearerRequest(signIdP(t, jwt.SigningMethodRS256, rsaKey, "k1", p.claims())))
	if err != nil || pr == nil || pr.Backend != "oidc" {
		t.Fatalf("provider token: %+v %v", pr, err)
	}
}

// With DB, the principal is the user of the token's username, created on
// first sight when CreateUsers is set.
func TestOIDCUsers(t *testing.T) {
	p := newProvider(t)
	p.publish("k1", rsaKey)
	db := dbtest.SQLite(t, (*models.User)(nil))
	ctx := context.Background()
	tok := func(sub string) string {
		return signIdP(t, jwt.SigningMethodRS256, rsaKey, "k1", p.claims(func(c jwt.MapClaims) { c["sub"] = sub; c["email"] = sub + "@example.com" }))
	}
	strict := &authentication.OIDC{Issuer: p.srv.URL, Audience: "bookstore", DB: db}
	var f *authentication.FailedError
	if _, err := strict.Authenticate(bearerRequest(tok("zoe"))); !errors.As(err, &f) || f.Detail != "User not found" {
		t.Fatalf("unknown user without CreateUsers: %v", err)
	}
	o := &authentication.OIDC{Issuer: p.srv.URL, Audience: "bookstore", DB: db, CreateUsers: true, UsernameClaim: "email"}
	first, err := o.Authenticate(bearerRequest(tok("zoe")))
	if err != nil || first.ID == 0 || first.Username != "zoe@example.com" {
		t.Fatalf("first sight: %+v %v", first, err)
	}
	again, err := o.Authenticate(bearerRequest(tok("zoe")))
	if err != nil || again.ID != first.ID {
		t.Fatalf("second sight: %+v %v", again, err)
	}
	u, err := models.UserByID(ctx, db, first.ID)
	dbtest.Must(t, err, "user")
	if !u.IsActive || u.IsStaff || u.CheckPassword("!") || u.CheckPassword("") {
		t.Fatalf("created user %+v", u)
	}
	_, err = db.NewUpdate().Model(u).Set("is_active = ?", false).WherePK().Exec(ctx)
	dbtest.Must(t, err, "deactivate")
	if _, err := o.Authenticate(bearerRequest(tok("zoe"))); !errors.As(err, &f) || f.Detail != "User is inactive" {
		t.Fatalf("inactive user: %v", err)
	}
}
