package authentication_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/authentication"
	"github.com/cosworth/cosworth/internal/dbtest"
)

const (
	msgInvalidOrExpired = `{"detail": "Token is invalid or expired", "code": "token_not_valid"}`
	msgNoAccount        = `{"detail": "No active account found with the given credentials"}`
)

// jwtServer mounts the simplejwt endpoints and whoami (behind the JWT
// authenticator) on a real loopback server.
func jwtServer(t *testing.T, j *authentication.JWT, db bun.IDB) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/token/", j.ObtainPairHandler(db))
	mux.Handle("/token/refresh/", j.RefreshHandler())
	mux.Handle("/token/verify/", j.VerifyHandler())
	if j.Blacklist != nil {
		mux.Handle("/token/blacklist/", j.BlacklistHandler())
	}
	mux.Handle("/me/", authentication.Middleware(j)(whoami))
	return serve(t, mux)
}

// claimsOf decodes a JWT's header and payload without verifying.
func claimsOf(t *testing.T, tok string) (map[string]any, map[string]any) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("%q is not a JWT", tok)
	}
	var h, c map[string]any
	for i, dst := range []*map[string]any{&h, &c} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, dst); err != nil {
			t.Fatal(err)
		}
	}
	return h, c
}

func TestJWTObtainRefreshVerify(t *testing.T) {
	db, users := usersDB(t)
	j := &authentication.JWT{Key: testSecret, DB: db}
	url := jwtServer(t, j, db)

	pair := do(t, "POST", url+"/token/", "", map[string]any{"username": "alice", "password": "alice-pass-123"}).expect(t, 200, "").json(t)
	if len(pair) != 2 {
		t.Fatalf("obtain answered %v, want exactly refresh and access", pair)
	}
	access, refresh := pair["access"].(string), pair["refresh"].(string)
	for _, c := range []struct {
		tok, typ string
		life     time.Duration
	}{{access, "access", 5 * time.Minute}, {refresh, "refresh", 24 * time.Hour}} {
		h, cl := claimsOf(t, c.tok)
		if h["alg"] != "HS256" || h["typ"] != "JWT" {
			t.Errorf("header %v", h)
		}
		if cl["token_type"] != c.typ || cl["user_id"] != float64(users["alice"].ID) {
			t.Errorf("%s claims %v", c.typ, cl)
		}
		if jti, _ := cl["jti"].(string); len(jti) != 32 {
			t.Errorf("%s jti %v, want 32 hex digits", c.typ, cl["jti"])
		}
		if exp, iat := cl["exp"].(float64), cl["iat"].(float64); time.Duration(exp-iat)*time.Second != c.life {
			t.Errorf("%s lifetime %v, want %v", c.typ, time.Duration(exp-iat)*time.Second, c.life)
		}
	}

	// The access token authenticates; the refresh token does not.
	do(t, "GET", url+"/me/", "Bearer "+access, nil).expect(t, 200, fmt.Sprintf(`{"id": %d, "username": "alice", "is_staff": false, "backend": "jwt"}`, users["alice"].ID))
	rp := do(t, "GET", url+"/me/", "Bearer "+refresh, nil).expect(t, 401,
		`{"detail": "Given token not valid for any token type", "code": "token_not_valid", "messages": [{"token_class": "AccessToken", "token_type": "access", "message": "Token has wrong type"}]}`)
	if got := rp.header.Get("WWW-Authenticate"); got != `Bearer realm="api"` {
		t.Errorf("WWW-Authenticate %q", got)
	}

	// Wrong credentials, unknown and inactive users: one answer.
	for _, body := range []map[string]any{
		{"username": "alice", "password": "wrong"},
		{"username": "nobody", "password": "alice-pass-123"},
		{"username": "ghost", "password": "ghost-pass-123"},
	} {
		rp := do(t, "POST", url+"/token/", "", body).expect(t, 401, msgNoAccount)
		if got := rp.header.Get("WWW-Authenticate"); got != `Bearer realm="api"` {
			t.Errorf("WWW-Authenticate %q", got)
		}
	}
	// Field errors, as DRF's CharField.
	do(t, "POST", url+"/token/", "", map[string]any{}).expect(t, 400, `{"username": ["This field is required."], "password": ["This field is required."]}`)
	do(t, "POST", url+"/token/", "", nil).expect(t, 400, `{"username": ["This field is required."], "password": ["This field is required."]}`)
	do(t, "POST", url+"/token/", "", map[string]any{"username": "  ", "password": nil}).expect(t, 400, `{"username": ["This field may not be blank."], "password": ["This field may not be null."]}`)
	do(t, "POST", url+"/token/", "", map[string]any{"username": true, "password": []int{1}}).expect(t, 400, `{"username": ["Not a valid string."], "password": ["Not a valid string."]}`)
	do(t, "POST", url+"/token/", "", `[1,2]`).expect(t, 400, `{"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}`)
	if rp := do(t, "POST", url+"/token/", "", `{"username": "alice",`).expect(t, 400, ""); !strings.HasPrefix(rp.json(t)["detail"].(string), "JSON parse error - ") {
		t.Errorf("malformed JSON: %s", rp.body)
	}
	do(t, "POST", url+"/token/", "", "username=alice", "Content-Type", "text/plain").expect(t, 415, `{"detail": "Unsupported media type \"text/plain\" in request."}`)
	do(t, "POST", url+"/token/", "", `{"username":"`+strings.Repeat("a", authentication.MaxBodyBytes)+`"}`).expect(t, 413, "")
	if rp := do(t, "GET", url+"/token/", "", nil).expect(t, 405, `{"detail": "Method \"GET\" not allowed."}`); rp.header.Get("Allow") != "POST, OPTIONS" {
		t.Errorf("Allow %q", rp.header.Get("Allow"))
	}

	// Refresh.
	r2 := do(t, "POST", url+"/token/refresh/", "", map[string]any{"refresh": refresh}).expect(t, 200, "").json(t)
	if len(r2) != 1 || r2["access"] == nil {
		t.Fatalf("refresh answered %v, want only access (no rotation)", r2)
	}
	access2 := r2["access"].(string)
	if _, cl := claimsOf(t, access2); cl["token_type"] != "access" || cl["user_id"] != float64(users["alice"].ID) {
		t.Errorf("refreshed access claims %v", cl)
	}
	do(t, "GET", url+"/me/", "Bearer "+access2, nil).expect(t, 200, "")
	do(t, "POST", url+"/token/refresh/", "", map[string]any{"refresh": access}).expect(t, 401, `{"detail": "Token has wrong type", "code": "token_not_valid"}`)
	do(t, "POST", url+"/token/refresh/", "", map[string]any{"refresh": "not.a.jwt"}).expect(t, 401, msgInvalidOrExpired)
	do(t, "POST", url+"/token/refresh/", "", map[string]any{}).expect(t, 400, `{"refresh": ["This field is required."]}`)

	// Verify: any valid token, of either type.
	do(t, "POST", url+"/token/verify/", "", map[string]any{"token": access}).expect(t, 200, `{}`)
	do(t, "POST", url+"/token/verify/", "", map[string]any{"token": refresh}).expect(t, 200, `{}`)
	do(t, "POST", url+"/token/verify/", "", map[string]any{"token": access[:len(access)-4] + "AAAA"}).expect(t, 401, msgInvalidOrExpired)
	do(t, "POST", url+"/token/verify/", "", map[string]any{}).expect(t, 400, `{"token": ["This field is required."]}`)

	// A user deactivated after obtaining tokens is refused at once.
	_, err := db.NewUpdate().Model(users["alice"]).Set("is_active = ?", false).WherePK().Exec(t.Context())
	dbtest.Must(t, err, "deactivate")
	do(t, "GET", url+"/me/", "Bearer "+access, nil).expect(t, 401, `{"detail": "User is inactive", "code": "user_inactive"}`)
	do(t, "POST", url+"/token/refresh/", "", map[string]any{"refresh": refresh}).expect(t, 401, `{"detail": "No active account found for the given token.", "code": "no_active_account"}`)
	_, err = db.NewDelete().Model(users["alice"]).WherePK().Exec(t.Context())
	dbtest.Must(t, err, "delete")
	do(t, "GET", url+"/me/", "Bearer "+access, nil).expect(t, 401, `{"detail": "User not found", "code": "user_not_found"}`)

	// Header shapes.
	do(t, "GET", url+"/me/", "Bearer", nil).expect(t, 401, `{"detail": "Authorization header must contain two space-delimited values", "code": "bad_authorization_header"}`)
	do(t, "GET", url+"/me/", "Bearer a b", nil).expect(t, 401, `{"detail": "Authorization header must contain two space-delimited values", "code": "bad_authorization_header"}`)
	do(t, "GET", url+"/me/", "bearer "+access, nil).expect(t, 200, `{"anonymous": true}`) // simplejwt matches the scheme exactly
	do(t, "GET", url+"/me/", "Basic YTpi", nil).expect(t, 200, `{"anonymous": true}`)
	do(t, "GET", url+"/me/", "", nil).expect(t, 200, `{"anonymous": true}`)
}

