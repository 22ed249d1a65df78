package redisstore_test

import (
	"context"
	"crypto/rand"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/verso-api/verso/ratelimit"
	"github.com/verso-api/verso/ratelimit/ratelimittest"
	"github.com/verso-api/verso/ratelimit/redisstore"
)

// EnvRedis names the variable holding the Redis URL the tests use
// (redis://127.0.0.1:6379/0 when unset).
const EnvRedis = "VERSO_TEST_REDIS_URL"

// client connects to the test Redis, or skips t with a clear message when
// none is reachable.
func client(t *testing.T) *redis.Client {
	t.Helper()
	u := os.Getenv(EnvRedis)
	if u == "" {
		u = "redis://127.0.0.1:6379/0"
	}
	opts, err := redis.ParseURL(u)
	if err != nil {
		t.Fatalf("%s: %v", EnvRedis, err)
	}
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { rdb.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Skipf("no Redis reachable at %s (%v): skipping the Redis store tests; set %s (.ci/run starts a redis-server)", u, err, EnvRedis)
	}
	return rdb
}

// TestStore runs the store suite; the stores of one test are two servers,
// each with its own connection to Redis, sharing a key prefix.
func TestStore(t *testing.T) {
	client(t) // skips early
	prefixes := map[*testing.T]string{}
	ratelimittest.Run(t, ratelimittest.Factory{Shared: true, New: func(t *testing.T, clock func() time.Time) ratelimit.Store {
		p, ok := prefixes[t]
		if !ok {
			p = "verso:test:" + rand.Text() + ":"
			prefixes[t] = p
		}
		return redisstore.New(client(t), &redisstore.Options{Prefix: p, Clock: clock})
	}})
}

// TestKeysDoNotCollide checks that keys whose parts joined alike get
// buckets of their own.
func TestKeysDoNotCollide(t *testing.T) {
	rdb := client(t)
	s := redisstore.New(rdb, &redisstore.Options{Prefix: "verso:test:" + rand.Text() + ":"})
	l := ratelimit.Limit{Rate: 0.001, Burst: 1}
	ctx := context.Background()
	keys := []ratelimit.Key{{Scope: "a:b", ID: "c"}, {Scope: "a", ID: "b:c"}, {Scope: "a", Route: "b", ID: "c"}}
	for _, k := range keys {
		r, err := s.Take(ctx, k, l)
		if err != nil {
			t.Fatal(err)
		}
		if !r.Allowed {
			t.Fatalf("%+v shares a bucket with another key", k)
		}
	}
}
