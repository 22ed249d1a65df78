package webhooks

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/storage"
)

// TestPrune: old events and deliveries go, recent ones stay, and a
// pending delivery stays whatever its age, with its event; on every
// database, in batches smaller than what there is to delete.
func TestPrune(t *testing.T) {
	forEachDB(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		clock := newManualClock()
		s := newStore(t, open(t), clock.Now)
		mustEndpoint(t, s, "acct_p", "https://a.example/", "*")
		mustEndpoint(t, s, "acct_p", "https://b.example/", "customer.created")
		start := clock.Now()

		// record writes an event (deliveries to both endpoints when it is
		// customer.created, else to the first) and sets their states.
		record := func(typ string, states ...DeliveryState) string {
			t.Helper()
			ev := customerEvent("acct_p", typ, 1)
			ev.ID = NewEventID()
			require.NoError(t, s.RecordEvent(ctx, nil, ev))
			ds, _, err := s.ListDeliveries(ctx, "acct_p", DeliveryListParams{EventID: ev.ID})
			require.NoError(t, err)
			require.Len(t, ds, len(states), typ)
			for i, st := range states {
				setState(t, s.db, ds[i].ID, st)
			}
			clock.Add(time.Hour)
			return ev.ID
		}
		oldGone := []string{
			record("customer.created", StateDelivered, StateFailed),
			record("customer.updated", StateDelivered),
			record("customer.deleted", StateFailed),
			record("customer.updated", StateDelivered),
		}
		oldPending := record("customer.created", StateDelivered, StatePending)
		oldResent := record("customer.updated", StateFailed)
		noEndpoint := customerEvent("acct_none", "customer.created", 1)
		require.NoError(t, s.RecordEvent(ctx, nil, noEndpoint))
		oldGone = append(oldGone, noEndpoint.ID)
		clock.Add(40 * 24 * time.Hour)
		recent := []string{
			record("customer.created", StateDelivered, StateFailed),
			record("customer.updated", StatePending),
		}
		ds, _, err := s.ListDeliveries(ctx, "acct_p", DeliveryListParams{EventID: oldResent})
		require.NoError(t, err)
		require.NoError(t, s.Resend(ctx, "acct_p", ds[0].ID), "a user resends an old failed delivery")

		cutoff := clock.Now().Add(-30 * 24 * time.Hour)
		require.True(t, start.Before(cutoff))
		p, err := s.Prune(ctx, cutoff, 2)
		require.NoError(t, err)
		assert.Equal(t, Pruned{Events: len(oldGone), Deliveries: 6}, p)

		for _, id := range oldGone {
			_, err := s.GetEvent(ctx, "acct_p", id)
			assert.ErrorIs(t, err, ErrNotFound, "old event %s", id)
		}
		for _, id := range append(recent, oldPending, oldResent) {
			_, err := s.GetEvent(ctx, "acct_p", id)
			assert.NoError(t, err, "event %s is kept", id)
		}
		left, _, err := s.ListDeliveries(ctx, "acct_p", DeliveryListParams{ListParams: ListParams{Limit: 100}})
		require.NoError(t, err)
		byEvent := map[string][]DeliveryState{}
		for _, d := range left {
			byEvent[d.EventID] = append(byEvent[d.EventID], d.State)
		}
		assert.Equal(t, []DeliveryState{StatePending}, byEvent[oldPending], "the old pending delivery, not its delivered sibling")
		assert.Equal(t, []DeliveryState{StatePending}, byEvent[oldResent])
		assert.Len(t, byEvent[recent[0]], 2)
		assert.Len(t, byEvent[recent[1]], 1)
		assert.Len(t, byEvent, 4)

		again, err := s.Prune(ctx, cutoff, 2)
		require.NoError(t, err)
		assert.Equal(t, Pruned{}, again, "nothing left to delete")
		st, err := s.Stats(ctx)
		require.NoError(t, err)
		assert.Equal(t, 3, st.Pending)
	})
}

func setState(t *testing.T, db *storage.DB, id string, st DeliveryState) {
	t.Helper()
	_, err := db.Exec(context.Background(), `UPDATE webhook_deliveries SET state = ? WHERE id = ?`, string(st), id)
	require.NoError(t, err)
}

