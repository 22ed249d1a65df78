package storage_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/storage"
	"github.com/verso-api/verso/storage/storagetest"
)

// TestIsUniqueViolation provokes the violations on the real databases,
// through a primary key and through a unique index.
func TestIsUniqueViolation(t *testing.T) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			db, _ := b.Open(t)
			require.NoError(t, db.Migrate(ctx,
				`CREATE TABLE IF NOT EXISTS uv (k TEXT PRIMARY KEY, u TEXT NOT NULL)`,
				`CREATE UNIQUE INDEX IF NOT EXISTS uv_u ON uv (u)`))
			_, err := db.Exec(ctx, `INSERT INTO uv (k, u) VALUES (?, ?)`, "a", "x")
			require.NoError(t, err)
			require.False(t, storage.IsUniqueViolation(err))

			_, err = db.Exec(ctx, `INSERT INTO uv (k, u) VALUES (?, ?)`, "a", "y")
			require.True(t, storage.IsUniqueViolation(err), "primary key: %v", err)
			require.True(t, storage.IsUniqueViolation(fmt.Errorf("wrapped: %w", err)))
			require.False(t, storage.IsBusy(err))

			_, err = db.Exec(ctx, `INSERT INTO uv (k, u) VALUES (?, ?)`, "b", "x")
			require.True(t, storage.IsUniqueViolation(err), "unique index: %v", err)

			_, err = db.Exec(ctx, `INSERT INTO uv (k, u) VALUES (?, ?)`, "c", nil)
			require.Error(t, err, "NOT NULL is another constraint")
			require.False(t, storage.IsUniqueViolation(err), "%v", err)
		})
	}
}

// TestIsBusySQLite holds SQLite's writer lock from one handle and writes
// from another whose busy timeout is 1ms: the driver's SQLITE_BUSY is
// recognised by its result code.
func TestIsBusySQLite(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "busy.db")
	a, err := storage.Open(ctx, path)
	require.NoError(t, err)
	t.Cleanup(func() { a.Close() })
	require.NoError(t, a.Migrate(ctx, `CREATE TABLE kv (k TEXT PRIMARY KEY)`))
	b, err := storage.Open(ctx, path+"?_pragma=busy_timeout(1)")
	require.NoError(t, err)
	t.Cleanup(func() { b.Close() })

	tx, err := a.Begin(ctx) // BEGIN IMMEDIATE: takes the writer lock
	require.NoError(t, err)
	defer tx.Rollback()
	_, err = tx.Exec(ctx, `INSERT INTO kv (k) VALUES (?)`, "a")
	require.NoError(t, err)

	_, err = b.Exec(ctx, `INSERT INTO kv (k) VALUES (?)`, "b")
	require.Error(t, err)
	require.True(t, storage.IsBusy(err), "code %d: %v", storage.SQLiteCode(err), err)
	require.False(t, storage.IsUniqueViolation(err))
}

type codeErr int

func (e codeErr) Error() string { return fmt.Sprint("code ", int(e)) }
func (e codeErr) Code() int     { return int(e) }

type stateErr string

func (e stateErr) Error() string    { return "sqlstate " + string(e) }
func (e stateErr) SQLState() string { return string(e) }

// TestErrorCodes pins the codes each predicate answers to, whatever the
// message says.
func TestErrorCodes(t *testing.T) {
	tests := []struct {
		err          error
		unique, busy bool
	}{
		{nil, false, false},
		{errors.New("UNIQUE constraint failed: duplicate key value SQLITE_BUSY database is locked"), false, false},
		{storage.ErrBusy, false, true},
		{fmt.Errorf("begin: %w", storage.ErrBusy), false, true},
		{codeErr(2067), true, false},  // SQLITE_CONSTRAINT_UNIQUE
		{codeErr(1555), true, false},  // SQLITE_CONSTRAINT_PRIMARYKEY
		{codeErr(19), false, false},   // SQLITE_CONSTRAINT, another kind
		{codeErr(1299), false, false}, // SQLITE_CONSTRAINT_NOTNULL
		{codeErr(5), false, true},     // SQLITE_BUSY
		{codeErr(517), false, true},   // SQLITE_BUSY_SNAPSHOT
		{codeErr(6), false, true},     // SQLITE_LOCKED
		{stateErr("23505"), true, false},
		{fmt.Errorf("insert: %w", stateErr("23505")), true, false},
		{stateErr("23503"), false, false}, // foreign key
		{stateErr("40001"), false, true},
		{stateErr("40P01"), false, true},
		{stateErr("55P03"), false, true},
	}
	for _, tt := range tests {
		if got := storage.IsUniqueViolation(tt.err); got != tt.unique {
			t.Errorf("IsUniqueViolation(%v) = %v", tt.err, got)
		}
		if got := storage.IsBusy(tt.err); got != tt.busy {
			t.Errorf("IsBusy(%v) = %v", tt.err, got)
		}
	}
}
