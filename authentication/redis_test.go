package authentication_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cosworth/cosworth/authentication"
	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/internal/faultproxy"
	"github.com/cosworth/cosworth/models"
)

type redisProxy struct{ proxy *faultproxy.Proxy }

// startRedisProxy puts a loopback TCP proxy we control in front of the
// shared Redis, so an outage can be simulated without touching it.
func startRedisProxy(t *testing.T) *redisProxy {
	t.Helper()
	dbtest.Redis(t) // skips or fails when Redis is unreachable
	u, err := url.Parse(dbtest.RedisURL())
	if err != nil {
		t.Fatal(err)
	}
	return &redisProxy{proxy: faultproxy.Start(t, u.Host)}
}

// client returns a go-redis client through the proxy with go-redis's
// default options (no ContextTimeoutEnabled, 3 s read timeout): the
// authenticators must bound their calls themselves.
func (p *redisProxy) client(t *testing.T) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(p.proxy.Rewrite(dbtest.RedisURL()))
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opt)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestRedisTokens(t *testing.T) {
	ctx := context.Background()
	rdb, prefix := dbtest.Redis(t)
	// Two instances: separate authenticators and clients, one Redis.
	rdb2, _ := dbtest.Redis(t)
	a := &authentication.Redis{Client: rdb, Prefix: prefix}
	b := &authentication.Redis{Client: rdb2, Prefix: prefix}
	urlA := serve(t, authentication.Middleware(a)(whoami))
	urlB := serve(t, authentication.Middleware(b)(whoami))

	key, err := a.Issue(ctx, &authentication.Principal{ID: 7, Username: "alice"})
	dbtest.Must(t, err, "issue")
	key2, err := a.Issue(ctx, &authentication.Principal{ID: 7, Username: "alice"})
	dbtest.Must(t, err, "issue")
	staffKey, err := b.Issue(ctx, &authentication.Principal{ID: 8, Username: "admin", IsStaff: true})
	dbtest.Must(t, err, "issue")
	if len(key) != 40 || key == key2 {
		t.Fatalf("keys %q %q", key, key2)
	}
	// Only digests are stored.
	keys, err := rdb.Keys(ctx, prefix+"*").Result()
	dbtest.Must(t, err, "keys")
	for _, k := range keys {
		v, _ := rdb.Get(ctx, k).Result()
		if strings.Contains(k, key) || strings.Contains(v, key) {
			t.Fatalf("Redis holds the key in %q", k)
		}
	}
	if ttl := rdb.TTL(ctx, keys[0]).Val(); ttl <= 0 || ttl > 24*time.Hour {
		t.Fatalf("TTL %v", ttl)
	}

	want := `{"id": 7, "username": "alice", "is_staff": false, "backend": "redis"}`
	do(t, "GET", urlA, "Token "+key, nil).expect(t, 200, want)
	do(t, "GET", urlB, "token "+key, nil).expect(t, 200, want) // DRF matches the keyword case-insensitively
	do(t, "GET", urlB, "Token "+staffKey, nil).expect(t, 200, `{"id": 8, "username": "admin", "is_staff": true, "backend": "redis"}`)
	rp := do(t, "GET", urlA, "Token 0123456789abcdef0123456789abcdef01234567", nil).expect(t, 401, `{"detail": "Invalid token."}`)
	if rp.header.Get("WWW-Authenticate") != "Token" {
		t.Errorf("WWW-Authenticate %q", rp.header.Get("WWW-Authenticate"))
	}
	do(t, "GET", urlA, "Token short", nil).expect(t, 401, `{"detail": "Invalid token."}`)
	do(t, "GET", urlA, "Token", nil).expect(t, 401, `{"detail": "Invalid token header. No credentials provided."}`)
	do(t, "GET", urlA, "Token a b", nil).expect(t, 401, `{"detail": "Invalid token header. Token string should not contain spaces."}`)

	// Revocation on one instance is seen by the other at once.
	dbtest.Must(t, a.Revoke(ctx, key), "revoke")
	do(t, "GET", urlB, "Token "+key, nil).expect(t, 401, `{"detail": "Invalid token."}`)
	do(t, "GET", urlB, "Token "+key2, nil).expect(t, 200, want)
	dbtest.Must(t, b.RevokeUser(ctx, 7), "revoke user")
	do(t, "GET", urlA, "Token "+key2, nil).expect(t, 401, `{"detail": "Invalid token."}`)
	do(t, "GET", urlA, "Token "+staffKey, nil).expect(t, 200, "")
}

