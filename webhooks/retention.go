package webhooks

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/verso-api/verso/storage"
)

// DefaultRetention is how long Retention keeps events and deliveries
// unless told otherwise: 30 days, as Stripe keeps events.
const DefaultRetention = 30 * 24 * time.Hour

// DefaultPruneBatch is how many rows Prune deletes per transaction unless
// told otherwise.
const DefaultPruneBatch = 500

// retentionSchema indexes the tables by age, for Prune.
var retentionSchema = []string{
	`CREATE INDEX IF NOT EXISTS webhook_events_created ON webhook_events (created_at)`,
	`CREATE INDEX IF NOT EXISTS webhook_deliveries_created ON webhook_deliveries (created_at)`,
}

// Pruned counts what Prune deleted.
type Pruned struct {
	Events, Deliveries int
}

// Prune deletes the deliveries created before before that are no longer
// pending (delivered, or failed for good), then the events created before
// before that no delivery refers to any more. A pending delivery is never
// deleted, and keeps its event, whatever their age: a delivery a user
// resends becomes pending again. It deletes at most batch rows per
// transaction (DefaultPruneBatch when batch <= 0), so that writers, which
// take turns with it, never wait for more than one batch; on PostgreSQL
// it skips rows another transaction holds. It returns what it deleted,
// also when ctx ends it early.
func (s *SQLStore) Prune(ctx context.Context, before time.Time, batch int) (Pruned, error) {
	if batch <= 0 {
		batch = DefaultPruneBatch
	}
	var p Pruned
	cut := ms(before)
	lock := ""
	if s.db.Dialect == storage.Postgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	steps := []struct {
		n *int
		q string
	}{
		{&p.Deliveries, `DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM webhook_deliveries
			WHERE created_at < ? AND state <> 'pending' ORDER BY created_at LIMIT ?` + lock + `)`},
		{&p.Events, `DELETE FROM webhook_events WHERE id IN (SELECT e.id FROM webhook_events e
			WHERE e.created_at < ? AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id)
			ORDER BY e.created_at LIMIT ?` + lock + `)`},
	}
	for _, st := range steps {
		for {
			if err := ctx.Err(); err != nil {
				return p, err
			}
			var n int64
			err := s.db.InTx(ctx, func(tx *storage.Tx) error {
				res, err := tx.Exec(ctx, st.q, cut, batch)
				if err != nil {
					return err
				}
				n, err = res.RowsAffected()
				return err
			})
			if err != nil {
				return p, fmt.Errorf("webhooks: prune: %w", err)
			}
			*st.n += int(n)
			if n < int64(batch) {
				break
			}
		}
	}
	return p, nil
}

// Retention deletes the events and deliveries older than Window from a
// store at an interval (see SQLStore.Prune).
//
//	go webhooks.Retention{Store: store}.Run(ctx)
type Retention struct {
	// Store is pruned.
	// Required.
	Store *SQLStore

	// Window is how long events and deliveries are kept.
	// Optional. Default value DefaultRetention (30 days).
	Window time.Duration

	// Interval is the time between prunes.
	// Optional. Default value 10 minutes.
	Interval time.Duration

	// Batch is how many rows a transaction deletes.
	// Optional. Default value DefaultPruneBatch.
	Batch int

	// Clock returns the current time.
	// Optional. Default value time.Now.
	Clock func() time.Time

	// Pruned is called after each prune with what it deleted and its
	// error, for logs and metrics.
	// Optional.
	Pruned func(Pruned, error)
}

// Run prunes once at once and then every Interval until ctx is done, and
// returns ctx's error. It returns at once with an error when Store is nil
// or Window is negative.
func (r Retention) Run(ctx context.Context) error {
	if r.Store == nil {
		return errors.New("webhooks: retention has no Store")
	}
	if r.Window < 0 {
		return fmt.Errorf("webhooks: retention window %s is negative", r.Window)
	}
	if r.Window == 0 {
		r.Window = DefaultRetention
	}
	if r.Interval <= 0 {
		r.Interval = 10 * time.Minute
	}
	if r.Clock == nil {
		r.Clock = time.Now
	}
	t := time.NewTicker(r.Interval)
	defer t.Stop()
	for {
		p, err := r.Store.Prune(ctx, r.Clock().Add(-r.Window), r.Batch)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if r.Pruned != nil {
			r.Pruned(p, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
