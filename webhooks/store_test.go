package webhooks

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"
	"github.com/verso-api/verso/storage"
	"github.com/verso-api/verso/versions"
)

// TestStore is the one suite every database runs.
func TestStore(t *testing.T) {
	forEachDB(t, func(t *testing.T, open opener) {
		t.Run("endpoints", func(t *testing.T) { testEndpoints(t, open(t)) })
		t.Run("endpoint validation", func(t *testing.T) { testEndpointValidation(t, open(t)) })
		t.Run("record event fans out", func(t *testing.T) { testFanOut(t, open(t)) })
		t.Run("record event is transactional", func(t *testing.T) { testOutboxTx(t, open(t)) })
		t.Run("event validation", func(t *testing.T) { testEventValidation(t, open(t)) })
		t.Run("list events", func(t *testing.T) { testListEvents(t, open(t)) })
		t.Run("claim", func(t *testing.T) { testClaim(t, open(t)) })
		t.Run("concurrent claims", func(t *testing.T) { testConcurrentClaims(t, open(t)) })
		t.Run("resend and stats", func(t *testing.T) { testResendAndStats(t, open(t)) })
		t.Run("reopen", func(t *testing.T) { testReopen(t, open(t)) })
	})
}

func mustEndpoint(t *testing.T, s *SQLStore, account, url string, events ...string) *Endpoint {
	t.Helper()
	e, err := s.CreateEndpoint(context.Background(), EndpointParams{Account: account, URL: url, EnabledEvents: events, APIVersion: vMid})
	require.NoError(t, err)
	return e
}

func testEndpoints(t *testing.T, db *storage.DB) {
	ctx := context.Background()
	clock := newManualClock()
	s := newStore(t, db, clock.Now)
	var made []*Endpoint
	for i := range 5 {
		clock.Add(time.Second)
		e, err := s.CreateEndpoint(ctx, EndpointParams{
			Account: "acct_ep", URL: fmt.Sprintf("https://example.com/hook/%d", i),
			EnabledEvents: []string{"customer.created", "charge.succeeded"}, APIVersion: vOld,
			Scheme: SchemeStandard, Description: "d",
		})
		require.NoError(t, err)
		require.Regexp(t, `^we_[0-9A-Za-z]{24}$`, e.ID)
		require.Regexp(t, `^whsec_`, e.Secret)
		require.Equal(t, clock.Now(), e.Created)
		made = append(made, e)
	}
	mustEndpoint(t, s, "acct_other", "https://example.com/other", "*")

	got, err := s.GetEndpoint(ctx, "acct_ep", made[2].ID)
	require.NoError(t, err)
	require.Empty(t, got.Secret, "the secret is returned only at creation")
	want := *made[2]
	want.Secret = ""
	require.Equal(t, want, *got)

	withSecret, err := s.endpointWithSecret(ctx, "acct_ep", made[2].ID)
	require.NoError(t, err)
	require.Equal(t, made[2].Secret, withSecret.Secret, "the secret is stored so that it can sign")

	_, err = s.GetEndpoint(ctx, "acct_other", made[2].ID)
	require.ErrorIs(t, err, ErrNotFound, "another account's endpoint")

	page, more, err := s.ListEndpoints(ctx, "acct_ep", ListParams{Limit: 2})
	require.NoError(t, err)
	require.True(t, more)
	require.Equal(t, []string{made[4].ID, made[3].ID}, endpointIDs(page))
	require.Empty(t, page[0].Secret)
	page, more, err = s.ListEndpoints(ctx, "acct_ep", ListParams{Limit: 2, StartingAfter: made[3].ID})
	require.NoError(t, err)
	require.True(t, more)
	require.Equal(t, []string{made[2].ID, made[1].ID}, endpointIDs(page))
	page, more, err = s.ListEndpoints(ctx, "acct_ep", ListParams{Limit: 2, StartingAfter: made[1].ID})
	require.NoError(t, err)
	require.False(t, more)
	require.Equal(t, []string{made[0].ID}, endpointIDs(page))
	_, _, err = s.ListEndpoints(ctx, "acct_ep", ListParams{StartingAfter: "we_nope"})
	require.ErrorIs(t, err, ErrInvalidCursor)

	require.NoError(t, s.DeleteEndpoint(ctx, "acct_ep", made[0].ID))
	require.ErrorIs(t, s.DeleteEndpoint(ctx, "acct_ep", made[0].ID), ErrNotFound)
	_, err = s.GetEndpoint(ctx, "acct_ep", made[0].ID)
	require.ErrorIs(t, err, ErrNotFound)
	page, _, err = s.ListEndpoints(ctx, "acct_ep", ListParams{})
	require.NoError(t, err)
	require.Len(t, page, 4)
}

