package main

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TestOIDCProvider runs the binary with -oidc-issuer against an in-process
// provider (discovery and JWKS over HTTP): the provider's tokens
// authenticate as the user named by sub (created on first sight), whose
// "groups" claim counts for model permissions; the service's own tokens
// keep working; a token for another audience is refused.
func TestOIDCProvider(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	var idp *httptest.Server
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": idp.URL, "jwks_uri": idp.URL + "/certs"})
	})
	mux.HandleFunc("/certs", func(w http.ResponseWriter, _ *http.Request) {
		b64 := base64.RawURLEncoding.EncodeToString
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{
			"kty": "RSA", "kid": "k1", "alg": "RS256", "use": "sig", "n": b64(key.N.Bytes()), "e": b64(big.NewInt(int64(key.E)).Bytes()),
		}}})
	})
	idp = httptest.NewServer(mux)
	defer idp.Close()
	issue := func(sub, aud string, groups ...string) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
			"iss": idp.URL, "aud": aud, "sub": sub, "groups": groups,
			"iat": time.Now().Unix(), "exp": time.Now().Add(5 * time.Minute).Unix(),
		})
		tok.Header["kid"] = "k1"
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	bin := buildBookstore(t)
	s := startBookstore(t, bin, "-db", filepath.Join(t.TempDir(), "bookstore.db"), "-demo", "-oidc-issuer", idp.URL, "-oidc-audience", "bookstore")
	object(t, s.as(bearer(issue("olga", "bookstore"))).Get("/api/me/").AssertStatus(t, 200), "id", "username", "is_staff")
	me := object(t, s.as(bearer(issue("olga", "bookstore"))).Get("/api/me/").AssertStatus(t, 200), "id", "username", "is_staff")
	if me["username"] != "olga" || me["is_staff"] != false {
		t.Fatalf("provider user %v", me)
	}
	s.as(bearer(issue("olga", "someone-else"))).Get("/api/me/").
		AssertStatus(t, 401).AssertJSON(t, `{"detail":"Token is invalid or expired","code":"token_not_valid"}`)

	// The service's own JWT still works beside the provider's.
	alice := object(t, s.api.Post("/api/token/", map[string]any{"username": "alice", "password": "alice-pass-123"}).AssertStatus(t, 200), "access", "refresh")["access"].(string)
	author := id(t, object(t, s.as(bearer(alice)).Post("/api/authors/", map[string]any{"name": "Ann", "email": "ann@example.com"}).AssertStatus(t, 201), "id", "name", "email", "created_at", "book_count"))
	book := "/api/books/" + itoa(id(t, object(t, s.as(bearer(alice)).Post("/api/books/", map[string]any{"title": "T", "isbn": "9780000000001", "author": author, "price_cents": 100}).AssertStatus(t, 201), "id", "title", "isbn", "author", "price_cents", "published_on", "owner", "created_at"))) + "/"

	// The provider's groups claim: an editor by the IdP may change any book.
	s.as(bearer(issue("olga", "bookstore"))).Patch(book, map[string]any{"title": "No"}).AssertStatus(t, 403)
	s.as(bearer(issue("olga", "bookstore", "editors"))).Patch(book, map[string]any{"title": "Yes"}).AssertStatus(t, 200)
	s.stop(t)
}
