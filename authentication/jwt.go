package authentication

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/models"
)

// JWT authenticates "Authorization: Bearer <token>" requests with signed
// JSON web tokens the way djangorestframework-simplejwt 5 does, and issues
// them through ObtainPairHandler, RefreshHandler and VerifyHandler
// (simplejwt's TokenObtainPairView, TokenRefreshView and TokenVerifyView).
//
// Tokens carry simplejwt's claims: token_type ("access" or "refresh"), exp,
// iat, jti and user_id, plus iss and aud when Issuer and Audience are set.
// Only Algorithm is accepted when verifying (never "none", never another
// family: an RS256 public key cannot be used as an HS256 secret), and the
// key's type is checked against the algorithm once, on first use, with a
// panic for a mismatch. A refresh token is never accepted where an access
// token is expected.
//
// The zero value is not usable: Key is required. Fields must not change
// after first use; a *JWT is safe for concurrent use.
type JWT struct {
	// Algorithm signs and verifies tokens: HS256 when nil. HS256/384/512,
	// RS256/384/512, PS256/384/512, ES256/384/512 and EdDSA are supported.
	Algorithm jwt.SigningMethod
	// Key signs tokens: a []byte secret for HS* (at least as long as the
	// hash: 32 bytes for HS256), an *rsa.PrivateKey (2048 bits or more) for
	// RS*/PS*, an *ecdsa.PrivateKey on the algorithm's curve for ES*, an
	// ed25519.PrivateKey for EdDSA. It may be nil when VerifyKey is set:
	// the JWT then only verifies tokens (another service issues them).
	Key any
	// VerifyKey verifies tokens; when nil it is derived from Key (the
	// secret itself for HS*, the public half of a private key otherwise).
	VerifyKey any
	// AccessLifetime is the life of an access token: 5 minutes when zero.
	AccessLifetime time.Duration
	// RefreshLifetime is the life of a refresh token: 1 day when zero.
	RefreshLifetime time.Duration
	// Leeway tolerates clock skew when checking exp, nbf and iat:
	// DefaultLeeway when zero; a negative value means none.
	Leeway time.Duration
	// Issuer, when set, is written as "iss" and required on every token.
	Issuer string
	// Audience, when set, is written as "aud" and required on every token.
	Audience string
	// Realm is the realm of the WWW-Authenticate challenge: "api" when
	// empty, giving `Bearer realm="api"`.
	Realm string
	// DB, when set, is where Authenticate loads the token's user (so a
	// deactivated or deleted user is refused at once, and the principal's
	// username and staff flag are current), as simplejwt's
	// JWTAuthentication does; RefreshHandler then also refuses tokens of
	// inactive users. When nil, the principal is built from the token alone
	// (simplejwt's JWTStatelessUserAuthentication): ID from user_id,
	// Username and IsStaff from "username" and "is_staff" claims if any.
	DB bun.IDB
	// Rotate makes RefreshHandler return a new refresh token with each
	// access token (simplejwt's ROTATE_REFRESH_TOKENS). With a Blacklist,
	// the presented refresh token is blacklisted at once
	// (BLACKLIST_AFTER_ROTATION), so each refresh token works once.
	Rotate bool
	// Blacklist, when set, holds revoked refresh tokens (by jti). It is
	// consulted by RefreshHandler and VerifyHandler and written by
	// rotation and BlacklistHandler. Access tokens are not blacklisted, as
	// in simplejwt: keep their lifetime short.
	Blacklist Blacklist

	once      sync.Once
	method    jwt.SigningMethod
	verifyKey any
	parser    *jwt.Parser
	validator *jwt.Validator // the parser's claim checks, for parse's HMAC path
	macs      *sync.Pool     // of *keyedMAC, for HMAC algorithms
	users     *models.PrincipalLookup
	challenge string
	leeway    time.Duration
	access    time.Duration
	refresh   time.Duration
}

// DefaultLeeway is the clock skew JWT tolerates when Leeway is zero.
const DefaultLeeway = 5 * time.Second

// MaxTokenBytes bounds the length of a token JWT will parse.
const MaxTokenBytes = 8 << 10

// simplejwt's messages.
const (
	MsgTokenInvalid     = "Token is invalid or expired"
	msgNoValidType      = "Given token not valid for any token type"
	msgWrongType        = "Token has wrong type"
	msgNoType           = "Token has no type"
	msgNoID             = "Token has no id"
	msgNoExp            = "Token has no 'exp' claim"
	msgBlacklisted      = "Token is blacklisted"
	msgNoUserID         = "Token contained no recognizable user identification"
	msgUserNotFound     = "User not found"
	msgUserInactive     = "User is inactive"
	msgBadHeader        = "Authorization header must contain two space-delimited values"
	msgNoActiveAccount  = "No active account found with the given credentials"
	msgNoActiveForToken = "No active account found for the given token."
	codeTokenNotValid   = "token_not_valid"
)

