// Package idemtest is the shared test suite that every idempotency.Store
// passes: memory, SQLite and PostgreSQL run the same tests.
//
// A store's test hands the suite a Backend that opens an empty store per
// test:
//
//	func TestMemoryStore(t *testing.T) {
//		idemtest.Run(t, idemtest.Backend{
//			Open: func(t *testing.T) idemtest.Opened {
//				return idemtest.Opened{Store: idempotency.NewMemoryStore()}
//			},
//		})
//	}
package idemtest

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/idempotency"
	"github.com/verso-api/verso/storage"
)

// Backend opens the stores the suite runs on.
type Backend struct {
	// Open returns a new, empty store. It registers with t.Cleanup whatever
	// must be closed.
	Open func(t *testing.T) Opened
	// Reopen closes everything behind o (its database handle included) and
	// opens a store on the same data, as a restarted server would. It is nil
	// for stores that do not persist; the suite then skips the restart test.
	Reopen func(t *testing.T, o Opened) Opened
}

// Opened is a store and the database it lives in (nil for the memory
// store, which then gets nil transactions).
type Opened struct {
	Store idempotency.Store
	DB    *storage.DB
}

// Clock is a settable clock. It is safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock stopped at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// T0 is the time the suite's clocks start at.
var T0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const (
	lease = time.Minute
	ttl   = 24 * time.Hour
)

var (
	fpA = idempotency.Fingerprint{Method: "POST", Path: "/v1/charges", Params: "aaaa"}
	fpB = idempotency.Fingerprint{Method: "POST", Path: "/v1/charges", Params: "bbbb"}
)

func claim(k idempotency.Key, fp idempotency.Fingerprint, token string, now time.Time) idempotency.Claim {
	return idempotency.Claim{
		Key: k, Fingerprint: fp, Token: token, Now: now,
		LockedUntil: now.Add(lease), ExpiresAt: now.Add(ttl),
	}
}

func response(id string) idempotency.Response {
	return idempotency.Response{
		Status: http.StatusOK,
		Header: http.Header{"Content-Type": {"application/json"}, "Location": {"/v1/charges/" + id}},
		Body:   []byte(`{"id":"` + id + `","object":"charge"}`),
	}
}

