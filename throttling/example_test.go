package throttling_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/cosworth/cosworth/throttling"
)

// ExampleParseRate shows DRF's rate strings: the period's first letter
// decides.
func ExampleParseRate() {
	for _, s := range []string{"5/min", "1000/day", "10/s", "100/hour"} {
		r := throttling.MustRate(s)
		fmt.Println(s, "=", r.Limit, "per", r.Period)
	}
	// Output:
	// 5/min = 5 per 1m0s
	// 1000/day = 1000 per 24h0m0s
	// 10/s = 10 per 1s
	// 100/hour = 100 per 1h0m0s
}

// ExampleHandler throttles a login endpoint to 5 requests a minute per
// client, as the bookstore's /api/token-auth/. Use a MemoryStore for one
// instance and a RedisStore (shared by every instance) otherwise.
func ExampleHandler() {
	login := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
	h := throttling.Handler(login, throttling.NewScopedRate("token-auth", "5/min", throttling.Options{Store: &throttling.MemoryStore{}}))
	for i := 1; i <= 6; i++ {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("POST", "/api/token-auth/", nil))
		if w.Code != 200 {
			fmt.Println(i, w.Code, "Retry-After:", w.Header().Get("Retry-After"))
		}
	}
	// Output:
	// 6 429 Retry-After: 60
}

// ExampleTrustProxies reads X-Forwarded-For only from the load balancer's
// network, taking the right-most address it did not add itself.
func ExampleTrustProxies() {
	ip := throttling.TrustProxies("10.0.0.0/8")
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "10.0.0.2:51000" // the load balancer
	r.Header.Set("X-Forwarded-For", "1.2.3.4, 198.51.100.7")
	fmt.Println(ip.Addr(r))
	r.RemoteAddr = "203.0.113.9:40000" // a client connecting directly: its header is ignored
	fmt.Println(ip.Addr(r))
	// Output:
	// 198.51.100.7
	// 203.0.113.9
}