// Token types (the token_type claim).
const (
	AccessToken  = "access"
	RefreshToken = "refresh"
)

var (
	_ Authenticator = (*JWT)(nil)
	_ Challenger    = (*JWT)(nil)
)

// setup validates the configuration once; it panics on a programmer error.
func (j *JWT) setup() {
	j.once.Do(func() {
		m := j.Algorithm
		if m == nil {
			m = jwt.SigningMethodHS256
		}
		j.method = m
		j.verifyKey = j.VerifyKey
		switch m {
		case jwt.SigningMethodHS256, jwt.SigningMethodHS384, jwt.SigningMethodHS512:
			min := map[jwt.SigningMethod]int{jwt.SigningMethodHS256: 32, jwt.SigningMethodHS384: 48, jwt.SigningMethodHS512: 64}[m]
			k, ok := j.Key.([]byte)
			if !ok {
				panic(fmt.Sprintf("cosworth/authentication: JWT %s needs a []byte Key, got %T", m.Alg(), j.Key))
			}
			if len(k) < min {
				panic(fmt.Sprintf("cosworth/authentication: JWT %s Key must be at least %d bytes, got %d", m.Alg(), min, len(k)))
			}
			if j.VerifyKey != nil {
				panic("cosworth/authentication: JWT " + m.Alg() + " verifies with Key; leave VerifyKey nil")
			}
			j.verifyKey = k
			hash := map[jwt.SigningMethod]func() hash.Hash{jwt.SigningMethodHS256: sha256.New, jwt.SigningMethodHS384: sha512.New384, jwt.SigningMethodHS512: sha512.New}[m]
			j.macs = &sync.Pool{New: func() any { return &keyedMAC{h: hmac.New(hash, k)} }}
		case jwt.SigningMethodRS256, jwt.SigningMethodRS384, jwt.SigningMethodRS512,
			jwt.SigningMethodPS256, jwt.SigningMethodPS384, jwt.SigningMethodPS512:
			switch k := j.Key.(type) {
			case *rsa.PrivateKey:
				if j.verifyKey == nil {
					j.verifyKey = &k.PublicKey
				}
			case nil:
			default:
				panic(fmt.Sprintf("cosworth/authentication: JWT %s needs an *rsa.PrivateKey Key, got %T", m.Alg(), j.Key))
			}
			pub, ok := j.verifyKey.(*rsa.PublicKey)
			if !ok {
				panic(fmt.Sprintf("cosworth/authentication: JWT %s needs an *rsa.PublicKey VerifyKey, got %T", m.Alg(), j.verifyKey))
			}
			if pub.N.BitLen() < 2048 {
				panic("cosworth/authentication: JWT RSA keys must have at least 2048 bits")
			}
		case jwt.SigningMethodES256, jwt.SigningMethodES384, jwt.SigningMethodES512:
			curve := map[jwt.SigningMethod]elliptic.Curve{jwt.SigningMethodES256: elliptic.P256(), jwt.SigningMethodES384: elliptic.P384(), jwt.SigningMethodES512: elliptic.P521()}[m]
			switch k := j.Key.(type) {
			case *ecdsa.PrivateKey:
				if j.verifyKey == nil {
					j.verifyKey = &k.PublicKey
				}
			case nil:
			default:
				panic(fmt.Sprintf("cosworth/authentication: JWT %s needs an *ecdsa.PrivateKey Key, got %T", m.Alg(), j.Key))
			}
			pub, ok := j.verifyKey.(*ecdsa.PublicKey)
			if !ok || pub.Curve != curve {
				panic(fmt.Sprintf("cosworth/authentication: JWT %s needs an *ecdsa.PublicKey on %s", m.Alg(), curve.Params().Name))
			}
		case jwt.SigningMethodEdDSA:
			switch k := j.Key.(type) {
			case ed25519.PrivateKey:
				if j.verifyKey == nil {
					j.verifyKey = k.Public()
				}
			case nil:
			default:
				panic(fmt.Sprintf("cosworth/authentication: JWT EdDSA needs an ed25519.PrivateKey Key, got %T", j.Key))
			}
			if _, ok := j.verifyKey.(ed25519.PublicKey); !ok {
				panic(fmt.Sprintf("cosworth/authentication: JWT EdDSA needs an ed25519.PublicKey VerifyKey, got %T", j.verifyKey))
			}
		default:
			panic("cosworth/authentication: JWT algorithm " + m.Alg() + " is not supported")
		}
		leeway := j.Leeway
		if leeway == 0 {
			leeway = DefaultLeeway
		} else if leeway < 0 {
			leeway = 0
		}
		j.leeway = leeway
		opts := []jwt.ParserOption{
			jwt.WithValidMethods([]string{m.Alg()}),
			jwt.WithLeeway(leeway),
			jwt.WithIssuedAt(),
			jwt.WithJSONNumber(),
		}
		if j.Issuer != "" {
			opts = append(opts, jwt.WithIssuer(j.Issuer))
		}
		if j.Audience != "" {
			opts = append(opts, jwt.WithAudience(j.Audience))
		}
		j.parser = jwt.NewParser(opts...)
		if j.DB != nil {
			j.users = models.NewPrincipalLookup(j.DB)
		}
		j.validator = jwt.NewValidator(opts...)
		realm := j.Realm
		if realm == "" {
			realm = "api"
		}
		j.challenge = `Bearer realm="` + realm + `"`
		j.access = j.AccessLifetime
		if j.access <= 0 {
			j.access = 5 * time.Minute
		}
		j.refresh = j.RefreshLifetime
		if j.refresh <= 0 {
			j.refresh = 24 * time.Hour
		}
	})
}