// Run runs the suite on b.
func Run(t *testing.T, b Backend) {
	ctx := context.Background()
	k := idempotency.Key{Account: "acct_1", Key: "key-1"}

	t.Run("claim complete replay", func(t *testing.T) {
		s := b.Open(t).Store
		rec, err := s.Claim(ctx, claim(k, fpA, "t1", T0))
		require.NoError(t, err)
		require.Equal(t, idempotency.Claimed, rec.State)
		require.Equal(t, fpA, rec.Fingerprint)

		want := response("ch_1")
		require.NoError(t, s.Complete(ctx, nil, k, "t1", want, T0.Add(ttl)))
		require.ErrorIs(t, s.Complete(ctx, nil, k, "t1", want, T0.Add(ttl)), idempotency.ErrClaimLost, "a second save")

		rec, err = s.Claim(ctx, claim(k, fpA, "t2", T0.Add(time.Hour)))
		require.NoError(t, err)
		require.Equal(t, idempotency.Completed, rec.State)
		require.Equal(t, fpA, rec.Fingerprint)
		require.Equal(t, want, rec.Response)
		require.ErrorIs(t, s.Complete(ctx, nil, k, "t2", response("ch_2"), T0.Add(ttl)), idempotency.ErrClaimLost,
			"a token that never held the key")
	})

	t.Run("response round trip", func(t *testing.T) {
		s := b.Open(t).Store
		tests := []struct {
			name string
			res  idempotency.Response
		}{
			{"500 with headers", idempotency.Response{Status: 500,
				Header: http.Header{"Content-Type": {"application/json"}, "Retry-After": {"3"}, "Content-Language": {"en", "fr"}},
				Body:   []byte(`{"error":{"type":"api_error"}}`)}},
			{"binary body", idempotency.Response{Status: 201, Header: http.Header{"Content-Type": {"application/octet-stream"}},
				Body: []byte{0, 1, 2, 0xff, 0, '\'', '"'}}},
			{"no header no body", idempotency.Response{Status: 204}},
		}
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				k := idempotency.Key{Account: "acct_rt", Key: fmt.Sprint("rt-", i)}
				_, err := s.Claim(ctx, claim(k, fpA, "t", T0))
				require.NoError(t, err)
				require.NoError(t, s.Complete(ctx, nil, k, "t", tt.res, T0.Add(ttl)))
				rec, err := s.Claim(ctx, claim(k, fpA, "u", T0))
				require.NoError(t, err)
				require.Equal(t, idempotency.Completed, rec.State)
				require.Equal(t, tt.res.Status, rec.Response.Status)
				require.Equal(t, len(tt.res.Header), len(rec.Response.Header))
				for h, v := range tt.res.Header {
					require.Equal(t, v, rec.Response.Header[h], h)
				}
				require.Equal(t, len(tt.res.Body), len(rec.Response.Body))
				if len(tt.res.Body) > 0 {
					require.Equal(t, tt.res.Body, rec.Response.Body)
				}
			})
		}
	})

	t.Run("in progress", func(t *testing.T) {
		s := b.Open(t).Store
		_, err := s.Claim(ctx, claim(k, fpA, "t1", T0))
		require.NoError(t, err)
		for _, d := range []time.Duration{0, time.Second, lease - time.Microsecond} {
			rec, err := s.Claim(ctx, claim(k, fpA, "t2", T0.Add(d)))
			require.NoError(t, err)
			require.Equal(t, idempotency.InProgress, rec.State, "after %v", d)
			require.Equal(t, fpA, rec.Fingerprint)
		}
	})

	t.Run("reused reports the first fingerprint", func(t *testing.T) {
		s := b.Open(t).Store
		_, err := s.Claim(ctx, claim(k, fpA, "t1", T0))
		require.NoError(t, err)
		rec, err := s.Claim(ctx, claim(k, fpB, "t2", T0))
		require.NoError(t, err)
		require.Equal(t, idempotency.InProgress, rec.State)
		require.Equal(t, fpA, rec.Fingerprint)

		// A different request cannot take over an abandoned key either.
		rec, err = s.Claim(ctx, claim(k, fpB, "t2", T0.Add(2*lease)))
		require.NoError(t, err)
		require.Equal(t, idempotency.InProgress, rec.State)
		require.Equal(t, fpA, rec.Fingerprint)

		require.NoError(t, s.Complete(ctx, nil, k, "t1", response("ch_1"), T0.Add(ttl)))
		rec, err = s.Claim(ctx, claim(k, fpB, "t3", T0.Add(time.Hour)))
		require.NoError(t, err)
		require.Equal(t, idempotency.Completed, rec.State)
		require.Equal(t, fpA, rec.Fingerprint)
	})

	t.Run("accounts scope keys", func(t *testing.T) {
		s := b.Open(t).Store
		for _, acct := range []string{"acct_1", "acct_2", ""} {
			rec, err := s.Claim(ctx, claim(idempotency.Key{Account: acct, Key: "shared"}, fpA, "t-"+acct, T0))
			require.NoError(t, err)
			require.Equal(t, idempotency.Claimed, rec.State, "account %q", acct)
		}
	})

	t.Run("expiry", func(t *testing.T) {
		s := b.Open(t).Store
		clock := NewClock(T0)
		_, err := s.Claim(ctx, claim(k, fpA, "t1", clock.Now()))
		require.NoError(t, err)
		require.NoError(t, s.Complete(ctx, nil, k, "t1", response("ch_1"), clock.Now().Add(ttl)))
		other := idempotency.Key{Account: "acct_1", Key: "later"}
		clock.Advance(time.Hour)
		_, err = s.Claim(ctx, claim(other, fpA, "t2", clock.Now()))
		require.NoError(t, err)
		require.NoError(t, s.Complete(ctx, nil, other, "t2", response("ch_2"), clock.Now().Add(ttl)))

		clock.Advance(ttl - time.Hour - time.Microsecond)
		n, err := s.Sweep(ctx, clock.Now())
		require.NoError(t, err)
		require.Equal(t, 0, n, "nothing has expired yet")
		rec, err := s.Claim(ctx, claim(k, fpA, "t3", clock.Now()))
		require.NoError(t, err)
		require.Equal(t, idempotency.Completed, rec.State)

		clock.Advance(time.Microsecond) // k expires now
		rec, err = s.Claim(ctx, claim(k, fpB, "t4", clock.Now()))
		require.NoError(t, err)
		require.Equal(t, idempotency.Claimed, rec.State, "an expired key is free, whatever the request")
		require.ErrorIs(t, s.Complete(ctx, nil, k, "t1", response("ch_1"), clock.Now().Add(ttl)), idempotency.ErrClaimLost)

		clock.Advance(ttl)
		n, err = s.Sweep(ctx, clock.Now())
		require.NoError(t, err)
		require.Equal(t, 2, n, "the expired result and the expired claim")
		rec, err = s.Claim(ctx, claim(other, fpB, "t5", clock.Now()))
		require.NoError(t, err)
		require.Equal(t, idempotency.Claimed, rec.State)
	})

	t.Run("lease expiry", func(t *testing.T) {
		s := b.Open(t).Store
		clock := NewClock(T0)
		// A process claims the key and dies without saving or releasing.
		_, err := s.Claim(ctx, claim(k, fpA, "dead", clock.Now()))
		require.NoError(t, err)
		clock.Advance(lease - time.Microsecond)
		rec, err := s.Claim(ctx, claim(k, fpA, "retry", clock.Now()))
		require.NoError(t, err)
		require.Equal(t, idempotency.InProgress, rec.State)

		clock.Advance(time.Microsecond)
		rec, err = s.Claim(ctx, claim(k, fpA, "retry", clock.Now()))
		require.NoError(t, err)
		require.Equal(t, idempotency.Claimed, rec.State, "the lease ran out")
		rec, err = s.Claim(ctx, claim(k, fpA, "third", clock.Now()))
		require.NoError(t, err)
		require.Equal(t, idempotency.InProgress, rec.State, "the retry now holds a fresh lease")

		require.ErrorIs(t, s.Complete(ctx, nil, k, "dead", response("ch_dead"), clock.Now().Add(ttl)), idempotency.ErrClaimLost)
		require.NoError(t, s.Release(ctx, k, "dead"), "releasing a lost claim is a no-op")
		require.NoError(t, s.Complete(ctx, nil, k, "retry", response("ch_1"), clock.Now().Add(ttl)))
		rec, err = s.Claim(ctx, claim(k, fpA, "fourth", clock.Now().Add(2*lease)))
		require.NoError(t, err)
		require.Equal(t, idempotency.Completed, rec.State, "a saved result has no lease")
		require.Equal(t, response("ch_1").Body, rec.Response.Body)
	})

	t.Run("release", func(t *testing.T) {
		s := b.Open(t).Store
		_, err := s.Claim(ctx, claim(k, fpA, "t1", T0))
		require.NoError(t, err)
		require.NoError(t, s.Release(ctx, k, "other"))
		rec, err := s.Claim(ctx, claim(k, fpA, "t2", T0))
		require.NoError(t, err)
		require.Equal(t, idempotency.InProgress, rec.State, "another token cannot release")

		require.NoError(t, s.Release(ctx, k, "t1"))
		rec, err = s.Claim(ctx, claim(k, fpB, "t3", T0))
		require.NoError(t, err)
		require.Equal(t, idempotency.Claimed, rec.State, "a released key is free")

		require.NoError(t, s.Complete(ctx, nil, k, "t3", response("ch_3"), T0.Add(ttl)))
		require.NoError(t, s.Release(ctx, k, "t3"))
		rec, err = s.Claim(ctx, claim(k, fpB, "t4", T0))
		require.NoError(t, err)
		require.Equal(t, idempotency.Completed, rec.State, "a saved result is not released")
	})

	t.Run("save in transaction", func(t *testing.T) {
		o := b.Open(t)
		s := o.Store
		if o.DB == nil {
			// The memory store takes a nil transaction and saves at once.
			_, err := s.Claim(ctx, claim(k, fpA, "t1", T0))
			require.NoError(t, err)
			require.NoError(t, s.Complete(ctx, nil, k, "t1", response("ch_1"), T0.Add(ttl)))
			rec, err := s.Claim(ctx, claim(k, fpA, "t2", T0))
			require.NoError(t, err)
			require.Equal(t, idempotency.Completed, rec.State)
			return
		}
		_, err := o.DB.Exec(ctx, `CREATE TABLE idemtest_charges (id TEXT PRIMARY KEY)`)
		require.NoError(t, err)
		charges := func() int {
			var n int
			require.NoError(t, o.DB.QueryRow(ctx, `SELECT COUNT(*) FROM idemtest_charges`).Scan(&n))
			return n
		}
		_, err = s.Claim(ctx, claim(k, fpA, "t1", T0))
		require.NoError(t, err)

		// Rolled back: neither the charge nor the result exists.
		tx, err := o.DB.Begin(ctx)
		require.NoError(t, err)
		_, err = tx.Exec(ctx, `INSERT INTO idemtest_charges (id) VALUES (?)`, "ch_1")
		require.NoError(t, err)
		require.NoError(t, s.Complete(ctx, tx, k, "t1", response("ch_1"), T0.Add(ttl)))
		require.NoError(t, tx.Rollback())
		require.Equal(t, 0, charges())
		rec, err := s.Claim(ctx, claim(k, fpA, "t2", T0))
		require.NoError(t, err)
		require.Equal(t, idempotency.InProgress, rec.State)

		// Committed: both exist.
		require.NoError(t, o.DB.InTx(ctx, func(tx *storage.Tx) error {
			if _, err := tx.Exec(ctx, `INSERT INTO idemtest_charges (id) VALUES (?)`, "ch_1"); err != nil {
				return err
			}
			return s.Complete(ctx, tx, k, "t1", response("ch_1"), T0.Add(ttl))
		}))
		require.Equal(t, 1, charges())
		rec, err = s.Claim(ctx, claim(k, fpA, "t2", T0))
		require.NoError(t, err)
		require.Equal(t, idempotency.Completed, rec.State)
		require.Equal(t, response("ch_1").Body, rec.Response.Body)

		// A claim lost to a retry fails inside the transaction, which the
		// handler then rolls back: nothing is written twice.
		k2 := idempotency.Key{Account: "acct_1", Key: "slow"}
		_, err = s.Claim(ctx, claim(k2, fpA, "slow", T0))
		require.NoError(t, err)
		rec, err = s.Claim(ctx, claim(k2, fpA, "fast", T0.Add(lease)))
		require.NoError(t, err)
		require.Equal(t, idempotency.Claimed, rec.State)
		err = o.DB.InTx(ctx, func(tx *storage.Tx) error {
			if _, err := tx.Exec(ctx, `INSERT INTO idemtest_charges (id) VALUES (?)`, "ch_slow"); err != nil {
				return err
			}
			return s.Complete(ctx, tx, k2, "slow", response("ch_slow"), T0.Add(ttl))
		})
		require.ErrorIs(t, err, idempotency.ErrClaimLost)
		require.Equal(t, 1, charges())
	})

	t.Run("restart", func(t *testing.T) {
		if b.Reopen == nil {
			t.Skip("the store does not persist")
		}
		o := b.Open(t)
		_, err := o.Store.Claim(ctx, claim(k, fpA, "t1", T0))
		require.NoError(t, err)
		require.NoError(t, o.Store.Complete(ctx, nil, k, "t1", response("ch_1"), T0.Add(ttl)))
		running := idempotency.Key{Account: "acct_1", Key: "running"}
		_, err = o.Store.Claim(ctx, claim(running, fpA, "t2", T0))
		require.NoError(t, err)

		o = b.Reopen(t, o)
		rec, err := o.Store.Claim(ctx, claim(k, fpA, "t3", T0.Add(time.Hour)))
		require.NoError(t, err)
		require.Equal(t, idempotency.Completed, rec.State)
		require.Equal(t, response("ch_1"), rec.Response)
		rec, err = o.Store.Claim(ctx, claim(running, fpA, "t4", T0.Add(time.Second)))
		require.NoError(t, err)
		require.Equal(t, idempotency.InProgress, rec.State, "a claim survives a restart")
		rec, err = o.Store.Claim(ctx, claim(running, fpA, "t4", T0.Add(lease)))
		require.NoError(t, err)
		require.Equal(t, idempotency.Claimed, rec.State, "and its lease still runs out")
	})

	t.Run("concurrent claims", func(t *testing.T) {
		s := b.Open(t).Store
		const n = 100
		var (
			wg       sync.WaitGroup
			winners  atomic.Int32
			inFlight atomic.Int32
			start    = make(chan struct{})
			errs     = make(chan error, n)
		)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				rec, err := s.Claim(ctx, claim(k, fpA, fmt.Sprint("t", i), T0))
				if err != nil {
					errs <- err
					return
				}
				switch rec.State {
				case idempotency.Claimed:
					winners.Add(1)
				case idempotency.InProgress:
					inFlight.Add(1)
				default:
					errs <- fmt.Errorf("claim %d: state %v", i, rec.State)
				}
			}()
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		require.EqualValues(t, 1, winners.Load(), "exactly one claim wins")
		require.EqualValues(t, n-1, inFlight.Load())
	})

	t.Run("context cancelled", func(t *testing.T) {
		s := b.Open(t).Store
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := s.Claim(cctx, claim(k, fpA, "t1", T0))
		require.Error(t, err)
	})
}