func endpointIDs(es []Endpoint) []string {
	var ids []string
	for _, e := range es {
		ids = append(ids, e.ID)
	}
	return ids
}

func testEndpointValidation(t *testing.T, db *storage.DB) {
	s := newStore(t, db, nil)
	ok := EndpointParams{Account: "a", URL: "http://127.0.0.1:9/x", EnabledEvents: []string{"*"}, APIVersion: vMid}
	tests := []struct {
		name string
		edit func(p *EndpointParams)
	}{
		{"no account", func(p *EndpointParams) { p.Account = "" }},
		{"no url", func(p *EndpointParams) { p.URL = "" }},
		{"relative url", func(p *EndpointParams) { p.URL = "/hooks" }},
		{"ftp url", func(p *EndpointParams) { p.URL = "ftp://example.com/" }},
		{"no events", func(p *EndpointParams) { p.EnabledEvents = nil }},
		{"bad event type", func(p *EndpointParams) { p.EnabledEvents = []string{"Customer Created"} }},
		{"no version", func(p *EndpointParams) { p.APIVersion = versions.Version{} }},
		{"bad scheme", func(p *EndpointParams) { p.Scheme = "svix" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := ok
			p.EnabledEvents = append([]string(nil), ok.EnabledEvents...)
			tt.edit(&p)
			_, err := s.CreateEndpoint(context.Background(), p)
			require.ErrorIs(t, err, ErrInvalid)
		})
	}
	e, err := s.CreateEndpoint(context.Background(), ok)
	require.NoError(t, err)
	require.Equal(t, SchemeStripe, e.Scheme, "the default scheme")
}

func testFanOut(t *testing.T, db *storage.DB) {
	ctx := context.Background()
	s := newStore(t, db, nil)
	all := mustEndpoint(t, s, "acct_fan", "https://a.example/", "*")
	cust := mustEndpoint(t, s, "acct_fan", "https://b.example/", "customer.created", "customer.updated")
	mustEndpoint(t, s, "acct_fan", "https://c.example/", "charge.succeeded")
	mustEndpoint(t, s, "acct_fan_other", "https://d.example/", "*")

	ev := customerEvent("acct_fan", "customer.created", 7)
	ev.ID = NewEventID()
	require.NoError(t, s.RecordEvent(ctx, nil, ev))
	late := mustEndpoint(t, s, "acct_fan", "https://e.example/", "*")

	ds, _, err := s.ListDeliveries(ctx, "acct_fan", DeliveryListParams{EventID: ev.ID})
	require.NoError(t, err)
	var eps []string
	for _, d := range ds {
		eps = append(eps, d.EndpointID)
		require.Equal(t, StatePending, d.State)
		require.Zero(t, d.Attempts)
	}
	require.ElementsMatch(t, []string{all.ID, cust.ID}, eps, "only the endpoints that want the type, and none created later")
	require.NotContains(t, eps, late.ID)

	got, err := s.GetEvent(ctx, "acct_fan", ev.ID)
	require.NoError(t, err)
	require.Equal(t, "customer.created", got.Type)
	require.Equal(t, vNew, got.APIVersion)
	require.JSONEq(t, string(ev.Object), string(got.Object))
	body := gjson.ParseBytes(got.Body)
	require.Equal(t, ev.ID, body.Get("id").String())
	require.Equal(t, "event", body.Get("object").String())
	require.Equal(t, vNew.String(), body.Get("api_version").String())
	require.Equal(t, got.Created.Unix(), body.Get("created").Int())
	require.Equal(t, int64(7), body.Get("data.object.balance").Int())
	require.False(t, body.Get("data.previous_attributes").Exists())

	_, err = s.GetEvent(ctx, "acct_fan_other", ev.ID)
	require.ErrorIs(t, err, ErrNotFound)
	require.ErrorIs(t, s.RecordEvent(ctx, nil, ev), ErrInvalid, "a duplicate event id")

	require.NoError(t, s.DeleteEndpoint(ctx, "acct_fan", cust.ID))
	ds, _, err = s.ListDeliveries(ctx, "acct_fan", DeliveryListParams{EventID: ev.ID})
	require.NoError(t, err)
	require.Len(t, ds, 1, "deleting an endpoint drops its deliveries")
}

