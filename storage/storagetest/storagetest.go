// Package storagetest gives tests real databases: a fresh SQLite file, and
// a PostgreSQL schema of their own when VERSO_TEST_POSTGRES_URL is set.
package storagetest

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/verso-api/verso/storage/drivers" // registers the SQLite and PostgreSQL drivers

	"github.com/verso-api/verso/storage"
)

// EnvPostgres names the variable holding the PostgreSQL URL tests use.
const EnvPostgres = "VERSO_TEST_POSTGRES_URL"

// Backend opens a database for one test.
type Backend struct {
	Name string
	// URL returns a database URL private to the test t.
	URL func(t testing.TB) string
}

// Backends returns SQLite, and PostgreSQL when EnvPostgres is set (a
// sub-test that needs it reports the skip).
func Backends() []Backend {
	return []Backend{
		{Name: "sqlite", URL: func(t testing.TB) string { return filepath.Join(t.TempDir(), "verso.db") }},
		{Name: "postgres", URL: PostgresURL},
	}
}

// Open opens the backend's database for t and closes it at the end.
func (b Backend) Open(t testing.TB) (*storage.DB, string) {
	t.Helper()
	u := b.URL(t)
	db, err := storage.Open(context.Background(), u)
	if err != nil {
		t.Fatalf("open %s: %v", b.Name, err)
	}
	t.Cleanup(func() { db.Close() })
	return db, u
}

// PostgresURL creates a schema for t, dropped at its end, and returns a URL
// whose connections use it. It skips t when EnvPostgres is unset.
func PostgresURL(t testing.TB) string {
	t.Helper()
	return Schema(t, PostgresBase(t))
}

// PostgresBase returns the PostgreSQL URL of EnvPostgres, shared by every
// test (Schema gives one a schema of its own there). It skips t when
// EnvPostgres is unset.
func PostgresBase(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvPostgres)
	if base == "" {
		t.Skip(EnvPostgres + " is unset: skipping the PostgreSQL test (.ci/run sets it)")
	}
	return base
}

// Schema creates a schema for t in the PostgreSQL database at base,
// dropped at the end of t, and returns a URL whose connections use it
// (search_path is a pgx runtime parameter, so every pooled connection
// gets it).
func Schema(t testing.TB, base string) string {
	t.Helper()
	ctx := context.Background()
	admin, err := storage.Open(ctx, base)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	name := "verso_t_" + strings.ToLower(rand.Text()[:12])
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+name); err != nil {
		admin.Close()
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec(ctx, "DROP SCHEMA "+name+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", name, err)
		}
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("postgres URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return fmt.Sprint(u)
}
