package pins

import (
	"context"
	"sync"
	"time"

	"github.com/verso-api/verso/versions"
)

// MaxCountedAccounts bounds the accounts a Counter tells apart between two
// flushes: the requests of any further account are counted without it
// (in its version's total), so that a flood of new accounts costs neither
// memory nor storage.
const MaxCountedAccounts = 10000

// Counter counts the requests a server serves per version and account in
// memory, and adds them to a Store now and then (Flush, Run), so that the
// census (verso pins) and verso retire know which versions, and whose
// integrations, are still in use without a database write per request.
// It is the versioning middleware's server.Usage: set it as
// server.Config.Usage and run Run. It is safe for concurrent use.
type Counter struct {
	store  Store
	mu     sync.Mutex
	counts map[servedKey]int64
	// accounts is how many keys of counts name an account.
	accounts int
}

// NewCounter returns a Counter that flushes to store.
func NewCounter(store Store) *Counter {
	return &Counter{store: store, counts: map[servedKey]int64{}}
}

// Count counts one request served in version v for account ("" for none).
func (c *Counter) Count(v versions.Version, account string) {
	if v.IsZero() {
		return
	}
	k := servedKey{v, account}
	c.mu.Lock()
	if account != "" {
		if _, ok := c.counts[k]; !ok {
			if c.accounts >= MaxCountedAccounts {
				k.account = ""
			} else {
				c.accounts++
			}
		}
	}
	c.counts[k]++
	c.mu.Unlock()
}

// Add counts one request served in version v, with no account.
func (c *Counter) Add(v versions.Version) { c.Count(v, "") }

// Flush adds what was counted since the last flush to the store. On error
// the counts are kept for the next flush.
func (c *Counter) Flush(ctx context.Context) error {
	c.mu.Lock()
	counts := c.counts
	c.counts, c.accounts = map[servedKey]int64{}, 0
	c.mu.Unlock()
	if len(counts) == 0 {
		return nil
	}
	served := make([]Served, 0, len(counts))
	for k, n := range counts {
		served = append(served, Served{Version: k.v, Account: k.account, Requests: n})
	}
	if err := c.store.CountRequests(ctx, served); err != nil {
		c.mu.Lock()
		for k, n := range counts {
			if _, ok := c.counts[k]; !ok && k.account != "" {
				if c.accounts >= MaxCountedAccounts {
					k.account = ""
				} else {
					c.accounts++
				}
			}
			c.counts[k] += n
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
