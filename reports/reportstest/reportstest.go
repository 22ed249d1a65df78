// Package reportstest is the shared test suite that every reports.Store
// passes.
//
// A store's test opens an empty store per test and hands the suite a
// Backend:
//
//	func TestMemory(t *testing.T) {
//		reportstest.Run(t, reportstest.Backend{
//			Open: func(t *testing.T, o *reports.Options) reports.Store { return reports.NewMemoryStore(o) },
//		})
//	}
package reportstest

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/internal/suite"
	"github.com/verso-api/verso/reports"
	"github.com/verso-api/verso/versions"
)

// Backend opens the stores the suite runs on.
type Backend struct {
	// Open returns a new, empty store using opts. It registers with
	// t.Cleanup whatever must be closed.
	Open func(t *testing.T, opts *reports.Options) reports.Store
	// Reopen closes everything behind s and opens a store on the same
	// data, as a restarted server would; nil for stores that do not
	// persist (the suite then skips the reopen test).
	Reopen func(t *testing.T, s reports.Store, opts *reports.Options) reports.Store
}

// Clock is a settable clock for reports.Options.Now, safe for concurrent
// use.
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

// Start is the time the suite's clocks start at.
var Start = time.Date(2026, 3, 1, 9, 30, 0, 123456789, time.UTC)

// The versions the suite's traffic is served at.
var (
	V1 = versions.MustParse("2014-12-22")
	V2 = versions.MustParse("2019-10-17")
	V3 = versions.MustParse("2026-03-25.dahlia")
)

// Run runs the suite on b: one named subtest per behaviour a Store must
// have (see Tests).
func Run(t *testing.T, b Backend) {
	t.Helper()
	if b.Open == nil {
		t.Fatal("reportstest: Backend.Open is nil")
	}
	suite.Run(t, Tests(), b)
}

// Tests returns the suite's tests.
func Tests() []suite.Test[Backend] {
	return []suite.Test[Backend]{
		{Name: "AddAndEvidence", Func: testAddAndEvidence},
		{Name: "EmptyAccount", Func: testEmptyAccount},
		{Name: "SumsFlushes", Func: testSumsFlushes},
		{Name: "SumsDays", Func: testSumsDays},
		{Name: "AccountsApart", Func: testAccountsApart},
		{Name: "Traffic", Func: testTraffic},
		{Name: "RollingWindow", Func: testRollingWindow},
		{Name: "Prune", Func: testPrune},
		{Name: "BoundsNames", Func: testBoundsNames},
		{Name: "BoundsTrafficEndpoints", Func: testBoundsTrafficEndpoints},
		{Name: "CleansNames", Func: testCleansNames},
		{Name: "RefusesBadBatch", Func: testRefusesBadBatch},
		{Name: "Concurrent", Func: testConcurrent},
		{Name: "Reopen", Func: testReopen},
	}
}

func open(t *testing.T, b Backend, opts *reports.Options) (reports.Store, *Clock) {
	t.Helper()
	c := NewClock(Start)
	o := reports.Options{Now: c.Now}
	if opts != nil {
		o.Window, o.MaxNames = opts.Window, opts.MaxNames
	}
	return b.Open(t, &o), c
}

var ctx = context.Background()

// at returns a time after Start.
func at(d time.Duration) time.Time { return Start.Add(d) }

func balance(account string, requests, responses int64, first, last time.Time) reports.ChangeCount {
	return reports.ChangeCount{
		Account: account, Change: "customer_balance", Requests: requests, Responses: responses,
		Endpoints: map[string]int64{"POST /v1/customers": requests, "GET /v1/customers/:id": responses},
		Fields:    map[string]int64{"customer.balance": requests + responses},
		First:     first, Last: last,
	}
}

func evidence(t *testing.T, s reports.Store, account string) *reports.Evidence {
	t.Helper()
	e, err := s.Evidence(ctx, account)
	require.NoError(t, err)
	require.Equal(t, account, e.Account)
	return e
}

