package pins_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/verso-api/verso/storage/storagetest"

	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/pins"
	"github.com/verso-api/verso/pins/pinstest"
	"github.com/verso-api/verso/storage"
)

func TestSQLite(t *testing.T) {
	pinstest.Run(t, pinstest.Backend{
		Open: func(t *testing.T, opts *pins.Options) pins.Store {
			return openSQL(t, filepath.Join(t.TempDir(), "pins.db"), opts)
		},
		Reopen: reopenSQL,
	})
}

func TestPostgres(t *testing.T) {
	base := storagetest.PostgresBase(t)
	pinstest.Run(t, pinstest.Backend{
		Open: func(t *testing.T, opts *pins.Options) pins.Store {
			return openSQL(t, storagetest.Schema(t, base), opts)
		},
		Reopen: reopenSQL,
	})
}

func TestNewSQLStore(t *testing.T) {
	ctx := context.Background()
	db, err := storage.Open(ctx, filepath.Join(t.TempDir(), "pins.db"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })

	_, err = pins.NewSQLStore(ctx, nil, nil)
	require.ErrorContains(t, err, "nil database")
	_, err = pins.NewSQLStore(ctx, db, nil)
	require.NoError(t, err)
	_, err = pins.NewSQLStore(ctx, db, &pins.Options{RollbackWindow: time.Hour})
	require.NoError(t, err, "opening a second store on the same database migrates nothing")
}

// openSQL opens the database at u and a store on it, both closed at the end
// of the test.
func openSQL(t testing.TB, u string, opts *pins.Options) *pins.SQLStore {
	t.Helper()
	ctx := context.Background()
	db, err := storage.Open(ctx, u)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	s, err := pins.NewSQLStore(ctx, db, opts)
	require.NoError(t, err)
	return s
}

func reopenSQL(t *testing.T, s pins.Store, opts *pins.Options) pins.Store {
	t.Helper()
	db := s.(*pins.SQLStore).DB()
	require.NoError(t, db.Close())
	return openSQL(t, db.URL, opts)
}
