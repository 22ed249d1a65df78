// Package pinstest is the shared test suite that every pins.Store passes.
//
// A store's test opens an empty store per test and hands the suite a
// Backend:
//
//	func TestMemory(t *testing.T) {
//		pinstest.Run(t, pinstest.Backend{
//			Open: func(t *testing.T, o *pins.Options) pins.Store { return pins.NewMemoryStore(o) },
//		})
//	}
package pinstest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/internal/suite"
	"github.com/verso-api/verso/pins"
	"github.com/verso-api/verso/versions"
)

// Backend opens the stores the suite runs on.
type Backend struct {
	// Open returns a new, empty store using opts. It registers with
	// t.Cleanup whatever must be closed.
	Open func(t *testing.T, opts *pins.Options) pins.Store
	// Reopen closes everything behind s (its database handle included) and
	// opens a store on the same data, as a restarted server would. It is nil
	// for stores that do not persist; the suite then skips the reopen test.
	Reopen func(t *testing.T, s pins.Store, opts *pins.Options) pins.Store
}

// Clock is a clock that moves only when told, safe for concurrent use:
// Now reads it, Advance moves it forward.
type Clock = suite.Clock

// NewClock returns a clock stopped at t.
func NewClock(t time.Time) *Clock { return suite.NewClock(t) }

// The versions the suite pins to, oldest first.
var (
	V1 = versions.MustParse("2015-02-18")
	V2 = versions.MustParse("2019-10-17")
	V3 = versions.MustParse("2022-11-15")
	V4 = versions.MustParse("2024-09-30.acacia")
)

// Start is the time the suite's clocks start at.
var Start = time.Date(2026, 3, 1, 9, 30, 0, 123456789, time.UTC)

// Run runs the suite on b: one named subtest per behaviour a Store must
// have (see Tests).
func Run(t *testing.T, b Backend) {
	t.Helper()
	if b.Open == nil {
		t.Fatal("pinstest: Backend.Open is nil")
	}
	suite.Run(t, Tests(), b)
}

// Test is one test of the suite: a name and a function of the Backend.
type Test = suite.Test[Backend]

// Tests returns the suite's tests, in the order Run runs them.
func Tests() []Test {
	return []Test{
		{Name: "GetAbsent", Func: testGetAbsent},
		{Name: "InvalidArguments", Func: testInvalidArguments},
		{Name: "PinIfAbsent", Func: testPinIfAbsent},
		{Name: "ConcurrentFirstRequest", Func: testConcurrentFirstRequest},
		{Name: "Upgrade", Func: testUpgrade},
		{Name: "Rollback", Func: testRollback},
		{Name: "RollbackNotPinned", Func: testRollbackNotPinned},
		{Name: "RollbackOnlyTheLastMove", Func: testRollbackLastMove},
		{Name: "History", Func: testHistory},
		{Name: "Census", Func: testCensus},
		{Name: "MoveAll", Func: testMoveAll},
		{Name: "ConcurrentUpgrades", Func: testConcurrentUpgrades},
		{Name: "Set", Func: testSet},
		{Name: "SetMany", Func: testSetMany},
		{Name: "Usage", Func: testUsage},
		{Name: "UsageRetention", Func: testUsageRetention},
		{Name: "Reopen", Func: testReopen},
	}
}

// ctx is the context of the suite's calls.
var ctx = context.Background()

// open opens an empty store of b with opts, on a clock stopped at Start
// unless opts has its own.
func open(t *testing.T, b Backend, opts pins.Options) (pins.Store, *Clock) {
	clock := NewClock(Start)
	if opts.Now == nil {
		opts.Now = clock.Now
	}
	return b.Open(t, &opts), clock
}

func testGetAbsent(t *testing.T, b Backend) {
	s, _ := open(t, b, pins.Options{})
	_, err := s.Get(ctx, "acct_absent")
	require.ErrorIs(t, err, pins.ErrNotPinned)
	h, err := s.History(ctx, "acct_absent")
	require.NoError(t, err)
	require.Empty(t, h)
}