func testAddAndEvidence(t *testing.T, b Backend) {
	s, _ := open(t, b, nil)
	require.NoError(t, s.Add(ctx, &reports.Batch{Changes: []reports.ChangeCount{
		balance("acct_1", 2, 5, at(-time.Minute), at(0)),
		{Account: "acct_1", Change: "charge_status_succeeded", Deliveries: 3,
			EventTypes: map[string]int64{"charge.succeeded": 2, "charge.updated": 1},
			Fields:     map[string]int64{"charge.status": 3}, First: at(-time.Hour), Last: at(-time.Second)},
	}}))
	e := evidence(t, s, "acct_1")
	require.Len(t, e.Changes, 2)
	c := e.Changes["customer_balance"]
	require.NotNil(t, c)
	require.Equal(t, int64(2), c.Requests)
	require.Equal(t, int64(5), c.Responses)
	require.Zero(t, c.Deliveries)
	require.Equal(t, []reports.Name{{Name: "GET /v1/customers/:id", Count: 5}, {Name: "POST /v1/customers", Count: 2}}, c.Endpoints)
	require.Equal(t, []reports.Name{{Name: "customer.balance", Count: 7}}, c.Fields)
	require.Empty(t, c.EventTypes)
	require.True(t, c.FirstSeen.Equal(at(-time.Minute)), "first seen %v", c.FirstSeen)
	require.True(t, c.LastSeen.Equal(at(0)), "last seen %v", c.LastSeen)
	d := e.Changes["charge_status_succeeded"]
	require.NotNil(t, d)
	require.Equal(t, int64(3), d.Deliveries)
	require.Equal(t, []reports.Name{{Name: "charge.succeeded", Count: 2}, {Name: "charge.updated", Count: 1}}, d.EventTypes)
	require.Empty(t, d.Endpoints)
	require.False(t, e.Since.After(Start), "the window starts before now")
	require.True(t, e.Since.After(Start.Add(-reports.DefaultWindow-24*time.Hour)), "the window is 30 days: %v", e.Since)
}

func testEmptyAccount(t *testing.T, b Backend) {
	s, _ := open(t, b, nil)
	e := evidence(t, s, "acct_none")
	require.Empty(t, e.Changes)
	require.Empty(t, e.Traffic)
	_, err := s.Evidence(ctx, "")
	require.ErrorIs(t, err, reports.ErrEmptyAccount)
	require.NoError(t, s.Add(ctx, &reports.Batch{}), "an empty batch adds nothing")
	require.NoError(t, s.Add(ctx, nil))
}

func testSumsFlushes(t *testing.T, b Backend) {
	s, c := open(t, b, nil)
	require.NoError(t, s.Add(ctx, &reports.Batch{Changes: []reports.ChangeCount{balance("acct_1", 1, 1, at(0), at(time.Second))}}))
	c.Advance(time.Minute)
	require.NoError(t, s.Add(ctx, &reports.Batch{Changes: []reports.ChangeCount{balance("acct_1", 3, 4, at(-time.Hour), at(time.Minute))}}))
	got := evidence(t, s, "acct_1").Changes["customer_balance"]
	require.NotNil(t, got)
	require.Equal(t, int64(4), got.Requests)
	require.Equal(t, int64(5), got.Responses)
	require.Equal(t, []reports.Name{{Name: "customer.balance", Count: 9}}, got.Fields)
	require.True(t, got.FirstSeen.Equal(at(-time.Hour)), "the earliest first: %v", got.FirstSeen)
	require.True(t, got.LastSeen.Equal(at(time.Minute)), "the latest last: %v", got.LastSeen)
}

func testSumsDays(t *testing.T, b Backend) {
	s, c := open(t, b, nil)
	for range 3 {
		require.NoError(t, s.Add(ctx, &reports.Batch{Changes: []reports.ChangeCount{balance("acct_1", 1, 2, c.Now(), c.Now())}}))
		c.Advance(24 * time.Hour)
	}
	got := evidence(t, s, "acct_1").Changes["customer_balance"]
	require.Equal(t, int64(3), got.Requests)
	require.Equal(t, int64(6), got.Responses)
	require.True(t, got.FirstSeen.Equal(Start))
	require.True(t, got.LastSeen.Equal(Start.Add(48*time.Hour)))
}

