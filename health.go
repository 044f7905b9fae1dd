package cosworth

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
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

// HealthTimeout bounds each readiness check of one /readyz request; the
// checks run concurrently, so it bounds the request too.
const HealthTimeout = 2 * time.Second

// Health returns the handler of the liveness and readiness probes. A path
// ending in "/readyz" answers 503 at once while the Server shuts down
// (Draining), else pings db (when not nil) and each pinger concurrently,
// each within HealthTimeout whether or not it honours its context's
// deadline (a check that overruns is answered as failed and left to finish
// in the background; while it runs, later probes wait for the same call
// instead of starting another): 200 {"status":"ok"} when all answer, else
// 503 {"detail": "Service temporarily unavailable, try again later.",
// "status": "unavailable"} with Retry-After, the cause going to the log
// only. Any other path (mount it at "/healthz") is the liveness probe: 200
// {"status":"ok"} without touching any dependency. Only GET and HEAD are
// allowed.
//
//	r.Handle("/healthz", health)
//	r.Handle("/readyz", health)
func Health(db *bun.DB, pingers ...Pinger) http.Handler {
	checks := make([]*check, 0, len(pingers)+1)
	if db != nil {
		checks = append(checks, &check{p: PingerFunc(db.PingContext)})
	}
	for _, p := range pingers {
		if p != nil {
			checks = append(checks, &check{p: p})
		}
	}
	return &health{checks: checks}
}

type health struct {
	checks []*check
}

// check runs one Pinger at most once at a time: a probe that finds a ping
// running waits for its result, so a dependency that ignores deadlines
// holds at most one goroutine per check.
type check struct {
	p       Pinger
	mu      sync.Mutex
	running *pingCall
}

type pingCall struct {
	done chan struct{}
	err  error
}

// ping returns the check's result, or errCheckTimeout when none arrives
// by the end of ctx.
func (c *check) ping(ctx context.Context) error {
	c.mu.Lock()
	call := c.running
	if call == nil {
		call = &pingCall{done: make(chan struct{})}
		c.running = call
		// The call's own context: not the request's, which ends with this
		// probe while later probes may wait for the same call.
		pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), HealthTimeout)
		go func() {
			defer cancel()
			call.err = c.p.Ping(pctx)
			c.mu.Lock()
			c.running = nil
			c.mu.Unlock()
			close(call.done)
		}()
	}
	c.mu.Unlock()
	select {
	case <-call.done:
		return call.err
	case <-ctx.Done():
		return errCheckTimeout
	}
}

var errCheckTimeout = errors.New("readiness check did not answer within its deadline")

var errDraining = errors.New("the server is shutting down")

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
	failed, err := -1, error(nil)
	if isDraining(r.Context()) {
		err = errDraining
	} else {
		failed, err = h.run(r.Context())
	}
	if err != nil {
		reqscope.Logger(r.Context()).LogAttrs(r.Context(), slog.LevelWarn, "readiness check failed",
			slog.String("check", strconv.Itoa(failed)), slog.String("error", err.Error()))
		w.Header().Set("Retry-After", "1")
		jsonbody.Write(w, http.StatusServiceUnavailable, healthUnavailable)
		return
	}
	jsonbody.Write(w, http.StatusOK, healthOK)
}

// run pings every check concurrently, each within HealthTimeout, and
// returns the index and error of the first (in order) that failed.
func (h *health) run(ctx context.Context) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, HealthTimeout)
	defer cancel()
	if len(h.checks) == 1 {
		return 0, h.checks[0].ping(ctx)
	}
	errs := make([]error, len(h.checks))
	var wg sync.WaitGroup
	for i, c := range h.checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.ping(ctx)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return i, err
		}
	}
	return -1, nil
}
