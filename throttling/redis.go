package throttling

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisStore is a Store shared by every instance using the same Redis:
// DRF's sliding window kept in a sorted set per key, updated atomically by
// one Lua script that reads Redis's own clock (so instances with skewed
// clocks still agree). Keys are Prefix + "throttle:" + key and expire with
// their window.
//
// Every call is bounded by Timeout, even for a client without
// ContextTimeoutEnabled. When Redis cannot answer in time, Allow follows
// the failure policy: with Fallback set, the request is counted there
// instead (typically a MemoryStore: each instance then enforces the limit
// on its own until Redis is back); with Fallback nil, Allow returns an
// error wrapping ErrStoreUnavailable, and the request is refused with 503
// (fail closed).
type RedisStore struct {
	Client redis.UniversalClient
	// Prefix is prepended to every key ("" is allowed).
	Prefix string
	// Timeout bounds each call: 200 ms when zero.
	Timeout time.Duration
	// Fallback, when set, answers while Redis cannot.
	Fallback Store

	once sync.Once
	call *redisCall
}

var _ Store = (*RedisStore)(nil)

// ErrStoreUnavailable is wrapped by the errors of a Store that cannot
// answer. Handler and the views answer it with 503.
var ErrStoreUnavailable = errors.New("cosworth/throttling: store unavailable")

// slidingWindow: KEYS[1] the key; ARGV[1] period in ms, ARGV[2] limit,
// ARGV[3] a unique member. Returns 0 when allowed (and records the
// request), else the wait in ms until the oldest request leaves the window.
var slidingWindow = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local period = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - period)
local n = redis.call('ZCARD', KEYS[1])
if n < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], period)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if oldest[2] == nil then
  return period
end
local wait = tonumber(oldest[2]) + period - now
if wait < 1 then wait = 1 end
return wait
`)

func (s *RedisStore) setup() {
	s.once.Do(func() {
		if s.Client == nil {
			panic("cosworth/throttling: RedisStore needs a Client")
		}
		t := s.Timeout
		if t <= 0 {
			t = 200 * time.Millisecond
		}
		s.call = newRedisCall(s.Client, t)
	})
}

// Allow implements Store.
func (s *RedisStore) Allow(ctx context.Context, key string, rate Rate) (time.Duration, error) {
	s.setup()
	var member [12]byte
	_, _ = rand.Read(member[:])
	var ms int64
	err := s.call.do(ctx, func(ctx context.Context) error {
		var err error
		ms, err = slidingWindow.Run(ctx, s.Client, []string{s.Prefix + "throttle:" + key},
			rate.Period.Milliseconds(), rate.Limit, hex.EncodeToString(member[:])).Int64()
		return err
	})
	if err != nil {
		if s.Fallback != nil {
			return s.Fallback.Allow(ctx, key, rate)
		}
		return 0, &StoreUnavailable{Err: fmt.Errorf("%w: redis: %w", ErrStoreUnavailable, err)}
	}
	return time.Duration(ms) * time.Millisecond, nil
}

// StoreUnavailable is the refusal of a request whose throttle store could
// not answer (fail closed): a 503 with DRF's ServiceUnavailable message and
// Retry-After; Err goes to the log only.
type StoreUnavailable struct {
	Err error
}

// Error returns the public message (the cause is in Err).
func (e *StoreUnavailable) Error() string { return "Service temporarily unavailable, try again later." }

// Unwrap returns the cause (which wraps ErrStoreUnavailable).
func (e *StoreUnavailable) Unwrap() error { return e.Err }

// StatusCode is 503.
func (e *StoreUnavailable) StatusCode() int { return http.StatusServiceUnavailable }

// SetHeaders sets Retry-After.
func (e *StoreUnavailable) SetHeaders(h http.Header) { h.Set("Retry-After", "1") }

// redisCall bounds a Redis call by timeout whatever the client's options
// (go-redis applies a context's deadline to socket reads only with
// ContextTimeoutEnabled). For other clients the call runs in a goroutine
// and the caller stops waiting at the deadline; at most maxDetached may be
// outstanding, beyond which calls fail at once.
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