// forge signs claims with method and key, bypassing the JWT type.
func forge(t *testing.T, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func validClaims(typ string, userID int64) jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{"token_type": typ, "exp": now.Add(time.Minute).Unix(), "iat": now.Unix(), "jti": "0123456789abcdef0123456789abcdef", "user_id": userID}
}

func with(c jwt.MapClaims, kv ...any) jwt.MapClaims {
	out := jwt.MapClaims{}
	for k, v := range c {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
		} else {
			out[kv[i].(string)] = kv[i+1]
		}
	}
	return out
}

func TestJWTForgedTokensRejected(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pubDER, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	otherRSA, _ := rsa.GenerateKey(rand.Reader, 2048)

	// The service: RS256, issuer and audience pinned, stateless (no DB).
	j := &authentication.JWT{Algorithm: jwt.SigningMethodRS256, Key: rsaKey, Issuer: "https://issuer.example", Audience: "bookstore", Leeway: -1}
	url := serve(t, authentication.Middleware(j)(whoami))
	good := with(validClaims("access", 7), "iss", "https://issuer.example", "aud", "bookstore")
	now := time.Now()

	// The genuine token works (the negative cases below are not vacuous).
	do(t, "GET", url, "Bearer "+forge(t, jwt.SigningMethodRS256, rsaKey, good), nil).expect(t, 200, `{"id": 7, "username": "", "is_staff": false, "backend": "jwt"}`)

	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, good).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	headerOnly := strings.Split(forge(t, jwt.SigningMethodRS256, rsaKey, good), ".")
	cases := []struct {
		name, token, reason string
	}{
		{"alg none", none, "Token is invalid or expired"},
		{"alg none, empty signature", strings.TrimSuffix(none, ".") + ".", "Token is invalid or expired"},
		{"HS256 with the RSA public key (PEM)", forge(t, jwt.SigningMethodHS256, pubPEM, good), "Token is invalid or expired"},
		{"HS256 with the RSA public key (DER)", forge(t, jwt.SigningMethodHS256, pubDER, good), "Token is invalid or expired"},
		{"RS256 by another key", forge(t, jwt.SigningMethodRS256, otherRSA, good), "Token is invalid or expired"},
		{"RS512 by the right key", forge(t, jwt.SigningMethodRS512, rsaKey, good), "Token is invalid or expired"},
		{"PS256 by the right key", forge(t, jwt.SigningMethodPS256, rsaKey, good), "Token is invalid or expired"},
		{"signature cut", headerOnly[0] + "." + headerOnly[1] + ".", "Token is invalid or expired"},
		{"payload swapped", headerOnly[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"token_type":"access","user_id":1,"exp":9999999999,"jti":"x","iss":"https://issuer.example","aud":"bookstore"}`)) + "." + headerOnly[2], "Token is invalid or expired"},
		{"expired", forge(t, jwt.SigningMethodRS256, rsaKey, with(good, "exp", now.Add(-time.Second).Unix())), "Token is invalid or expired"},
		{"not yet valid", forge(t, jwt.SigningMethodRS256, rsaKey, with(good, "nbf", now.Add(time.Minute).Unix())), "Token is invalid or expired"},
		{"issued in the future", forge(t, jwt.SigningMethodRS256, rsaKey, with(good, "iat", now.Add(time.Minute).Unix())), "Token is invalid or expired"},
		{"another issuer", forge(t, jwt.SigningMethodRS256, rsaKey, with(good, "iss", "https://evil.example")), "Token is invalid or expired"},
		{"no issuer", forge(t, jwt.SigningMethodRS256, rsaKey, with(good, "iss", nil)), "Token is invalid or expired"},
		{"wrong audience", forge(t, jwt.SigningMethodRS256, rsaKey, with(good, "aud", "other")), "Token is invalid or expired"},
		{"no audience", forge(t, jwt.SigningMethodRS256, rsaKey, with(good, "aud", nil)), "Token is invalid or expired"},
		{"refresh token", forge(t, jwt.SigningMethodRS256, rsaKey, with(good, "token_type", "refresh")), "Token has wrong type"},
		{"no token type", forge(t, jwt.SigningMethodRS256, rsaKey, with(good, "token_type", nil)), "Token has no type"},
		{"no exp", forge(t, jwt.SigningMethodRS256, rsaKey, with(good, "exp", nil)), "Token has no 'exp' claim"},
		{"no jti", forge(t, jwt.SigningMethodRS256, rsaKey, with(good, "jti", nil)), "Token has no id"},
		{"garbage", "not.a.jwt", "Token is invalid or expired"},
		{"huge", strings.Repeat("A", authentication.MaxTokenBytes+1), "Token is invalid or expired"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rp := do(t, "GET", url, "Bearer "+c.token, nil).expect(t, 401, fmt.Sprintf(
				`{"detail": "Given token not valid for any token type", "code": "token_not_valid", "messages": [{"token_class": "AccessToken", "token_type": "access", "message": %q}]}`, c.reason))
			if rp.header.Get("WWW-Authenticate") != `Bearer realm="api"` {
				t.Errorf("WWW-Authenticate %q", rp.header.Get("WWW-Authenticate"))
			}
		})
	}
	// A valid token without user_id.
	do(t, "GET", url, "Bearer "+forge(t, jwt.SigningMethodRS256, rsaKey, with(good, "user_id", nil)), nil).
		expect(t, 401, `{"detail": "Token contained no recognizable user identification", "code": "token_not_valid"}`)
	// user_id as a string (recent simplejwt releases) is understood.
	do(t, "GET", url, "Bearer "+forge(t, jwt.SigningMethodRS256, rsaKey, with(good, "user_id", "42")), nil).expect(t, 200, `{"id": 42, "username": "", "is_staff": false, "backend": "jwt"}`)
}

// TestJWTForgedHMACTokensRejected covers the HMAC path of Parse, which
// checks signatures with a pooled keyed hash instead of golang-jwt's Verify:
// every forgery fails, on every use of a pooled hash, and the genuine token
// passes after each of them.
func TestJWTForgedHMACTokensRejected(t *testing.T) {
	j := &authentication.JWT{Key: testSecret, Issuer: "https://issuer.example", Audience: "bookstore", Leeway: -1}
	good := with(validClaims("access", 7), "iss", "https://issuer.example", "aud", "bookstore")
	genuine := forge(t, jwt.SigningMethodHS256, testSecret, good)
	otherKey := []byte("fedcba9876543210fedcba9876543210")
	longKey := append(append([]byte{}, testSecret...), testSecret...)
	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, good).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	seg := strings.Split(genuine, ".")
	sig, _ := base64.RawURLEncoding.DecodeString(seg[2])
	flipped := append([]byte{}, sig...)
	flipped[len(flipped)-1] ^= 1
	now := time.Now()
	forged := map[string]string{
		"another key":            forge(t, jwt.SigningMethodHS256, otherKey, good),
		"HS384 by the right key": forge(t, jwt.SigningMethodHS384, longKey[:48], good),
		"HS512 by the right key": forge(t, jwt.SigningMethodHS512, longKey, good),
		"alg none":               none,
		"signature cut":          seg[0] + "." + seg[1] + ".",
		"signature truncated":    seg[0] + "." + seg[1] + "." + base64.RawURLEncoding.EncodeToString(sig[:len(sig)-1]),
		"signature bit flipped":  seg[0] + "." + seg[1] + "." + base64.RawURLEncoding.EncodeToString(flipped),
		"payload swapped":        seg[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"token_type":"access","user_id":1,"exp":9999999999,"jti":"x","iss":"https://issuer.example","aud":"bookstore"}`)) + "." + seg[2],
		"expired":                forge(t, jwt.SigningMethodHS256, testSecret, with(good, "exp", now.Add(-time.Second).Unix())),
		"not yet valid":          forge(t, jwt.SigningMethodHS256, testSecret, with(good, "nbf", now.Add(time.Minute).Unix())),
		"issued in the future":   forge(t, jwt.SigningMethodHS256, testSecret, with(good, "iat", now.Add(time.Minute).Unix())),
		"another issuer":         forge(t, jwt.SigningMethodHS256, testSecret, with(good, "iss", "https://evil.example")),
		"wrong audience":         forge(t, jwt.SigningMethodHS256, testSecret, with(good, "aud", "other")),
		"four segments":          genuine + "." + seg[2],
	}
	for round := range 3 {
		for name, tok := range forged {
			if _, err := j.Parse(tok, authentication.AccessToken); err == nil || err.Error() != authentication.MsgTokenInvalid {
				t.Fatalf("round %d, %s: err = %v, want %q", round, name, err, authentication.MsgTokenInvalid)
			}
			if c, err := j.Parse(genuine, authentication.AccessToken); err != nil || c["jti"] != good["jti"] {
				t.Fatalf("round %d, after %s: the genuine token: %v, %v", round, name, c, err)
			}
		}
	}
}