func testInvalidArguments(t *testing.T, b Backend) {
	s, _ := open(t, b, pins.Options{})
	tests := []struct {
		name string
		call func() error
		want error
	}{
		{"Get empty account", func() error { _, err := s.Get(ctx, ""); return err }, pins.ErrEmptyAccount},
		{"PinIfAbsent empty account", func() error { _, _, err := s.PinIfAbsent(ctx, "", V1); return err }, pins.ErrEmptyAccount},
		{"PinIfAbsent zero version", func() error { _, _, err := s.PinIfAbsent(ctx, "acct_a", versions.Version{}); return err }, pins.ErrZeroVersion},
		{"Upgrade empty account", func() error { _, err := s.Upgrade(ctx, "", V2); return err }, pins.ErrEmptyAccount},
		{"Upgrade zero version", func() error { _, err := s.Upgrade(ctx, "acct_a", versions.Version{}); return err }, pins.ErrZeroVersion},
		{"Rollback empty account", func() error { _, err := s.Rollback(ctx, ""); return err }, pins.ErrEmptyAccount},
		{"History empty account", func() error { _, err := s.History(ctx, ""); return err }, pins.ErrEmptyAccount},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.ErrorIs(t, tt.call(), tt.want)
		})
	}
	_, err := s.Get(ctx, "acct_a")
	require.ErrorIs(t, err, pins.ErrNotPinned, "a refused call must not pin")
}

func testPinIfAbsent(t *testing.T, b Backend) {
	s, clock := open(t, b, pins.Options{})
	p, created, err := s.PinIfAbsent(ctx, "acct_a", V2)
	require.NoError(t, err)
	require.True(t, created)
	want := pins.Pin{Account: "acct_a", Version: V2, PinnedAt: Start}
	requirePin(t, want, p)

	clock.Advance(time.Hour)
	p, created, err = s.PinIfAbsent(ctx, "acct_a", V4)
	require.NoError(t, err)
	require.False(t, created, "a second pin must not replace the first")
	requirePin(t, want, p)

	got, err := s.Get(ctx, "acct_a")
	require.NoError(t, err)
	requirePin(t, want, got)

	// Another account is independent.
	p, created, err = s.PinIfAbsent(ctx, "acct_b", V4)
	require.NoError(t, err)
	require.True(t, created)
	requirePin(t, pins.Pin{Account: "acct_b", Version: V4, PinnedAt: Start.Add(time.Hour)}, p)
	got, err = s.Get(ctx, "acct_a")
	require.NoError(t, err)
	requirePin(t, want, got)
}

func testConcurrentFirstRequest(t *testing.T, b Backend) {
	s, _ := open(t, b, pins.Options{})
	const n = 50
	vs := []versions.Version{V1, V2, V3, V4}
	var (
		wg      sync.WaitGroup
		start   = make(chan struct{})
		got     = make([]pins.Pin, n)
		created = make([]bool, n)
		errs    = make([]error, n)
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			got[i], created[i], errs[i] = s.PinIfAbsent(ctx, "acct_race", vs[i%len(vs)])
		}()
	}
	close(start)
	wg.Wait()
	winners := 0
	for i := range n {
		require.NoError(t, errs[i], "caller %d", i)
		if created[i] {
			winners++
		}
	}
	require.Equal(t, 1, winners, "exactly one caller creates the pin")
	final, err := s.Get(ctx, "acct_race")
	require.NoError(t, err)
	for i := range n {
		requirePin(t, final, got[i])
	}
	for i := range n {
		if created[i] {
			require.Equal(t, vs[i%len(vs)], final.Version, "the winner's version is the pin")
		}
	}
	h, err := s.History(ctx, "acct_race")
	require.NoError(t, err)
	require.Len(t, h, 1)
	require.Equal(t, pins.Pinned, h[0].Kind)
	require.Equal(t, final.Version, h[0].To)
}

func testUpgrade(t *testing.T, b Backend) {
	s, clock := open(t, b, pins.Options{})
	_, err := s.Upgrade(ctx, "acct_a", V3)
	require.ErrorIs(t, err, pins.ErrNotPinned)

	_, _, err = s.PinIfAbsent(ctx, "acct_a", V2)
	require.NoError(t, err)
	clock.Advance(24 * time.Hour)
	moved := Start.Add(24 * time.Hour)
	p, err := s.Upgrade(ctx, "acct_a", V3)
	require.NoError(t, err)
	want := pins.Pin{Account: "acct_a", Version: V3, PinnedAt: Start, Previous: V2, MovedAt: moved}
	requirePin(t, want, p)

	clock.Advance(time.Hour)
	tests := []struct {
		name string
		to   versions.Version
	}{
		{"same version", V3},
		{"older version", V1},
		{"previous version", V2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := s.Upgrade(ctx, "acct_a", tt.to)
			require.ErrorIs(t, err, pins.ErrNotNewer)
			requirePin(t, want, p) // the unchanged pin comes back with the error
		})
	}
	got, err := s.Get(ctx, "acct_a")
	require.NoError(t, err)
	requirePin(t, want, got)
}