// TestPruneLetsWritersIn: while a prune deletes thousands of rows, a
// writer recording events keeps committing: each batch is a transaction
// of its own, and writers take turns with it.
func TestPruneLetsWritersIn(t *testing.T) {
	forEachDB(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		clock := newManualClock()
		db := open(t)
		s := newStore(t, db, clock.Now)
		const old = 3000
		require.NoError(t, db.InTx(ctx, func(tx *storage.Tx) error {
			for i := range old {
				ev := customerEvent("acct_w", "customer.created", i)
				if err := s.RecordEvent(ctx, tx, ev); err != nil {
					return err
				}
			}
			return nil
		}))
		clock.Add(40 * 24 * time.Hour)

		var writes atomic.Int64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := s.RecordEvent(ctx, nil, customerEvent("acct_w", "customer.updated", 1)); err != nil {
					t.Error(err)
					return
				}
				writes.Add(1)
			}
		}()
		for writes.Load() == 0 {
			time.Sleep(time.Millisecond)
		}
		before := writes.Load()
		p, err := s.Prune(ctx, clock.Now().Add(-30*24*time.Hour), 50)
		during := writes.Load() - before
		close(stop)
		wg.Wait()
		require.NoError(t, err)
		assert.Equal(t, old, p.Events)
		assert.Positive(t, during, "the writer committed while the prune ran (%d batches)", old/50)
		t.Logf("%d events pruned in batches of 50; %d written meanwhile", p.Events, during)
	})
}

func TestRetentionRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clock := newManualClock()
	s := newStore(t, openDB(t, ":memory:"), clock.Now)
	require.NoError(t, s.RecordEvent(ctx, nil, customerEvent("acct_r", "customer.created", 1)))
	clock.Add(2 * time.Hour)
	require.NoError(t, s.RecordEvent(ctx, nil, customerEvent("acct_r", "customer.created", 2)))
	got := make(chan Pruned, 10)
	done := make(chan error, 1)
	go func() {
		done <- Retention{Store: s, Window: time.Hour, Interval: time.Millisecond, Clock: clock.Now,
			Pruned: func(p Pruned, err error) {
				if err != nil {
					t.Error(err)
				}
				select {
				case got <- p:
				default:
				}
			}}.Run(ctx)
	}()
	assert.Equal(t, Pruned{Events: 1}, <-got, "the first prune, at once")
	assert.Equal(t, Pruned{}, <-got, "the next ones find nothing more")
	cancel()
	assert.ErrorIs(t, <-done, context.Canceled)
	list, _, err := s.ListEvents(context.Background(), "acct_r", EventListParams{})
	require.NoError(t, err)
	assert.Len(t, list, 1, "the recent event is kept")

	for _, r := range []Retention{{}, {Store: s, Window: -time.Hour}} {
		err := r.Run(context.Background())
		require.Error(t, err)
		assert.False(t, errors.Is(err, context.Canceled))
	}
}

// BenchmarkPrune deletes 10,000 old events, each with one delivered
// delivery, in batches of 500.
func BenchmarkPrune(b *testing.B) {
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			open := func(t testing.TB) *storage.DB {
				if name == "postgres" {
					return openPostgres(t)
				}
				return openDB(t, fmt.Sprintf("%s/verso.db", t.TempDir()))
			}
			ctx := context.Background()
			for range b.N {
				b.StopTimer()
				clock := newManualClock()
				db := open(b)
				s := newStore(b, db, clock.Now)
				mustEndpointTB(b, s)
				err := db.InTx(ctx, func(tx *storage.Tx) error {
					for i := range 10000 {
						if err := s.RecordEvent(ctx, tx, customerEvent("acct_b", "customer.created", i)); err != nil {
							return err
						}
					}
					_, err := tx.Exec(ctx, `UPDATE webhook_deliveries SET state = 'delivered'`)
					return err
				})
				require.NoError(b, err)
				clock.Add(40 * 24 * time.Hour)
				b.StartTimer()
				p, err := s.Prune(ctx, clock.Now().Add(-DefaultRetention), 0)
				require.NoError(b, err)
				require.Equal(b, Pruned{Events: 10000, Deliveries: 10000}, p)
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*20000), "µs/row")
		})
	}
}

func mustEndpointTB(t testing.TB, s *SQLStore) {
	_, err := s.CreateEndpoint(context.Background(), EndpointParams{Account: "acct_b", URL: "https://a.example/", EnabledEvents: []string{"*"}, APIVersion: vMid})
	require.NoError(t, err)
}
