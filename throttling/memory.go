package throttling

import (
	"container/list"
	"context"
	"hash/maphash"
	"sync"
	"time"
)

// Store records requests and decides whether another is allowed under a
// rate: DRF's sliding window (the timestamps of the requests of the last
// Period; a request is allowed while fewer than Limit remain, and a refused
// one is not recorded). Allow returns the wait until the oldest recorded
// request leaves the window when refusing, 0 when allowing.
type Store interface {
	Allow(ctx context.Context, key string, rate Rate) (wait time.Duration, err error)
}

// DefaultMaxKeys bounds a MemoryStore's keys when MaxKeys is zero.
const DefaultMaxKeys = 100_000

const memoryShards = 16

// MemoryStore is the in-memory Store for one instance. It is bounded: at
// most MaxKeys keys (DefaultMaxKeys when zero) across 16 shards; when a
// shard is full its least recently used key is evicted, and keys whose
// requests have all left their window are dropped as they are met. Each key
// holds at most Limit timestamps, so memory is at most about MaxKeys ×
// Limit × 8 bytes. Several instances each count on their own: use a
// RedisStore for one limit across instances.
//
// The zero value is ready to use; a MemoryStore must not be copied after
// first use.
type MemoryStore struct {
	// MaxKeys bounds the number of keys: DefaultMaxKeys when zero.
	MaxKeys int

	once   sync.Once
	seed   maphash.Seed
	shards [memoryShards]memoryShard
	now    func() time.Time
}

type memoryShard struct {
	mu   sync.Mutex
	max  int
	keys map[string]*list.Element
	lru  list.List // front: most recently used
}

type memoryEntry struct {
	key    string
	period time.Duration
	hits   []int64 // unix nanoseconds, oldest first
}

var _ Store = (*MemoryStore)(nil)

func (s *MemoryStore) setup() {
	s.once.Do(func() {
		max := s.MaxKeys
		if max <= 0 {
			max = DefaultMaxKeys
		}
		per := max / memoryShards
		if per < 1 {
			per = 1
		}
		s.seed = maphash.MakeSeed()
		for i := range s.shards {
			s.shards[i].max = per
			s.shards[i].keys = make(map[string]*list.Element)
		}
		if s.now == nil {
			s.now = time.Now
		}
	})
}

// Allow implements Store. It never fails.
func (s *MemoryStore) Allow(_ context.Context, key string, rate Rate) (time.Duration, error) {
	s.setup()
	now := s.now().UnixNano()
	period := int64(rate.Period)
	sh := &s.shards[maphash.String(s.seed, key)%memoryShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()

	var e *memoryEntry
	if el, ok := sh.keys[key]; ok {
		e = el.Value.(*memoryEntry)
		sh.lru.MoveToFront(el)
	}
	if e != nil {
		// Drop requests that left the window (DRF: history[-1] <= now - duration).
		i := 0
		for i < len(e.hits) && e.hits[i] <= now-period {
			i++
		}
		if i > 0 {
			e.hits = append(e.hits[:0], e.hits[i:]...)
		}
		if len(e.hits) >= rate.Limit {
			if len(e.hits) == 0 {
				return rate.Period, nil
			}
			return time.Duration(e.hits[0] + period - now), nil
		}
		e.hits = append(e.hits, now)
		return 0, nil
	}
	if rate.Limit <= 0 {
		return rate.Period, nil
	}
	sh.sweep(now)
	if len(sh.keys) >= sh.max {
		// Evict the least recently used key.
		if el := sh.lru.Back(); el != nil {
			sh.lru.Remove(el)
			delete(sh.keys, el.Value.(*memoryEntry).key)
		}
	}
	e = &memoryEntry{key: key, period: rate.Period, hits: make([]int64, 1, min(rate.Limit, 8))}
	e.hits[0] = now
	sh.keys[key] = sh.lru.PushFront(e)
	return 0, nil
}

// sweep drops expired entries from the least recently used end, a few at
// a time, so the cost stays bounded per call.
func (sh *memoryShard) sweep(now int64) {
	for n := 0; n < 8; n++ {
		el := sh.lru.Back()
		if el == nil {
			return
		}
		e := el.Value.(*memoryEntry)
		if len(e.hits) > 0 && e.hits[len(e.hits)-1] > now-int64(e.period) {
			return
		}
		sh.lru.Remove(el)
		delete(sh.keys, e.key)
	}
}

// Len returns the number of keys held, for tests and metrics.
func (s *MemoryStore) Len() int {
	s.setup()
	n := 0
	for i := range s.shards {
		s.shards[i].mu.Lock()
		n += len(s.shards[i].keys)
		s.shards[i].mu.Unlock()
	}
	return n
}
