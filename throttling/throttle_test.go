package throttling_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cosworth/cosworth/authentication"
	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/internal/faultproxy"
	"github.com/cosworth/cosworth/throttling"
)

func TestParseRate(t *testing.T) {
	for s, want := range map[string]throttling.Rate{
		"5/min":     {5, time.Minute},
		"5/m":       {5, time.Minute},
		"5/minute":  {5, time.Minute},
		"5/mxyz":    {5, time.Minute}, // DRF reads the first letter only
		"1000/day":  {1000, 24 * time.Hour},
		"10/s":      {10, time.Second},
		"10/sec":    {10, time.Second},
		"100/hour":  {100, time.Hour},
		"100/h":     {100, time.Hour},
		"0/d":       {0, 24 * time.Hour},
		" 7/second": {7, time.Second},
	} {
		got, err := throttling.ParseRate(s)
		if err != nil || got != want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, bad := range []string{"", "5", "5/", "/m", "five/m", "-1/m", "5/x", "5/M", "5/m/s", "5.5/m", "5 /m/"} {
		if _, err := throttling.ParseRate(bad); err == nil {
			t.Errorf("ParseRate(%q) accepted", bad)
		}
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewUserRate(%q) did not panic", bad)
				}
			}()
			throttling.NewUserRate(bad, throttling.Options{})
		}()
	}
}

func TestThrottledMessage(t *testing.T) {
	for _, c := range []struct {
		wait time.Duration
		msg  string
		ra   string
	}{
		{time.Millisecond, "Request was throttled. Expected available in 1 second.", "1"},
		{time.Second, "Request was throttled. Expected available in 1 second.", "1"},
		{1001 * time.Millisecond, "Request was throttled. Expected available in 2 seconds.", "2"},
		{59 * time.Second, "Request was throttled. Expected available in 59 seconds.", "59"},
		{0, "Request was throttled. Expected available in 1 second.", "1"},
	} {
		e := &throttling.ThrottledError{Wait: c.wait}
		h := http.Header{}
		e.SetHeaders(h)
		if e.Error() != c.msg || h.Get("Retry-After") != c.ra || e.StatusCode() != 429 {
			t.Errorf("wait %v: %q, Retry-After %q", c.wait, e.Error(), h.Get("Retry-After"))
		}
	}
}

func TestClientIP(t *testing.T) {
	proxies := throttling.TrustProxies("10.0.0.0/8", "192.168.1.1", "fd00::/8")
	for _, c := range []struct {
		name   string
		ip     throttling.ClientIP
		remote string
		xff    []string
		want   string
	}{
		{"direct", throttling.ClientIP{}, "203.0.113.5:1234", nil, "203.0.113.5"},
		{"direct ignores XFF", throttling.ClientIP{}, "203.0.113.5:1234", []string{"1.1.1.1"}, "203.0.113.5"},
		{"untrusted remote ignores XFF", proxies, "203.0.113.5:1234", []string{"1.1.1.1"}, "203.0.113.5"},
		{"trusted proxy", proxies, "10.1.2.3:80", []string{"198.51.100.7"}, "198.51.100.7"},
		{"right-most untrusted", proxies, "10.1.2.3:80", []string{"6.6.6.6, 198.51.100.7, 10.9.9.9"}, "198.51.100.7"},
		{"spoofed left part ignored", proxies, "10.1.2.3:80", []string{"127.0.0.1", "198.51.100.7"}, "198.51.100.7"},
		{"several header lines", proxies, "192.168.1.1:80", []string{"6.6.6.6", "198.51.100.7, 10.0.0.2"}, "198.51.100.7"},
		{"all trusted", proxies, "10.1.2.3:80", []string{"10.0.0.7"}, "10.0.0.7"},
		{"no XFF", proxies, "10.1.2.3:80", nil, "10.1.2.3"},
		{"garbage stops the walk", proxies, "10.1.2.3:80", []string{"198.51.100.7, garbage"}, "10.1.2.3"},
		{"ipv6", proxies, "[fd00::1]:80", []string{"2001:db8::1"}, "2001:db8::1"},
		{"ipv4-mapped remote", throttling.ClientIP{}, "[::ffff:203.0.113.5]:1", nil, "203.0.113.5"},
		{"ipv6 grouped by /64", throttling.ClientIP{IPv6Prefix: 64}, "[2001:db8:1:2:3:4:5:6]:1", nil, "2001:db8:1:2::/64"},
		{"xff with port", proxies, "10.1.2.3:80", []string{"198.51.100.7:5555"}, "198.51.100.7"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.remote
		for _, v := range c.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := c.ip.Addr(r); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("TrustProxies accepted a bad CIDR")
			}
		}()
		throttling.TrustProxies("10.0.0.0/33")
	}()
	if p := throttling.TrustProxies("::ffff:10.0.0.0/104").Trusted[0]; p != netip.MustParsePrefix("10.0.0.0/8") {
		t.Errorf("mapped CIDR %v", p)
	}
}