func TestJWTLeeway(t *testing.T) {
	j := &authentication.JWT{Key: testSecret, Leeway: 30 * time.Second}
	url := serve(t, authentication.Middleware(j)(whoami))
	now := time.Now()
	// Within the leeway: accepted; beyond it: refused.
	do(t, "GET", url, "Bearer "+forge(t, jwt.SigningMethodHS256, testSecret, with(validClaims("access", 1), "exp", now.Add(-10*time.Second).Unix())), nil).expect(t, 200, "")
	do(t, "GET", url, "Bearer "+forge(t, jwt.SigningMethodHS256, testSecret, with(validClaims("access", 1), "nbf", now.Add(10*time.Second).Unix())), nil).expect(t, 200, "")
	do(t, "GET", url, "Bearer "+forge(t, jwt.SigningMethodHS256, testSecret, with(validClaims("access", 1), "exp", now.Add(-time.Minute).Unix())), nil).expect(t, 401, "")
	do(t, "GET", url, "Bearer "+forge(t, jwt.SigningMethodHS256, testSecret, with(validClaims("access", 1), "nbf", now.Add(time.Minute).Unix())), nil).expect(t, 401, "")
}

func TestJWTAlgorithms(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for _, c := range []struct {
		name string
		j    *authentication.JWT
	}{
		{"HS256", &authentication.JWT{Key: testSecret}},
		{"HS512", &authentication.JWT{Algorithm: jwt.SigningMethodHS512, Key: append(append([]byte{}, testSecret...), testSecret...)}},
		{"RS256", &authentication.JWT{Algorithm: jwt.SigningMethodRS256, Key: rsaKey}},
		{"PS256", &authentication.JWT{Algorithm: jwt.SigningMethodPS256, Key: rsaKey}},
		{"EdDSA", &authentication.JWT{Algorithm: jwt.SigningMethodEdDSA, Key: edKey}},
		{"ES256", &authentication.JWT{Algorithm: jwt.SigningMethodES256, Key: ecKey}},
	} {
		t.Run(c.name, func(t *testing.T) {
			refresh, access, err := c.j.IssuePair(5, nil)
			if err != nil {
				t.Fatal(err)
			}
			if h, _ := claimsOf(t, access); h["alg"] != c.name {
				t.Fatalf("alg %v", h["alg"])
			}
			if _, err := c.j.Parse(access, authentication.AccessToken); err != nil {
				t.Fatalf("own access token refused: %v", err)
			}
			if _, err := c.j.Parse(refresh, authentication.AccessToken); err == nil || err.Error() != "Token has wrong type" {
				t.Fatalf("refresh as access: %v", err)
			}
			// A verify-only JWT with the public key accepts it too.
			if c.name != "HS256" && c.name != "HS512" {
				v := &authentication.JWT{Algorithm: c.j.Algorithm, VerifyKey: publicOf(c.j.Key)}
				if _, err := v.Parse(access, authentication.AccessToken); err != nil {
					t.Fatalf("verify-only: %v", err)
				}
				if _, _, err := v.IssuePair(1, nil); err == nil {
					t.Fatal("verify-only JWT issued a token")
				}
			}
		})
	}
}

