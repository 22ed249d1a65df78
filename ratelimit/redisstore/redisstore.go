// Package redisstore keeps verso's rate-limit buckets in Redis, so that
// every server of an API shares one limit at high request rates. It is a
// module of its own, so that verso's main module does not depend on a
// Redis client:
//
//	go get github.com/verso-api/verso/ratelimit/redisstore
//
//	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
//	limit, err := ratelimit.Config{
//		Scope: "key",
//		Store: redisstore.New(rdb, nil),
//		...
//	}.ToMiddleware()
//
// Each Take is one round trip: a Lua script that reads the bucket, takes a
// token when there is one and writes it back, atomically on the Redis
// server, with an expiry so that full buckets disappear by themselves.
package redisstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/verso-api/verso/ratelimit"
)

// Options configures New; a nil *Options means the defaults.
type Options struct {
	// Prefix starts every Redis key the store writes.
	// Optional. Default value "verso:rl:".
	Prefix string

	// Clock returns the current time. Servers sharing a Redis should have
	// clocks in step (NTP): a bucket is read with one server's clock and
	// written with another's.
	// Optional. Default value time.Now.
	Clock func() time.Time
}

// Store is a ratelimit.Store in Redis. It is safe for concurrent use.
type Store struct {
	rdb    redis.Scripter
	prefix string
	clock  func() time.Time
}

// New returns a store on rdb: a *redis.Client, *redis.ClusterClient or
// *redis.Ring (a bucket is one key, so any of them works).
func New(rdb redis.Scripter, opts *Options) *Store {
	s := &Store{rdb: rdb, prefix: "verso:rl:", clock: time.Now}
	if opts != nil {
		if opts.Prefix != "" {
			s.prefix = opts.Prefix
		}
		if opts.Clock != nil {
			s.clock = opts.Clock
		}
	}
	return s
}

// take is the bucket, kept as the time it will be full again in
// microseconds since the Unix epoch (as ratelimit.MemoryStore keeps it).
// KEYS[1] the bucket; ARGV now, one token's time, the bucket's size, all
// in microseconds but the size. It returns {1, remaining} or {0, wait}.
var take = redis.NewScript(`
local full = tonumber(redis.call('GET', KEYS[1]) or '0')
local now = tonumber(ARGV[1])
local iv = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
if full < now then full = now end
local nxt = full + iv
local allow_at = nxt - iv * burst
if now < allow_at then
  return {0, allow_at - now}
end
redis.call('SET', KEYS[1], string.format('%.0f', nxt), 'PX', math.floor((nxt - now) / 1000) + 1)
return {1, math.floor((now - allow_at) / iv)}
`)

// Take implements ratelimit.Store.
func (s *Store) Take(ctx context.Context, key ratelimit.Key, limit ratelimit.Limit) (ratelimit.Result, error) {
	ivd, err := limit.Interval()
	if err != nil {
		return ratelimit.Result{}, err
	}
	iv := max(ivd.Microseconds(), 1)
	now := s.clock().UnixMicro()
	res, err := take.Run(ctx, s.rdb, []string{s.key(key)}, now, iv, limit.Burst).Int64Slice()
	if err != nil {
		return ratelimit.Result{}, fmt.Errorf("ratelimit: redis: %w", err)
	}
	if len(res) != 2 {
		return ratelimit.Result{}, fmt.Errorf("ratelimit: redis: script answered %v", res)
	}
	if res[0] == 1 {
		return ratelimit.Result{Allowed: true, Limit: limit.Burst, Remaining: int(min(res[1], int64(limit.Burst-1)))}, nil
	}
	return ratelimit.Result{Limit: limit.Burst, RetryAfter: time.Duration(max(res[1], 1)) * time.Microsecond}, nil
}

// key joins the parts of a bucket's key, each length-prefixed so that no
// two keys collide whatever they contain.
func (s *Store) key(k ratelimit.Key) string {
	var b strings.Builder
	b.WriteString(s.prefix)
	for _, p := range []string{k.Scope, k.Route, k.ID} {
		b.WriteString(strconv.Itoa(len(p)))
		b.WriteByte(':')
		b.WriteString(p)
	}
	return b.String()
}
