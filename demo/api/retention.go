package api

import (
	"context"
	"time"

	"github.com/verso-api/verso/pins"
	"github.com/verso-api/verso/webhooks"
)

// Retention says how long the demo API keeps what piles up as it runs.
// Zero fields take their defaults.
type Retention struct {
	// Events is how long events and webhook deliveries are kept. Older
	// ones are deleted in small batches every Interval
	// (webhooks.SQLStore.Prune), but a pending delivery, and its event,
	// stay whatever their age. A negative value keeps them forever.
	// Optional. Default value webhooks.DefaultRetention (30 days, as
	// Stripe keeps events).
	Events time.Duration
	// Census is how long the census keeps the requests it counts per
	// version and hour, and per account and day (verso pins): its store
	// forgets older counts as it adds new ones (pins.Options.Retention).
	// Pins and their history are kept.
	// Optional. Default value pins.DefaultRetention (90 days).
	Census time.Duration
	// Interval is the time between prunes of events and deliveries.
	// Optional. Default value 10 minutes.
	Interval time.Duration
}

func (r Retention) withDefaults() Retention {
	if r.Events == 0 {
		r.Events = webhooks.DefaultRetention
	}
	if r.Census <= 0 {
		r.Census = pins.DefaultRetention
	}
	if r.Interval <= 0 {
		r.Interval = 10 * time.Minute
	}
	return r
}

// retain prunes events and deliveries as Retention asks until ctx is
// done, in a goroutine started with start.
func (s *Server) retain(ctx context.Context, start func(func())) {
	r := s.retention
	if r.Events < 0 {
		return
	}
	start(func() {
		webhooks.Retention{Store: s.hooks, Window: r.Events, Interval: r.Interval, Clock: s.now,
			Pruned: func(p webhooks.Pruned, err error) {
				switch {
				case err != nil:
					s.log.Warn("retention: events and deliveries", "err", err)
				case p != (webhooks.Pruned{}):
					s.log.Info("retention: deleted old events and deliveries", "events", p.Events, "deliveries", p.Deliveries, "older_than", r.Events)
				}
			}}.Run(ctx)
	})
}