func TestRedisTokensUnavailable(t *testing.T) {
	ctx := context.Background()
	p := startRedisProxy(t)
	_, prefix := dbtest.Redis(t)
	a := &authentication.Redis{Client: p.client(t), Prefix: prefix, Timeout: 200 * time.Millisecond}
	url := serve(t, authentication.Middleware(a)(whoami))
	key, err := a.Issue(ctx, &authentication.Principal{ID: 1, Username: "alice"})
	dbtest.Must(t, err, "issue")
	do(t, "GET", url, "Token "+key, nil).expect(t, 200, "")

	for _, fault := range []struct {
		name string
		do   func()
	}{{"cut", p.proxy.Cut}, {"blackhole", p.proxy.Blackhole}} {
		t.Run(fault.name, func(t *testing.T) {
			fault.do()
			defer p.proxy.Restore()
			for i := 0; i < 3; i++ {
				start := time.Now()
				rp := do(t, "GET", url, "Token "+key, nil).expect(t, 503, `{"detail": "Service temporarily unavailable, try again later."}`)
				if el := time.Since(start); el > 2*time.Second {
					t.Fatalf("refused after %v; the bound is the 200 ms timeout (asserting < 2 s)", el)
				}
				if rp.header.Get("Retry-After") != "1" {
					t.Errorf("Retry-After %q", rp.header.Get("Retry-After"))
				}
			}
			// Requests without credentials do not need Redis.
			do(t, "GET", url, "", nil).expect(t, 200, `{"anonymous": true}`)
			if _, err := a.Issue(ctx, &authentication.Principal{ID: 1}); err == nil {
				t.Error("Issue succeeded during the outage")
			}
		})
	}
	// Back up: it works again.
	deadline := time.Now().Add(5 * time.Second)
	for {
		rp := do(t, "GET", url, "Token "+key, nil)
		if rp.status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %d after restore", rp.status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// redisClientNoDial is a client that is never used to connect.
func redisClientNoDial() *redis.Client {
	return redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
}

func TestRedisObtainHandler(t *testing.T) {
	db, users := usersDB(t)
	rdb, prefix := dbtest.Redis(t)
	a := &authentication.Redis{Client: rdb, Prefix: prefix, TTL: time.Minute}
	mux := http.NewServeMux()
	mux.Handle("/token-auth/", a.ObtainHandler(db))
	mux.Handle("/me/", whoami)
	url := serve(t, authentication.Middleware(a)(mux))
	key := do(t, "POST", url+"/token-auth/", "", map[string]any{"username": "admin", "password": "admin-pass-123"}).expect(t, 200, "").json(t)["token"].(string)
	do(t, "GET", url+"/me/", "Token "+key, nil).expect(t, 200, fmt.Sprintf(`{"id": %d, "username": "admin", "is_staff": true, "backend": "redis"}`, users["admin"].ID))
	do(t, "POST", url+"/token-auth/", "", map[string]any{"username": "ghost", "password": "ghost-pass-123"}).expect(t, 400, `{"non_field_errors": ["Unable to log in with provided credentials."]}`)
	do(t, "POST", url+"/token-auth/", "", "username=admin&password=admin-pass-123", "Content-Type", "application/x-www-form-urlencoded").expect(t, 200, "")
	if ttl := rdb.TTL(context.Background(), prefix+"authtok:"+models.TokenDigest(key)).Val(); ttl <= 0 || ttl > time.Minute {
		t.Fatalf("TTL %v, want at most the configured minute", ttl)
	}
}

// TestRedisTokenKey checks the key Authenticate reads is the one Issue
// wrote: Prefix, "authtok:", the key's digest (as models.TokenDigest).
func TestRedisTokenKey(t *testing.T) {
	rdb, prefix := dbtest.Redis(t)
	a := &authentication.Redis{Client: rdb, Prefix: prefix}
	key, err := a.Issue(context.Background(), &authentication.Principal{ID: 3, Username: "ada"})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := rdb.Exists(context.Background(), a.Prefix+"authtok:"+models.TokenDigest(key)).Result(); err != nil || n != 1 {
		t.Fatalf("EXISTS %sauthtok:<digest> = %d, %v; want 1", a.Prefix, n, err)
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Token "+key)
	if p, err := a.Authenticate(r); err != nil || p == nil || p.Username != "ada" {
		t.Fatalf("Authenticate = %v, %v", p, err)
	}
}