// Challenge returns `Bearer realm="api"` (with Realm when set).
func (j *JWT) Challenge() string {
	j.setup()
	return j.challenge
}

// keyFunc returns the verification key, refusing any algorithm but ours
// (WithValidMethods already does; this keeps the rule next to the key).
func (j *JWT) keyFunc(t *jwt.Token) (any, error) {
	if t.Method == nil || t.Method.Alg() != j.method.Alg() {
		return nil, errors.New("unexpected signing method")
	}
	return j.verifyKey, nil
}

// Parse verifies raw (signature, algorithm, exp, nbf, iat, iss, aud, jti)
// and, unless typ is empty, its token_type, and returns its claims. On
// failure it returns simplejwt's reason as the error text ("Token is
// invalid or expired", "Token has wrong type", ...).
func (j *JWT) Parse(raw, typ string) (jwt.MapClaims, error) {
	j.setup()
	if len(raw) > MaxTokenBytes {
		return nil, errors.New(MsgTokenInvalid)
	}
	claims := jwt.MapClaims{}
	if err := j.parse(raw, claims); err != nil {
		return nil, errors.New(MsgTokenInvalid)
	}
	if _, ok := claims["exp"]; !ok {
		return nil, errors.New(msgNoExp)
	}
	if jti, ok := claims["jti"].(string); !ok || jti == "" {
		return nil, errors.New(msgNoID)
	}
	if typ != "" {
		tt, ok := claims["token_type"]
		if !ok {
			return nil, errors.New(msgNoType)
		}
		if tt != typ {
			return nil, errors.New(msgWrongType)
		}
	}
	return claims, nil
}

// parse is the parser's ParseWithClaims: decode raw into claims, refuse
// any algorithm but ours, check the signature, then the claims. For HMAC
// algorithms the signature is checked with a pooled keyed hash rather than
// jwt.SigningMethodHMAC.Verify's hmac.New per token (seven allocations);
// the steps, their order and the constant-time comparison are Verify's.
func (j *JWT) parse(raw string, claims jwt.MapClaims) error {
	if j.macs == nil {
		_, err := j.parser.ParseWithClaims(raw, claims, j.keyFunc)
		return err
	}
	token, parts, err := j.parser.ParseUnverified(raw, claims)
	if err != nil {
		return err
	}
	if _, err := j.keyFunc(token); err != nil {
		return err
	}
	// parts are raw's segments: header "." claims is its prefix.
	if !j.verifyMAC(raw[:len(parts[0])+1+len(parts[1])], token.Signature) {
		return jwt.ErrSignatureInvalid
	}
	return j.validator.Validate(claims)
}

// keyedMAC is an HMAC keyed with the JWT's Key and the buffers one
// verification needs.
type keyedMAC struct {
	h   hash.Hash
	in  []byte
	sum []byte
}

// verifyMAC reports whether sig is the HMAC of text under the JWT's Key.
func (j *JWT) verifyMAC(text string, sig []byte) bool {
	m := j.macs.Get().(*keyedMAC)
	m.h.Reset()
	m.in = append(m.in[:0], text...)
	m.h.Write(m.in)
	m.sum = m.h.Sum(m.sum[:0])
	ok := hmac.Equal(sig, m.sum)
	if cap(m.in) <= MaxTokenBytes {
		j.macs.Put(m)
	}
	return ok
}

