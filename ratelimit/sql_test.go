package ratelimit_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/verso-api/verso/ratelimit"
	"github.com/verso-api/verso/ratelimit/ratelimittest"
	"github.com/verso-api/verso/storage"
	"github.com/verso-api/verso/storage/storagetest"
)

func TestMemoryStoreSuite(t *testing.T) {
	ratelimittest.Run(t, ratelimittest.Factory{New: func(t *testing.T, clock func() time.Time) ratelimit.Store {
		return ratelimit.NewMemoryStore(&ratelimit.Options{Clock: clock})
	}})
}

// TestSQLStore runs the suite on SQLite and on PostgreSQL, where the
// stores of one test are two servers, each with its own connection pool,
// on one database.
func TestSQLStore(t *testing.T) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ratelimittest.Run(t, ratelimittest.Factory{Shared: true, New: func(t *testing.T, clock func() time.Time) ratelimit.Store {
				return sqlStores(t, b, clock)
			}})
		})
	}
}

// urls holds the database URL of each running test.
var urls sync.Map

// sqlStores returns a store on the test's database, opened anew: each call
// in one test is another server on the same database.
func sqlStores(t *testing.T, b storagetest.Backend, clock func() time.Time) ratelimit.Store {
	t.Helper()
	u, ok := urls.Load(t)
	if !ok {
		u = b.URL(t)
		urls.Store(t, u)
		t.Cleanup(func() { urls.Delete(t) })
	}
	db, err := storage.Open(context.Background(), u.(string))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := ratelimit.NewSQLStore(context.Background(), db, &ratelimit.Options{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	return s
}
