package throttling

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// clock is a settable time source for the memory store.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func TestMemorySlidingWindow(t *testing.T) {
	c := &clock{t: time.Unix(1_000_000, 0)}
	s := &MemoryStore{now: c.now}
	ctx := context.Background()
	rate := MustRate("3/min")
	allow := func() time.Duration {
		w, err := s.Allow(ctx, "k", rate)
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	// Three requests at 0 s, 10 s, 20 s are allowed; the fourth waits until
	// the first leaves the window (60 s after it), as DRF computes.
	for i := range 3 {
		if w := allow(); w != 0 {
			t.Fatalf("request %d refused (wait %v)", i, w)
		}
		c.advance(10 * time.Second)
	}
	if w := allow(); w != 30*time.Second {
		t.Fatalf("4th request: wait %v, want 30s", w)
	}
	// Refused requests are not recorded.
	c.advance(29 * time.Second)
	if w := allow(); w != time.Second {
		t.Fatalf("at 59 s: wait %v, want 1s", w)
	}
	c.advance(time.Second) // 60 s: the first request is exactly a period old and leaves
	if w := allow(); w != 0 {
		t.Fatalf("at 60 s: refused, wait %v", w)
	}
	if w := allow(); w != 10*time.Second {
		t.Fatalf("at 60 s again: wait %v, want 10s", w)
	}
	// Other keys are independent.
	if w, _ := s.Allow(ctx, "other", rate); w != 0 {
		t.Fatal("other key throttled")
	}
	// Rate 0: always a full period.
	if w, _ := s.Allow(ctx, "zero", MustRate("0/h")); w != time.Hour {
		t.Fatalf("0/h: wait %v", w)
	}
}

func TestMemoryBounded(t *testing.T) {
	c := &clock{t: time.Unix(1_000_000, 0)}
	s := &MemoryStore{MaxKeys: 160, now: c.now}
	ctx := context.Background()
	rate := MustRate("1/s")
	for i := range 10_000 {
		if w, _ := s.Allow(ctx, fmt.Sprint("k", i), rate); w != 0 {
			t.Fatalf("new key %d refused", i)
		}
		if n := s.Len(); n > 160 {
			t.Fatalf("%d keys held, cap 160", n)
		}
	}
	// A key still in its window keeps its history while it is recent.
	if w, _ := s.Allow(ctx, "k9999", rate); w == 0 {
		t.Fatal("recent key lost its history")
	}
	// Expired entries are dropped as they are met.
	c.advance(2 * time.Second)
	before := s.Len()
	for i := range 16 {
		_, _ = s.Allow(ctx, fmt.Sprint("fresh", i), rate)
	}
	if after := s.Len(); after >= before {
		t.Fatalf("expired entries not swept: %d keys before, %d after", before, after)
	}
}

func BenchmarkMemoryAllow(b *testing.B) {
	s := &MemoryStore{}
	ctx := context.Background()
	rate := MustRate("1000/min")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_, _ = s.Allow(ctx, "throttle_user_42", rate)
		}
	})
}