func publicOf(k any) any {
	switch k := k.(type) {
	case *rsa.PrivateKey:
		return &k.PublicKey
	case *ecdsa.PrivateKey:
		return &k.PublicKey
	case ed25519.PrivateKey:
		return k.Public()
	}
	return nil
}

func TestJWTMisconfigurationPanics(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	for name, j := range map[string]*authentication.JWT{
		"no key":               {},
		"short HS256 secret":   {Key: []byte("short")},
		"string secret":        {Key: "0123456789abcdef0123456789abcdef"},
		"HS256 with RSA key":   {Key: rsaKey},
		"RS256 with secret":    {Algorithm: jwt.SigningMethodRS256, Key: testSecret},
		"RS256 1024 bits":      {Algorithm: jwt.SigningMethodRS256, Key: small},
		"RS256 with Ed25519":   {Algorithm: jwt.SigningMethodRS256, Key: edKey},
		"ES256 on P-384":       {Algorithm: jwt.SigningMethodES256, Key: ecKey},
		"EdDSA with RSA":       {Algorithm: jwt.SigningMethodEdDSA, Key: rsaKey},
		"none":                 {Algorithm: jwt.SigningMethodNone, Key: jwt.UnsafeAllowNoneSignatureType},
		"HS256 with VerifyKey": {Key: testSecret, VerifyKey: testSecret},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				r := recover()
				if r == nil || !strings.HasPrefix(fmt.Sprint(r), "cosworth/authentication: ") {
					t.Fatalf("recovered %v, want a cosworth/authentication panic", r)
				}
			}()
			j.Challenge()
		})
	}
}

