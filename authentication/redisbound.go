package authentication

import (
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cosworth/cosworth/internal/redisbound"
)

// newRedisCall bounds this package's Redis calls (internal/redisbound) by
// timeout, DefaultStoreTimeout when zero.
func newRedisCall(c redis.UniversalClient, timeout time.Duration) *redisbound.Caller {
	if timeout <= 0 {
		timeout = DefaultStoreTimeout
	}
	return redisbound.New(c, timeout)
}