func testAccountsApart(t *testing.T, b Backend) {
	s, _ := open(t, b, nil)
	require.NoError(t, s.Add(ctx, &reports.Batch{
		Changes: []reports.ChangeCount{balance("acct_1", 1, 0, at(0), at(0)), balance("acct_2", 0, 7, at(0), at(0))},
		Traffic: []reports.TrafficCount{{Account: "acct_2", Version: V1, Endpoint: "GET /v1/charges", Requests: 1, First: at(0), Last: at(0)}},
	}))
	one := evidence(t, s, "acct_1")
	require.Equal(t, int64(1), one.Changes["customer_balance"].Requests)
	require.Zero(t, one.Changes["customer_balance"].Responses)
	require.Empty(t, one.Traffic, "acct_2's traffic is its own")
	two := evidence(t, s, "acct_2")
	require.Equal(t, int64(7), two.Changes["customer_balance"].Responses)
	require.Len(t, two.Traffic, 1)
}

func testTraffic(t *testing.T, b Backend) {
	s, c := open(t, b, nil)
	require.NoError(t, s.Add(ctx, &reports.Batch{Traffic: []reports.TrafficCount{
		{Account: "acct_1", Version: V1, Endpoint: "POST /v1/customers", Requests: 4, First: at(0), Last: at(time.Second)},
		{Account: "acct_1", Version: V1, Endpoint: "GET /v1/charges/:id", Requests: 6, First: at(-time.Minute), Last: at(0)},
		{Account: "acct_1", Version: V3, Endpoint: "POST /v1/customers", Requests: 2, Header: 2, First: at(time.Minute), Last: at(2 * time.Minute)},
	}}))
	c.Advance(time.Hour)
	require.NoError(t, s.Add(ctx, &reports.Batch{Traffic: []reports.TrafficCount{
		{Account: "acct_1", Version: V1, Endpoint: "POST /v1/customers", Requests: 1, Header: 1, First: at(time.Hour), Last: at(time.Hour)},
	}}))
	e := evidence(t, s, "acct_1")
	require.Len(t, e.Traffic, 2)
	require.Equal(t, V3, e.Traffic[0].Version, "newest version first")
	require.Equal(t, int64(2), e.Traffic[0].Requests)
	require.Equal(t, int64(2), e.Traffic[0].Header)
	require.Equal(t, []reports.Name{{Name: "POST /v1/customers", Count: 2}}, e.Traffic[0].Endpoints)
	old := e.Traffic[1]
	require.Equal(t, V1, old.Version)
	require.Equal(t, int64(11), old.Requests)
	require.Equal(t, int64(1), old.Header)
	require.Equal(t, []reports.Name{{Name: "GET /v1/charges/:id", Count: 6}, {Name: "POST /v1/customers", Count: 5}}, old.Endpoints)
	require.True(t, old.FirstSeen.Equal(at(-time.Minute)))
	require.True(t, old.LastSeen.Equal(at(time.Hour)))
	require.Empty(t, e.Changes)
}

func testRollingWindow(t *testing.T, b Backend) {
	s, c := open(t, b, &reports.Options{Window: 3 * 24 * time.Hour})
	require.NoError(t, s.Add(ctx, &reports.Batch{
		Changes: []reports.ChangeCount{balance("acct_1", 1, 0, c.Now(), c.Now())},
		Traffic: []reports.TrafficCount{{Account: "acct_1", Version: V1, Endpoint: "GET /v1/customers", Requests: 1, First: c.Now(), Last: c.Now()}},
	}))
	c.Advance(48 * time.Hour)
	require.NoError(t, s.Add(ctx, &reports.Batch{Changes: []reports.ChangeCount{balance("acct_1", 10, 0, c.Now(), c.Now())}}))
	require.Equal(t, int64(11), evidence(t, s, "acct_1").Changes["customer_balance"].Requests, "both days are in the window")
	c.Advance(48 * time.Hour)
	e := evidence(t, s, "acct_1")
	require.Equal(t, int64(10), e.Changes["customer_balance"].Requests, "the first day left the window")
	require.Empty(t, e.Traffic, "so did its traffic")
	c.Advance(48 * time.Hour)
	e = evidence(t, s, "acct_1")
	require.Empty(t, e.Changes, "nothing is reported past the window, pruned or not")
}

