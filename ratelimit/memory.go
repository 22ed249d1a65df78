package ratelimit

import (
	"context"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"
)

const shardCount = 32

// MemoryStore is a Store in the process's memory, safe for concurrent use.
// Each bucket is one int64 in a map sharded by key; buckets left idle are
// swept out, so memory follows the keys active in the last IdleTimeout
// rather than every key ever seen.
//
// The bucket is kept as the time it will be full again (a "theoretical
// arrival time", as in GCRA) rather than as a token count: one number,
// integer nanoseconds, exact, and the wait for the next token falls out of
// it without a second clock read.
type MemoryStore struct {
	clock     func() time.Time
	epoch     time.Time
	idle      int64
	interval  int64
	nextSweep atomic.Int64
	seed      maphash.Seed
	shards    [shardCount]shard
}

type shard struct {
	mu   sync.Mutex
	m    map[Key]int64 // key -> when its bucket is full again, ns since epoch
	peak int           // most keys m held since it was last rebuilt
	_    [32]byte      // keep shards on separate cache lines
}

// NewMemoryStore returns an empty MemoryStore; nil opts means the
// defaults.
func NewMemoryStore(opts *Options) *MemoryStore {
	var config Options
	if opts != nil {
		config = *opts
	}
	if config.Clock == nil {
		config.Clock = time.Now
	}
	if config.IdleTimeout <= 0 {
		config.IdleTimeout = time.Minute
	}
	if config.SweepInterval <= 0 {
		config.SweepInterval = config.IdleTimeout
	}
	s := &MemoryStore{
		clock:    config.Clock,
		epoch:    config.Clock(),
		idle:     int64(config.IdleTimeout),
		interval: int64(config.SweepInterval),
		seed:     maphash.MakeSeed(),
	}
	for i := range s.shards {
		s.shards[i].m = make(map[Key]int64)
	}
	s.nextSweep.Store(s.interval)
	return s
}

// Take implements Store.
func (s *MemoryStore) Take(_ context.Context, key Key, limit Limit) (Result, error) {
	iv, err := limit.interval()
	if err != nil {
		return Result{}, err
	}
	now := int64(s.clock().Sub(s.epoch))
	if next := s.nextSweep.Load(); now >= next && s.nextSweep.CompareAndSwap(next, now+s.interval) {
		s.sweep(now)
	}
	burst := int64(limit.Burst)
	sh := &s.shards[maphash.String(s.seed, key.ID)%shardCount]
	sh.mu.Lock()
	full, ok := sh.m[key]
	if !ok || full < now {
		full = now
	}
	// The request may pass once the bucket holds a token: when "full"
	// plus one token's time lies no more than a whole bucket ahead.
	next := full + iv
	allowAt := next - iv*burst
	if now < allowAt {
		sh.mu.Unlock()
		return Result{Limit: limit.Burst, RetryAfter: time.Duration(allowAt - now)}, nil
	}
	sh.m[key] = next
	if !ok {
		sh.peak = max(sh.peak, len(sh.m))
	}
	sh.mu.Unlock()
	return Result{Allowed: true, Limit: limit.Burst, Remaining: int((now - allowAt) / iv)}, nil
}

// Sweep drops every bucket that has been full for IdleTimeout and returns
// how many it dropped. Take calls it every SweepInterval.
func (s *MemoryStore) Sweep() int {
	return s.sweep(int64(s.clock().Sub(s.epoch)))
}

func (s *MemoryStore) sweep(now int64) int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for k, full := range sh.m {
			if now-full >= s.idle {
				delete(sh.m, k)
				n++
			}
		}
		// A Go map keeps the memory of its largest size: copy it into a
		// new one when it has shrunk to a quarter of that.
		if sh.peak > 64 && len(sh.m) < sh.peak/4 {
			m := make(map[Key]int64, len(sh.m))
			for k, v := range sh.m {
				m[k] = v
			}
			sh.m, sh.peak = m, len(m)
		}
		sh.mu.Unlock()
	}
	return n
}

// Len returns the number of buckets held.
func (s *MemoryStore) Len() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += len(sh.m)
		sh.mu.Unlock()
	}
	return n
}