func testOutboxTx(t *testing.T, db *storage.DB) {
	ctx := context.Background()
	s := newStore(t, db, nil)
	mustEndpoint(t, s, "acct_tx", "https://a.example/", "*")
	_, err := db.Exec(ctx, `CREATE TABLE IF NOT EXISTS webhooks_test_objects (id TEXT PRIMARY KEY)`)
	require.NoError(t, err)

	boom := errors.New("boom")
	rolled := customerEvent("acct_tx", "customer.created", 1)
	rolled.ID = NewEventID()
	err = db.InTx(ctx, func(tx *storage.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO webhooks_test_objects (id) VALUES (?)`, "cus_rolled_"+rolled.ID); err != nil {
			return err
		}
		if err := s.RecordEvent(ctx, tx, rolled); err != nil {
			return err
		}
		return boom
	})
	require.ErrorIs(t, err, boom)
	_, err = s.GetEvent(ctx, "acct_tx", rolled.ID)
	require.ErrorIs(t, err, ErrNotFound, "the event rolls back with the write")
	ds, _, err := s.ListDeliveries(ctx, "acct_tx", DeliveryListParams{})
	require.NoError(t, err)
	require.Empty(t, ds)

	kept := customerEvent("acct_tx", "customer.updated", 2)
	kept.ID = NewEventID()
	kept.PreviousAttributes = []byte(`{"balance":1}`)
	require.NoError(t, db.InTx(ctx, func(tx *storage.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO webhooks_test_objects (id) VALUES (?)`, "cus_kept_"+kept.ID); err != nil {
			return err
		}
		return s.RecordEvent(ctx, tx, kept)
	}))
	got, err := s.GetEvent(ctx, "acct_tx", kept.ID)
	require.NoError(t, err)
	require.JSONEq(t, `{"balance":1}`, string(got.PreviousAttributes))
	ds, _, err = s.ListDeliveries(ctx, "acct_tx", DeliveryListParams{})
	require.NoError(t, err)
	require.Len(t, ds, 1)
}

func testEventValidation(t *testing.T, db *storage.DB) {
	s := newStore(t, db, nil)
	tests := []struct {
		name string
		edit func(e *Event)
	}{
		{"no account", func(e *Event) { e.Account = "" }},
		{"bad type", func(e *Event) { e.Type = "created" }},
		{"no version", func(e *Event) { e.APIVersion = versions.Version{} }},
		{"object not JSON", func(e *Event) { e.Object = []byte(`{"a":`) }},
		{"object an array", func(e *Event) { e.Object = []byte(`[1]`) }},
		{"previous attributes not JSON", func(e *Event) { e.PreviousAttributes = []byte(`nope`) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := customerEvent("acct_val", "customer.created", 1)
			tt.edit(&ev)
			require.ErrorIs(t, s.RecordEvent(context.Background(), nil, ev), ErrInvalid)
		})
	}
}

func testListEvents(t *testing.T, db *storage.DB) {
	ctx := context.Background()
	clock := newManualClock()
	s := newStore(t, db, clock.Now)
	var ids []string
	for i := range 25 {
		typ := "customer.created"
		if i%5 == 0 {
			typ = "charge.succeeded"
		}
		ev := customerEvent("acct_list", typ, i)
		ev.ID = NewEventID()
		if i%2 == 0 {
			clock.Add(time.Second) // pairs share a timestamp: the id breaks the tie
		}
		require.NoError(t, s.RecordEvent(ctx, nil, ev))
		ids = append([]string{ev.ID}, ids...)
	}
	var seen []string
	after := ""
	for range 10 {
		page, more, err := s.ListEvents(ctx, "acct_list", EventListParams{ListParams: ListParams{Limit: 10, StartingAfter: after}})
		require.NoError(t, err)
		for _, e := range page {
			seen = append(seen, e.ID)
		}
		if !more {
			break
		}
		after = page[len(page)-1].ID
	}
	require.ElementsMatch(t, ids, seen, "pages cover every event once")
	require.Len(t, seen, 25)
	charges, more, err := s.ListEvents(ctx, "acct_list", EventListParams{Type: "charge.succeeded", ListParams: ListParams{Limit: 100}})
	require.NoError(t, err)
	require.False(t, more)
	require.Len(t, charges, 5)
	for i := 1; i < len(charges); i++ {
		require.False(t, charges[i].Created.After(charges[i-1].Created), "newest first")
	}
	_, _, err = s.ListEvents(ctx, "acct_list", EventListParams{ListParams: ListParams{StartingAfter: "evt_unknown"}})
	require.ErrorIs(t, err, ErrInvalidCursor)
}

