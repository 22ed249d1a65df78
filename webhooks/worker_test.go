package webhooks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
	"github.com/verso-api/verso/storage"
	"github.com/verso-api/verso/versions"
	"github.com/verso-api/verso/webhooks/signature"
)

// received is one request a receiver got.
type received struct {
	body   []byte
	header http.Header
}

// receiver is a real HTTP server on 127.0.0.1 that records what it gets
// and answers with whatever status its handle func returns (n counts the
// requests, from 1).
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	got    []received
	handle func(n int, r *http.Request) int
}

func newReceiver(t testing.TB, handle func(n int, r *http.Request) int) *receiver {
	rc := &receiver{handle: handle}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, received{body: body, header: r.Header.Clone()})
		n := len(rc.got)
		rc.mu.Unlock()
		status := http.StatusOK
		if rc.handle != nil {
			status = rc.handle(n, r)
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(rc.Server.Close)
	return rc
}

func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

func (rc *receiver) distinctIDs() map[string]int {
	ids := map[string]int{}
	for _, r := range rc.requests() {
		ids[gjson.GetBytes(r.body, "id").String()]++
	}
	return ids
}

// eventually polls cond until it holds; the deadline only stops a hung
// test, it asserts nothing about speed.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// fastConfig retries within milliseconds.
func fastConfig(s *SQLStore) Config {
	return Config{
		Store:        s,
		Renderer:     fakeRender,
		Timeout:      5 * time.Second,
		Backoff:      Backoff{Initial: time.Millisecond, Max: 5 * time.Millisecond, MaxAge: time.Hour},
		Concurrency:  8,
		PollInterval: 5 * time.Millisecond,
	}
}

// start runs w until the test ends and returns a func that stops it and
// waits for Run to return.
func start(t testing.TB, w *Worker) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func mustWorker(t testing.TB, cfg Config) *Worker {
	w, err := NewWorker(cfg)
	require.NoError(t, err)
	return w
}

func deliveryOf(t testing.TB, s *SQLStore, account, eventID string) Delivery {
	ds, _, err := s.ListDeliveries(context.Background(), account, DeliveryListParams{EventID: eventID})
	require.NoError(t, err)
	require.Len(t, ds, 1)
	return ds[0]
}

func TestWorker(t *testing.T) {
	forEachDB(t, func(t *testing.T, open opener) {
		t.Run("each endpoint in its own version", func(t *testing.T) { testEachVersion(t, open(t)) })
		t.Run("fails three times then succeeds", func(t *testing.T) { testRetries(t, open(t)) })
		t.Run("slower than the timeout is retried", func(t *testing.T) { testTimeout(t, open(t)) })
		t.Run("restart mid-backlog loses nothing", func(t *testing.T) { testRestart(t, open(t)) })
		t.Run("a dead endpoint does not hold up others", func(t *testing.T) { testFairness(t, open(t)) })
		t.Run("one account's slow endpoints do not hold up another account", func(t *testing.T) { testAccountFairness(t, open(t)) })
		t.Run("failed after max age, then resent", func(t *testing.T) { testMaxAgeAndResend(t, open(t)) })
		t.Run("test send at another version", func(t *testing.T) { testSendTest(t, open(t)) })
		t.Run("the renderer gets the account and the context", func(t *testing.T) { testRendererContext(t, open(t)) })
	})
}