// TestJWTRotationBlacklist runs rotation against both blacklists, with two
// JWT values (two "instances") sharing the store.
func TestJWTRotationBlacklist(t *testing.T) {
	db, users := usersDB(t)
	rdb, prefix := dbtest.Redis(t)
	for name, bl := range map[string][2]authentication.Blacklist{
		"redis":    {&authentication.RedisBlacklist{Client: rdb, Prefix: prefix}, &authentication.RedisBlacklist{Client: rdb, Prefix: prefix}},
		"postgres": {&authentication.DBBlacklist{DB: db}, &authentication.DBBlacklist{DB: db}},
	} {
		t.Run(name, func(t *testing.T) {
			a := &authentication.JWT{Key: testSecret, DB: db, Rotate: true, Blacklist: bl[0]}
			b := &authentication.JWT{Key: testSecret, DB: db, Rotate: true, Blacklist: bl[1]}
			urlA, urlB := jwtServer(t, a, db), jwtServer(t, b, db)
			refresh, _, err := a.IssuePair(users["alice"].ID, nil)
			dbtest.Must(t, err, "issue")

			r1 := do(t, "POST", urlA+"/token/refresh/", "", map[string]any{"refresh": refresh}).expect(t, 200, "").json(t)
			if len(r1) != 2 || r1["refresh"] == nil || r1["refresh"] == refresh {
				t.Fatalf("rotation answered %v", r1)
			}
			_, oldC := claimsOf(t, refresh)
			_, newC := claimsOf(t, r1["refresh"].(string))
			if newC["jti"] == oldC["jti"] || newC["user_id"] != oldC["user_id"] || newC["token_type"] != "refresh" {
				t.Fatalf("rotated claims %v from %v", newC, oldC)
			}
			// The old refresh token is dead on both instances.
			do(t, "POST", urlA+"/token/refresh/", "", map[string]any{"refresh": refresh}).expect(t, 401, `{"detail": "Token is blacklisted", "code": "token_not_valid"}`)
			do(t, "POST", urlB+"/token/refresh/", "", map[string]any{"refresh": refresh}).expect(t, 401, `{"detail": "Token is blacklisted", "code": "token_not_valid"}`)
			do(t, "POST", urlB+"/token/verify/", "", map[string]any{"token": refresh}).expect(t, 400, `{"non_field_errors": ["Token is blacklisted"]}`)
			// The new one works once, on either instance.
			next := r1["refresh"].(string)
			do(t, "POST", urlB+"/token/refresh/", "", map[string]any{"refresh": next}).expect(t, 200, "")

			// Concurrent refreshes with one token across instances: exactly one wins.
			race, _, err := a.IssuePair(users["alice"].ID, nil)
			dbtest.Must(t, err, "issue")
			const n = 8
			var wg sync.WaitGroup
			codes := make([]int, n)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					u := urlA
					if i%2 == 1 {
						u = urlB
					}
					codes[i] = do(t, "POST", u+"/token/refresh/", "", map[string]any{"refresh": race}).status
				}()
			}
			wg.Wait()
			ok := 0
			for _, c := range codes {
				if c == 200 {
					ok++
				} else if c != 401 {
					t.Errorf("status %d", c)
				}
			}
			if ok != 1 {
				t.Fatalf("%d of %d concurrent refreshes succeeded (%v), want 1", ok, n, codes)
			}

			// Logout: the blacklist endpoint kills a refresh token.
			out, _, err := a.IssuePair(users["alice"].ID, nil)
			dbtest.Must(t, err, "issue")
			do(t, "POST", urlA+"/token/blacklist/", "", map[string]any{"refresh": out}).expect(t, 200, `{}`)
			do(t, "POST", urlB+"/token/refresh/", "", map[string]any{"refresh": out}).expect(t, 401, `{"detail": "Token is blacklisted", "code": "token_not_valid"}`)
		})
	}
}