func testClaim(t *testing.T, db *storage.DB) {
	ctx := context.Background()
	clock := newManualClock()
	s := newStore(t, db, clock.Now)
	a := mustEndpoint(t, s, "acct_claim", "https://a.example/", "*")
	b := mustEndpoint(t, s, "acct_claim", "https://b.example/", "*")
	for i := range 3 {
		require.NoError(t, s.RecordEvent(ctx, nil, customerEvent("acct_claim", "customer.created", i)))
	}
	now := clock.Now()
	// Round robin: with room for 2, one from each endpoint, not two of a's.
	jobs, err := claimN(s, ctx, now, now.Add(time.Minute), "lease_1", 2, 2, nil)
	require.NoError(t, err)
	require.Len(t, jobs, 2)
	require.ElementsMatch(t, []string{a.ID, b.ID}, []string{jobs[0].endpoint.ID, jobs[1].endpoint.ID})
	require.NotEmpty(t, jobs[0].endpoint.Secret)
	require.Equal(t, "event", gjson.GetBytes(jobs[0].body, "object").String())

	// a is full: only b's rows, at most 2 per endpoint.
	jobs2, err := claimN(s, ctx, now, now.Add(time.Minute), "lease_2", 10, 2, map[string]int{a.ID: 2, b.ID: 1})
	require.NoError(t, err)
	require.Len(t, jobs2, 1)
	require.Equal(t, b.ID, jobs2[0].endpoint.ID)

	// The rest: 2 of a's and 1 of b's.
	jobs3, err := claimN(s, ctx, now, now.Add(time.Minute), "lease_3", 10, 5, nil)
	require.NoError(t, err)
	require.Len(t, jobs3, 3)
	none, err := claimN(s, ctx, now, now.Add(time.Minute), "lease_4", 10, 5, nil)
	require.NoError(t, err)
	require.Empty(t, none, "leased rows are not due")

	// A lease runs out: the row is due again, and the old holder's
	// outcome no longer counts.
	clock.Add(2 * time.Minute)
	again, err := claimN(s, ctx, clock.Now(), clock.Now().Add(time.Minute), "lease_5", 10, 5, nil)
	require.NoError(t, err)
	require.Len(t, again, 6)
	held, err := finish1(s, ctx, jobs[0], clock.Now(), outcome{state: StateDelivered, status: 200})
	require.NoError(t, err)
	require.False(t, held, "a lease that ran out")
	var newer job
	for _, j := range again {
		if j.id == jobs[0].id {
			newer = j
		}
	}
	held, err = finish1(s, ctx, newer, clock.Now(), outcome{state: StateDelivered, status: 204})
	require.NoError(t, err)
	require.True(t, held)
	d, err := s.GetDelivery(ctx, "acct_claim", newer.id)
	require.NoError(t, err)
	require.Equal(t, StateDelivered, d.State)
	require.Equal(t, 2, d.Attempts, "the attempt whose lease ran out counts: numbers survive a crash")
	require.Equal(t, 2, newer.attempt)
	require.Equal(t, 1, jobs[0].attempt)
	require.Equal(t, 204, d.LastStatus)

	// A retry is due at its time, not before; a release is due at once.
	retry := again[1]
	held, err = finish1(s, ctx, retry, clock.Now(), outcome{state: StatePending, next: clock.Now().Add(time.Hour), status: 500, err: "receiver answered 500"})
	require.NoError(t, err)
	require.True(t, held)
	require.NoError(t, release1(s, ctx, again[2], clock.Now()))
	due, err := claimN(s, ctx, clock.Now(), clock.Now().Add(time.Minute), "lease_6", 10, 5, nil)
	require.NoError(t, err)
	require.Len(t, due, 1)
	require.Equal(t, again[2].id, due[0].id)
	d, err = s.GetDelivery(ctx, "acct_claim", retry.id)
	require.NoError(t, err)
	require.Equal(t, StatePending, d.State)
	require.Equal(t, "receiver answered 500", d.LastError)
	require.Equal(t, clock.Now().Add(time.Hour), d.NextAttemptAt)
}

