package reports_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/reports"
	"github.com/verso-api/verso/reports/reportstest"
	"github.com/verso-api/verso/storage"
	"github.com/verso-api/verso/storage/storagetest"
)

func TestMemoryStore(t *testing.T) {
	reportstest.Run(t, reportstest.Backend{
		Open: func(t *testing.T, o *reports.Options) reports.Store { return reports.NewMemoryStore(o) },
	})
}

func TestSQLStore(t *testing.T) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			reportstest.Run(t, reportstest.Backend{
				Open: func(t *testing.T, o *reports.Options) reports.Store {
					db, _ := b.Open(t)
					return newSQL(t, db, o)
				},
				Reopen: func(t *testing.T, s reports.Store, o *reports.Options) reports.Store {
					db := s.(*reports.SQLStore).DB()
					require.NoError(t, db.Close())
					db2, err := storage.Open(context.Background(), db.URL)
					require.NoError(t, err)
					t.Cleanup(func() { db2.Close() })
					return newSQL(t, db2, o)
				},
			})
		})
	}
}

func TestNewSQLStore(t *testing.T) {
	db, _ := storagetest.Backends()[0].Open(t)
	_, err := reports.NewSQLStore(context.Background(), nil, nil)
	require.ErrorContains(t, err, "nil database")
	newSQL(t, db, nil)
	newSQL(t, db, nil) // a second store on the same database migrates nothing
}

func newSQL(t *testing.T, db *storage.DB, o *reports.Options) *reports.SQLStore {
	t.Helper()
	s, err := reports.NewSQLStore(context.Background(), db, o)
	require.NoError(t, err)
	return s
}
