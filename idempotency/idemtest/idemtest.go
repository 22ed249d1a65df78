// Package idemtest is the shared test suite that every idempotency.Store
// passes: memory, SQLite and PostgreSQL run the same tests.
//
// A store's test hands the suite a Backend that opens an empty store per
// test:
//
//	func TestMemoryStore(t *testing.T) {
//		idemtest.Run(t, idemtest.Backend{
//			Open: func(t *testing.T) idemtest.Opened {
//				return idemtest.Opened{Store: idempotency.NewMemoryStore(nil)}
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
	"github.com/verso-api/verso/internal/suite"
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

// Clock is a clock that moves only when told, safe for concurrent use:
// Now reads it, Advance moves it forward.
type Clock = suite.Clock

// NewClock returns a clock stopped at t.
func NewClock(t time.Time) *Clock { return suite.NewClock(t) }

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

// Run runs the suite on b: one named subtest per behaviour a Store must
// have (see Tests).
func Run(t *testing.T, b Backend) {
	suite.Run(t, Tests(), b)
}

// Test is one test of the suite: a name and a function of the Backend.
type Test = suite.Test[Backend]

// Tests returns the suite's tests, in the order Run runs them.
func Tests() []Test {
	return []Test{
		{Name: "claim complete replay", Func: testClaimCompleteReplay},
		{Name: "response round trip", Func: testResponseRoundTrip},
		{Name: "in progress", Func: testInProgress},
		{Name: "reused reports the first fingerprint", Func: testReusedReportsTheFirstFingerprint},
		{Name: "accounts scope keys", Func: testAccountsScopeKeys},
		{Name: "expiry", Func: testExpiry},
		{Name: "lease expiry", Func: testLeaseExpiry},
		{Name: "release", Func: testRelease},
		{Name: "complete with a nil transaction", Func: testNilTransaction},
		{Name: "save in a rolled back transaction", Func: testSaveInRolledBackTransaction},
		{Name: "save in a committed transaction", Func: testSaveInCommittedTransaction},
		{Name: "claim lost inside a transaction", Func: testClaimLostInTransaction},
		{Name: "restart", Func: testRestart},
		{Name: "concurrent claims", Func: testConcurrentClaims},
		{Name: "context cancelled", Func: testContextCancelled},
	}
}

// ctx is the context of the suite's calls.
var ctx = context.Background()

// k is the key most tests use.
var k = idempotency.Key{Account: "acct_1", Key: "key-1"}

func testClaimCompleteReplay(t *testing.T, b Backend) {
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
}

func testResponseRoundTrip(t *testing.T, b Backend) {
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
}

func testInProgress(t *testing.T, b Backend) {
	s := b.Open(t).Store
	_, err := s.Claim(ctx, claim(k, fpA, "t1", T0))
	require.NoError(t, err)
	for _, d := range []time.Duration{0, time.Second, lease - time.Microsecond} {
		rec, err := s.Claim(ctx, claim(k, fpA, "t2", T0.Add(d)))
		require.NoError(t, err)
		require.Equal(t, idempotency.InProgress, rec.State, "after %v", d)
		require.Equal(t, fpA, rec.Fingerprint)
	}
}

func testReusedReportsTheFirstFingerprint(t *testing.T, b Backend) {
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
}

func testAccountsScopeKeys(t *testing.T, b Backend) {
	s := b.Open(t).Store
	for _, acct := range []string{"acct_1", "acct_2", ""} {
		rec, err := s.Claim(ctx, claim(idempotency.Key{Account: acct, Key: "shared"}, fpA, "t-"+acct, T0))
		require.NoError(t, err)
		require.Equal(t, idempotency.Claimed, rec.State, "account %q", acct)
	}
}

func testExpiry(t *testing.T, b Backend) {
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
}

func testLeaseExpiry(t *testing.T, b Backend) {
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
}

func testRelease(t *testing.T, b Backend) {
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
}