func TestJWTBlacklistUnavailable(t *testing.T) {
	rdb, prefix := dbtest.Redis(t)
	p := startRedisProxy(t)
	down := p.client(t)
	j := &authentication.JWT{Key: testSecret, Rotate: true, Blacklist: &authentication.RedisBlacklist{Client: down, Prefix: prefix, Timeout: 200 * time.Millisecond}}
	url := serve(t, j.RefreshHandler())
	refresh, _, err := j.IssuePair(1, nil)
	dbtest.Must(t, err, "issue")
	_ = rdb
	p.proxy.Blackhole()
	start := time.Now()
	rp := do(t, "POST", url, "", map[string]any{"refresh": refresh}).expect(t, 503, `{"detail": "Service temporarily unavailable, try again later."}`)
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("refused after %v, want within the 200 ms timeout (bound 2 s)", el)
	}
	if rp.header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
}

func TestDBBlacklistPrune(t *testing.T) {
	db := dbtest.SQLite(t, (*authentication.BlacklistedToken)(nil))
	bl := &authentication.DBBlacklist{DB: db}
	ctx := t.Context()
	for jti, until := range map[string]time.Time{"old": time.Now().Add(-time.Hour), "live": time.Now().Add(time.Hour)} {
		if already, err := bl.Revoke(ctx, jti, until); err != nil || already {
			t.Fatalf("Revoke(%s) = %v, %v", jti, already, err)
		}
	}
	if already, _ := bl.Revoke(ctx, "live", time.Now().Add(time.Hour)); !already {
		t.Fatal("second Revoke did not report the first")
	}
	dbtest.Must(t, bl.Prune(ctx), "prune")
	for jti, want := range map[string]bool{"old": false, "live": true} {
		if got, err := bl.Revoked(ctx, jti); err != nil || got != want {
			t.Errorf("Revoked(%s) = %v, %v after Prune; want %v", jti, got, err, want)
		}
	}
}