// withPrincipal returns r as authentication.Middleware would leave it.
func withPrincipal(r *http.Request, p *authentication.Principal) *http.Request {
	if p == nil {
		return r
	}
	return r.WithContext(authentication.WithPrincipal(r.Context(), p))
}

func req(remote string, p *authentication.Principal) *http.Request {
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = remote
	return withPrincipal(r, p)
}

func TestThrottleKinds(t *testing.T) {
	alice := &authentication.Principal{ID: 1, Username: "alice"}
	bob := &authentication.Principal{ID: 2, Username: "bob"}
	store := &throttling.MemoryStore{}
	anon := throttling.NewAnonRate("2/min", throttling.Options{Store: store})
	user := throttling.NewUserRate("2/min", throttling.Options{Store: store})
	scopedA := throttling.NewScopedRate("uploads", "2/min", throttling.Options{Store: store})
	scopedB := throttling.NewScopedRate("exports", "2/min", throttling.Options{Store: store})

	allowed := func(th throttling.Throttle, r *http.Request) bool {
		w, err := th.Allow(r)
		if err != nil {
			t.Fatal(err)
		}
		return w == 0
	}
	// AnonRate: anonymous by address; authenticated requests pass.
	for i := range 5 {
		if !allowed(anon, req("1.1.1.1:1", alice)) {
			t.Fatalf("AnonRate throttled an authenticated request (%d)", i)
		}
	}
	if !allowed(anon, req("1.1.1.1:1", nil)) || !allowed(anon, req("1.1.1.1:2", nil)) || allowed(anon, req("1.1.1.1:3", nil)) {
		t.Fatal("AnonRate: want 2 allowed then refused for one address (any port)")
	}
	if !allowed(anon, req("2.2.2.2:1", nil)) {
		t.Fatal("AnonRate: another address throttled")
	}
	// UserRate: by user id across addresses; anonymous by address.
	if !allowed(user, req("3.3.3.3:1", alice)) || !allowed(user, req("4.4.4.4:1", alice)) || allowed(user, req("5.5.5.5:1", alice)) {
		t.Fatal("UserRate: want 2 allowed per user whatever the address")
	}
	if !allowed(user, req("3.3.3.3:1", bob)) {
		t.Fatal("UserRate: bob throttled by alice's budget")
	}
	if a, b, c := allowed(user, req("9.9.9.9:1", nil)), allowed(user, req("9.9.9.9:2", nil)), allowed(user, req("9.9.9.9:3", nil)); !a || !b || c {
		t.Fatal("UserRate: anonymous by address")
	}
	// ScopedRate: per scope and caller.
	if a, b, c := allowed(scopedA, req("1.1.1.1:1", alice)), allowed(scopedA, req("1.1.1.2:1", alice)), allowed(scopedA, req("1.1.1.3:1", alice)); !a || !b || c {
		t.Fatal("ScopedRate: want 2 per scope")
	}
	if !allowed(scopedB, req("1.1.1.1:1", alice)) {
		t.Fatal("ScopedRate: scopes share a budget")
	}
	if !allowed(scopedA, req("1.1.1.1:1", bob)) {
		t.Fatal("ScopedRate: users share a budget")
	}
}

