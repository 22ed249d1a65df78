package pins_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/verso-api/verso/storage/storagetest"

	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/pins"
	"github.com/verso-api/verso/pins/pinstest"
	"github.com/verso-api/verso/storage"
)

func TestSQLite(t *testing.T) {
	pinstest.Run(t, pinstest.Backend{
		Open: func(t *testing.T, opts pins.Options) pins.Store {
			return openSQL(t, filepath.Join(t.TempDir(), "pins.db"), opts)
		},
		Reopen: reopenSQL,
	})
}

func TestPostgres(t *testing.T) {
	base := postgresURL(t)
	pinstest.Run(t, pinstest.Backend{
		Open: func(t *testing.T, opts pins.Options) pins.Store {
			return openSQL(t, postgresSchema(t, base), opts)
		},
		Reopen: reopenSQL,
	})
}

func TestConstructorsCheckTheDialect(t *testing.T) {
	ctx := context.Background()
	db, err := storage.Open(ctx, filepath.Join(t.TempDir(), "pins.db"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })

	_, err = pins.NewPostgres(ctx, db, pins.Options{})
	require.ErrorContains(t, err, "want a postgres database, got sqlite")
	_, err = pins.NewSQLite(ctx, nil, pins.Options{})
	require.ErrorContains(t, err, "nil database")
	_, err = pins.NewSQLite(ctx, db, pins.Options{})
	require.NoError(t, err)
	_, err = pins.NewSQLite(ctx, db, pins.Options{})
	require.NoError(t, err, "opening a second store on the same database migrates nothing")

	if u := os.Getenv("VERSO_TEST_POSTGRES_URL"); u != "" {
		pg, err := storage.Open(ctx, u)
		require.NoError(t, err)
		t.Cleanup(func() { pg.Close() })
		_, err = pins.NewSQLite(ctx, pg, pins.Options{})
		require.ErrorContains(t, err, "want a sqlite database, got postgres")
	}
}

// openSQL opens the database at u and a store on it, both closed at the end
// of the test.
func openSQL(t testing.TB, u string, opts pins.Options) *pins.SQL {
	t.Helper()
	ctx := context.Background()
	db, err := storage.Open(ctx, u)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	var s *pins.SQL
	if db.Dialect == storage.Postgres {
		s, err = pins.NewPostgres(ctx, db, opts)
	} else {
		s, err = pins.NewSQLite(ctx, db, opts)
	}
	require.NoError(t, err)
	return s
}

func reopenSQL(t *testing.T, s pins.Store, opts pins.Options) pins.Store {
	t.Helper()
	db := s.(*pins.SQL).DB()
	require.NoError(t, db.Close())
	return openSQL(t, db.URL, opts)
}

func postgresURL(t testing.TB) string {
	u := os.Getenv("VERSO_TEST_POSTGRES_URL")
	if u == "" {
		t.Skip("VERSO_TEST_POSTGRES_URL is unset: skipping the PostgreSQL tests (.ci/run sets it)")
	}
	return u
}

// postgresSchema gives the test a PostgreSQL schema of its own.
func postgresSchema(t testing.TB, base string) string { return storagetest.Schema(t, base) }
