package authentication

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"
	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/internal/httperror"
	"github.com/cosworth/cosworth/internal/redisbound"
	"github.com/cosworth/cosworth/models"
)

// Redis authenticates "Authorization: Token <key>" (or Keyword) requests
// against principals stored in Redis: Issue stores a principal under the
// SHA-256 digest of a fresh random key, with a TTL, and returns the key;
// Revoke and RevokeUser delete entries, which every instance sharing the
// Redis sees at once. The key itself is never stored.
//
// Every Redis call is bounded by Timeout (even for a client without
// ContextTimeoutEnabled). When Redis cannot answer, Authenticate returns
// an error wrapping ErrUnavailable: Middleware refuses the request with
// 503; it never becomes anonymous.
//
// The stored principal is a snapshot: revoke a user's tokens
// (RevokeUser) when the user is deactivated or loses staff status.
type Redis struct {
	Client redis.UniversalClient
	// Prefix is prepended to every key ("" is allowed).
	Prefix string
	// Keyword is the scheme: "Token" when empty, matched case-insensitively.
	Keyword string
	// TTL is the life of an issued token: 24 hours when zero.
	TTL time.Duration
	// Timeout bounds each Redis call: DefaultStoreTimeout when zero.
	Timeout time.Duration

	once sync.Once
	call *redisbound.Caller
}

var (
	_ Authenticator = (*Redis)(nil)
	_ Challenger    = (*Redis)(nil)
)

// storedPrincipal is the JSON kept in Redis.
type storedPrincipal struct {
	ID       int64          `json:"id"`
	Username string         `json:"username"`
	IsStaff  bool           `json:"is_staff"`
	Claims   map[string]any `json:"claims,omitempty"`
}

// maxStoredPrincipal bounds the value Authenticate will decode.
const maxStoredPrincipal = 64 << 10

func (a *Redis) setup() {
	a.once.Do(func() {
		if a.Client == nil {
			panic("cosworth/authentication: Redis needs a Client")
		}
		a.call = newRedisCall(a.Client, a.Timeout)
	})
}

func (a *Redis) keyword() string {
	if a.Keyword == "" {
		return "Token"
	}
	return a.Keyword
}

func (a *Redis) ttl() time.Duration {
	if a.TTL <= 0 {
		return 24 * time.Hour
	}
	return a.TTL
}

// tokenKey is Prefix + "authtok:" + models.TokenDigest(key), built in one
// allocation.
func (a *Redis) tokenKey(key string) string {
	const tag = "authtok:"
	sum := sha256.Sum256([]byte(key))
	var digest [2 * sha256.Size]byte
	hex.Encode(digest[:], sum[:])
	var b strings.Builder
	b.Grow(len(a.Prefix) + len(tag) + len(digest))
	b.WriteString(a.Prefix)
	b.WriteString(tag)
	b.Write(digest[:])
	return b.String()
}
func (a *Redis) userKey(id int64) string { return a.Prefix + "authuser:" + strconv.FormatInt(id, 10) }

// Challenge returns the keyword, "Token".
func (a *Redis) Challenge() string { return a.keyword() }

// Authenticate implements Authenticator with one GET, DRF's Token
// messages, and an error wrapping ErrUnavailable when Redis fails.
func (a *Redis) Authenticate(r *http.Request) (*Principal, error) {
	a.setup()
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, nil
	}
	key, n, ok := schemeCredentials(h, a.keyword())
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
	if len(key) != models.TokenKeyLength {
		return nil, &FailedError{Detail: msgTokenInvalid}
	}
	var val []byte
	err := a.call.Do(r.Context(), func(ctx context.Context) error {
		var err error
		val, err = a.Client.Get(ctx, a.tokenKey(key)).Bytes()
		return err
	})
	if errors.Is(err, redis.Nil) {
		return nil, &FailedError{Detail: msgTokenInvalid}
	}
	if err != nil {
		return nil, fmt.Errorf("%w: redis token lookup: %w", ErrUnavailable, err)
	}
	if len(val) > maxStoredPrincipal {
		return nil, fmt.Errorf("%w: redis token entry too large", ErrUnavailable)
	}
	var sp storedPrincipal
	if err := json.Unmarshal(val, &sp); err != nil {
		return nil, fmt.Errorf("%w: redis token entry: %w", ErrUnavailable, err)
	}
	return &Principal{ID: sp.ID, Username: sp.Username, IsStaff: sp.IsStaff, Claims: sp.Claims, Backend: "redis"}, nil
}