func TestHandler(t *testing.T) {
	var served atomic.Int64
	h := throttling.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		w.WriteHeader(200)
	}), throttling.NewScopedRate("token-auth", "5/min", throttling.Options{}), throttling.NewAnonRate("100/h", throttling.Options{}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	for i := range 5 {
		resp, err := http.Post(srv.URL, "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("request %d: %d", i, resp.StatusCode)
		}
	}
	resp, err := http.Post(srv.URL, "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	ra, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
	if resp.StatusCode != 429 || ra < 59 || ra > 60 || string(b) != fmt.Sprintf(`{"detail":"Request was throttled. Expected available in %d seconds."}`, ra) {
		t.Fatalf("6th request: %d %s, Retry-After %q", resp.StatusCode, b, resp.Header.Get("Retry-After"))
	}
	if served.Load() != 5 {
		t.Fatalf("handler ran %d times", served.Load())
	}
}

func redisThroughProxy(t *testing.T) (*faultproxy.Proxy, *redis.Client) {
	t.Helper()
	u, err := url.Parse(dbtest.RedisURL())
	if err != nil {
		t.Fatal(err)
	}
	p := faultproxy.Start(t, u.Host)
	opt, err := redis.ParseURL(p.Rewrite(dbtest.RedisURL()))
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opt) // go-redis defaults: the store must bound calls itself
	t.Cleanup(func() { _ = c.Close() })
	return p, c
}

// TestRedisGlobalLimit runs two "instances" (two stores, two clients, two
// servers) against one Redis: together they allow the limit, not twice it.
func TestRedisGlobalLimit(t *testing.T) {
	rdb1, prefix := dbtest.Redis(t)
	rdb2, _ := dbtest.Redis(t)
	mk := func(c *redis.Client) string {
		th := throttling.NewScopedRate("login", "10/min", throttling.Options{Store: &throttling.RedisStore{Client: c, Prefix: prefix}})
		srv := httptest.NewServer(throttling.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), th))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	urls := []string{mk(rdb1), mk(rdb2)}
	var ok, refused atomic.Int64
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get(urls[i%2])
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			switch resp.StatusCode {
			case 200:
				ok.Add(1)
			case 429:
				refused.Add(1)
				if ra, _ := strconv.Atoi(resp.Header.Get("Retry-After")); ra < 1 || ra > 60 {
					t.Errorf("Retry-After %q", resp.Header.Get("Retry-After"))
				}
			default:
				t.Errorf("status %d", resp.StatusCode)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 10 || refused.Load() != 20 {
		t.Fatalf("%d allowed, %d refused across two instances; want 10 and 20", ok.Load(), refused.Load())
	}
	keys, _ := rdb1.Keys(context.Background(), prefix+"*").Result()
	for _, k := range keys {
		if ttl := rdb1.PTTL(context.Background(), k).Val(); ttl <= 0 || ttl > time.Minute {
			t.Errorf("key %s TTL %v", k, ttl)
		}
	}
}

