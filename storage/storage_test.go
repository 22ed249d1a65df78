package storage_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/verso-api/verso/storage"
	"github.com/verso-api/verso/storage/storagetest"
)

// URLs returns the databases a shared store suite should run on: a fresh
// SQLite file, and PostgreSQL when VERSO_TEST_POSTGRES_URL is set.
func TestOpenAndRebind(t *testing.T) {
	ctx := context.Background()
	db, err := storage.Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	require.NoError(t, err)
	defer db.Close()
	require.NoError(t, db.Migrate(ctx, `CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, v TEXT)`))
	_, err = db.Exec(ctx, `INSERT INTO kv (k, v) VALUES (?, ?)`, "a", "?")
	require.NoError(t, err)
	_, err = db.Exec(ctx, `INSERT INTO kv (k, v) VALUES (?, ?)`, "a", "b")
	require.True(t, storage.IsUniqueViolation(err), "got %v", err)
	var v string
	require.NoError(t, db.QueryRow(ctx, `SELECT v FROM kv WHERE k = ?`, "a").Scan(&v))
	require.Equal(t, "?", v)

	pg := &storage.DB{Dialect: storage.Postgres}
	require.Equal(t, `SELECT $1, '?', $2`, pg.Rebind(`SELECT ?, '?', ?`))
}

func TestPostgres(t *testing.T) {
	url := os.Getenv("VERSO_TEST_POSTGRES_URL")
	if url == "" {
		t.Skip("VERSO_TEST_POSTGRES_URL is unset: skipping the PostgreSQL test (.ci/run sets it)")
	}
	ctx := context.Background()
	db, err := storage.Open(ctx, url)
	require.NoError(t, err)
	defer db.Close()
	var n int
	require.NoError(t, db.QueryRow(ctx, `SELECT ?::int + 1`, 41).Scan(&n))
	require.Equal(t, 42, n)
}

func TestAddColumns(t *testing.T) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			db, _ := b.Open(t)
			require.NoError(t, db.Migrate(ctx, `CREATE TABLE IF NOT EXISTS old_t (id TEXT PRIMARY KEY)`))
			_, err := db.Exec(ctx, `INSERT INTO old_t (id) VALUES ('a')`)
			require.NoError(t, err)
			for range 2 { // the second run finds the columns there
				require.NoError(t, db.MigrateFunc(ctx, func(tx *storage.Tx) error {
					return tx.AddColumns(ctx, "old_t", "status TEXT NOT NULL DEFAULT 'enabled'", "n INTEGER NOT NULL DEFAULT 0")
				}))
			}
			var status string
			var n int
			require.NoError(t, db.QueryRow(ctx, `SELECT status, n FROM old_t WHERE id = 'a'`).Scan(&status, &n))
			require.Equal(t, "enabled", status)
			require.Equal(t, 0, n)
		})
	}
}