// testRendererContext: the Renderer renders each delivery for its
// endpoint's account, with the context Run was given (a test send, with
// the caller's).
func testRendererContext(t *testing.T, db *storage.DB) {
	type key struct{}
	ctx := context.WithValue(context.Background(), key{}, "the caller's")
	s := newStore(t, db, nil)
	rc := newReceiver(t, nil)
	eps := map[string]*Endpoint{}
	for _, acct := range []string{"acct_a", "acct_b"} {
		ep, err := s.CreateEndpoint(ctx, EndpointParams{Account: acct, URL: rc.URL + "/" + acct, EnabledEvents: []string{"*"}, APIVersion: vNew})
		require.NoError(t, err)
		eps[acct] = ep
		ev := customerEvent(acct, "customer.created", 1)
		ev.ID = NewEventID()
		require.NoError(t, s.RecordEvent(ctx, nil, ev))
	}
	cfg := fastConfig(s)
	cfg.Renderer = func(ctx context.Context, account string, event []byte, to versions.Version) ([]byte, error) {
		out, err := sjson.SetBytes(event, "data.object.rendered_for", account)
		if err != nil {
			return nil, err
		}
		return sjson.SetBytes(out, "data.object.context", ctx.Value(key{}))
	}
	w := mustWorker(t, cfg)
	run, cancel := context.WithCancel(context.WithValue(context.Background(), key{}, "Run's"))
	done := make(chan error, 1)
	go func() { done <- w.Run(run) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	eventually(t, "both accounts' events delivered", func() bool { return len(rc.requests()) == 2 })
	seen := map[string]bool{}
	for _, r := range rc.requests() {
		acct := gjson.GetBytes(r.body, "data.object.rendered_for").String()
		seen[acct] = true
		require.NoError(t, signature.Verify(r.body, r.header.Get(signature.Header), eps[acct].Secret, 0), "rendered for %s, sent to its endpoint", acct)
		require.Equal(t, "Run's", gjson.GetBytes(r.body, "data.object.context").String())
	}
	require.Equal(t, map[string]bool{"acct_a": true, "acct_b": true}, seen)

	res, err := w.SendTest(ctx, "acct_b", eps["acct_b"].ID, []byte(`{"type":"customer.created","data":{"object":{"id":"cus_1","object":"customer"}}}`), vNew)
	require.NoError(t, err)
	require.Equal(t, 200, res.Status)
	eventually(t, "the test send arrived", func() bool { return len(rc.requests()) == 3 })
	last := rc.requests()[2]
	require.Equal(t, "acct_b", gjson.GetBytes(last.body, "data.object.rendered_for").String())
	require.Equal(t, "the caller's", gjson.GetBytes(last.body, "data.object.context").String())
}

func testEachVersion(t *testing.T, db *storage.DB) {
	ctx := context.Background()
	s := newStore(t, db, nil)
	oldRc, newRc := newReceiver(t, nil), newReceiver(t, nil)
	oldEp, err := s.CreateEndpoint(ctx, EndpointParams{Account: "acct_v", URL: oldRc.URL + "/hook", EnabledEvents: []string{"*"}, APIVersion: vOld})
	require.NoError(t, err)
	newEp, err := s.CreateEndpoint(ctx, EndpointParams{Account: "acct_v", URL: newRc.URL + "/hook", EnabledEvents: []string{"customer.created"}, APIVersion: vNew, Scheme: SchemeStandard})
	require.NoError(t, err)
	ev := customerEvent("acct_v", "customer.created", 42)
	ev.ID = NewEventID()
	require.NoError(t, s.RecordEvent(ctx, nil, ev))

	w := mustWorker(t, fastConfig(s))
	start(t, w)
	w.Notify()
	eventually(t, "both endpoints receive the event", func() bool {
		return len(oldRc.requests()) == 1 && len(newRc.requests()) == 1
	})

	o := oldRc.requests()[0]
	require.NoError(t, signature.Verify(o.body, o.header.Get(signature.Header), oldEp.Secret, 0))
	require.Equal(t, ev.ID, gjson.GetBytes(o.body, "id").String())
	require.Equal(t, vOld.String(), gjson.GetBytes(o.body, "api_version").String())
	require.Equal(t, int64(42), gjson.GetBytes(o.body, "data.object.account_balance").Int())
	require.False(t, gjson.GetBytes(o.body, "data.object.balance").Exists())
	require.Equal(t, ev.ID, o.header.Get(EventIDHeader))
	require.Equal(t, "1", o.header.Get(AttemptHeader))
	require.Equal(t, "application/json; charset=utf-8", o.header.Get("Content-Type"))
	require.ErrorIs(t, signature.Verify(o.body, o.header.Get(signature.Header), newEp.Secret, 0), signature.ErrMismatch, "each endpoint has its own secret")

	n := newRc.requests()[0]
	require.Empty(t, n.header.Get(signature.Header), "the standard scheme sends no Stripe-Signature")
	require.NoError(t, signature.VerifyStandard(n.body, n.header, newEp.Secret, 0))
	require.Equal(t, ev.ID, n.header.Get(signature.StandardID))
	require.Equal(t, vNew.String(), gjson.GetBytes(n.body, "api_version").String())
	require.Equal(t, int64(42), gjson.GetBytes(n.body, "data.object.balance").Int())
	require.False(t, gjson.GetBytes(n.body, "data.object.account_balance").Exists())

	eventually(t, "both deliveries recorded", func() bool {
		ds, _, err := s.ListDeliveries(ctx, "acct_v", DeliveryListParams{State: StateDelivered})
		return err == nil && len(ds) == 2
	})
}

func testRetries(t *testing.T, db *storage.DB) {
	ctx := context.Background()
	s := newStore(t, db, nil)
	rc := newReceiver(t, func(n int, _ *http.Request) int {
		if n <= 3 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	ep, err := s.CreateEndpoint(ctx, EndpointParams{Account: "acct_r", URL: rc.URL, EnabledEvents: []string{"*"}, APIVersion: vNew})
	require.NoError(t, err)
	ev := customerEvent("acct_r", "customer.created", 1)
	ev.ID = NewEventID()
	require.NoError(t, s.RecordEvent(ctx, nil, ev))

	m := newRecMetrics()
	cfg := fastConfig(s)
	cfg.Metrics = m
	var (
		renderedMu sync.Mutex
		rendered   []string
	)
	cfg.Renderer = func(ctx context.Context, account string, event []byte, v versions.Version) ([]byte, error) {
		renderedMu.Lock()
		defer renderedMu.Unlock()
		rendered = append(rendered, fmt.Sprintf("%s %s first=%t", account, v, FirstAttempt(ctx)))
		return fakeRender(ctx, account, event, v)
	}
	w := mustWorker(t, cfg)
	start(t, w)
	eventually(t, "delivered", func() bool { return deliveryOf(t, s, "acct_r", ev.ID).State == StateDelivered })
	renderedMu.Lock()
	first := "acct_r " + vNew.String() + " first=true"
	retry := "acct_r " + vNew.String() + " first=false"
	require.Equal(t, []string{first, retry, retry, retry}, rendered, "FirstAttempt tells the first attempt from its retries")
	require.False(t, FirstAttempt(ctx))
	renderedMu.Unlock()
	d := deliveryOf(t, s, "acct_r", ev.ID)
	require.Equal(t, 4, d.Attempts, "delivered on the fourth attempt")
	require.Equal(t, 200, d.LastStatus)
	require.Empty(t, d.LastError)
	require.Equal(t, ep.ID, d.EndpointID)
	got := rc.requests()
	require.Len(t, got, 4)
	for i, r := range got {
		require.Equal(t, ev.ID, gjson.GetBytes(r.body, "id").String(), "the id is stable across retries")
		require.Equal(t, strconv.Itoa(i+1), r.header.Get(AttemptHeader))
		require.NoError(t, signature.Verify(r.body, r.header.Get(signature.Header), ep.Secret, 0))
	}
	eventually(t, "the outcome reported", func() bool { return m.finishedCount(OutcomeDelivered) == 1 })
	require.Equal(t, map[string]int{ResultNon2xx: 3, Result2xx: 1}, m.attemptCounts())
	require.Equal(t, []int{4}, m.attemptsPerDelivery(), "delivered on the fourth attempt")
	require.Equal(t, 0, m.inFlight(), "every attempt in flight ended")
	require.Equal(t, 1, m.peakInFlight())
	st, err := s.Stats(ctx)
	require.NoError(t, err)
	require.Equal(t, QueueStats{}, st, "nothing pending")
}

func testTimeout(t *testing.T, db *storage.DB) {
	ctx := context.Background()
	s := newStore(t, db, nil)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	rc := newReceiver(t, func(n int, r *http.Request) int {
		if n == 1 {
			select { // hang until the worker gives up on us
			case <-r.Context().Done():
			case <-release:
			}
			return http.StatusOK
		}
		return http.StatusOK
	})
	_, err := s.CreateEndpoint(ctx, EndpointParams{Account: "acct_t", URL: rc.URL, EnabledEvents: []string{"*"}, APIVersion: vNew})
	require.NoError(t, err)
	ev := customerEvent("acct_t", "customer.created", 1)
	ev.ID = NewEventID()
	require.NoError(t, s.RecordEvent(ctx, nil, ev))
	m := newRecMetrics()
	cfg := fastConfig(s)
	cfg.Timeout = 200 * time.Millisecond
	cfg.Metrics = m
	w := mustWorker(t, cfg)
	start(t, w)
	eventually(t, "delivered", func() bool { return deliveryOf(t, s, "acct_t", ev.ID).State == StateDelivered })
	require.Equal(t, 2, deliveryOf(t, s, "acct_t", ev.ID).Attempts)
	require.Len(t, rc.requests(), 2)
	require.Equal(t, 1, m.attemptCounts()[ResultError], "the timeout counts as an error")
}

func testRestart(t *testing.T, db *storage.DB) {
	ctx := context.Background()
	s := newStore(t, db, nil)
	var (
		gate    = make(chan struct{})
		blocked atomic.Int32
	)
	rc := newReceiver(t, func(n int, r *http.Request) int {
		if n > 50 {
			blocked.Add(1)
			select { // the first worker is stopped while these hang
			case <-gate:
			case <-r.Context().Done():
				return http.StatusServiceUnavailable
			}
		}
		return http.StatusOK
	})
	_, err := s.CreateEndpoint(ctx, EndpointParams{Account: "acct_rs", URL: rc.URL, EnabledEvents: []string{"*"}, APIVersion: vOld})
	require.NoError(t, err)
	const events = 200
	want := map[string]bool{}
	for i := range events {
		ev := customerEvent("acct_rs", "customer.created", i)
		ev.ID = NewEventID()
		want[ev.ID] = true
		require.NoError(t, s.RecordEvent(ctx, nil, ev))
	}
	cfg := fastConfig(s)
	cfg.Concurrency, cfg.PerEndpoint = 4, 4
	stop := start(t, mustWorker(t, cfg))
	eventually(t, "the first worker is mid-backlog", func() bool { return blocked.Load() >= 1 })
	stop()
	close(gate)
	firstRun := len(rc.distinctIDs())
	require.Less(t, firstRun, events, "the first worker stopped mid-backlog")

	// A worker that died holding leases: its deliveries come back once the
	// leases run out.
	now := time.Now()
	orphans, err := claimN(s, ctx, now, now.Add(300*time.Millisecond), "lease_dead", 20, 20, nil)
	require.NoError(t, err)
	require.NotEmpty(t, orphans)

	start(t, mustWorker(t, cfg))
	eventually(t, "every event delivered", func() bool {
		ds, _, err := s.ListDeliveries(ctx, "acct_rs", DeliveryListParams{State: StatePending, ListParams: ListParams{Limit: 1}})
		return err == nil && len(ds) == 0
	})
	got := rc.distinctIDs()
	require.Len(t, got, events, "no event lost")
	for id := range want {
		require.NotZero(t, got[id], "event %s never arrived", id)
	}
	for _, o := range orphans {
		require.NotZero(t, got[o.eventID], "an orphaned lease's event arrived")
		// The dead worker's attempt counts: the next one is number 2.
		require.Equal(t, 1, o.attempt)
		require.Equal(t, "2", lastFor(t, rc, o.eventID).header.Get(AttemptHeader), "attempt numbers survive a crash")
	}
	st, err := s.Stats(ctx)
	require.NoError(t, err)
	require.Zero(t, st.Pending)
}

// hanging counts the requests a receiver from newHanging holds: in flight
// now, and the most at once. Each hangs until hang is closed or its
// request is cancelled, then answers 503.
type hanging struct {
	inflight, most atomic.Int32
	hang           chan struct{}
}

func newHanging(t *testing.T) (*receiver, *hanging) {
	h := &hanging{hang: make(chan struct{})}
	return newReceiver(t, func(_ int, r *http.Request) int {
		n := h.inflight.Add(1)
		defer h.inflight.Add(-1)
		for m := h.most.Load(); n > m && !h.most.CompareAndSwap(m, n); m = h.most.Load() {
		}
		select {
		case <-h.hang:
		case <-r.Context().Done():
		}
		return http.StatusServiceUnavailable
	}), h
}

func testFairness(t *testing.T, db *storage.DB) {
	ctx := context.Background()
	s := newStore(t, db, nil)
	slow, h := newHanging(t)
	fast := newReceiver(t, nil)
	_, err := s.CreateEndpoint(ctx, EndpointParams{Account: "acct_f", URL: slow.URL, EnabledEvents: []string{"*"}, APIVersion: vNew})
	require.NoError(t, err)
	// Every slow delivery is due before the first fast one.
	for i := range 20 {
		require.NoError(t, s.RecordEvent(ctx, nil, customerEvent("acct_f", "customer.created", i)))
	}
	_, err = s.CreateEndpoint(ctx, EndpointParams{Account: "acct_f", URL: fast.URL, EnabledEvents: []string{"*"}, APIVersion: vNew})
	require.NoError(t, err)
	for i := range 20 {
		require.NoError(t, s.RecordEvent(ctx, nil, customerEvent("acct_f", "charge.succeeded", i)))
	}
	cfg := fastConfig(s)
	cfg.Concurrency, cfg.PerEndpoint, cfg.PerAccount = 4, 2, 4
	cfg.Timeout = time.Minute
	start(t, mustWorker(t, cfg))
	eventually(t, "the fast endpoint gets all its events", func() bool { return len(fast.distinctIDs()) == 20 })
	require.LessOrEqual(t, h.most.Load(), int32(2), "the slow endpoint never holds more than PerEndpoint slots")
	require.Equal(t, int32(2), h.inflight.Load(), "the slow endpoint is still hanging")
	close(h.hang)
}

func testMaxAgeAndResend(t *testing.T, db *storage.DB) {
	ctx := context.Background()
	clock := newManualClock()
	s := newStore(t, db, clock.Now)
	var healthy atomic.Bool
	var secret string
	var badSig atomic.Int32
	rc := newReceiver(t, func(_ int, r *http.Request) int {
		if healthy.Load() {
			return http.StatusOK
		}
		return http.StatusBadGateway
	})
	ep, err := s.CreateEndpoint(ctx, EndpointParams{Account: "acct_m", URL: rc.URL, EnabledEvents: []string{"*"}, APIVersion: vNew})
	require.NoError(t, err)
	secret = ep.Secret
	ev := customerEvent("acct_m", "customer.created", 1)
	ev.ID = NewEventID()
	require.NoError(t, s.RecordEvent(ctx, nil, ev))

	m := newRecMetrics()
	cfg := fastConfig(s)
	cfg.Clock = clock.Now
	cfg.Metrics = m
	cfg.Backoff = Backoff{Initial: 10 * time.Minute, Factor: 2, Max: time.Hour, Jitter: -1, MaxAge: time.Hour}
	w := mustWorker(t, cfg)
	start(t, w)
	// The n-th attempt is counted when it starts; wait for its outcome too.
	attempts := func(n int) func() bool {
		return func() bool {
			d := deliveryOf(t, s, "acct_m", ev.ID)
			var lease string
			require.NoError(t, db.QueryRow(ctx, `SELECT lease FROM webhook_deliveries WHERE id = ?`, d.ID).Scan(&lease))
			return d.Attempts == n && lease == ""
		}
	}
	eventually(t, "first attempt", attempts(1))
	d := deliveryOf(t, s, "acct_m", ev.ID)
	require.Equal(t, StatePending, d.State)
	require.Equal(t, clock.Now().Add(10*time.Minute), d.NextAttemptAt)
	require.Equal(t, 502, d.LastStatus)
	require.Contains(t, d.LastError, "502")
	require.Equal(t, 1, m.attemptCounts()[ResultNon2xx])
	st, err := s.Stats(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, st.Pending)

	clock.Add(9 * time.Minute)
	w.Notify()
	time.Sleep(20 * time.Millisecond) // not due yet: nothing must happen (checked just below)
	require.Equal(t, 1, deliveryOf(t, s, "acct_m", ev.ID).Attempts, "a retry waits for its time")
	st, err = s.Stats(ctx)
	require.NoError(t, err)
	require.Equal(t, 540*time.Second, clock.Now().Sub(st.Oldest), "the oldest pending event's age")

	clock.Add(time.Minute)
	w.Notify()
	eventually(t, "second attempt", attempts(2))
	require.Equal(t, clock.Now().Add(20*time.Minute), deliveryOf(t, s, "acct_m", ev.ID).NextAttemptAt)
	clock.Add(20 * time.Minute)
	w.Notify()
	eventually(t, "failed after the max age", func() bool { return deliveryOf(t, s, "acct_m", ev.ID).State == StateFailed })
	d = deliveryOf(t, s, "acct_m", ev.ID)
	require.Equal(t, 3, d.Attempts, "the fourth attempt would come after the max age")
	failed, _, err := s.ListDeliveries(ctx, "acct_m", DeliveryListParams{State: StateFailed})
	require.NoError(t, err)
	require.Len(t, failed, 1, "failed deliveries are kept and listed")
	eventually(t, "the failure reported", func() bool { return m.finishedCount(OutcomeFailed) == 1 })

	healthy.Store(true)
	require.NoError(t, w.Resend(ctx, "acct_m", d.ID))
	eventually(t, "resent and delivered", func() bool { return deliveryOf(t, s, "acct_m", ev.ID).State == StateDelivered })
	require.Equal(t, 4, deliveryOf(t, s, "acct_m", ev.ID).Attempts)
	for _, r := range rc.requests() {
		if signature.VerifyAt(r.body, r.header.Get(signature.Header), secret, 0, clock.Now()) != nil &&
			signature.VerifyAt(r.body, r.header.Get(signature.Header), secret, time.Hour, clock.Now()) != nil {
			badSig.Add(1)
		}
	}
	require.Zero(t, badSig.Load(), "signed with the worker's clock")
	require.Len(t, rc.requests(), 4)
	require.ErrorIs(t, w.Resend(ctx, "acct_m", "whd_missing"), ErrNotFound)
}

// recMetrics records what a Worker reports through Metrics.
type recMetrics struct {
	mu       sync.Mutex
	attempts map[string]int
	finished map[string]int
	perDeliv []int
	in, peak int
}

func newRecMetrics() *recMetrics {
	return &recMetrics{attempts: map[string]int{}, finished: map[string]int{}}
}

func (m *recMetrics) Attempt(result string, _ time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.attempts[result]++
}

func (m *recMetrics) Finished(outcome string, attempts int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.finished[outcome]++
	m.perDeliv = append(m.perDeliv, attempts)
}

func (m *recMetrics) InFlight(delta int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.in += delta
	m.peak = max(m.peak, m.in)
}

func (m *recMetrics) attemptCounts() map[string]int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.attempts)
}

func (m *recMetrics) finishedCount(outcome string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.finished[outcome]
}

func (m *recMetrics) attemptsPerDelivery() []int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.perDeliv)
}

