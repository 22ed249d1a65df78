package api_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/demo/api"
	"github.com/verso-api/verso/storage"
	"github.com/verso-api/verso/storage/storagetest"
)

// TestNodesStartTogether starts several API servers at once on an empty
// PostgreSQL schema, each with its own connection pool as separate
// machines would have: every store migrates under the advisory lock, so all
// of them start.
func TestNodesStartTogether(t *testing.T) {
	u := storagetest.PostgresURL(t)
	const nodes = 6
	ctx := context.Background()
	dbs := make([]*storage.DB, nodes)
	for i := range dbs {
		db, err := storage.Open(ctx, u)
		require.NoError(t, err)
		t.Cleanup(func() { db.Close() })
		dbs[i] = db
	}
	for round := range 3 {
		if round > 0 { // the schema exists: the later rounds start on it
			t.Logf("round %d on the migrated schema", round)
		}
		errs := make([]error, nodes)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, db := range dbs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, errs[i] = api.New(ctx, api.Config{DB: db, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			}()
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			require.NoError(t, err, "round %d, node %d", round, i)
		}
	}
}