// Authenticate implements Authenticator for "Authorization: Bearer
// <access token>". Other schemes are not its business (nil, nil). A token
// that fails verification is a *FailedError with simplejwt's body; with DB set,
// a missing or inactive user is a *FailedError too, and a database failure an
// error (answered 503 by Middleware).
func (j *JWT) Authenticate(r *http.Request) (*Principal, error) {
	j.setup()
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, nil
	}
	// simplejwt splits on white space and matches the scheme exactly.
	var parts [2]string
	n := 0
	for f := range strings.FieldsSeq(h) {
		if n < len(parts) {
			parts[n] = f
		}
		n++
	}
	if n == 0 || parts[0] != "Bearer" {
		return nil, nil
	}
	if n != 2 {
		return nil, &FailedError{Detail: msgBadHeader, Code: "bad_authorization_header"}
	}
	claims, err := j.Parse(parts[1], AccessToken)
	if err != nil {
		return nil, &FailedError{
			Detail:   msgNoValidType,
			Code:     codeTokenNotValid,
			Messages: []TokenMessage{{TokenClass: "AccessToken", TokenType: AccessToken, Message: err.Error()}},
		}
	}
	uid, ok := userID(claims)
	if !ok {
		return nil, &FailedError{Detail: msgNoUserID, Code: codeTokenNotValid}
	}
	p := &Principal{ID: uid, Claims: claims, Backend: "jwt"}
	if j.DB == nil {
		p.Username, _ = claims["username"].(string)
		p.IsStaff, _ = claims["is_staff"].(bool)
		return p, nil
	}
	ctx, cancel := lookupContext(r.Context(), 0)
	defer cancel()
	u := models.Principal{ID: uid}
	if err := j.users.ByID(ctx, &u); err != nil {
		if errors.Is(err, models.ErrNotFound) {
			return nil, &FailedError{Detail: msgUserNotFound, Code: "user_not_found"}
		}
		return nil, err
	}
	if !u.IsActive {
		return nil, &FailedError{Detail: msgUserInactive, Code: "user_inactive"}
	}
	p.Username, p.IsStaff = u.Username, u.IsStaff
	return p, nil
}

// userID reads the user_id claim: a JSON number or its decimal string.
func userID(c jwt.MapClaims) (int64, bool) {
	switch v := c["user_id"].(type) {
	case json.Number:
		n, err := v.Int64()
		return n, err == nil
	case string:
		n, err := strconv.ParseInt(v, 10, 64)
		return n, err == nil
	case float64:
		n := int64(v)
		return n, float64(n) == v
	}
	return 0, false
}

// newJTI returns a random UUID4 in hex without dashes, as simplejwt's
// uuid4().hex.
func newJTI() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return hex.EncodeToString(b[:])
}

func (j *JWT) sign(c jwt.MapClaims) (string, error) {
	if j.Key == nil {
		return "", errors.New("cosworth/authentication: JWT has no signing Key")
	}
	s, err := jwt.NewWithClaims(j.method, c).SignedString(j.Key)
	if err != nil {
		return "", fmt.Errorf("cosworth/authentication: sign token: %w", err)
	}
	return s, nil
}

// newClaims returns the claims of a fresh token of type typ issued at now.
func (j *JWT) newClaims(typ string, now time.Time, life time.Duration) jwt.MapClaims {
	c := jwt.MapClaims{
		"token_type": typ,
		"exp":        now.Add(life).Unix(),
		"iat":        now.Unix(),
		"jti":        newJTI(),
	}
	if j.Issuer != "" {
		c["iss"] = j.Issuer
	}
	if j.Audience != "" {
		c["aud"] = j.Audience
	}
	return c
}

// IssuePair returns a new refresh token for the user with the given id and
// an access token derived from it (simplejwt's RefreshToken.for_user and
// access_token). extra claims, if any, are added to both.
func (j *JWT) IssuePair(userID int64, extra map[string]any) (refresh, access string, err error) {
	j.setup()
	now := time.Now()
	rc := j.newClaims(RefreshToken, now, j.refresh)
	for k, v := range extra {
		if _, reserved := rc[k]; !reserved {
			rc[k] = v
		}
	}
	rc["user_id"] = userID
	if refresh, err = j.sign(rc); err != nil {
		return "", "", err
	}
	access, err = j.accessFrom(rc, now)
	return refresh, access, err
}

// accessFrom signs an access token carrying the claims of refresh claims
// rc except token_type, exp, iat and jti.
func (j *JWT) accessFrom(rc jwt.MapClaims, now time.Time) (string, error) {
	ac := j.newClaims(AccessToken, now, j.access)
	for k, v := range rc {
		switch k {
		case "token_type", "exp", "iat", "jti":
		default:
			ac[k] = v
		}
	}
	return j.sign(ac)
}

// acceptedUntil returns when a token with claims c stops being accepted:
// its exp plus the leeway (how long a blacklist entry must live).
func (j *JWT) acceptedUntil(c jwt.MapClaims) time.Time {
	t, err := c.GetExpirationTime()
	if err != nil || t == nil {
		return time.Now().Add(j.refresh + j.leeway)
	}
	return t.Add(j.leeway)
}