func (m *recMetrics) inFlight() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.in
}

func (m *recMetrics) peakInFlight() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.peak
}

func testSendTest(t *testing.T, db *storage.DB) {
	ctx := context.Background()
	s := newStore(t, db, nil)
	var status atomic.Int32
	status.Store(200)
	rc := newReceiver(t, func(int, *http.Request) int { return int(status.Load()) })
	ep, err := s.CreateEndpoint(ctx, EndpointParams{Account: "acct_s", URL: rc.URL, EnabledEvents: []string{"charge.succeeded"}, APIVersion: vOld})
	require.NoError(t, err)
	ev := customerEvent("acct_s", "customer.created", 9) // not a type the endpoint wants
	ev.ID = NewEventID()
	require.NoError(t, s.RecordEvent(ctx, nil, ev))
	stored, err := s.GetEvent(ctx, "acct_s", ev.ID)
	require.NoError(t, err)
	cfg := fastConfig(s)
	var firsts atomic.Int32
	cfg.Renderer = func(ctx context.Context, account string, event []byte, v versions.Version) ([]byte, error) {
		if FirstAttempt(ctx) {
			firsts.Add(1)
		}
		return fakeRender(ctx, account, event, v)
	}
	w := mustWorker(t, cfg) // never started: test sends need no Run
	t.Cleanup(func() {
		if n := firsts.Load(); n != 0 {
			t.Errorf("%d test sends were taken for a delivery's first attempt", n)
		}
	})

	tests := []struct {
		name       string
		send       func() (TestResult, error)
		version    versions.Version
		newField   bool
		wantStatus int
	}{
		{"stored event at the newest version", func() (TestResult, error) {
			return w.SendTestEvent(ctx, "acct_s", ep.ID, ev.ID, vNew)
		}, vNew, true, 200},
		{"stored event at the endpoint's version", func() (TestResult, error) {
			return w.SendTestEvent(ctx, "acct_s", ep.ID, ev.ID, versions.Version{})
		}, vOld, false, 200},
		{"given bytes at a middle version", func() (TestResult, error) {
			return w.SendTest(ctx, "acct_s", ep.ID, stored.Body, vMid)
		}, vMid, true, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(rc.requests())
			res, err := tt.send()
			require.NoError(t, err)
			require.Equal(t, tt.wantStatus, res.Status)
			require.Empty(t, res.Error)
			require.Equal(t, ev.ID, res.EventID)
			require.Equal(t, tt.version, res.APIVersion)
			got := rc.requests()
			require.Len(t, got, before+1)
			r := got[len(got)-1]
			require.NoError(t, signature.Verify(r.body, r.header.Get(signature.Header), ep.Secret, 0))
			require.Equal(t, tt.version.String(), gjson.GetBytes(r.body, "api_version").String())
			require.Equal(t, tt.newField, gjson.GetBytes(r.body, "data.object.balance").Exists())
			require.Equal(t, !tt.newField, gjson.GetBytes(r.body, "data.object.account_balance").Exists())
		})
	}

	t.Run("sample event without an id", func(t *testing.T) {
		res, err := w.SendTest(ctx, "acct_s", ep.ID, []byte(`{"object":"event","type":"charge.succeeded","data":{"object":{"object":"charge"}}}`), vNew)
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(res.EventID, "evt_"))
	})
	t.Run("receiver failure is in the result", func(t *testing.T) {
		status.Store(500)
		defer status.Store(200)
		res, err := w.SendTestEvent(ctx, "acct_s", ep.ID, ev.ID, vNew)
		require.NoError(t, err)
		require.Equal(t, 500, res.Status)
		require.Contains(t, res.Error, "500")
	})
	t.Run("errors", func(t *testing.T) {
		_, err := w.SendTestEvent(ctx, "acct_s", "we_missing", ev.ID, vNew)
		require.ErrorIs(t, err, ErrNotFound)
		_, err = w.SendTestEvent(ctx, "acct_other", ep.ID, ev.ID, vNew)
		require.ErrorIs(t, err, ErrNotFound, "another account's endpoint")
		_, err = w.SendTestEvent(ctx, "acct_s", ep.ID, "evt_missing", vNew)
		require.ErrorIs(t, err, ErrNotFound)
		_, err = w.SendTest(ctx, "acct_s", ep.ID, []byte(`[1]`), vNew)
		require.ErrorIs(t, err, ErrInvalid)
		refusing := mustWorker(t, Config{Store: s, Renderer: func(context.Context, string, []byte, versions.Version) ([]byte, error) {
			return nil, errors.New("unsupported version")
		}})
		_, err = refusing.SendTestEvent(ctx, "acct_s", ep.ID, ev.ID, vNew)
		require.ErrorContains(t, err, "unsupported version")
	})

	// The endpoint and the queue are untouched.
	got, err := s.GetEndpoint(ctx, "acct_s", ep.ID)
	require.NoError(t, err)
	require.Equal(t, vOld, got.APIVersion)
	ds, _, err := s.ListDeliveries(ctx, "acct_s", DeliveryListParams{})
	require.NoError(t, err)
	require.Empty(t, ds)
}

