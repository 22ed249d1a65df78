package idempotency_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/verso-api/verso/storage/storagetest"

	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/idempotency"
	"github.com/verso-api/verso/idempotency/idemtest"
	"github.com/verso-api/verso/storage"
)

func TestMemoryStore(t *testing.T) {
	idemtest.Run(t, idemtest.Backend{Open: openMemory})
}

func TestSQLiteStore(t *testing.T) {
	idemtest.Run(t, idemtest.Backend{Open: openSQLite, Reopen: reopenSQL})
}

func TestPostgresStore(t *testing.T) {
	storagetest.PostgresBase(t) // skips without PostgreSQL
	idemtest.Run(t, idemtest.Backend{Open: openPostgres, Reopen: reopenSQL})
}

func TestNewSQLStore(t *testing.T) {
	ctx := context.Background()
	db, err := storage.Open(ctx, filepath.Join(t.TempDir(), "idem.db"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })

	_, err = idempotency.NewSQLStore(ctx, nil, nil)
	require.ErrorContains(t, err, "nil database")
	for _, bad := range []string{"Keys", "1keys", "keys; DROP TABLE x", "a-b"} {
		_, err = idempotency.NewSQLStore(ctx, db, &idempotency.Options{Table: bad})
		require.ErrorContains(t, err, "invalid table name", bad)
	}
	_, err = idempotency.NewSQLStore(ctx, db, &idempotency.Options{Table: "my_keys"})
	require.NoError(t, err)
	_, err = idempotency.NewSQLStore(ctx, db, &idempotency.Options{Table: "my_keys"})
	require.NoError(t, err, "opening a second store on the same table migrates nothing")

	other, err := storage.Open(ctx, filepath.Join(t.TempDir(), "other.db"))
	require.NoError(t, err)
	t.Cleanup(func() { other.Close() })
	s, err := idempotency.NewSQLStore(ctx, db, nil)
	require.NoError(t, err)
	tx, err := other.Begin(ctx)
	require.NoError(t, err)
	defer tx.Rollback()
	err = s.Complete(ctx, tx, idempotency.Key{Key: "k"}, "t", idempotency.Response{Status: 200}, idemtest.T0)
	require.ErrorContains(t, err, "another database")
}

func openMemory(t *testing.T) idemtest.Opened {
	return idemtest.Opened{Store: idempotency.NewMemoryStore(nil)}
}

func openSQLite(t *testing.T) idemtest.Opened {
	return openSQL(t, filepath.Join(t.TempDir(), "idem.db"))
}

func openPostgres(t *testing.T) idemtest.Opened {
	return openSQL(t, storagetest.PostgresURL(t))
}

// openSQL opens the database at u and a store on it, both closed at the end
// of the test.
func openSQL(t testing.TB, u string) idemtest.Opened {
	t.Helper()
	ctx := context.Background()
	db, err := storage.Open(ctx, u)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	s, err := idempotency.NewSQLStore(ctx, db, nil)
	require.NoError(t, err)
	return idemtest.Opened{Store: s, DB: db}
}

func reopenSQL(t *testing.T, o idemtest.Opened) idemtest.Opened {
	t.Helper()
	require.NoError(t, o.DB.Close())
	return openSQL(t, o.DB.URL)
}
