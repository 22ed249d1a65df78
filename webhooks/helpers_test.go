package webhooks

import (
	"context"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
	"github.com/verso-api/verso/storage"
	"github.com/verso-api/verso/storage/storagetest"
	"github.com/verso-api/verso/versions"
)

var (
	vNew = versions.MustParse("2024-09-30.acacia")
	vMid = versions.MustParse("2020-08-27")
	vOld = versions.MustParse("2019-05-16")
)

// fakeRender stands in for the transform engine: before 2019-10-17 a
// customer's balance was called account_balance.
func fakeRender(_ context.Context, _ string, event []byte, to versions.Version) ([]byte, error) {
	if !to.Before(versions.MustParse("2019-10-17")) {
		return event, nil
	}
	b := gjson.GetBytes(event, "data.object.balance")
	if !b.Exists() {
		return event, nil
	}
	out, err := sjson.DeleteBytes(event, "data.object.balance")
	if err != nil {
		return nil, err
	}
	return sjson.SetRawBytes(out, "data.object.account_balance", []byte(b.Raw))
}

// opener returns a fresh, empty database for one test.
type opener func(t testing.TB) *storage.DB

// forEachDB runs fn with a constructor of fresh databases: in-memory
// SQLite, a SQLite file, and a PostgreSQL schema of its own.
func forEachDB(t *testing.T, fn func(t *testing.T, open opener)) {
	t.Run("memory", func(t *testing.T) {
		fn(t, func(t testing.TB) *storage.DB { return openDB(t, ":memory:") })
	})
	t.Run("sqlite", func(t *testing.T) {
		fn(t, func(t testing.TB) *storage.DB { return openDB(t, filepath.Join(t.TempDir(), "verso.db")) })
	})
	t.Run("postgres", func(t *testing.T) {
		openPostgres(t) // skips early when PostgreSQL is not configured
		fn(t, func(t testing.TB) *storage.DB { return openPostgres(t) })
	})
}

func openDB(t testing.TB, url string) *storage.DB {
	db, err := storage.Open(context.Background(), url)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

// openPostgres opens the test server in a schema of its own, so that runs
// and packages sharing the database never see each other's deliveries.
func openPostgres(t testing.TB) *storage.DB { return openDB(t, storagetest.PostgresURL(t)) }

func newStore(t testing.TB, db *storage.DB, clock func() time.Time) *SQLStore {
	s, err := NewSQLStore(context.Background(), db, &Options{Clock: clock, AllowPrivate: true})
	require.NoError(t, err)
	return s
}

// manualClock is a clock that moves only when told.
type manualClock struct {
	mu sync.Mutex
	t  time.Time
}

func newManualClock() *manualClock {
	return &manualClock{t: time.Unix(1700000000, 0)}
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *manualClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func customerEvent(account, typ string, balance int) Event {
	return Event{
		Account:    account,
		Type:       typ,
		APIVersion: vNew,
		Object:     []byte(`{"id":"cus_1","object":"customer","balance":` + strconv.Itoa(balance) + `}`),
	}
}