func TestWorkerConfig(t *testing.T) {
	s := newStore(t, openDB(t, ":memory:"), nil)
	_, err := NewWorker(Config{Renderer: fakeRender})
	require.ErrorIs(t, err, ErrConfig)
	_, err = NewWorker(Config{Store: s})
	require.ErrorIs(t, err, ErrConfig)
	w := mustWorker(t, Config{Store: s, Renderer: fakeRender})
	require.Equal(t, 30*time.Second, w.cfg.Timeout)
	require.Equal(t, 64, w.cfg.Concurrency)
	require.Equal(t, 16, w.cfg.PerEndpoint)
	require.Equal(t, 32, w.cfg.PerAccount)
	require.Equal(t, DefaultBackoff(), w.cfg.Backoff)

	require.Equal(t, noMetrics{}, w.m, "no metrics: nothing recorded")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error)
	go func() { done <- w.Run(ctx) }()
	eventually(t, "running", w.running.Load)
	require.ErrorIs(t, w.Run(ctx), ErrRunning)
	cancel()
	require.NoError(t, <-done)
}

func TestBackoff(t *testing.T) {
	b := Backoff{Initial: time.Second, Factor: 2, Max: 10 * time.Second, Jitter: 0.5, MaxAge: time.Hour}
	tests := []struct {
		n    int
		r    float64
		want time.Duration
	}{
		{1, 0.5, time.Second},
		{2, 0.5, 2 * time.Second},
		{4, 0.5, 8 * time.Second},
		{5, 0.5, 10 * time.Second},
		{50, 0.5, 10 * time.Second},
		{1, 0, 500 * time.Millisecond},
		{1, 0.999999, 1499999 * time.Microsecond},
		{0, 0.5, time.Second},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.n), func(t *testing.T) {
			require.InDelta(t, float64(tt.want), float64(b.Delay(tt.n, tt.r)), float64(time.Microsecond))
		})
	}
	// The default schedule keeps retrying for three days.
	var total time.Duration
	n := 0
	for total < DefaultBackoff().MaxAge {
		n++
		total += DefaultBackoff().Delay(n, 0.5)
	}
	require.Equal(t, 20, n)
}

