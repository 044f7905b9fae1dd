package authentication

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisCall bounds a Redis call by timeout whatever the client's options.
// go-redis applies a context's deadline to socket reads only with
// ContextTimeoutEnabled; without it a partitioned Redis holds a call for
// the client's ReadTimeout (3 s by default) or longer. For such clients the
// call runs in a goroutine and the caller stops waiting at the deadline;
// at most maxDetached of those may be outstanding, beyond which calls fail
// at once, so an outage cannot pile up goroutines.
//
// After a failed call the breaker opens for breakFor: calls fail at once
// (errBreakerOpen) instead of each waiting out the timeout on a dead
// Redis; the first call after that tries Redis again.
type redisCall struct {
	honorsContext bool
	timeout       time.Duration
	slots         chan struct{}
	openUntil     atomic.Int64 // unix nanoseconds
}

// breakFor is how long calls fail fast after a Redis failure.
const breakFor = time.Second

var errBreakerOpen = errors.New("redis failed recently; not retrying yet")

const maxDetached = 256

var errRedisBusy = errors.New("too many outstanding redis calls")

func newRedisCall(c redis.UniversalClient, timeout time.Duration) *redisCall {
	if timeout <= 0 {
		timeout = DefaultStoreTimeout
	}
	rc := &redisCall{timeout: timeout}
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

// do runs fn with a context bounded by the timeout and returns its error,
// or the context's error when fn did not finish in time.
func (rc *redisCall) do(ctx context.Context, fn func(ctx context.Context) error) error {
	if until := rc.openUntil.Load(); until != 0 && time.Now().UnixNano() < until {
		return errBreakerOpen
	}
	err := rc.call(ctx, fn)
	if err != nil && !errors.Is(err, redis.Nil) && ctx.Err() == nil {
		rc.openUntil.Store(time.Now().Add(breakFor).UnixNano())
	} else if err == nil || errors.Is(err, redis.Nil) {
		rc.openUntil.Store(0)
	}
	return err
}

func (rc *redisCall) call(ctx context.Context, fn func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, rc.timeout)
	defer cancel()
	if rc.honorsContext {
		return fn(ctx)
	}
	select {
	case rc.slots <- struct{}{}:
	default:
		return errRedisBusy
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
