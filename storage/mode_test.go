package storage_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/storage"
	_ "github.com/verso-api/verso/storage/drivers"
)

// TestSQLiteFilesPrivate opens new SQLite databases, named by a path and
// by file: URIs, writes to them, and checks that the database file and
// its -wal and -shm files are readable by their owner only; a database
// that exists keeps its mode.
func TestSQLiteFilesPrivate(t *testing.T) {
	dir := t.TempDir()
	tests := []struct{ name, url, file string }{
		{"path", filepath.Join(dir, "a.db"), filepath.Join(dir, "a.db")},
		{"file URI", "file:" + filepath.Join(dir, "b.db") + "?_pragma=busy_timeout(100)", filepath.Join(dir, "b.db")},
		{"file URI with a host", "file://localhost" + filepath.Join(dir, "c d.db"), filepath.Join(dir, "c d.db")},
		{"escaped file URI", "file://" + filepath.Join(dir, "e%20f.db"), filepath.Join(dir, "e f.db")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			db, err := storage.Open(ctx, tt.url)
			require.NoError(t, err)
			defer db.Close()
			_, err = db.Exec(ctx, `CREATE TABLE t (x INTEGER)`)
			require.NoError(t, err)
			_, err = db.Exec(ctx, `INSERT INTO t VALUES (1)`)
			require.NoError(t, err)
			for _, f := range []string{tt.file, tt.file + "-wal", tt.file + "-shm"} {
				fi, err := os.Stat(f)
				require.NoError(t, err)
				assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), f)
			}
		})
	}
	t.Run("existing file", func(t *testing.T) {
		path := filepath.Join(dir, "shared.db")
		require.NoError(t, os.WriteFile(path, nil, 0o640))
		require.NoError(t, os.Chmod(path, 0o640))
		db, err := storage.Open(context.Background(), path)
		require.NoError(t, err)
		defer db.Close()
		_, err = db.Exec(context.Background(), `CREATE TABLE t (x INTEGER)`)
		require.NoError(t, err)
		fi, err := os.Stat(path)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o640), fi.Mode().Perm())
	})
	t.Run("memory", func(t *testing.T) {
		wd, err := os.Getwd()
		require.NoError(t, err)
		for _, u := range []string{":memory:", "file::memory:", "file:mem?mode=memory&cache=shared"} {
			db, err := storage.Open(context.Background(), u)
			require.NoError(t, err, u)
			db.Close()
		}
		for _, name := range []string{":memory:", "mem"} {
			_, err := os.Stat(filepath.Join(wd, name))
			assert.True(t, os.IsNotExist(err), "%s was created", name)
		}
	})
}

// TestKeyFileCreatedOnce has many callers create one key file at once, as
// servers started together beside one SQLite database do, and checks that
// none reads a key half written, all get the same key, and the file is
// mode 0600 with nothing left beside it.
func TestKeyFileCreatedOnce(t *testing.T) {
	for round := range 20 {
		dir := t.TempDir()
		path := filepath.Join(dir, "verso.db.key")
		const n = 8
		keys, errs := make([][]byte, n), make([]error, n)
		var wg sync.WaitGroup
		ready := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-ready
				keys[i], errs[i] = storage.LoadOrCreateKeyFile(path)
			}()
		}
		close(ready)
		wg.Wait()
		for i := range n {
			require.NoError(t, errs[i], "round %d, caller %d", round, i)
			require.Equal(t, keys[0], keys[i], "round %d, caller %d got another key", round, i)
		}
		fi, err := os.Stat(path)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
		left, err := os.ReadDir(dir)
		require.NoError(t, err)
		assert.Len(t, left, 1, "temporary files left: %v", left)
	}
}

// TestOpenTogether opens one new SQLite database from several pools at
// once, as servers started together beside it do, for several rounds,
// and checks every open succeeds and can write.
func TestOpenTogether(t *testing.T) {
	for round := range 10 {
		path := filepath.Join(t.TempDir(), "verso.db")
		const n = 6
		errs := make([]error, n)
		var wg sync.WaitGroup
		ready := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-ready
				db, err := storage.Open(context.Background(), path)
				if err != nil {
					errs[i] = err
					return
				}
				defer db.Close()
				_, errs[i] = db.Exec(context.Background(), `CREATE TABLE IF NOT EXISTS t (x INTEGER)`)
			}()
		}
		close(ready)
		wg.Wait()
		for i, err := range errs {
			require.NoError(t, err, "round %d, pool %d", round, i)
		}
	}
}
