// Package redisbound bounds every call to Redis in time and fails fast
// while Redis is down, whatever the go-redis client's options: the one
// mechanism behind Redis-backed authentication, blacklists and throttles.
package redisbound

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Caller bounds a Redis call by timeout whatever the client's options.
// go-redis applies a context's deadline to socket reads only with
// ContextTimeoutEnabled; without it a partitioned Redis holds a call for
// the client's ReadTimeout (3 s by default) or longer. For such clients the
// call runs in a goroutine and the caller stops waiting at the deadline;
// at most maxDetached of those may be outstanding, beyond which calls fail
// at once, so an outage cannot pile up goroutines.
//
// After a failed call the breaker opens for breakFor: calls fail at once
// (ErrBreakerOpen) instead of each waiting out the timeout on a dead
// Redis; the first call after that tries Redis again.
type Caller struct {
	honorsContext bool
	timeout       time.Duration
	slots         chan struct{}
	openUntil     atomic.Int64 // unix nanoseconds
}

// breakFor is how long calls fail fast after a Redis failure.
const breakFor = time.Second

// ErrBreakerOpen is returned while the breaker is open after a failure.
var ErrBreakerOpen = errors.New("redis failed recently; not retrying yet")

// maxDetached bounds the calls still running after their caller gave up.
const maxDetached = 256

// ErrBusy is returned when too many timed-out calls are still running.
var ErrBusy = errors.New("too many outstanding redis calls")

// New returns a Caller for c whose calls each take at most timeout, which
// must be positive.
func New(c redis.UniversalClient, timeout time.Duration) *Caller {
	if timeout <= 0 {
		panic("cosworth/internal/redisbound: the timeout must be positive")
	}
	rc := &Caller{timeout: timeout}
	switch cl := c.(type) {
	case *redis.Client:
		rc.honorsContext = cl.Options().ContextTimeoutEnabled
	case *redis.ClusterClient:
		rc.honorsContext = cl.Options().ContextTimeoutEnabled
	}
	if !rc.honorsContext {
		rc.slots = make(chan struct{}, maxDetached)
	}
	return rc
}

// Do runs fn with a context bounded by the timeout and returns its error,
// or the context's error when fn did not finish in time.
func (rc *Caller) Do(ctx context.Context, fn func(ctx context.Context) error) error {
	if until := rc.openUntil.Load(); until != 0 && time.Now().UnixNano() < until {
		return ErrBreakerOpen
	}
	err := rc.call(ctx, fn)
	if err != nil && !errors.Is(err, redis.Nil) && ctx.Err() == nil {
		rc.openUntil.Store(time.Now().Add(breakFor).UnixNano())
	} else if err == nil || errors.Is(err, redis.Nil) {
		rc.openUntil.Store(0)
	}
	return err
}

func (rc *Caller) call(ctx context.Context, fn func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, rc.timeout)
	defer cancel()
	if rc.honorsContext {
		return fn(ctx)
	}
	select {
	case rc.slots <- struct{}{}:
	default:
		return ErrBusy
	}
	done := make(chan error, 1)
	go func() {
		defer func() { <-rc.slots }()
		done <- fn(ctx)
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
