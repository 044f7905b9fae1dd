// Package throttling limits request rates the way DRF's throttles do:
// AnonRate (per client address for anonymous requests), UserRate (per
// authenticated user) and ScopedRate (per scope and caller), with DRF rate
// strings such as "5/min" or "1000/day", over an in-memory store (bounded,
// for one instance) or a Redis store (atomic, shared by several instances).
package throttling

import (
	"net/http"
	"strconv"
	"time"
)

// Throttle decides whether r may proceed now. When it may not, Allow
// returns wait > 0: how long until it would be allowed. An error means the
// store could not answer; what then happens is the throttle's documented
// failure policy.
type Throttle interface {
	Allow(r *http.Request) (wait time.Duration, err error)
}

// ThrottledError is a request refused by a throttle: 429 with DRF's message and
// a Retry-After header in whole seconds (the wait rounded up, at least 1).
type ThrottledError struct {
	Wait time.Duration
}

func (e *ThrottledError) seconds() int64 {
	s := int64((e.Wait + time.Second - 1) / time.Second)
	if s < 1 {
		s = 1
	}
	return s
}

// Error is DRF's message: "Request was throttled. Expected available in 1
// second." or "... in N seconds.", N being the wait rounded up.
func (e *ThrottledError) Error() string {
	n := e.seconds()
	if n == 1 {
		return "Request was throttled. Expected available in 1 second."
	}
	return "Request was throttled. Expected available in " + strconv.FormatInt(n, 10) + " seconds."
}

// StatusCode is 429.
func (e *ThrottledError) StatusCode() int { return http.StatusTooManyRequests }

// SetHeaders sets Retry-After.
func (e *ThrottledError) SetHeaders(h http.Header) {
	h.Set("Retry-After", strconv.FormatInt(e.seconds(), 10))
}
