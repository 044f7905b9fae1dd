package authentication

import (
	"context"
	"errors"
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
type redisCall struct {
	honorsContext bool
	timeout       time.Duration
	slots         chan struct{}
}

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