// Issue stores p under a new random key for TTL and returns the key (40
// hex digits). The key is also recorded in the user's index, so RevokeUser
// can find it. Errors wrap ErrUnavailable.
func (a *Redis) Issue(ctx context.Context, p *Principal) (string, error) {
	a.setup()
	val, err := json.Marshal(storedPrincipal{ID: p.ID, Username: p.Username, IsStaff: p.IsStaff, Claims: p.Claims})
	if err != nil {
		return "", fmt.Errorf("cosworth/authentication: encode principal: %w", err)
	}
	key := models.NewTokenKey()
	tk, uk, ttl := a.tokenKey(key), a.userKey(p.ID), a.ttl()
	err = a.call.Do(ctx, func(ctx context.Context) error {
		_, err := a.Client.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
			pipe.Set(ctx, tk, val, ttl)
			pipe.SAdd(ctx, uk, tk)
			// The index lives as long as the newest token.
			pipe.Expire(ctx, uk, ttl)
			return nil
		})
		return err
	})
	if err != nil {
		return "", fmt.Errorf("%w: redis token issue: %w", ErrUnavailable, err)
	}
	return key, nil
}

// Revoke deletes the token with the given key. Errors wrap ErrUnavailable.
func (a *Redis) Revoke(ctx context.Context, key string) error {
	a.setup()
	err := a.call.Do(ctx, func(ctx context.Context) error {
		return a.Client.Del(ctx, a.tokenKey(key)).Err()
	})
	if err != nil {
		return fmt.Errorf("%w: redis token revoke: %w", ErrUnavailable, err)
	}
	return nil
}

// revokeUserScript deletes every token listed in a user's index, and the
// index, atomically.
var revokeUserScript = redis.NewScript(`
local keys = redis.call('SMEMBERS', KEYS[1])
for i = 1, #keys, 500 do
  redis.call('DEL', unpack(keys, i, math.min(i + 499, #keys)))
end
redis.call('DEL', KEYS[1])
return #keys
`)

// RevokeUser deletes every token issued to the user with the given id.
// Errors wrap ErrUnavailable.
func (a *Redis) RevokeUser(ctx context.Context, userID int64) error {
	a.setup()
	err := a.call.Do(ctx, func(ctx context.Context) error {
		return revokeUserScript.Run(ctx, a.Client, []string{a.userKey(userID)}).Err()
	})
	if err != nil {
		return fmt.Errorf("%w: redis token revoke: %w", ErrUnavailable, err)
	}
	return nil
}

// ObtainHandler is Token.ObtainHandler for Redis-held tokens: POST
// {"username", "password"} checked against db's users, answered with 200
// {"token": <key>} of a new Redis token; DRF's ObtainAuthToken errors;
// 503 when Redis or the database cannot answer.
func (a *Redis) ObtainHandler(db bun.IDB) http.Handler {
	a.setup()
	if db == nil {
		panic("cosworth/authentication: Redis.ObtainHandler needs a database")
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
		u, err := models.AuthenticateUser(r.Context(), db, vals[0], vals[1])
		if err != nil {
			if errors.Is(err, models.ErrNotFound) {
				err = nonFieldError(msgUnableToLogIn)
			}
			httperror.Write(w, r, err)
			return
		}
		key, err := a.Issue(r.Context(), &Principal{ID: u.ID, Username: u.Username, IsStaff: u.IsStaff})
		if err != nil {
			httperror.Write(w, r, &UnavailableError{Err: err})
			return
		}
		writeJSON(w, "token", key)
	})
}