// TestJWTStatelessClaims checks a JWT without DB builds the principal from
// the token, including extra claims given to IssuePair.
func TestJWTStatelessClaims(t *testing.T) {
	j := &authentication.JWT{Key: testSecret}
	_, access, err := j.IssuePair(9, map[string]any{"username": "zoe", "is_staff": true, "exp": 1, "token_type": "refresh"})
	dbtest.Must(t, err, "issue")
	_, c := claimsOf(t, access)
	if c["token_type"] != "access" || c["exp"].(float64) < float64(time.Now().Unix()) {
		t.Fatalf("extra claims overrode reserved ones: %v", c)
	}
	url := serve(t, authentication.Middleware(j)(whoami))
	do(t, "GET", url, "Bearer "+access, nil).expect(t, 200, `{"id": 9, "username": "zoe", "is_staff": true, "backend": "jwt"}`)
}

// TestJWTAuthenticateAllocs guards the cost of a stateless HS256 access
// token: 52 allocations, most of them golang-jwt's claim decoding into a
// map. golang-jwt's HMAC Verify (hmac.New per token, the joined signing
// string) and strings.Fields made it 61.
func TestJWTAuthenticateAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	j := &authentication.JWT{Key: testSecret}
	_, access, err := j.IssuePair(42, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer "+access)
	got := testing.AllocsPerRun(100, func() {
		if p, err := j.Authenticate(r); err != nil || p.ID != 42 {
			t.Fatalf("Authenticate = %v, %v", p, err)
		}
	})
	if got > 52 {
		t.Fatalf("Authenticate allocates %.0f times, want at most 52", got)
	}
}
