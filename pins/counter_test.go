package pins_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/pins"
	"github.com/verso-api/verso/versions"
)

type failingCounts struct {
	pins.Store
	fail bool
}

func (f *failingCounts) CountRequests(ctx context.Context, served []pins.Served) error {
	if f.fail {
		return errors.New("database down")
	}
	return f.Store.CountRequests(ctx, served)
}

func TestCounter(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	store := &failingCounts{Store: pins.NewMemoryStore(&pins.Options{Now: func() time.Time { return now }})}
	c := pins.NewCounter(store)
	v1, v2 := versions.MustParse("2015-02-18"), versions.MustParse("2019-10-17")
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 100; j++ {
				c.Add(v1)
				if j%2 == 0 {
					c.Add(v2)
				}
			}
		}()
	}
	wg.Wait()
	c.Add(versions.Version{}) // ignored

	store.fail = true
	require.Error(t, c.Flush(ctx))
	c.Add(v2)
	store.fail = false
	require.NoError(t, c.Flush(ctx), "what a failed flush held is flushed next time")
	require.NoError(t, c.Flush(ctx), "nothing to flush")
	got, err := store.Census(ctx, now)
	require.NoError(t, err)
	require.Equal(t, []pins.Count{{Version: v2, Requests: 401}, {Version: v1, Requests: 800}}, got)

	runCtx, cancel := context.WithCancel(ctx)
	c.Add(v1)
	done := make(chan struct{})
	go func() { c.Run(runCtx, time.Hour, func(err error) { t.Error(err) }); close(done) }()
	cancel()
	<-done
	got, _ = store.Census(ctx, now)
	require.Equal(t, int64(801), got[1].Requests, "Run flushes when it stops")
}

// TestCounterAccounts checks that a Counter counts per account, and tells
// apart at most MaxCountedAccounts accounts between two flushes: the
// others are counted in their version's total alone.
func TestCounterAccounts(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	store := &failingCounts{Store: pins.NewMemoryStore(&pins.Options{Now: func() time.Time { return now }})}
	c := pins.NewCounter(store)
	v1 := versions.MustParse("2015-02-18")
	for i := range pins.MaxCountedAccounts + 500 {
		c.Count(v1, fmt.Sprintf("acct_%05d", i))
	}
	c.Count(v1, "acct_00000")
	c.Count(v1, "")
	store.fail = true
	require.Error(t, c.Flush(ctx))
	c.Count(v1, "acct_late") // no room: the failed flush's accounts came back
	store.fail = false
	require.NoError(t, c.Flush(ctx))
	got, err := store.Census(ctx, now)
	require.NoError(t, err)
	require.Equal(t, []pins.Count{{Version: v1, Requests: pins.MaxCountedAccounts + 503, Active: pins.MaxCountedAccounts}}, got)
	u, err := store.Users(ctx, v1, now, 1)
	require.NoError(t, err)
	require.Equal(t, []pins.Served{{Version: v1, Account: "acct_00000", Requests: 2}}, u)

	c.Count(v1, "acct_late")
	require.NoError(t, c.Flush(ctx))
	u, err = store.Users(ctx, v1, now, 1)
	require.NoError(t, err)
	require.Equal(t, "acct_00000", u[0].Account)
	got, _ = store.Census(ctx, now)
	require.Equal(t, int64(pins.MaxCountedAccounts+1), got[0].Active, "after a flush, new accounts have room again")
}