func testRollback(t *testing.T, b Backend) {
	tests := []struct {
		name    string
		window  time.Duration // 0: the default
		upgrade bool          // upgrade V2 -> V3 before waiting
		wait    time.Duration
		want    error
	}{
		{"never moved", 0, false, 0, pins.ErrNoPrevious},
		{"right away", 0, true, 0, nil},
		{"within 72 hours", 0, true, 71 * time.Hour, nil},
		{"at 72 hours", 0, true, 72 * time.Hour, nil},
		{"after 72 hours", 0, true, 72*time.Hour + time.Nanosecond, pins.ErrRollbackExpired},
		{"a week later", 0, true, 7 * 24 * time.Hour, pins.ErrRollbackExpired},
		{"within a custom window", time.Hour, true, 59 * time.Minute, nil},
		{"after a custom window", time.Hour, true, 61 * time.Minute, pins.ErrRollbackExpired},
		{"rollback disabled", -1, true, 0, pins.ErrRollbackExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, clock := open(t, b, pins.Options{RollbackWindow: tt.window})
			_, _, err := s.PinIfAbsent(ctx, "acct_a", V2)
			require.NoError(t, err)
			clock.Advance(time.Hour)
			before := pins.Pin{Account: "acct_a", Version: V2, PinnedAt: Start}
			if tt.upgrade {
				before, err = s.Upgrade(ctx, "acct_a", V3)
				require.NoError(t, err)
			}
			clock.Advance(tt.wait)
			p, err := s.Rollback(ctx, "acct_a")
			if tt.want != nil {
				require.ErrorIs(t, err, tt.want)
				requirePin(t, before, p)
				got, err := s.Get(ctx, "acct_a")
				require.NoError(t, err)
				requirePin(t, before, got)
				return
			}
			require.NoError(t, err)
			want := pins.Pin{Account: "acct_a", Version: V2, PinnedAt: Start, MovedAt: clock.Now().UTC()}
			requirePin(t, want, p)
			got, err := s.Get(ctx, "acct_a")
			require.NoError(t, err)
			requirePin(t, want, got)

			// A rollback cannot be rolled back; upgrading again works.
			_, err = s.Rollback(ctx, "acct_a")
			require.ErrorIs(t, err, pins.ErrNoPrevious)
			p, err = s.Upgrade(ctx, "acct_a", V4)
			require.NoError(t, err)
			require.Equal(t, V4, p.Version)
			require.Equal(t, V2, p.Previous)
		})
	}
}

func testRollbackNotPinned(t *testing.T, b Backend) {
	s, _ := open(t, b, pins.Options{})
	_, err := s.Rollback(ctx, "acct_a")
	require.ErrorIs(t, err, pins.ErrNotPinned)
}

func testRollbackLastMove(t *testing.T, b Backend) {
	s, clock := open(t, b, pins.Options{})
	_, _, err := s.PinIfAbsent(ctx, "acct_a", V1)
	require.NoError(t, err)
	_, err = s.Upgrade(ctx, "acct_a", V2)
	require.NoError(t, err)
	clock.Advance(100 * time.Hour)
	_, err = s.Upgrade(ctx, "acct_a", V3)
	require.NoError(t, err)
	clock.Advance(time.Hour)
	p, err := s.Rollback(ctx, "acct_a")
	require.NoError(t, err)
	require.Equal(t, V2, p.Version, "rollback returns to the version before the last move")
}