func TestRedisStoreOutage(t *testing.T) {
	_, prefix := dbtest.Redis(t)
	p, c := redisThroughProxy(t)
	rate := throttling.MustRate("2/min")
	closed := &throttling.RedisStore{Client: c, Prefix: prefix, Timeout: 150 * time.Millisecond}
	fallback := &throttling.RedisStore{Client: c, Prefix: prefix, Timeout: 150 * time.Millisecond, Fallback: &throttling.MemoryStore{}}
	ctx := context.Background()
	if w, err := closed.Allow(ctx, "k", rate); w != 0 || err != nil {
		t.Fatalf("Redis up: %v %v", w, err)
	}

	for _, fault := range []struct {
		name string
		do   func()
	}{{"cut", p.Cut}, {"blackhole", p.Blackhole}} {
		t.Run(fault.name, func(t *testing.T) {
			fault.do()
			defer p.Restore()
			// Fail closed: an error (503), within the bound.
			start := time.Now()
			_, err := closed.Allow(ctx, "k", rate)
			if err == nil {
				t.Fatal("no error with Redis down")
			}
			if el := time.Since(start); el > 2*time.Second {
				t.Fatalf("answered after %v; timeout 150 ms (asserting < 2 s)", el)
			}
			// The breaker is open: further calls fail at once instead of
			// each waiting out the timeout (50 calls in less than one timeout).
			start = time.Now()
			for range 50 {
				if _, err := closed.Allow(ctx, "k", rate); err == nil {
					t.Fatal("no error with Redis down")
				}
			}
			if el := time.Since(start); el >= 150*time.Millisecond {
				t.Fatalf("50 calls took %v with the breaker open", el)
			}
			// Through the handler: 503 with Retry-After.
			srv := httptest.NewServer(throttling.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}),
				throttling.NewUserRate("2/min", throttling.Options{Store: closed})))
			defer srv.Close()
			resp, err := http.Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "1" || string(b) != `{"detail":"Service temporarily unavailable, try again later."}` {
				t.Fatalf("fail closed: %d %s", resp.StatusCode, b)
			}
			// Fallback: a per-instance limit still applies.
			key := "fb-" + fault.name
			for i := range 2 {
				if w, err := fallback.Allow(ctx, key, rate); w != 0 || err != nil {
					t.Fatalf("fallback request %d: %v %v", i, w, err)
				}
			}
			if w, err := fallback.Allow(ctx, key, rate); w == 0 || err != nil {
				t.Fatalf("fallback did not limit: %v %v", w, err)
			}
		})
	}
}

func BenchmarkRedisAllow(b *testing.B) {
	rdb, prefix := dbtest.Redis(b)
	s := &throttling.RedisStore{Client: rdb, Prefix: prefix}
	ctx := context.Background()
	rate := throttling.MustRate("1000000/min")
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if _, err := s.Allow(ctx, "bench"+strconv.Itoa(i%1000), rate); err != nil {
			b.Fatal(err)
		}
	}
}

// TestAllowAllocs guards the per-request cost of a throttle over the
// memory store once its key exists: the key, built in one allocation
// (it took two for a user, three for an IPv4 client and four for an IPv6
// prefix: the ident, the concatenation, the parse error of trying
// "host:port" as a bare address, the prefix text).
func TestAllowAllocs(t *testing.T) {
	store := &throttling.MemoryStore{}
	user := throttling.NewUserRate("1000000/min", throttling.Options{Store: store})
	anon := throttling.NewAnonRate("1000000/min", throttling.Options{Store: store, ClientIP: throttling.ClientIP{IPv6Prefix: 64}})
	for _, tc := range []struct {
		name   string
		t      throttling.Throttle
		remote string
		p      *authentication.Principal
	}{
		{"user id", user, "192.0.2.1:1234", &authentication.Principal{ID: 123456}},
		{"username", user, "192.0.2.1:1234", &authentication.Principal{Username: "ada"}},
		{"anonymous IPv4", user, "192.0.2.1:1234", nil},
		{"anonymous IPv6 prefix", anon, "[2001:db8::1]:1234", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = tc.remote
			if tc.p != nil {
				r = r.WithContext(authentication.WithPrincipal(r.Context(), tc.p))
			}
			if d, err := tc.t.Allow(r); d != 0 || err != nil {
				t.Fatalf("Allow = %v, %v", d, err)
			}
			got := testing.AllocsPerRun(100, func() { _, _ = tc.t.Allow(r) })
			if got > 1 {
				t.Fatalf("Allow allocates %.0f times, want at most 1", got)
			}
		})
	}
}
