package faulttest_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/redis/go-redis/v9"

	"github.com/cosworth/cosworth/authentication"
	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/internal/faultproxy"
	"github.com/cosworth/cosworth/permissions"
	"github.com/cosworth/cosworth/throttling"
)

var secret = []byte("faulttest-secret-0123456789abcdef")

func bearer(t *testing.T, userID int64) string {
	t.Helper()
	now := time.Now()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"token_type": "access", "exp": now.Add(time.Hour).Unix(), "iat": now.Unix(), "jti": "j", "user_id": userID,
	}).SignedString(secret)
	if err != nil {
		t.Fatal(err)
	}
	return "Bearer " + s
}

// TestRedisOutage cuts (and black-holes) Redis under two services sharing it: both
// authenticate DRF tokens against Redis and throttle users there; service
// A's throttle fails closed (no fallback), service B's falls back to
// memory. During the cut a Redis token is refused with 503 on both (never
// let through as anonymous, even where anonymous reads are allowed), a JWT
// caller gets 503 on A and 200 on B, all within the Redis timeout; after
// the restore everything works again by itself.
func TestRedisOutage(t *testing.T) {
	for _, fault := range []string{"cut", "blackhole"} {
		t.Run(fault, func(t *testing.T) { redisOutage(t, fault) })
	}
}

func redisOutage(t *testing.T, fault string) {
	_, prefix := dbtest.Redis(t) // a key prefix of our own, cleaned up at the end
	u, err := url.Parse(dbtest.RedisURL())
	if err != nil {
		t.Fatal(err)
	}
	rp := faultproxy.Start(t, u.Host)
	opt, err := redis.ParseURL(rp.Rewrite(dbtest.RedisURL()))
	if err != nil {
		t.Fatal(err)
	}
	opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout = 200*time.Millisecond, 200*time.Millisecond, 200*time.Millisecond
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { _ = rdb.Close() })

	const redisTimeout = 200 * time.Millisecond
	tokens := &authentication.Redis{Client: rdb, Prefix: prefix, Timeout: redisTimeout}
	jwtAuth := &authentication.JWT{Key: secret}
	auths := []authentication.Authenticator{jwtAuth, tokens}
	perms := []permissions.Permission{permissions.IsAuthenticatedOrReadOnly}
	a := newStack(t, stackOptions{auths: auths, perms: perms, throttles: []throttling.Throttle{
		throttling.NewUserRate("100000/min", throttling.Options{Store: &throttling.RedisStore{Client: rdb, Prefix: prefix + "a:", Timeout: redisTimeout}}),
	}})
	b := newStack(t, stackOptions{auths: auths, perms: perms, throttles: []throttling.Throttle{
		throttling.NewUserRate("100000/min", throttling.Options{Store: &throttling.RedisStore{Client: rdb, Prefix: prefix + "b:", Timeout: redisTimeout, Fallback: &throttling.MemoryStore{}}}),
	}})

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	key, err := tokens.Issue(ctx, &authentication.Principal{ID: 42, Username: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	token := "Token " + key
	jwtHeader := bearer(t, 7)
	c := client(t)

	type check struct {
		name, base, method, auth string
		up, down                 int // status with Redis up, and cut
	}
	checks := []check{
		{"A token read", a.url, http.MethodGet, token, 200, 503},
		{"A token write", a.url, http.MethodPost, token, 201, 503},
		{"A JWT read (throttle fails closed)", a.url, http.MethodGet, jwtHeader, 200, 503},
		{"A anonymous read (throttled by address, fails closed)", a.url, http.MethodGet, "", 200, 503},
		{"B token read", b.url, http.MethodGet, token, 200, 503},
		{"B JWT read (throttle falls back to memory)", b.url, http.MethodGet, jwtHeader, 200, 200},
		{"B JWT write", b.url, http.MethodPost, jwtHeader, 201, 201},
		{"B anonymous write", b.url, http.MethodPost, "", 401, 401},
	}
	run := func(phase string, want func(check) int) bool {
		ok := true
		for _, ch := range checks {
			body := ""
			if ch.method == http.MethodPost {
				body = `{"title":"n"}`
			}
			o := send(c, ch.method, ch.base+"/notes/", ch.auth, body)
			if o.status != want(ch) {
				ok = false
				if phase != "recovering" {
					t.Errorf("%s: %s: status %d, want %d: %s", phase, ch.name, o.status, want(ch), o.body)
				}
			}
			if o.status == http.StatusServiceUnavailable && (o.body != unavailableBody || o.retry == "") {
				t.Errorf("%s: %s: 503 body %s Retry-After %q", phase, ch.name, o.body, o.retry)
			}
			// A hang detector only: a loaded machine delays requests.
			if o.elapsed > redisTimeout+hangMargin {
				t.Errorf("%s: %s took %v with a %v Redis timeout", phase, ch.name, o.elapsed, redisTimeout)
			}
		}
		return ok
	}
	run("up", func(ch check) int { return ch.up })
	base := measure(rp, a.pg, b.pg)

	if fault == "cut" {
		rp.Cut()
	} else {
		rp.Blackhole()
	}
	run(fault, func(ch check) int { return ch.down })
	// Under load during the cut: every token request is a fast 503.
	stop := make(chan struct{})
	results := make(chan []outcome)
	go func() { results <- load(c, a.url, token, 8, stop) }()
	time.Sleep(time.Second)
	close(stop)
	outs := <-results
	// No request hangs (the bound allows a TCP retransmit on a loaded
	// machine); most are refused within the Redis timeout.
	if ok, unavailable := checkOutcomes(t, outs, requestTimeout+hangMargin); ok != 0 || unavailable == 0 {
		t.Errorf("token load during the %s: %d ok, %d unavailable; want every request refused", fault, ok, unavailable)
	}
	// Most are refused by the Redis bound (or its breaker), not by the
	// request deadline five times longer.
	if p50 := percentile(outs, 50); p50 >= requestTimeout {
		t.Errorf("token load during the %s: median %v, Redis timeout %v, request deadline %v", fault, p50, redisTimeout, requestTimeout)
	}

	rp.Restore()
	waitFor(t, "recovery after the Redis restore", 10*time.Second, func() (bool, string) {
		return run("recovering", func(ch check) int { return ch.up }), "some checks still failing"
	})
	run("restored", func(ch check) int { return ch.up })
	checkNoLeaks(t, base, a.db, c, rp, a.pg, b.pg)
}