func testHistory(t *testing.T, b Backend) {
	s, clock := open(t, b, pins.Options{})
	step := func(d time.Duration) time.Time { clock.Advance(d); return clock.Now().UTC() }
	_, _, err := s.PinIfAbsent(ctx, "acct_a", V1)
	require.NoError(t, err)
	_, _, err = s.PinIfAbsent(ctx, "acct_b", V4) // another account's history stays apart
	require.NoError(t, err)
	t1 := step(time.Hour)
	_, err = s.Upgrade(ctx, "acct_a", V2)
	require.NoError(t, err)
	t2 := step(time.Hour)
	_, err = s.Upgrade(ctx, "acct_a", V3)
	require.NoError(t, err)
	step(time.Minute)
	_, err = s.Upgrade(ctx, "acct_a", V3) // refused: not recorded
	require.ErrorIs(t, err, pins.ErrNotNewer)
	t3 := step(time.Hour)
	_, err = s.Rollback(ctx, "acct_a")
	require.NoError(t, err)
	t4 := step(time.Hour)
	_, err = s.Upgrade(ctx, "acct_a", V4)
	require.NoError(t, err)

	h, err := s.History(ctx, "acct_a")
	require.NoError(t, err)
	want := []pins.Change{
		{Account: "acct_a", Kind: pins.Pinned, To: V1, At: Start},
		{Account: "acct_a", Kind: pins.Upgraded, From: V1, To: V2, At: t1},
		{Account: "acct_a", Kind: pins.Upgraded, From: V2, To: V3, At: t2},
		{Account: "acct_a", Kind: pins.RolledBack, From: V3, To: V2, At: t3},
		{Account: "acct_a", Kind: pins.Upgraded, From: V2, To: V4, At: t4},
	}
	requireHistory(t, want, h)
	hb, err := s.History(ctx, "acct_b")
	require.NoError(t, err)
	requireHistory(t, []pins.Change{{Account: "acct_b", Kind: pins.Pinned, To: V4, At: Start}}, hb)
}

func testCensus(t *testing.T, b Backend) {
	s, clock := open(t, b, pins.Options{})
	c, err := s.Census(ctx, Start)
	require.NoError(t, err)
	require.Empty(t, c, "an empty store has an empty census")
	for a, v := range map[string]versions.Version{"acct_a": V1, "acct_b": V1, "acct_c": V2} {
		_, _, err := s.PinIfAbsent(ctx, a, v)
		require.NoError(t, err)
	}
	require.NoError(t, s.CountRequests(ctx, []pins.Served{{Version: V1, Requests: 3}, {Version: V3, Requests: 5}}))
	require.NoError(t, s.CountRequests(ctx, []pins.Served{{Version: V1, Requests: 1}}))
	require.NoError(t, s.CountRequests(ctx, nil))
	clock.Advance(2 * time.Hour)
	require.NoError(t, s.CountRequests(ctx, []pins.Served{{Version: V1, Requests: 10}}))
	require.ErrorIs(t, s.CountRequests(ctx, []pins.Served{{Requests: 1}}), pins.ErrZeroVersion)

	c, err = s.Census(ctx, Start)
	require.NoError(t, err)
	require.Equal(t, []pins.Count{{Version: V3, Requests: 5}, {Version: V2, Accounts: 1}, {Version: V1, Accounts: 2, Requests: 14}}, c)
	c, err = s.Census(ctx, Start.Add(90*time.Minute))
	require.NoError(t, err)
	require.Equal(t, []pins.Count{{Version: V2, Accounts: 1}, {Version: V1, Accounts: 2, Requests: 10}}, c,
		"requests are counted per hour: the census starts at the hour of since")
}

