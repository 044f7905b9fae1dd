package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// env returns a getenv over the given variables.
func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  func(string) string
		want config
		err  string
	}{
		{
			name: "defaults",
			env:  env(),
			want: config{addr: "127.0.0.1:8000", db: "bookstore.db", redisPrefix: "bookstore:"},
		},
		{
			name: "environment",
			env: env("BOOKSTORE_ADDR", "0.0.0.0:9000", "DATABASE_URL", "postgres://u@db/x", "REDIS_URL", "redis://cache:6379/1",
				"BOOKSTORE_REDIS_PREFIX", "bs:", "BOOKSTORE_SECRET", "s3cret", "BOOKSTORE_DEMO", "1"),
			want: config{addr: "0.0.0.0:9000", db: "postgres://u@db/x", redis: "redis://cache:6379/1", redisPrefix: "bs:", secret: "s3cret", demo: true},
		},
		{
			name: "flags win over the environment",
			args: []string{"-addr", "127.0.0.1:1234", "-db", "sqlite:other.db", "-redis", "redis://r", "-redis-prefix", "p:", "-secret", "flag", "-demo=false"},
			env:  env("BOOKSTORE_ADDR", "0.0.0.0:9000", "DATABASE_URL", "env.db", "REDIS_URL", "redis://env", "BOOKSTORE_SECRET", "env", "BOOKSTORE_DEMO", "true"),
			want: config{addr: "127.0.0.1:1234", db: "sqlite:other.db", redis: "redis://r", redisPrefix: "p:", secret: "flag"},
		},
		{
			name: "demo flag",
			args: []string{"-demo"},
			env:  env(),
			want: config{addr: "127.0.0.1:8000", db: "bookstore.db", redisPrefix: "bookstore:", demo: true},
		},
		{
			name: "healthcheck",
			args: []string{"-healthcheck", "-addr", "0.0.0.0:8000"},
			env:  env(),
			want: config{addr: "0.0.0.0:8000", db: "bookstore.db", redisPrefix: "bookstore:", healthcheck: true},
		},
		{name: "unknown flag", args: []string{"-port", "80"}, env: env(), err: "flag provided but not defined: -port"},
		{name: "stray argument", args: []string{"serve"}, env: env(), err: `unexpected argument "serve"`},
		{name: "bad BOOKSTORE_DEMO", env: env("BOOKSTORE_DEMO", "yes please"), err: "BOOKSTORE_DEMO"},
		{name: "empty addr", args: []string{"-addr", ""}, env: env(), err: "-addr is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseConfig(append([]string{"bookstore"}, tt.args...), tt.env, io.Discard)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestRunHelp(t *testing.T) {
	var stderr bytes.Buffer
	if err := run(context.Background(), []string{"bookstore", "-h"}, env(), io.Discard, &stderr); err != nil {
		t.Fatalf("-h: %v", err)
	}
	for _, want := range []string{"-addr", "BOOKSTORE_ADDR", "-db", "DATABASE_URL", "-redis", "REDIS_URL", "-secret", "BOOKSTORE_SECRET", "-demo", "-healthcheck"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("usage lacks %q:\n%s", want, stderr.String())
		}
	}
}

func TestRunRejectsShortSecret(t *testing.T) {
	err := run(context.Background(), []string{"bookstore", "-secret", "short", "-db", filepath.Join(t.TempDir(), "x.db")}, env(), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "at least 32 bytes") {
		t.Fatalf("error %v, want a short-secret error", err)
	}
}

func TestHealthcheck(t *testing.T) {
	healthy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" || r.Method != http.MethodGet {
			http.Error(w, "wrong probe", http.StatusTeapot)
			return
		}
		_, _ = io.WriteString(w, `{"status":"ok"}`)
	}))
	defer healthy.Close()
	sick := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer sick.Close()
	closed := freeAddr(t)
	_, port, _ := net.SplitHostPort(healthy.Listener.Addr().String())

	tests := []struct {
		name string
		addr string
		ok   bool
	}{
		{"answers 200", healthy.Listener.Addr().String(), true},
		{"wildcard host means loopback", "0.0.0.0:" + port, true},
		{"empty host means loopback", ":" + port, true},
		{"answers 503", sick.Listener.Addr().String(), false},
		{"nothing listening", closed, false},
		{"bad address", "no-port", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout bytes.Buffer
			err := run(context.Background(), []string{"bookstore", "-healthcheck", "-addr", tt.addr}, env(), &stdout, io.Discard)
			if tt.ok && (err != nil || strings.TrimSpace(stdout.String()) != "ok") {
				t.Fatalf("err %v, stdout %q; want nil and ok", err, stdout.String())
			}
			if !tt.ok && err == nil {
				t.Fatal("healthcheck passed, want an error (exit status 1)")
			}
		})
	}
	// The address also comes from the environment, as in the image
	// (ENV BOOKSTORE_ADDR=0.0.0.0:8000, HEALTHCHECK CMD ["/bookstore","-healthcheck"]).
	if err := run(context.Background(), []string{"bookstore", "-healthcheck"}, env("BOOKSTORE_ADDR", "0.0.0.0:"+port), io.Discard, io.Discard); err != nil {
		t.Fatalf("healthcheck with BOOKSTORE_ADDR: %v", err)
	}
}

// TestRunServesAndStops runs the service in-process on SQLite from the
// environment alone: it warns about the missing secret, creates the demo
// users, answers -healthcheck, and returns nil when its context is
// canceled (what SIGTERM does in main).
func TestRunServesAndStops(t *testing.T) {
	addr := freeAddr(t)
	getenv := env("BOOKSTORE_ADDR", addr, "DATABASE_URL", "sqlite:"+filepath.Join(t.TempDir(), "run.db"), "BOOKSTORE_DEMO", "1")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs lockedBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"bookstore"}, getenv, io.Discard, &logs) }()

	deadline := time.Now().Add(20 * time.Second)
	for {
		err := run(context.Background(), []string{"bookstore", "-healthcheck"}, getenv, io.Discard, io.Discard)
		if err == nil {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("run returned before serving: %v\n%s", err, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("not healthy after 20s: %v\n%s", err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}

	// A demo user can log in.
	resp, err := http.Post("http://"+addr+"/api/token/", "application/json", strings.NewReader(`{"username":"admin","password":"admin-pass-123"}`))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("demo admin login: %s", resp.Status)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run after cancel: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("run did not return within 20s of cancel")
	}
	for _, want := range []string{"random JWT signing key", "demo user created", "username=admin", "path=/api/token/", "status=200", "request_id="} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
	// A second start on the same file finds its tables and demo users.
	ctx2, cancel2 := context.WithCancel(context.Background())
	var logs2 lockedBuffer
	done2 := make(chan error, 1)
	go func() { done2 <- run(ctx2, []string{"bookstore"}, getenv, io.Discard, &logs2) }()
	for time.Now().Before(deadline.Add(10 * time.Second)) {
		if run(context.Background(), []string{"bookstore", "-healthcheck"}, getenv, io.Discard, io.Discard) == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel2()
	if err := <-done2; err != nil {
		t.Fatalf("second run: %v\n%s", err, logs2.String())
	}
	if strings.Contains(logs2.String(), "demo user created") {
		t.Errorf("second start created demo users again:\n%s", logs2.String())
	}
}
