package cosworth_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cosworth/cosworth"
	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/internal/faultproxy"
	"github.com/cosworth/cosworth/models"
)

func TestHealth(t *testing.T) {
	db := dbtest.SQLite(t)
	down := cosworth.PingerFunc(func(ctx context.Context) error { return errors.New("redis: connection refused 10.0.0.7") })
	hang := cosworth.PingerFunc(func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
	up := cosworth.PingerFunc(func(ctx context.Context) error { return nil })

	tests := []struct {
		name   string
		h      http.Handler
		path   string
		status int
	}{
		{"liveness ignores dependencies", cosworth.Health(db, down), "/healthz", 200},
		{"ready", cosworth.Health(db, up), "/readyz", 200},
		{"ready without db", cosworth.Health(nil, up), "/readyz", 200},
		{"pinger down", cosworth.Health(db, up, down), "/readyz", 503},
		{"pinger hangs", cosworth.Health(db, hang), "/readyz", 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logger, logs := newLogger()
			url := serve(t, logger, cosworth.Config{}, tt.h)
			start := time.Now()
			res := get(t, client(t), url+tt.path)
			if took := time.Since(start); took > cosworth.HealthTimeout+2*time.Second {
				t.Fatalf("took %v, bound is %v", took, cosworth.HealthTimeout)
			}
			if res.status != tt.status {
				t.Fatalf("status %d, want %d: %s", res.status, tt.status, res.body)
			}
			if tt.status == 200 && res.body != `{"status":"ok"}` {
				t.Fatalf("body %s", res.body)
			}
			if tt.status == 503 {
				if res.body != `{"detail":"Service temporarily unavailable, try again later.","status":"unavailable"}` || res.header.Get("Retry-After") == "" {
					t.Fatalf("503 body %s, Retry-After %q", res.body, res.header.Get("Retry-After"))
				}
				if len(logs.lines(t, "readiness check failed")) != 1 {
					t.Fatalf("the failed check was not logged:\n%s", logs)
				}
			}
			if strings.Contains(res.body, "10.0.0.7") {
				t.Fatal("the cause leaked into the response")
			}
		})
	}
	t.Run("method", func(t *testing.T) {
		url := serve(t, slogDiscard(), cosworth.Config{}, cosworth.Health(db))
		req, _ := http.NewRequest(http.MethodPost, url+"/readyz", nil)
		res := do(t, client(t), req)
		wantDetail(t, res, http.StatusMethodNotAllowed, `Method "POST" not allowed.`)
		if res.header.Get("Allow") != "GET, HEAD" {
			t.Fatalf("Allow %q", res.header.Get("Allow"))
		}
	})
}

// TestHealthPostgresCut checks readiness against a real PostgreSQL reached
// through a proxy that is then cut: ready, unavailable within the bound,
// and ready again after the proxy is restored.
func TestHealthPostgresCut(t *testing.T) {
	dsn, _ := dbtest.PostgresSchemaURL(t)
	proxy := faultproxy.Start(t, hostPort(t, dsn))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	db, err := models.Open(ctx, proxy.Rewrite(dsn), models.WithAcquireTimeout(500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	url := serve(t, slogDiscard(), cosworth.Config{}, cosworth.Health(db))
	c := client(t)
	if res := get(t, c, url+"/readyz"); res.status != 200 {
		t.Fatalf("before the cut: %d %s", res.status, res.body)
	}
	proxy.Cut()
	start := time.Now()
	if res := get(t, c, url+"/readyz"); res.status != 503 {
		t.Fatalf("during the cut: %d %s", res.status, res.body)
	}
	if took := time.Since(start); took > cosworth.HealthTimeout+time.Second {
		t.Fatalf("readiness took %v during the cut", took)
	}
	proxy.Restore()
	deadline := time.Now().Add(10 * time.Second)
	for {
		res := get(t, c, url+"/readyz")
		if res.status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready 10s after the restore: %d", res.status)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func slogDiscard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// hostPort returns the host:port of a service URL.
func hostPort(t *testing.T, rawURL string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}