// openWithCharges opens a store and, in its database, a table of charges
// for the handler's own writes; it skips the test for a store without a
// database.
func openWithCharges(t *testing.T, b Backend) (Opened, func() int) {
	o := b.Open(t)
	if o.DB == nil {
		t.Skip("the store has no database: its Complete takes a nil transaction (see NilTransaction)")
	}
	_, err := o.DB.Exec(ctx, `CREATE TABLE idemtest_charges (id TEXT PRIMARY KEY)`)
	require.NoError(t, err)
	charges := func() int {
		var n int
		require.NoError(t, o.DB.QueryRow(ctx, `SELECT COUNT(*) FROM idemtest_charges`).Scan(&n))
		return n
	}
	return o, charges
}

// insertAndComplete is a handler's transaction: a charge, then the saved
// response.
func insertAndComplete(tx *storage.Tx, s idempotency.Store, k idempotency.Key, token, id string) error {
	if _, err := tx.Exec(ctx, `INSERT INTO idemtest_charges (id) VALUES (?)`, id); err != nil {
		return err
	}
	return s.Complete(ctx, tx, k, token, response(id), T0.Add(ttl))
}

func testNilTransaction(t *testing.T, b Backend) {
	s := b.Open(t).Store
	_, err := s.Claim(ctx, claim(k, fpA, "t1", T0))
	require.NoError(t, err)
	require.NoError(t, s.Complete(ctx, nil, k, "t1", response("ch_1"), T0.Add(ttl)))
	rec, err := s.Claim(ctx, claim(k, fpA, "t2", T0))
	require.NoError(t, err)
	require.Equal(t, idempotency.Completed, rec.State)
}

func testSaveInRolledBackTransaction(t *testing.T, b Backend) {
	o, charges := openWithCharges(t, b)
	_, err := o.Store.Claim(ctx, claim(k, fpA, "t1", T0))
	require.NoError(t, err)
	tx, err := o.DB.Begin(ctx)
	require.NoError(t, err)
	require.NoError(t, insertAndComplete(tx, o.Store, k, "t1", "ch_1"))
	require.NoError(t, tx.Rollback())
	require.Equal(t, 0, charges())
	rec, err := o.Store.Claim(ctx, claim(k, fpA, "t2", T0))
	require.NoError(t, err)
	require.Equal(t, idempotency.InProgress, rec.State, "neither the charge nor the result exists")
}

func testSaveInCommittedTransaction(t *testing.T, b Backend) {
	o, charges := openWithCharges(t, b)
	_, err := o.Store.Claim(ctx, claim(k, fpA, "t1", T0))
	require.NoError(t, err)
	require.NoError(t, o.DB.InTx(ctx, func(tx *storage.Tx) error { return insertAndComplete(tx, o.Store, k, "t1", "ch_1") }))
	require.Equal(t, 1, charges())
	rec, err := o.Store.Claim(ctx, claim(k, fpA, "t2", T0))
	require.NoError(t, err)
	require.Equal(t, idempotency.Completed, rec.State)
	require.Equal(t, response("ch_1").Body, rec.Response.Body)
}

// testClaimLostInTransaction: a claim lost to a retry fails inside the
// transaction, which the handler then rolls back: nothing is written twice.
func testClaimLostInTransaction(t *testing.T, b Backend) {
	o, charges := openWithCharges(t, b)
	_, err := o.Store.Claim(ctx, claim(k, fpA, "slow", T0))
	require.NoError(t, err)
	rec, err := o.Store.Claim(ctx, claim(k, fpA, "fast", T0.Add(lease)))
	require.NoError(t, err)
	require.Equal(t, idempotency.Claimed, rec.State)
	err = o.DB.InTx(ctx, func(tx *storage.Tx) error { return insertAndComplete(tx, o.Store, k, "slow", "ch_slow") })
	require.ErrorIs(t, err, idempotency.ErrClaimLost)
	require.Equal(t, 0, charges())
}

func testRestart(t *testing.T, b Backend) {
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
}

func testConcurrentClaims(t *testing.T, b Backend) {
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
}

func testContextCancelled(t *testing.T, b Backend) {
	s := b.Open(t).Store
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err := s.Claim(cctx, claim(k, fpA, "t1", T0))
	require.Error(t, err)
}