// testUsage counts requests per version and account: the census's active
// accounts and each version's users.
func testUsage(t *testing.T, b Backend) {
	s, clock := open(t, b, pins.Options{})
	require.NoError(t, s.CountRequests(ctx, []pins.Served{
		{Version: V1, Account: "acct_a", Requests: 3},
		{Version: V1, Account: "acct_b", Requests: 1},
		{Version: V1, Requests: 7}, // no account
		{Version: V2, Account: "acct_a", Requests: 2},
		{Version: V1, Account: "acct_a", Requests: 1}, // the same account twice in one call
		{Version: V2, Account: "acct_c", Requests: 0}, // nothing
	}))
	clock.Advance(24 * time.Hour)
	require.NoError(t, s.CountRequests(ctx, []pins.Served{{Version: V1, Account: "acct_b", Requests: 5}, {Version: V1, Account: "acct_d", Requests: 1}}))

	c, err := s.Census(ctx, Start)
	require.NoError(t, err)
	require.Equal(t, []pins.Count{{Version: V2, Requests: 2, Active: 1}, {Version: V1, Requests: 18, Active: 3}}, c)
	c, err = s.Census(ctx, Start.Add(24*time.Hour))
	require.NoError(t, err)
	require.Equal(t, []pins.Count{{Version: V1, Requests: 6, Active: 2}}, c, "accounts are counted per day")

	u, err := s.Users(ctx, V1, Start, 0)
	require.NoError(t, err)
	require.Equal(t, []pins.Served{
		{Version: V1, Account: "acct_b", Requests: 6}, {Version: V1, Account: "acct_a", Requests: 4}, {Version: V1, Account: "acct_d", Requests: 1},
	}, u, "most requests first, summed over days")
	u, err = s.Users(ctx, V1, Start, 2)
	require.NoError(t, err)
	require.Len(t, u, 2)
	u, err = s.Users(ctx, V3, Start, 0)
	require.NoError(t, err)
	require.Empty(t, u)
	_, err = s.Users(ctx, versions.Version{}, Start, 0)
	require.ErrorIs(t, err, pins.ErrZeroVersion)

	// Many accounts in one call: written in batches.
	var many []pins.Served
	for i := range 1000 {
		many = append(many, pins.Served{Version: V4, Account: fmt.Sprintf("acct_%04d", i), Requests: int64(i%7 + 1)})
	}
	require.NoError(t, s.CountRequests(ctx, many))
	c, err = s.Census(ctx, Start)
	require.NoError(t, err)
	require.Equal(t, pins.Count{Version: V4, Requests: 3997, Active: 1000}, c[0])
}

// testUsageRetention checks that counts older than the retention are
// forgotten: storage stays bounded.
func testUsageRetention(t *testing.T, b Backend) {
	s, clock := open(t, b, pins.Options{Retention: 48 * time.Hour})
	require.NoError(t, s.CountRequests(ctx, []pins.Served{{Version: V1, Account: "acct_a", Requests: 1}}))
	clock.Advance(24 * time.Hour)
	require.NoError(t, s.CountRequests(ctx, []pins.Served{{Version: V1, Account: "acct_b", Requests: 1}}))
	c, err := s.Census(ctx, Start)
	require.NoError(t, err)
	require.Equal(t, []pins.Count{{Version: V1, Requests: 2, Active: 2}}, c)
	clock.Advance(72 * time.Hour)
	require.NoError(t, s.CountRequests(ctx, []pins.Served{{Version: V2, Account: "acct_c", Requests: 1}}))
	c, err = s.Census(ctx, Start)
	require.NoError(t, err)
	require.Equal(t, []pins.Count{{Version: V2, Requests: 1, Active: 1}}, c, "what is older than the retention is gone")
	u, err := s.Users(ctx, V1, Start, 0)
	require.NoError(t, err)
	require.Empty(t, u)
}

func testMoveAll(t *testing.T, b Backend) {
	s, clock := open(t, b, pins.Options{})
	for a, v := range map[string]versions.Version{"acct_a": V1, "acct_b": V1, "acct_c": V2} {
		_, _, err := s.PinIfAbsent(ctx, a, v)
		require.NoError(t, err)
	}
	clock.Advance(time.Hour)
	_, err := s.Upgrade(ctx, "acct_b", V2)
	require.NoError(t, err)
	_, err = s.Rollback(ctx, "acct_b")
	require.NoError(t, err)

	_, err = s.MoveAll(ctx, V1, V1)
	require.ErrorIs(t, err, pins.ErrSameVersion)
	_, err = s.MoveAll(ctx, V1, versions.Version{})
	require.ErrorIs(t, err, pins.ErrZeroVersion)

	clock.Advance(time.Hour)
	at := Start.Add(2 * time.Hour)
	n, err := s.MoveAll(ctx, V1, V3)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	for _, a := range []string{"acct_a", "acct_b"} {
		p, err := s.Get(ctx, a)
		require.NoError(t, err)
		requirePin(t, pins.Pin{Account: a, Version: V3, PinnedAt: Start, MovedAt: at}, p)
		h, err := s.History(ctx, a)
		require.NoError(t, err)
		require.Equal(t, pins.Change{Account: a, Kind: pins.Retired, From: V1, To: V3, At: at}, h[len(h)-1])
		_, err = s.Rollback(ctx, a)
		require.ErrorIs(t, err, pins.ErrNoPrevious, "a retiring move cannot be rolled back")
	}
	hb, _ := s.History(ctx, "acct_b")
	require.Len(t, hb, 4)
	p, err := s.Upgrade(ctx, "acct_b", V4)
	require.NoError(t, err, "the history goes on after a retiring move")
	require.Equal(t, V4, p.Version)
	pc, _ := s.Get(ctx, "acct_c")
	require.Equal(t, V2, pc.Version, "other versions' accounts stay")

	n, err = s.MoveAll(ctx, V1, V3)
	require.NoError(t, err)
	require.Zero(t, n)
	c, err := s.Census(ctx, Start)
	require.NoError(t, err)
	require.Equal(t, []pins.Count{{Version: V4, Accounts: 1}, {Version: V3, Accounts: 1}, {Version: V2, Accounts: 1}}, c)
}

