package authentication_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/cosworth/cosworth/authentication"
	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/models"
)

// FuzzVerifyBody sends arbitrary bodies and Authorization headers: the
// answer is always one of the documented statuses with a JSON body, never
// a 500 or a panic, and never a 200 for a token that is not genuine.
func FuzzVerifyBody(f *testing.F) {
	j := &authentication.JWT{Key: testSecret}
	_, access, _ := j.IssuePair(1, nil)
	f.Add([]byte(`{"token": "`+access+`"}`), "Bearer "+access)
	f.Add([]byte(`{"token": null}`), "Bearer")
	f.Add([]byte(`[1]`), "Token a b")
	f.Add([]byte(`{"token": {"a": [1, 2]}}`), "Bearer x.y.z")
	f.Add([]byte(`"x"`), "")
	verify := j.VerifyHandler()
	me := authentication.Middleware(j)(whoami)
	f.Fuzz(func(t *testing.T, body []byte, auth string) {
		r := httptest.NewRequest("POST", "/", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		verify.ServeHTTP(w, r)
		switch w.Code {
		case 200:
			var m map[string]any
			if json.Unmarshal(body, &m) != nil || m["token"] != access {
				// Only the genuine token (possibly with surrounding space) verifies.
				if s, ok := m["token"].(string); !ok || len(s) < len(access) {
					t.Fatalf("200 for body %q", body)
				}
			}
		case 400, 401, 413:
		default:
			t.Fatalf("status %d for body %q: %s", w.Code, body, w.Body)
		}
		if !json.Valid(w.Body.Bytes()) {
			t.Fatalf("body %q is not JSON", w.Body)
		}

		r = httptest.NewRequest("GET", "/", nil)
		r.Header["Authorization"] = []string{auth}
		w = httptest.NewRecorder()
		me.ServeHTTP(w, r)
		switch w.Code {
		case 200:
			if !bytes.Contains(w.Body.Bytes(), []byte("anonymous")) && auth != "Bearer "+access {
				var m map[string]any
				_ = json.Unmarshal(w.Body.Bytes(), &m)
				if m["id"] != float64(1) {
					t.Fatalf("authenticated by %q: %s", auth, w.Body)
				}
			}
		case 401:
		default:
			t.Fatalf("status %d for %q: %s", w.Code, auth, w.Body)
		}
	})
}

var fuzzSecret = []byte("fuzz-secret-0123456789abcdef0123")

// canonicalJWT decodes the three segments of a compact JWT, so that two
// spellings of the same bytes (base64's unused trailing bits) compare equal.
func canonicalJWT(tok string) (string, bool) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return "", false
	}
	var b strings.Builder
	for _, p := range parts {
		d, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(p, "="))
		if err != nil {
			return "", false
		}
		b.Write(d)
		b.WriteByte(0)
	}
	return b.String(), true
}

// forged returns an unsigned or wrongly signed variant of a valid token's claims.
func forged(claims map[string]any, header string, sig string) string {
	h := base64.RawURLEncoding.EncodeToString([]byte(header))
	c, _ := json.Marshal(claims)
	return h + "." + base64.RawURLEncoding.EncodeToString(c) + "." + sig
}

// sign signs claims with fuzzSecret (HS256): deterministic for fixed claims.
func sign(f *testing.F, claims map[string]any) string {
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims(claims)).SignedString(fuzzSecret)
	if err != nil {
		f.Fatal(err)
	}
	return s
}

