package throttling

import (
	"github.com/cosworth/cosworth/internal/drfmsg"
	"github.com/cosworth/cosworth/internal/redisbound"

	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"sync"
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
	call *redisbound.Caller
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
		s.call = redisbound.New(s.Client, t)
	})
}

// Allow implements Store.
func (s *RedisStore) Allow(ctx context.Context, key string, rate Rate) (time.Duration, error) {
	s.setup()
	var member [12]byte
	_, _ = rand.Read(member[:])
	var ms int64
	err := s.call.Do(ctx, func(ctx context.Context) error {
		var err error
		ms, err = slidingWindow.Run(ctx, s.Client, []string{s.Prefix + "throttle:" + key},
			rate.Period.Milliseconds(), rate.Limit, hex.EncodeToString(member[:])).Int64()
		return err
	})
	if err != nil {
		if s.Fallback != nil {
			return s.Fallback.Allow(ctx, key, rate)
		}
		return 0, &UnavailableError{Err: fmt.Errorf("%w: redis: %w", ErrStoreUnavailable, err)}
	}
	return time.Duration(ms) * time.Millisecond, nil
}

// UnavailableError is the refusal of a request whose throttle store could
// not answer (fail closed): a 503 with DRF's ServiceUnavailable message and
// Retry-After; Err goes to the log only.
type UnavailableError struct {
	Err error
}

// Error returns the public message (the cause is in Err).
func (e *UnavailableError) Error() string { return drfmsg.Unavailable }

// Unwrap returns the cause (which wraps ErrStoreUnavailable).
func (e *UnavailableError) Unwrap() error { return e.Err }

// StatusCode is 503.
func (e *UnavailableError) StatusCode() int { return http.StatusServiceUnavailable }

// SetHeaders sets Retry-After.
func (e *UnavailableError) SetHeaders(h http.Header) { h.Set("Retry-After", "1") }
