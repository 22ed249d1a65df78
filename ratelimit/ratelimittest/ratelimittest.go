// Package ratelimittest holds the suite every ratelimit.Store passes:
// buckets start full, refill at their rate, are told apart by key, never
// give out more than they hold to concurrent takers, and, for a store
// shared by several servers, hold across all of them.
package ratelimittest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verso-api/verso/internal/suite"
	"github.com/verso-api/verso/ratelimit"
)

// T0 is the time the suite's clocks start at.
var T0 = time.Date(2024, 9, 30, 12, 0, 0, 0, time.UTC)

// Clock is a clock that moves only when told, safe for concurrent use:
// Now reads it, Advance moves it forward.
type Clock = suite.Clock

// NewClock returns a clock stopped at t.
func NewClock(t time.Time) *Clock { return suite.NewClock(t) }

// Factory opens stores for one test: New returns a store reading clock;
// stores from one Factory share their buckets when Shared is true (two
// servers on one database or one Redis), and are independent otherwise.
type Factory struct {
	New    func(t *testing.T, clock func() time.Time) ratelimit.Store
	Shared bool
}

// Run runs the suite on the stores of f: one named subtest per behaviour
// a Store must have (see Tests).
func Run(t *testing.T, f Factory) {
	suite.Run(t, Tests(), f)
}

// Test is one test of the suite: a name and a function of the Factory.
type Test = suite.Test[Factory]

// Tests returns the suite's tests, in the order Run runs them.
func Tests() []Test {
	return []Test{
		{Name: "burst then refill", Func: testBurstThenRefill},
		{Name: "keys are apart", Func: testKeysAreApart},
		{Name: "invalid limit", Func: testInvalidLimit},
		{Name: "concurrent takers get the burst and no more", Func: testConcurrentTakersGetTheBurstAndNoMore},
		{Name: "two servers share one bucket", Func: testTwoServersShareOneBucket},
	}
}

// ctx is the context of the suite's calls.
var ctx = context.Background()

// take takes a token, failing the test on an error.
func take(t *testing.T, s ratelimit.Store, k ratelimit.Key, l ratelimit.Limit) ratelimit.Result {
	t.Helper()
	r, err := s.Take(ctx, k, l)
	if err != nil {
		t.Fatalf("take %v: %v", k, err)
	}
	return r
}

func testBurstThenRefill(t *testing.T, f Factory) {
	clock := NewClock(T0)
	s := f.New(t, clock.Now)
	k := ratelimit.Key{Scope: "key", ID: "acct_1"}
	l := ratelimit.Limit{Rate: 2, Burst: 3} // a token every 500ms
	for i := range 3 {
		r := take(t, s, k, l)
		if !r.Allowed || r.Limit != 3 || r.Remaining != 2-i {
			t.Fatalf("take %d: %+v, want allowed with %d remaining", i, r, 2-i)
		}
	}
	r := take(t, s, k, l)
	if r.Allowed || r.RetryAfter != 500*time.Millisecond {
		t.Fatalf("fourth take: %+v, want refused, retry after 500ms", r)
	}
	clock.Advance(499 * time.Millisecond)
	if r := take(t, s, k, l); r.Allowed || r.RetryAfter != time.Millisecond {
		t.Fatalf("1ms early: %+v, want refused, retry after 1ms", r)
	}
	clock.Advance(time.Millisecond)
	if r := take(t, s, k, l); !r.Allowed || r.Remaining != 0 {
		t.Fatalf("after the refill: %+v, want allowed with 0 remaining", r)
	}
	clock.Advance(time.Hour)
	if r := take(t, s, k, l); !r.Allowed || r.Remaining != 2 {
		t.Fatalf("an hour later: %+v, want a full bucket", r)
	}
}

func testKeysAreApart(t *testing.T, f Factory) {
	clock := NewClock(T0)
	s := f.New(t, clock.Now)
	l := ratelimit.Limit{Rate: 1, Burst: 1}
	keys := []ratelimit.Key{
		{Scope: "key", ID: "a"}, {Scope: "key", ID: "b"}, {Scope: "ip", ID: "a"},
		{Scope: "key", Route: "POST /v1/charges", ID: "a"},
	}
	for _, k := range keys {
		if r := take(t, s, k, l); !r.Allowed {
			t.Fatalf("%+v: first take refused", k)
		}
	}
	for _, k := range keys {
		if r := take(t, s, k, l); r.Allowed {
			t.Fatalf("%+v: second take allowed", k)
		}
	}
}

func testInvalidLimit(t *testing.T, f Factory) {
	s := f.New(t, NewClock(T0).Now)
	if _, err := s.Take(ctx, ratelimit.Key{ID: "x"}, ratelimit.Limit{Rate: -1, Burst: 1}); err == nil {
		t.Fatal("a negative rate was accepted")
	}
}

func testConcurrentTakersGetTheBurstAndNoMore(t *testing.T, f Factory) {
	clock := NewClock(T0)
	stores := []ratelimit.Store{f.New(t, clock.Now)}
	if f.Shared {
		stores = append(stores, f.New(t, clock.Now)) // a second server
	}
	const burst, takers = 25, 60
	l := ratelimit.Limit{Rate: 0.001, Burst: burst}
	var allowed atomic.Int32
	var wg sync.WaitGroup
	for i := range takers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := stores[i%len(stores)].Take(ctx, ratelimit.Key{Scope: "key", ID: "hot"}, l)
			if err != nil {
				t.Error(err)
				return
			}
			if r.Allowed {
				allowed.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := allowed.Load(); n != burst {
		t.Fatalf("%d of %d concurrent takes allowed across %d stores, want exactly %d", n, takers, len(stores), burst)
	}
}

func testTwoServersShareOneBucket(t *testing.T, f Factory) {
	if !f.Shared {
		t.Skip("the stores of this factory do not share their buckets")
	}
	clock := NewClock(T0)
	a, b := f.New(t, clock.Now), f.New(t, clock.Now)
	k := ratelimit.Key{Scope: "key", ID: "acct_shared"}
	l := ratelimit.Limit{Rate: 1, Burst: 2}
	if !take(t, a, k, l).Allowed || !take(t, b, k, l).Allowed {
		t.Fatal("the first two takes, one per server, were refused")
	}
	if take(t, a, k, l).Allowed || take(t, b, k, l).Allowed {
		t.Fatal("a third take was allowed: each server kept its own bucket")
	}
}