// testAccountFairness is one account with eight endpoints that hang and a
// backlog due before anything else, and another account with one healthy
// endpoint: the healthy one gets every event while the eight still hang,
// and the first account never holds more than PerAccount slots.
func testAccountFairness(t *testing.T, db *storage.DB) {
	ctx := context.Background()
	s := newStore(t, db, nil)
	slow, h := newHanging(t)
	for i := range 8 {
		_, err := s.CreateEndpoint(ctx, EndpointParams{Account: "acct_slow", URL: slow.URL + "/" + strconv.Itoa(i), EnabledEvents: []string{"*"}, APIVersion: vNew})
		require.NoError(t, err)
	}
	for i := range 30 {
		require.NoError(t, s.RecordEvent(ctx, nil, customerEvent("acct_slow", "customer.created", i)))
	}
	healthy := newReceiver(t, nil)
	_, err := s.CreateEndpoint(ctx, EndpointParams{Account: "acct_ok", URL: healthy.URL, EnabledEvents: []string{"*"}, APIVersion: vNew})
	require.NoError(t, err)
	for i := range 30 {
		require.NoError(t, s.RecordEvent(ctx, nil, customerEvent("acct_ok", "customer.created", i)))
	}
	cfg := fastConfig(s)
	cfg.Concurrency, cfg.PerEndpoint = 16, 2 // PerAccount: 8 by default
	cfg.Timeout = time.Minute
	start(t, mustWorker(t, cfg))
	eventually(t, "the healthy account gets all its events", func() bool { return len(healthy.distinctIDs()) == 30 })
	require.LessOrEqual(t, h.most.Load(), int32(8), "the slow account never holds more than PerAccount slots")
	require.Equal(t, int32(8), h.inflight.Load(), "the slow account's endpoints are still hanging")
	close(h.hang)
}

