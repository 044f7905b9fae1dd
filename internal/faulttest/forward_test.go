package faulttest_test

import (
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cosworth/cosworth/authentication"
	"github.com/cosworth/cosworth/internal/faultproxy"
	"github.com/cosworth/cosworth/permissions"
)

// TestForwardAuthFaults puts a real HTTP auth service behind a fault proxy
// and checks that every way it can fail (slow, erroring, redirecting,
// refusing connections, dropping packets) refuses the request with a 503
// within Forward's timeout, even on an endpoint anonymous callers may read,
// and that it works again after the fault.
func TestForwardAuthFaults(t *testing.T) {
	var mode atomic.Value
	mode.Store("ok")
	authSrv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch mode.Load() {
		case "slow":
			select {
			case <-time.After(5 * time.Second):
			case <-r.Context().Done():
			}
		case "error":
			w.WriteHeader(http.StatusInternalServerError)
		case "redirect":
			http.Redirect(w, r, "http://127.0.0.1:1/login", http.StatusFound)
		case "reject":
			w.WriteHeader(http.StatusUnauthorized)
		case "nobody":
			w.WriteHeader(http.StatusOK) // 2xx naming no user
		default:
			w.Header().Set("X-Auth-User-Id", "9")
			w.Header().Set("X-Auth-User", "carol")
			w.WriteHeader(http.StatusOK)
		}
	}), ReadHeaderTimeout: time.Second}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = authSrv.Serve(ln) }()
	t.Cleanup(func() { _ = authSrv.Close() })
	proxy := faultproxy.Start(t, ln.Addr().String())

	const timeout = 300 * time.Millisecond
	fwd := &authentication.Forward{URL: "http://" + proxy.Addr() + "/verify", Timeout: timeout}
	st := newStack(t, stackOptions{auths: []authentication.Authenticator{fwd}, perms: []permissions.Permission{permissions.IsAuthenticatedOrReadOnly}})
	c := client(t)
	base := measure(proxy, st.pg)

	tests := []struct {
		name   string
		apply  func()
		status int
	}{
		{"ok", func() { mode.Store("ok") }, 200},
		{"slow", func() { mode.Store("slow") }, 503},
		{"error", func() { mode.Store("error") }, 503},
		{"redirect", func() { mode.Store("redirect") }, 503},
		{"2xx naming nobody", func() { mode.Store("nobody") }, 503},
		{"reject", func() { mode.Store("reject") }, 401},
		{"connection refused", func() { mode.Store("ok"); proxy.Cut() }, 503},
		{"black hole", func() { proxy.Restore(); proxy.Blackhole() }, 503},
		{"restored", func() { proxy.Restore() }, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.apply()
			for _, method := range []string{http.MethodGet, http.MethodPost} {
				body, want := "", tt.status
				if method == http.MethodPost {
					body = `{"title":"f"}`
					if want == 200 {
						want = 201
					}
				}
				o := send(c, method, st.url+"/notes/", "Bearer opaque-session-token", body)
				if o.status != want {
					t.Errorf("%s: status %d, want %d: %s", method, o.status, want, o.body)
				}
				if want == 503 && (o.body != unavailableBody || o.retry == "") {
					t.Errorf("%s: 503 body %s, Retry-After %q", method, o.body, o.retry)
				}
				if o.elapsed > timeout+hangMargin {
					t.Errorf("%s took %v with a %v auth timeout", method, o.elapsed, timeout)
				}
			}
		})
	}
	// Anonymous reads never touch the auth service.
	proxy.Cut()
	if o := send(c, http.MethodGet, st.url+"/notes/", "", ""); o.status != 200 {
		t.Errorf("anonymous read with the auth service down: %d", o.status)
	}
	proxy.Restore()
	checkNoLeaks(t, base, st.db, c, proxy, st.pg)
}