// FuzzAuthorization feeds arbitrary Authorization headers through
// Middleware with JWT and DRF Token authentication over a real SQLite
// database. It must not panic; a refusal is a *FailedError (401/403 with a JSON
// body), never a 503 while the database is up; and a request is only ever
// authenticated when the header carries one of the credentials actually
// issued (no forged, re-signed, "none"-algorithm or other-type token gets
// in).
func FuzzAuthorization(f *testing.F) {
	ctx := context.Background()
	db := dbtest.SQLite(f, (*models.User)(nil), (*models.Token)(nil))
	u, err := models.CreateUser(ctx, db, "alice", "alice-pass-123", false)
	dbtest.Must(f, err, "create user")
	// Fuzz workers are separate processes, each running this setup: every
	// credential must be the same in all of them, so none is random.
	const key = "0123456789abcdef0123456789abcdef01234567"
	_, err = db.NewInsert().Model(&models.Token{UserID: u.ID, Digest: models.TokenDigest(key)}).Exec(ctx)
	dbtest.Must(f, err, "token")
	j := &authentication.JWT{Key: fuzzSecret}
	now := time.Now().Unix()
	claims := map[string]any{"token_type": "access", "exp": int64(4102444800), "iat": int64(1700000000), "jti": "fuzz-access", "user_id": u.ID}
	access := sign(f, claims)
	refreshClaims := map[string]any{"token_type": "refresh", "exp": int64(4102444800), "iat": int64(1700000000), "jti": "fuzz-refresh", "user_id": u.ID}
	refresh := sign(f, refreshClaims)
	accessCanon, _ := canonicalJWT(access)
	expired := sign(f, map[string]any{"token_type": "access", "exp": now - 3600, "iat": now - 7200, "jti": "old", "user_id": u.ID})
	seeds := []string{
		"Bearer " + access, "bearer " + access, "Bearer  " + access + " ", "Bearer " + access + " extra",
		"Bearer " + refresh, "Bearer " + access[:len(access)-2], "Bearer " + strings.ToUpper(access),
		"Token " + key, "token " + key, "TOKEN\t" + key, "Token " + key + "x", "Token " + key[1:], "Token", "Token a b",
		"Bearer", "Bearer ", "", "Basic YWxpY2U6cGFzcw==", "Bearer " + strings.Repeat("a", 9000),
		"Bearer " + forged(claims, `{"alg":"none","typ":"JWT"}`, ""),
		"Bearer " + forged(claims, `{"alg":"HS256","typ":"JWT"}`, "AAAA"),
		"Bearer " + forged(claims, `{"alg":"HS512","typ":"JWT"}`, strings.Split(access, ".")[2]),
		"Bearer " + forged(claims, `{"alg":"RS256","typ":"JWT"}`, strings.Split(access, ".")[2]),
		"Bearer " + strings.Split(access, ".")[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"user_id":1}`)) + "." + strings.Split(access, ".")[2],
		"Bearer a.b.c", "Bearer ...", "Bearer \x00", "Token \xff\xfe",
	}
	// A token signed with another key, and one without exp or jti.
	other, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims(claims)).SignedString([]byte("another-secret-0123456789abcdef0"))
	noExp, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"token_type": "access", "jti": "y", "user_id": u.ID}).SignedString(fuzzSecret)
	seeds = append(seeds, "Bearer "+other, "Bearer "+noExp, "Bearer "+expired)
	for _, s := range seeds {
		f.Add(s)
	}

	mw := authentication.Middleware(j, &authentication.Token{DB: db})
	f.Fuzz(func(t *testing.T, header string) {
		req, err := http.NewRequest(http.MethodGet, "http://example.com/api/me/", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header["Authorization"] = []string{header}
		var p *authentication.Principal
		var authErr error
		mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, authErr = authentication.PrincipalFrom(r.Context()), authentication.ErrorFrom(r.Context())
		})).ServeHTTP(nil, req)

		if authErr != nil {
			var failed *authentication.FailedError
			if !errors.As(authErr, &failed) {
				t.Fatalf("%q: %T %v, want *authentication.FailedError", header, authErr, authErr)
			}
			if s := failed.StatusCode(); s != http.StatusUnauthorized && s != http.StatusForbidden {
				t.Fatalf("%q: status %d", header, s)
			}
			b := failed.AppendJSON(nil)
			if !json.Valid(b) {
				t.Fatalf("%q: body %s is not JSON", header, b)
			}
			for _, part := range strings.Fields(header) {
				if len(part) >= 16 && bytes.Contains(b, []byte(part)) {
					t.Fatalf("%q: body %s echoes the credential", header, b)
				}
			}
			if p != nil {
				t.Fatalf("%q: both a principal and an error", header)
			}
			return
		}
		if p == nil {
			return // anonymous: no credentials either authenticator understands
		}
		if p.ID != u.ID {
			t.Fatalf("%q: authenticated as user %d", header, p.ID)
		}
		fields := strings.Fields(header)
		if len(fields) != 2 {
			t.Fatalf("%q: authenticated with %d header parts", header, len(fields))
		}
		switch p.Backend {
		case "jwt":
			if c, ok := canonicalJWT(fields[1]); !ok || c != accessCanon {
				t.Fatalf("%q: a token that is not the issued access token was accepted", header)
			}
		case "token":
			if fields[1] != key {
				t.Fatalf("%q: a key that is not the issued one was accepted", header)
			}
		default:
			t.Fatalf("%q: backend %q", header, p.Backend)
		}
	})
}

// FuzzJWTParse feeds arbitrary strings to JWT.Parse for both token types:
// only the issued token of that type verifies, and every refusal carries
// one of simplejwt's fixed messages (never the parser's own text).
func FuzzJWTParse(f *testing.F) {
	j := &authentication.JWT{Key: fuzzSecret}
	// Deterministic tokens: every fuzz worker process must agree on them.
	access := sign(f, map[string]any{"token_type": "access", "exp": int64(4102444800), "iat": int64(1700000000), "jti": "a", "user_id": 7, "username": "alice"})
	refresh := sign(f, map[string]any{"token_type": "refresh", "exp": int64(4102444800), "iat": int64(1700000000), "jti": "r", "user_id": 7})
	f.Add(access)
	f.Add(refresh)
	f.Add(access + ".")
	f.Add(strings.Replace(access, ".", "..", 1))
	f.Add(strings.Split(access, ".")[0] + "." + strings.Split(refresh, ".")[1] + "." + strings.Split(access, ".")[2])
	f.Add("")
	issued := map[string]string{}
	issued["access"], _ = canonicalJWT(access)
	issued["refresh"], _ = canonicalJWT(refresh)
	allowed := map[string]bool{
		authentication.MsgTokenInvalid: true, "Token has wrong type": true, "Token has no type": true,
		"Token has no id": true, "Token has no 'exp' claim": true,
	}
	f.Fuzz(func(t *testing.T, raw string) {
		for _, typ := range []string{authentication.AccessToken, authentication.RefreshToken} {
			claims, err := j.Parse(raw, typ)
			if err != nil {
				if !allowed[err.Error()] {
					t.Fatalf("Parse(%q, %s): message %q is not simplejwt's", raw, typ, err)
				}
				continue
			}
			if c, ok := canonicalJWT(raw); !ok || c != issued[typ] {
				t.Fatalf("Parse(%q, %s) accepted a token that was not issued as %s: %v", raw, typ, typ, claims)
			}
		}
	})
}