func testConcurrentUpgrades(t *testing.T, b Backend) {
	s, _ := open(t, b, pins.Options{})
	_, _, err := s.PinIfAbsent(ctx, "acct_a", V1)
	require.NoError(t, err)
	targets := []versions.Version{V2, V3, V4, V2, V3, V4, V4, V3, V2, V4}
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, len(targets))
	for i, to := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = s.Upgrade(ctx, "acct_a", to)
		}()
	}
	close(start)
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
			continue
		}
		require.ErrorIs(t, err, pins.ErrNotNewer)
	}
	h, err := s.History(ctx, "acct_a")
	require.NoError(t, err)
	require.Len(t, h, ok+1, "one change per successful upgrade")
	for i := 1; i < len(h); i++ {
		require.Equal(t, h[i-1].To, h[i].From, "change %d starts where change %d ended", i, i-1)
		require.True(t, h[i].To.After(h[i].From), "change %d moves forward", i)
	}
	p, err := s.Get(ctx, "acct_a")
	require.NoError(t, err)
	require.Equal(t, V4, p.Version, "some upgrade to the newest must win")
	require.Equal(t, h[len(h)-1].To, p.Version)
}

func testSet(t *testing.T, b Backend) {
	s, clock := open(t, b, pins.Options{})
	_, err := s.Set(ctx, "", V1)
	require.ErrorIs(t, err, pins.ErrEmptyAccount)
	_, err = s.Set(ctx, "acct_a", versions.Version{})
	require.ErrorIs(t, err, pins.ErrZeroVersion)

	p, err := s.Set(ctx, "acct_a", V2)
	require.NoError(t, err, "an account with no pin gets one")
	requirePin(t, pins.Pin{Account: "acct_a", Version: V2, PinnedAt: Start}, p)
	_, created, err := s.PinIfAbsent(ctx, "acct_a", V4)
	require.NoError(t, err)
	require.False(t, created, "a first request finds the operator's pin")

	clock.Advance(time.Hour)
	_, err = s.Upgrade(ctx, "acct_a", V3)
	require.NoError(t, err)
	clock.Advance(time.Hour)
	p, err = s.Set(ctx, "acct_a", V1)
	require.NoError(t, err, "an operator moves a pin back too")
	at := Start.Add(2 * time.Hour)
	requirePin(t, pins.Pin{Account: "acct_a", Version: V1, PinnedAt: Start, MovedAt: at}, p)
	_, err = s.Rollback(ctx, "acct_a")
	require.ErrorIs(t, err, pins.ErrNoPrevious, "the account cannot undo an operator's move")
	clock.Advance(time.Hour)
	p, err = s.Set(ctx, "acct_a", V1)
	require.NoError(t, err)
	require.True(t, p.MovedAt.Equal(at), "setting the version it has changes nothing")
	h, err := s.History(ctx, "acct_a")
	require.NoError(t, err)
	requireHistory(t, []pins.Change{
		{Account: "acct_a", Kind: pins.Set, To: V2, At: Start},
		{Account: "acct_a", Kind: pins.Upgraded, From: V2, To: V3, At: Start.Add(time.Hour)},
		{Account: "acct_a", Kind: pins.Set, From: V3, To: V1, At: at},
	}, h)
}

