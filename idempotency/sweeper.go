package idempotency

import (
	"context"
	"errors"
	"time"
)

// Sweeper deletes expired keys from a store at an interval.
//
//	go idempotency.Sweeper{Store: store}.Run(ctx)
type Sweeper struct {
	// Store is swept.
	// Required.
	Store Store

	// Interval is the time between sweeps.
	// Optional. Default value 10 minutes.
	Interval time.Duration

	// Clock returns the current time; keys expired at it are deleted.
	// Optional. Default value time.Now.
	Clock func() time.Time

	// Swept is called after each sweep with the number of keys deleted or
	// the error, for logs and metrics.
	// Optional.
	Swept func(deleted int, err error)
}

// Run sweeps once at once and then every Interval until ctx is done, and
// returns ctx's error. It returns at once with an error when Store is nil.
func (s Sweeper) Run(ctx context.Context) error {
	if s.Store == nil {
		return errors.New("idempotency: sweeper has no Store")
	}
	if s.Interval <= 0 {
		s.Interval = 10 * time.Minute
	}
	if s.Clock == nil {
		s.Clock = time.Now
	}
	t := time.NewTicker(s.Interval)
	defer t.Stop()
	for {
		n, err := s.Store.Sweep(ctx, s.Clock())
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if s.Swept != nil {
			s.Swept(n, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
