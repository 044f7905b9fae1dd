package authentication

import (
	"github.com/cosworth/cosworth/internal/redisbound"

	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/uptrace/bun"
)

// Blacklist holds revoked JWT refresh tokens by their jti, until they
// expire. Both methods return an error wrapping ErrUnavailable when the
// store cannot answer; the request is then refused with 503.
type Blacklist interface {
	// Revoke blacklists jti until the given time. It reports whether jti
	// was already blacklisted, atomically: of two concurrent Revokes of
	// one jti exactly one sees false, which makes refresh rotation
	// single-use even across instances.
	Revoke(ctx context.Context, jti string, until time.Time) (already bool, err error)
	// Revoked reports whether jti is blacklisted.
	Revoked(ctx context.Context, jti string) (bool, error)
}

// DefaultStoreTimeout bounds each call to Redis or the database made by a
// Blacklist or the Redis authenticator when their Timeout is zero.
const DefaultStoreTimeout = 500 * time.Millisecond

// RedisBlacklist is a Blacklist in Redis: one key per revoked jti
// (Prefix + "jwt:bl:" + jti) expiring with the token, so it needs no
// cleaning and every instance sees a revocation at once.
type RedisBlacklist struct {
	Client redis.UniversalClient
	// Prefix is prepended to every key ("" is allowed).
	Prefix string
	// Timeout bounds each Redis call (even for a client without
	// ContextTimeoutEnabled): DefaultStoreTimeout when zero.
	Timeout time.Duration

	once sync.Once
	call *redisbound.Caller
}

var _ Blacklist = (*RedisBlacklist)(nil)

func (b *RedisBlacklist) setup() {
	b.once.Do(func() { b.call = newRedisCall(b.Client, b.Timeout) })
}

// Revoke implements Blacklist with SET NX EXAT.
func (b *RedisBlacklist) Revoke(ctx context.Context, jti string, until time.Time) (bool, error) {
	b.setup()
	if !until.After(time.Now()) {
		until = time.Now().Add(time.Minute)
	}
	err := b.call.Do(ctx, func(ctx context.Context) error {
		return b.Client.SetArgs(ctx, b.Prefix+"jwt:bl:"+jti, "1", redis.SetArgs{Mode: "NX", ExpireAt: until}).Err()
	})
	if errors.Is(err, redis.Nil) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("%w: redis blacklist: %w", ErrUnavailable, err)
	}
	return false, nil
}

// Revoked implements Blacklist with EXISTS.
func (b *RedisBlacklist) Revoked(ctx context.Context, jti string) (bool, error) {
	b.setup()
	var n int64
	err := b.call.Do(ctx, func(ctx context.Context) error {
		var err error
		n, err = b.Client.Exists(ctx, b.Prefix+"jwt:bl:"+jti).Result()
		return err
	})
	if err != nil {
		return false, fmt.Errorf("%w: redis blacklist: %w", ErrUnavailable, err)
	}
	return n > 0, nil
}

// BlacklistedToken is a row of DBBlacklist's table. Create it with
// models.CreateTables(ctx, db, (*authentication.BlacklistedToken)(nil)).
type BlacklistedToken struct {
	bun.BaseModel `bun:"table:jwt_blacklist,alias:jbl"`
	JTI           string    `bun:"jti,pk"`
	ExpiresAt     time.Time `bun:"expires_at,notnull"`
}

// DBBlacklist is a Blacklist in a SQL table (PostgreSQL or SQLite), for
// services without Redis. Expired rows are deleted by Prune; call it now
// and then (e.g. hourly).
type DBBlacklist struct {
	DB bun.IDB
	// Timeout bounds each query: DefaultStoreTimeout when zero.
	Timeout time.Duration
}

var _ Blacklist = (*DBBlacklist)(nil)

func (b *DBBlacklist) ctx(ctx context.Context) (context.Context, context.CancelFunc) {
	t := b.Timeout
	if t <= 0 {
		t = DefaultStoreTimeout
	}
	return context.WithTimeout(ctx, t)
}

// Revoke implements Blacklist with INSERT ... ON CONFLICT DO NOTHING.
func (b *DBBlacklist) Revoke(ctx context.Context, jti string, until time.Time) (bool, error) {
	ctx, cancel := b.ctx(ctx)
	defer cancel()
	row := &BlacklistedToken{JTI: jti, ExpiresAt: until.UTC()}
	res, err := b.DB.NewInsert().Model(row).On("CONFLICT (jti) DO NOTHING").Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("%w: blacklist: %w", ErrUnavailable, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("%w: blacklist: %w", ErrUnavailable, err)
	}
	return n == 0, nil
}

// Revoked implements Blacklist.
func (b *DBBlacklist) Revoked(ctx context.Context, jti string) (bool, error) {
	ctx, cancel := b.ctx(ctx)
	defer cancel()
	ok, err := b.DB.NewSelect().Model((*BlacklistedToken)(nil)).Where("jti = ?", jti).Exists(ctx)
	if err != nil {
		return false, fmt.Errorf("%w: blacklist: %w", ErrUnavailable, err)
	}
	return ok, nil
}

// Prune deletes entries whose tokens have expired.
func (b *DBBlacklist) Prune(ctx context.Context) error {
	_, err := b.DB.NewDelete().Model((*BlacklistedToken)(nil)).Where("expires_at < ?", time.Now().UTC()).Exec(ctx)
	if err != nil {
		return fmt.Errorf("cosworth/authentication: prune blacklist: %w", err)
	}
	return nil
}