func testSetMany(t *testing.T, b Backend) {
	s, clock := open(t, b, pins.Options{})
	_, _, err := s.PinIfAbsent(ctx, "acct_b", V4)
	require.NoError(t, err)
	_, _, err = s.PinIfAbsent(ctx, "acct_c", V2)
	require.NoError(t, err)
	clock.Advance(time.Hour)
	n, err := s.SetMany(ctx, []pins.Assignment{
		{Account: "acct_a", Version: V1}, {Account: "acct_b", Version: V2}, {Account: "acct_c", Version: V2},
		{Account: "acct_d", Version: V3}, {Account: "acct_d", Version: V2},
	})
	require.NoError(t, err)
	require.Equal(t, 3, n, "acct_a and acct_d created, acct_b moved, acct_c already there")
	for a, v := range map[string]versions.Version{"acct_a": V1, "acct_b": V2, "acct_c": V2, "acct_d": V2} {
		p, err := s.Get(ctx, a)
		require.NoError(t, err)
		require.Equal(t, v, p.Version, a)
	}
	hd, err := s.History(ctx, "acct_d")
	require.NoError(t, err)
	requireHistory(t, []pins.Change{{Account: "acct_d", Kind: pins.Set, To: V2, At: Start.Add(time.Hour)}}, hd)

	// One bad assignment, and nothing is set.
	_, err = s.SetMany(ctx, []pins.Assignment{{Account: "acct_e", Version: V1}, {Account: "", Version: V1}})
	require.ErrorIs(t, err, pins.ErrEmptyAccount)
	_, err = s.Get(ctx, "acct_e")
	require.ErrorIs(t, err, pins.ErrNotPinned, "all or nothing")
	n, err = s.SetMany(ctx, nil)
	require.NoError(t, err)
	require.Zero(t, n)

	// Many at once: one transaction.
	var many []pins.Assignment
	for i := range 500 {
		many = append(many, pins.Assignment{Account: fmt.Sprintf("acct_many_%03d", i), Version: V3})
	}
	n, err = s.SetMany(ctx, many)
	require.NoError(t, err)
	require.Equal(t, 500, n)
	c, err := s.Census(ctx, Start)
	require.NoError(t, err)
	require.Contains(t, c, pins.Count{Version: V3, Accounts: 500})
}

func testReopen(t *testing.T, b Backend) {
	if b.Reopen == nil {
		t.Skip("the store does not persist")
	}
	s, clock := open(t, b, pins.Options{})
	_, _, err := s.PinIfAbsent(ctx, "acct_a", V2)
	require.NoError(t, err)
	clock.Advance(time.Hour)
	want, err := s.Upgrade(ctx, "acct_a", V3)
	require.NoError(t, err)
	wantHistory, err := s.History(ctx, "acct_a")
	require.NoError(t, err)

	s = b.Reopen(t, s, &pins.Options{Now: clock.Now})
	got, err := s.Get(ctx, "acct_a")
	require.NoError(t, err)
	requirePin(t, want, got)
	h, err := s.History(ctx, "acct_a")
	require.NoError(t, err)
	requireHistory(t, wantHistory, h)

	p, created, err := s.PinIfAbsent(ctx, "acct_a", V4)
	require.NoError(t, err)
	require.False(t, created, "the pin survived the restart")
	requirePin(t, want, p)

	clock.Advance(time.Hour)
	p, err = s.Rollback(ctx, "acct_a")
	require.NoError(t, err, "the previous version survived the restart")
	require.Equal(t, V2, p.Version)
}

// requirePin compares pins, times with time.Time.Equal.
func requirePin(t *testing.T, want, got pins.Pin) {
	t.Helper()
	require.Equal(t, want.Account, got.Account, "Account")
	require.Equal(t, want.Version, got.Version, "Version")
	require.Equal(t, want.Previous, got.Previous, "Previous")
	require.Truef(t, want.PinnedAt.Equal(got.PinnedAt), "PinnedAt: want %v, got %v", want.PinnedAt, got.PinnedAt)
	require.Truef(t, want.MovedAt.Equal(got.MovedAt), "MovedAt: want %v, got %v", want.MovedAt, got.MovedAt)
}

func requireHistory(t *testing.T, want, got []pins.Change) {
	t.Helper()
	require.Len(t, got, len(want))
	for i := range want {
		w, g := want[i], got[i]
		if w.Account != g.Account || w.Kind != g.Kind || w.From != g.From || w.To != g.To || !w.At.Equal(g.At) {
			t.Fatalf("change %d: want %+v, got %+v", i, w, g)
		}
	}
}
