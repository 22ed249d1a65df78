package pins

import (
	"context"
	"sync"
	"time"

	"github.com/verso-api/verso/versions"
)

// Counter counts the requests a server serves per version in memory and
// adds them to a Store now and then, so that a census can tell which
// versions are still in use without a database write per request. It is
// safe for concurrent use.
type Counter struct {
	store  Store
	mu     sync.Mutex
	counts map[versions.Version]int64
}

// NewCounter returns a Counter that flushes to store.
func NewCounter(store Store) *Counter {
	return &Counter{store: store, counts: map[versions.Version]int64{}}
}

// Add counts one request served in version v.
func (c *Counter) Add(v versions.Version) {
	if v.IsZero() {
		return
	}
	c.mu.Lock()
	c.counts[v]++
	c.mu.Unlock()
}

// Flush adds what was counted since the last flush to the store. On error
// the counts are kept for the next flush.
func (c *Counter) Flush(ctx context.Context) error {
	c.mu.Lock()
	counts := c.counts
	c.counts = map[versions.Version]int64{}
	c.mu.Unlock()
	if len(counts) == 0 {
		return nil
	}
	if err := c.store.CountRequests(ctx, counts); err != nil {
		c.mu.Lock()
		for v, n := range counts {
			c.counts[v] += n
		}
		c.mu.Unlock()
		return err
	}
	return nil
}

// Run flushes every interval until ctx is done, then flushes once more
// with a fresh context, and returns. Flush errors are passed to onErr when
// it is not nil.
func (c *Counter) Run(ctx context.Context, every time.Duration, onErr func(error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	report := func(err error) {
		if err != nil && onErr != nil {
			onErr(err)
		}
	}
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			report(c.Flush(fctx))
			cancel()
			return
		case <-t.C:
			report(c.Flush(ctx))
		}
	}
}