// TestTwoNodes runs two workers, each with its own connection pool as two
// servers would have, on one PostgreSQL database with a backlog for twelve
// endpoints of three accounts: every event reaches every endpoint exactly
// once, and neither node logs an error (a deadlock between their claims or
// their batches of outcomes would be one).
func TestTwoNodes(t *testing.T) {
	db1 := openPostgres(t)
	db2 := openDB(t, db1.URL)
	ctx := context.Background()
	s1, s2 := newStore(t, db1, nil), newStore(t, db2, nil)
	var mu sync.Mutex
	got := map[string]int{}
	rc := newReceiver(t, func(_ int, r *http.Request) int {
		mu.Lock()
		got[r.URL.Path+" "+r.Header.Get(EventIDHeader)]++
		mu.Unlock()
		return http.StatusNoContent
	})
	const events = 150
	for a := range 3 {
		acct := "acct_n" + strconv.Itoa(a)
		for e := range 4 {
			_, err := s1.CreateEndpoint(ctx, EndpointParams{Account: acct, URL: rc.URL + "/" + acct + "/" + strconv.Itoa(e), EnabledEvents: []string{"*"}, APIVersion: vOld})
			require.NoError(t, err)
		}
		for i := range events {
			require.NoError(t, s2.RecordEvent(ctx, nil, customerEvent(acct, "customer.created", i)))
		}
	}
	var errs1, errs2 errorCount
	for _, n := range []struct {
		s    *SQLStore
		errs *errorCount
	}{{s1, &errs1}, {s2, &errs2}} {
		cfg := fastConfig(n.s)
		cfg.Concurrency, cfg.BatchSize = 16, 8
		cfg.Logger = slog.New(n.errs)
		start(t, mustWorker(t, cfg))
	}
	want := 3 * 4 * events
	eventually(t, "every delivery made", func() bool {
		st, err := s1.Stats(ctx)
		require.NoError(t, err)
		return st.Pending == 0
	})
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, got, want, "every (endpoint, event) pair arrived")
	for k, n := range got {
		require.Equal(t, 1, n, "%s arrived %d times", k, n)
	}
	require.Zero(t, errs1.n.Load(), "node 1 logged errors: %s", errs1.last.Load())
	require.Zero(t, errs2.n.Load(), "node 2 logged errors: %s", errs2.last.Load())
}

// errorCount is a slog handler that counts error records and keeps the
// last one's message.
type errorCount struct {
	n    atomic.Int32
	last atomic.Value
}

func (h *errorCount) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelError }

func (h *errorCount) Handle(_ context.Context, r slog.Record) error {
	h.n.Add(1)
	msg := r.Message
	r.Attrs(func(a slog.Attr) bool { msg += " " + a.String(); return true })
	h.last.Store(msg)
	return nil
}

func (h *errorCount) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *errorCount) WithGroup(string) slog.Handler      { return h }