func testPrune(t *testing.T, b Backend) {
	s, c := open(t, b, &reports.Options{Window: 2 * 24 * time.Hour})
	add := func(n int64) {
		require.NoError(t, s.Add(ctx, &reports.Batch{
			Changes: []reports.ChangeCount{balance("acct_1", n, 0, c.Now(), c.Now())},
			Traffic: []reports.TrafficCount{{Account: "acct_1", Version: V1, Endpoint: "GET /v1/customers", Requests: n, First: c.Now(), Last: c.Now()}},
		}))
	}
	add(1)
	n, err := s.Prune(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "nothing is old yet")
	c.Advance(72 * time.Hour)
	add(5)
	n, err = s.Prune(ctx)
	require.NoError(t, err)
	require.Positive(t, n, "the first day is deleted")
	e := evidence(t, s, "acct_1")
	require.Equal(t, int64(5), e.Changes["customer_balance"].Requests, "the day in the window is kept")
	require.Equal(t, int64(5), e.Traffic[0].Requests)
	c.Advance(72 * time.Hour)
	_, err = s.Prune(ctx)
	require.NoError(t, err)
	require.Empty(t, evidence(t, s, "acct_1").Changes)
	// Once pruned, the account starts over.
	add(2)
	require.Equal(t, int64(2), evidence(t, s, "acct_1").Changes["customer_balance"].Requests)
}

func testBoundsNames(t *testing.T, b Backend) {
	s, _ := open(t, b, &reports.Options{MaxNames: 3})
	eps := map[string]int64{"GET /v1/a": 1, "GET /v1/b": 2, "GET /v1/c": 3, "GET /v1/d": 4, "GET /v1/e": 5}
	require.NoError(t, s.Add(ctx, &reports.Batch{Changes: []reports.ChangeCount{{Account: "acct_1", Change: "c1", Requests: 15, Endpoints: eps, First: at(0), Last: at(0)}}}))
	c := evidence(t, s, "acct_1").Changes["c1"]
	require.Len(t, c.Endpoints, 3, "at most MaxNames names")
	var named int64
	for _, n := range c.Endpoints {
		named += n.Count
	}
	require.Equal(t, int64(15), named+c.OtherEndpoints, "the rest is counted as other")
	require.Positive(t, c.OtherEndpoints)
	// A name kept keeps counting; a new one goes to other.
	kept := c.Endpoints[len(c.Endpoints)-1].Name
	require.NoError(t, s.Add(ctx, &reports.Batch{Changes: []reports.ChangeCount{{Account: "acct_1", Change: "c1", Requests: 2,
		Endpoints: map[string]int64{kept: 100, "GET /v1/z": 7}, First: at(0), Last: at(0)}}}))
	c2 := evidence(t, s, "acct_1").Changes["c1"]
	require.Len(t, c2.Endpoints, 3)
	require.Equal(t, kept, c2.Endpoints[0].Name)
	require.Equal(t, c.OtherEndpoints+7, c2.OtherEndpoints)
}

func testBoundsTrafficEndpoints(t *testing.T, b Backend) {
	s, _ := open(t, b, &reports.Options{MaxNames: 2})
	var batch reports.Batch
	for i, p := range []string{"/v1/a", "/v1/b", "/v1/c", "/v1/d"} {
		batch.Traffic = append(batch.Traffic, reports.TrafficCount{Account: "acct_1", Version: V1, Endpoint: "GET " + p, Requests: int64(i + 1), First: at(0), Last: at(0)})
	}
	require.NoError(t, s.Add(ctx, &batch))
	tr := evidence(t, s, "acct_1").Traffic
	require.Len(t, tr, 1)
	require.Len(t, tr[0].Endpoints, 2)
	require.Equal(t, int64(10), tr[0].Requests)
	require.Equal(t, int64(10), tr[0].Endpoints[0].Count+tr[0].Endpoints[1].Count+tr[0].OtherEndpoints)
}

