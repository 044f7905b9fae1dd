package idempotency

import (
	"context"
	"encoding/binary"
	"errors"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cosworth/cosworth/internal/redisbound"
)

// RedisStore is a Store in Redis, shared by every instance that uses the
// same Redis. A key is Prefix + "idempotency:" + a hash of the caller,
// method, path and key; a claim is taken with SET NX and a lock time, and
// kept or released by Lua scripts that check the claim's token, so each
// step is atomic. Records expire by Redis TTL: the lock time while the
// request runs, Retention once answered; configure Redis with a
// maxmemory policy that never evicts these keys (noeviction or a
// volatile-* policy with room), or an eviction loses a record.
//
// Every call is bounded by Timeout whatever the client's options; a call
// that fails or times out makes Middleware answer 503 (fail closed).
//
// Unlike DBStore, the record is written after the handler's transaction
// committed: if the process dies between the two, the claim expires after
// LockTimeout and a retry runs the request again.
type RedisStore struct {
	Client redis.UniversalClient
	// Prefix is prepended to every key ("" is allowed).
	Prefix string
	// Retention is how long an answer is kept; 0 means 24 hours.
	Retention time.Duration
	// LockTimeout is how long a running request holds its key; it must
	// outlast the request (a view's Timeout, 10 s by default). 0 means
	// one minute.
	LockTimeout time.Duration
	// Timeout bounds each call to Redis; 0 means 200 ms.
	Timeout time.Duration

	once sync.Once
	call *redisbound.Caller
}

var _ Store = (*RedisStore)(nil)

func (s *RedisStore) setup() {
	s.once.Do(func() {
		if s.Client == nil {
			panic("cosworth/idempotency: RedisStore needs a Client")
		}
		if s.Retention <= 0 {
			s.Retention = 24 * time.Hour
		}
		if s.LockTimeout <= 0 {
			s.LockTimeout = time.Minute
		}
		t := s.Timeout
		if t <= 0 {
			t = 200 * time.Millisecond
		}
		s.call = redisbound.New(s.Client, t)
	})
}

func (s *RedisStore) key(id string) string { return s.Prefix + "idempotency:" + id }

// Begin implements Store.
func (s *RedisStore) Begin(ctx context.Context, id, token string, rec *Record) (*Record, error) {
	s.setup()
	k := s.key(id)
	val := encodeRecord(token, rec)
	var old *Record
	err := s.call.Do(ctx, func(ctx context.Context) error {
		// A record that expires between the SET and the GET is taken on
		// the next round; three rounds bound the loop.
		for range 3 {
			ok, err := s.Client.SetNX(ctx, k, val, s.LockTimeout).Result()
			if err != nil || ok {
				return err
			}
			b, err := s.Client.Get(ctx, k).Bytes()
			if errors.Is(err, redis.Nil) {
				continue
			}
			if err != nil {
				return err
			}
			old, err = decodeRecord(b)
			return err
		}
		return errors.New("cosworth/idempotency: key kept changing under Begin")
	})
	return old, err
}

// finishScript: KEYS[1] the key; ARGV[1] the running claim's prefix,
// ARGV[2] the record, ARGV[3] its time to live in ms. 1 when kept.
var finishScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, string.len(ARGV[1])) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
`)

// releaseScript: KEYS[1] the key; ARGV[1] the running claim's prefix.
var releaseScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, string.len(ARGV[1])) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)

// Finish implements Store.
func (s *RedisStore) Finish(ctx context.Context, id, token string, rec *Record) error {
	s.setup()
	var n int64
	err := s.call.Do(ctx, func(ctx context.Context) error {
		var err error
		n, err = finishScript.Run(ctx, s.Client, []string{s.key(id)},
			claimPrefix(token), encodeRecord(token, rec), s.Retention.Milliseconds()).Int64()
		return err
	})
	if err == nil && n == 0 {
		err = ErrLost
	}
	return err
}

// Release implements Store.
func (s *RedisStore) Release(ctx context.Context, id, token string) error {
	s.setup()
	return s.call.Do(ctx, func(ctx context.Context) error {
		return releaseScript.Run(ctx, s.Client, []string{s.key(id)}, claimPrefix(token)).Err()
	})
}

// A record in Redis is one string: 'R' (running) or 'D' (done), then
// length-prefixed token, principal, key, body hash and content type, the
// status, and the body to the end. A running claim is recognised by its
// first bytes, claimPrefix.
func claimPrefix(token string) []byte {
	b := append(make([]byte, 0, 1+binary.MaxVarintLen64+len(token)), 'R')
	return appendString(b, token)
}

func encodeRecord(token string, rec *Record) []byte {
	state := byte('R')
	if rec.Done {
		state = 'D'
	}
	b := make([]byte, 0, 16+len(token)+len(rec.Principal)+len(rec.Key)+len(rec.BodyHash)+len(rec.ContentType)+len(rec.Body))
	b = append(b, state)
	for _, s := range [...]string{token, rec.Principal, rec.Key, rec.BodyHash, rec.ContentType} {
		b = appendString(b, s)
	}
	b = binary.AppendUvarint(b, uint64(rec.Status))
	return append(b, rec.Body...)
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

var errCorrupt = errors.New("cosworth/idempotency: malformed record in Redis")

func decodeRecord(b []byte) (*Record, error) {
	if len(b) == 0 || (b[0] != 'R' && b[0] != 'D') {
		return nil, errCorrupt
	}
	rec := &Record{Done: b[0] == 'D'}
	b = b[1:]
	var fields [5]string
	for i := range fields {
		n, w := binary.Uvarint(b)
		if w <= 0 || uint64(len(b)-w) < n {
			return nil, errCorrupt
		}
		fields[i] = string(b[w : w+int(n)])
		b = b[w+int(n):]
	}
	status, w := binary.Uvarint(b)
	if w <= 0 || status > 999 {
		return nil, errCorrupt
	}
	rec.Principal, rec.Key, rec.BodyHash, rec.ContentType = fields[1], fields[2], fields[3], fields[4]
	rec.Status = int(status)
	rec.Body = b[w:]
	return rec, nil
}
