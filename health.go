package cosworth

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/internal/drfmsg"
	"github.com/cosworth/cosworth/internal/jsonbody"
	"github.com/cosworth/cosworth/internal/reqscope"
)

// Pinger is a dependency that readiness checks: Ping returns nil when it answers
// within ctx. Adapt a go-redis client with
//
//	cosworth.PingerFunc(func(ctx context.Context) error { return rdb.Ping(ctx).Err() })
type Pinger interface {
	Ping(ctx context.Context) error
}

// PingerFunc adapts a function to Pinger.
type PingerFunc func(ctx context.Context) error

// Ping calls f(ctx).
func (f PingerFunc) Ping(ctx context.Context) error { return f(ctx) }

// HealthTimeout bounds the readiness checks of one /readyz request, all
// pingers together.
const HealthTimeout = 2 * time.Second

// Health returns the handler of the liveness and readiness probes. A path
// ending in "/readyz" pings db (when not nil) and then each pinger, within
// HealthTimeout in all: 200 {"status":"ok"} when all answer, else 503
// {"detail": "Service temporarily unavailable, try again later.",
// "status": "unavailable"} with Retry-After, the cause going to the log
// only. Any other path (mount it at "/healthz") is the liveness probe: 200
// {"status":"ok"} without touching any dependency. Only GET and HEAD are
// allowed.
//
//	r.Handle("/healthz", health)
//	r.Handle("/readyz", health)
func Health(db *bun.DB, pingers ...Pinger) http.Handler {
	checks := make([]Pinger, 0, len(pingers)+1)
	if db != nil {
		checks = append(checks, PingerFunc(db.PingContext))
	}
	for _, p := range pingers {
		if p != nil {
			checks = append(checks, p)
		}
	}
	return &health{checks: checks}
}

type health struct {
	checks []Pinger
}

var (
	healthOK          = []byte(`{"status":"ok"}`)
	healthUnavailable = []byte(`{"detail":"` + drfmsg.Unavailable + `","status":"unavailable"}`)
)

func (h *health) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		jsonbody.Detail(w, http.StatusMethodNotAllowed, drfmsg.MethodNotAllowed(r.Method))
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	if !strings.HasSuffix(r.URL.Path, "/readyz") {
		jsonbody.Write(w, http.StatusOK, healthOK)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), HealthTimeout)
	defer cancel()
	for i, c := range h.checks {
		if err := c.Ping(ctx); err != nil {
			reqscope.Logger(r.Context()).LogAttrs(r.Context(), slog.LevelWarn, "readiness check failed",
				slog.String("check", strconv.Itoa(i)), slog.String("error", err.Error()))
			w.Header().Set("Retry-After", "1")
			jsonbody.Write(w, http.StatusServiceUnavailable, healthUnavailable)
			return
		}
	}
	jsonbody.Write(w, http.StatusOK, healthOK)
}