func testConcurrentClaims(t *testing.T, db *storage.DB) {
	ctx := context.Background()
	s := newStore(t, db, nil)
	for i := range 4 {
		mustEndpoint(t, s, "acct_cc", fmt.Sprintf("https://%d.example/", i), "*")
	}
	for i := range 30 {
		require.NoError(t, s.RecordEvent(ctx, nil, customerEvent("acct_cc", "customer.created", i)))
	}
	var (
		mu     sync.Mutex
		counts = map[string]int{}
		wg     sync.WaitGroup
	)
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				now := time.Now()
				jobs, err := claimN(s, ctx, now, now.Add(time.Hour), fmt.Sprintf("lease_w%d_%d", w, now.UnixNano()), 7, 3, nil)
				if err != nil {
					t.Error(err)
					return
				}
				if len(jobs) == 0 {
					return
				}
				mu.Lock()
				for _, j := range jobs {
					counts[j.id]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	require.Len(t, counts, 120, "every delivery claimed")
	for id, n := range counts {
		require.Equal(t, 1, n, "delivery %s claimed twice", id)
	}
}

func testResendAndStats(t *testing.T, db *storage.DB) {
	ctx := context.Background()
	clock := newManualClock()
	s := newStore(t, db, clock.Now)
	st, err := s.Stats(ctx)
	require.NoError(t, err)
	require.Zero(t, st.Pending)
	require.True(t, st.Oldest.IsZero())

	mustEndpoint(t, s, "acct_rs", "https://a.example/", "*")
	first := clock.Now()
	require.NoError(t, s.RecordEvent(ctx, nil, customerEvent("acct_rs", "customer.created", 1)))
	clock.Add(time.Minute)
	require.NoError(t, s.RecordEvent(ctx, nil, customerEvent("acct_rs", "customer.created", 2)))
	st, err = s.Stats(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, st.Pending)
	require.Equal(t, first, st.Oldest)

	jobs, err := claimN(s, ctx, clock.Now(), clock.Now().Add(time.Minute), "l", 1, 1, nil)
	require.NoError(t, err)
	require.Len(t, jobs, 1)
	_, err = finish1(s, ctx, jobs[0], clock.Now(), outcome{state: StateFailed, status: 500, err: "receiver answered 500"})
	require.NoError(t, err)
	failed, _, err := s.ListDeliveries(ctx, "acct_rs", DeliveryListParams{State: StateFailed})
	require.NoError(t, err)
	require.Len(t, failed, 1)
	st, err = s.Stats(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, st.Pending)

	clock.Add(time.Hour)
	require.NoError(t, s.Resend(ctx, "acct_rs", failed[0].ID))
	d, err := s.GetDelivery(ctx, "acct_rs", failed[0].ID)
	require.NoError(t, err)
	require.Equal(t, StatePending, d.State)
	require.Equal(t, clock.Now(), d.NextAttemptAt)
	require.Equal(t, 1, d.Attempts, "past attempts are kept")
	again, err := claimN(s, ctx, clock.Now(), clock.Now().Add(time.Minute), "l2", 5, 5, nil)
	require.NoError(t, err)
	require.Len(t, again, 2)
	for _, j := range again {
		if j.id == d.ID {
			require.Equal(t, clock.Now(), j.windowStart, "a resend opens a new retry window")
		}
	}
	require.ErrorIs(t, s.Resend(ctx, "acct_rs", "whd_nope"), ErrNotFound)
	require.ErrorIs(t, s.Resend(ctx, "acct_other", d.ID), ErrNotFound)
}

func testReopen(t *testing.T, db *storage.DB) {
	ctx := context.Background()
	s := newStore(t, db, nil)
	e := mustEndpoint(t, s, "acct_reopen", "https://a.example/", "*")
	s2 := newStore(t, db, nil) // migrating twice is harmless
	got, err := s2.GetEndpoint(ctx, "acct_reopen", e.ID)
	require.NoError(t, err)
	require.Equal(t, e.URL, got.URL)
}

// claimN claims as the worker does, with limit, a cap per endpoint, the
// endpoints' deliveries in flight and no cap per account.
func claimN(s *SQLStore, ctx context.Context, now, until time.Time, lease string, limit, perEP int, busy map[string]int) ([]job, error) {
	return s.claim(ctx, now, until, lease, caps{limit: limit, perEndpoint: perEP, perAccount: 1 << 30, busyEP: busy})
}

// finish1 records one attempt's outcome.
func finish1(s *SQLStore, ctx context.Context, j job, now time.Time, o outcome) (bool, error) {
	held, err := s.finish(ctx, []attempt{{j: j, now: now, o: o}})
	if err != nil {
		return false, err
	}
	return held[0], nil
}

// release1 gives one claimed delivery back.
func release1(s *SQLStore, ctx context.Context, j job, now time.Time) error {
	_, err := s.finish(ctx, []attempt{{j: j, now: now}})
	return err
}