func testCleansNames(t *testing.T, b Backend) {
	s, _ := open(t, b, nil)
	long := "GET /v1/" + strings.Repeat("é", 300)
	require.NoError(t, s.Add(ctx, &reports.Batch{Changes: []reports.ChangeCount{{Account: "acct_1", Change: "c1", Requests: 1,
		Endpoints: map[string]int64{long: 1, "GET /v1/\xff\x00bad": 1}, First: at(0), Last: at(0)}}}))
	c := evidence(t, s, "acct_1").Changes["c1"]
	require.Len(t, c.Endpoints, 2)
	for _, n := range c.Endpoints {
		require.LessOrEqual(t, len(n.Name), reports.MaxNameBytes)
		require.True(t, strings.HasPrefix(n.Name, "GET /v1/"), n.Name)
		require.NotContains(t, n.Name, "\x00")
		require.NotContains(t, n.Name, "\xff")
	}
}

func testRefusesBadBatch(t *testing.T, b Backend) {
	s, _ := open(t, b, nil)
	for name, batch := range map[string]*reports.Batch{
		"no account":       {Changes: []reports.ChangeCount{{Change: "c1", Requests: 1}}},
		"no change":        {Changes: []reports.ChangeCount{{Account: "acct_1", Requests: 1}}},
		"negative":         {Changes: []reports.ChangeCount{{Account: "acct_1", Change: "c1", Requests: -1}}},
		"traffic account":  {Traffic: []reports.TrafficCount{{Version: V1, Requests: 1}}},
		"traffic version":  {Traffic: []reports.TrafficCount{{Account: "acct_1", Requests: 1}}},
		"header > request": {Traffic: []reports.TrafficCount{{Account: "acct_1", Version: V1, Requests: 1, Header: 2}}},
	} {
		require.Error(t, s.Add(ctx, batch), name)
	}
	e := evidence(t, s, "acct_1")
	require.Empty(t, e.Changes, "a refused batch adds nothing")
	require.Empty(t, e.Traffic)
}

func testConcurrent(t *testing.T, b Backend) {
	s, _ := open(t, b, nil)
	const workers, adds = 4, 5
	var wg sync.WaitGroup
	errs := make(chan error, workers*adds)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range adds {
				errs <- s.Add(ctx, &reports.Batch{
					Changes: []reports.ChangeCount{balance("acct_1", 1, 2, at(0), at(0))},
					Traffic: []reports.TrafficCount{{Account: "acct_1", Version: V2, Endpoint: "GET /v1/customers/:id", Requests: 3, Header: 1, First: at(0), Last: at(0)}},
				})
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	e := evidence(t, s, "acct_1")
	c := e.Changes["customer_balance"]
	require.Equal(t, int64(workers*adds), c.Requests)
	require.Equal(t, int64(2*workers*adds), c.Responses)
	require.Equal(t, int64(3*workers*adds), e.Traffic[0].Requests)
	require.Equal(t, int64(workers*adds), e.Traffic[0].Header)
}

func testReopen(t *testing.T, b Backend) {
	if b.Reopen == nil {
		t.Skip("the store does not persist")
	}
	opts := &reports.Options{Now: func() time.Time { return Start }}
	s := b.Open(t, opts)
	require.NoError(t, s.Add(ctx, &reports.Batch{Changes: []reports.ChangeCount{balance("acct_1", 1, 1, at(0), at(0))}}))
	s = b.Reopen(t, s, opts)
	require.Equal(t, int64(1), evidence(t, s, "acct_1").Changes["customer_balance"].Requests)
}
