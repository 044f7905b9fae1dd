package authentication_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cosworth/cosworth/authentication"
)

// authUpstream is a forward-auth service on loopback: "Bearer good-<name>"
// is user <name>; "Bearer deny" is 401; "Bearer forbid" 403; "Bearer boom"
// 500; "Bearer slow" sleeps past any timeout; "Bearer redirect" 302;
// "Bearer nobody" a 200 naming no one.
type authUpstream struct {
	calls    atomic.Int64
	inflight atomic.Int64
	peak     atomic.Int64
	release  chan struct{}
	arrived  chan struct{} // when not nil, told of each slow request
	mu       sync.Mutex
	lastHdr  http.Header
}

func (u *authUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u.calls.Add(1)
	n := u.inflight.Add(1)
	defer u.inflight.Add(-1)
	for {
		p := u.peak.Load()
		if n <= p || u.peak.CompareAndSwap(p, n) {
			break
		}
	}
	u.mu.Lock()
	u.lastHdr = r.Header.Clone()
	u.mu.Unlock()
	switch a := r.Header.Get("Authorization"); a {
	case "Bearer deny":
		w.WriteHeader(401)
	case "Bearer forbid":
		w.WriteHeader(403)
	case "Bearer boom":
		w.WriteHeader(500)
	case "Bearer redirect":
		http.Redirect(w, r, "/elsewhere", http.StatusFound)
	case "Bearer slow":
		if u.arrived != nil {
			u.arrived <- struct{}{}
		}
		select {
		case <-u.release:
		case <-r.Context().Done():
		}
		w.Header().Set("X-Auth-User", "late")
	case "Bearer nobody":
		w.WriteHeader(200)
	case "Bearer json":
		_ = json.NewEncoder(w).Encode(map[string]any{"id": 9, "username": "jay", "is_staff": true, "tenant": "acme"})
	default:
		if len(a) > len("Bearer good-") && a[:len("Bearer good-")] == "Bearer good-" {
			w.Header().Set("X-Auth-User-Id", "12")
			w.Header().Set("X-Auth-User", a[len("Bearer good-"):])
			w.Header().Set("X-Auth-Staff", "true")
			w.Header().Set("X-Auth-Tenant", "acme")
			return
		}
		if c, err := r.Cookie("session"); err == nil && c.Value == "s1" {
			w.Header().Set("X-Auth-User", "cookie-user")
			return
		}
		w.WriteHeader(401)
	}
}

func TestForwardAuth(t *testing.T) {
	up := &authUpstream{release: make(chan struct{})}
	upstream := httptest.NewServer(up)
	defer close(up.release)
	defer upstream.Close()
	f := &authentication.Forward{URL: upstream.URL + "/verify", Timeout: 300 * time.Millisecond, ClaimHeaders: []string{"X-Auth-Tenant"}}
	url := serve(t, authentication.Middleware(f)(whoami))

	do(t, "GET", url+"/books/?x=1", "Bearer good-alice", nil).expect(t, 200, `{"id": 12, "username": "alice", "is_staff": true, "backend": "forward"}`)
	up.mu.Lock()
	h := up.lastHdr
	up.mu.Unlock()
	if h.Get("Authorization") != "Bearer good-alice" || h.Get("X-Forwarded-Method") != "GET" || h.Get("X-Forwarded-Uri") != "/books/?x=1" {
		t.Errorf("upstream saw %v", h)
	}
	do(t, "GET", url, "", nil, "Cookie", "session=s1").expect(t, 200, `{"id": 0, "username": "cookie-user", "is_staff": false, "backend": "forward"}`)

	// No credentials: anonymous, and the upstream is not asked.
	before := up.calls.Load()
	do(t, "GET", url, "", nil).expect(t, 200, `{"anonymous": true}`)
	if up.calls.Load() != before {
		t.Error("upstream asked for a request without credentials")
	}

	for _, c := range []struct {
		auth   string
		status int
		body   string
	}{
		{"Bearer deny", 401, `{"detail": "Incorrect authentication credentials."}`},
		{"Bearer forbid", 401, `{"detail": "Incorrect authentication credentials."}`},
		{"Bearer boom", 503, `{"detail": "Service temporarily unavailable, try again later."}`},
		{"Bearer redirect", 503, ""},
		{"Bearer nobody", 503, ""},
	} {
		rp := do(t, "GET", url, c.auth, nil).expect(t, c.status, c.body)
		if c.status == 401 && rp.header.Get("WWW-Authenticate") != "Bearer" {
			t.Errorf("%s: WWW-Authenticate %q", c.auth, rp.header.Get("WWW-Authenticate"))
		}
	}

	// Slow upstream: refused within the timeout, not hung.
	start := time.Now()
	do(t, "GET", url, "Bearer slow", nil).expect(t, 503, "")
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("slow upstream refused after %v; timeout 300 ms (asserting < 2 s)", el)
	}

	// Upstream down.
	down := httptest.NewServer(up)
	down.Close()
	fd := &authentication.Forward{URL: down.URL, Timeout: 300 * time.Millisecond}
	start = time.Now()
	do(t, "GET", serve(t, authentication.Middleware(fd)(whoami)), "Bearer good-alice", nil).expect(t, 503, "")
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("down upstream refused after %v", el)
	}

	// JSON body mode.
	fj := &authentication.Forward{URL: upstream.URL, JSONBody: true}
	do(t, "GET", serve(t, authentication.Middleware(fj)(whoami)), "Bearer json", nil).expect(t, 200, `{"id": 9, "username": "jay", "is_staff": true, "backend": "forward"}`)
}

func TestForwardAuthCacheAndPool(t *testing.T) {
	up := &authUpstream{release: make(chan struct{}), arrived: make(chan struct{}, 6)}
	upstream := httptest.NewServer(up)
	defer upstream.Close()
	f := &authentication.Forward{URL: upstream.URL, CacheTTL: time.Minute, CacheSize: 2, MaxConnsPerHost: 2, Timeout: 500 * time.Millisecond}
	url := serve(t, authentication.Middleware(f)(whoami))

	// Positive answers are cached by credentials; negative ones are not.
	for range 3 {
		do(t, "GET", url, "Bearer good-a", nil).expect(t, 200, "")
	}
	if n := up.calls.Load(); n != 1 {
		t.Fatalf("%d upstream calls for one credential, want 1 (cached)", n)
	}
	for range 2 {
		do(t, "GET", url, "Bearer deny", nil).expect(t, 401, "")
	}
	if n := up.calls.Load(); n != 3 {
		t.Fatalf("%d upstream calls, want 3 (denials not cached)", n)
	}
	// The cache is bounded: with room for 2, a third credential evicts the oldest.
	do(t, "GET", url, "Bearer good-b", nil).expect(t, 200, "")
	do(t, "GET", url, "Bearer good-c", nil).expect(t, 200, "")
	before := up.calls.Load()
	do(t, "GET", url, "Bearer good-a", nil).expect(t, 200, "")
	if up.calls.Load() != before+1 {
		t.Fatal("evicted credential answered from the cache")
	}

	// The connection pool is bounded: 6 slow requests, at most 2 at the
	// upstream. The upstream holds them until all 6 have asked the
	// transport for a connection (httptrace's GetConn, through the
	// request context Forward passes on) and 2 have reached it.
	asking := make(chan struct{}, 6)
	traced := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		trace := &httptrace.ClientTrace{GetConn: func(string) { asking <- struct{}{} }}
		authentication.Middleware(f)(whoami).ServeHTTP(w, r.WithContext(httptrace.WithClientTrace(r.Context(), trace)))
	}))
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			do(t, "GET", traced, "Bearer slow", nil)
		}()
	}
	deadline := time.After(10 * time.Second) // a bound on a broken test, not a wait
	for range 6 {
		select {
		case <-asking:
		case <-deadline:
			t.Fatal("the 6 requests never all asked for an upstream connection")
		}
	}
	for range 2 {
		select {
		case <-up.arrived:
		case <-deadline:
			t.Fatal("no 2 slow requests reached the upstream")
		}
	}
	close(up.release)
	wg.Wait()
	if p := up.peak.Load(); p > 2 {
		t.Fatalf("%d concurrent upstream requests, want at most MaxConnsPerHost 2", p)
	}
}
