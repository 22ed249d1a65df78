package api

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/storage"
	"github.com/verso-api/verso/storage/storagetest"
)

// TestRelatedQueriesUseIndexes asks each store how it runs the queries of
// related lists and expansions, on an account of 3,000 refunds: by the
// parent index and the primary key, never by scanning the account's
// objects of the type.
func TestRelatedQueriesUseIndexes(t *testing.T) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			db, _ := b.Open(t)
			o, err := newObjects(ctx, db)
			require.NoError(t, err)
			require.NoError(t, db.InTx(ctx, func(tx *storage.Tx) error {
				for i := range 500 {
					body := fmt.Sprintf(`{"id":"ch_%d","object":"charge"}`, i)
					if err := o.insert(ctx, tx, "acct_1", "charge", fmt.Sprintf("ch_%d", i), int64(i), int64(i), []byte(body)); err != nil {
						return err
					}
				}
				for i := range 3000 {
					body := fmt.Sprintf(`{"id":"re_%d","object":"refund","charge":"ch_%d"}`, i, i%500)
					if err := o.insert(ctx, tx, "acct_1", "refund", fmt.Sprintf("re_%d", i), int64(i), int64(i), []byte(body)); err != nil {
						return err
					}
				}
				return nil
			}))
			ids := []string{"ch_1", "ch_2"}
			var plans []string
			if db.Dialect == storage.Postgres {
				// By the primary key whatever PostgreSQL knows of the
				// table; by parent once it has statistics, as autovacuum
				// gathers them (before, it estimates that an account has
				// one object of each type and filters them).
				plans = append(plans, explain(t, db, "EXPLAIN "+getManyPostgres, ids))
				assert.Contains(t, plans[0], "verso_objects_pkey", plans[0])
				assert.Contains(t, plans[0], "Index Cond: (id = ANY (", plans[0])
				_, err := db.Exec(ctx, "ANALYZE verso_objects")
				require.NoError(t, err)
				plans = append(plans, explain(t, db, "EXPLAIN "+childrenPostgres, "acct_1", "refund", ids))
				assert.Contains(t, plans[1], "Index Cond: ((account = 'acct_1'::text) AND (type = 'refund'::text) AND (parent = ANY (", plans[1])
				// A page of charges with their refunds, in one statement.
				order := ` ORDER BY seq DESC, id DESC`
				page := `SELECT id, has_children, body FROM verso_objects WHERE account = ? AND type = ?` + order + ` LIMIT 101`
				plans = append(plans, explain(t, db, "EXPLAIN "+listKidsPostgres(page, order), "acct_1", "charge", "acct_1", "refund"),
					explain(t, db, "EXPLAIN "+getKidsPostgres, "ch_1", "acct_1", "charge", "acct_1", "refund", "ch_1"))
				assert.Contains(t, plans[2], "Index Cond: ((account = 'acct_1'::text) AND (type = 'refund'::text) AND (parent = ANY (", plans[2])
				assert.Contains(t, plans[3], "Index Cond: ((account = 'acct_1'::text) AND (type = 'refund'::text) AND (parent = 'ch_1'::text))", plans[3])
				plans = append(plans, explain(t, db, "EXPLAIN "+childrenOne, "ch_1", "acct_1", "refund"))
				assert.Contains(t, plans[4], "verso_objects_parent", plans[4])
				for i, p := range plans {
					assert.NotContains(t, p, "Seq Scan", p)
					if i < 2 {
						// The objects looked for are all that is read; with
						// children, an object found by its key is checked,
						// and the page for those that have some.
						assert.NotContains(t, p, "Filter", p)
					}
				}
			} else {
				js, _ := json.Marshal(ids)
				plans = append(plans, explain(t, db, "EXPLAIN QUERY PLAN "+childrenSQLite, string(js), "acct_1", "refund"),
					explain(t, db, "EXPLAIN QUERY PLAN "+getManySQLite, string(js)))
				assert.Contains(t, plans[0], "SEARCH o USING INDEX verso_objects_parent (account=? AND type=? AND parent=?)", plans[0])
				assert.Contains(t, plans[1], "SEARCH o USING INDEX sqlite_autoindex_verso_objects_1 (id=?)", plans[1])
				plans = append(plans, explain(t, db, "EXPLAIN QUERY PLAN "+childrenOne, "ch_1", "acct_1", "refund"))
				assert.Contains(t, plans[2], "SEARCH verso_objects USING INDEX verso_objects_parent (account=? AND type=? AND parent=?)", plans[2])
				for _, p := range plans {
					assert.NotContains(t, p, "SCAN o", p)
				}
			}
			got, err := o.children(ctx, db, "acct_1", "refund", ids)
			require.NoError(t, err)
			assert.Len(t, got["ch_1"], 6)
			assert.Equal(t, `{"id":"re_2501","object":"refund","charge":"ch_1"}`, string(got["ch_1"][0].body), "newest first")
			many, err := o.getMany(ctx, db, "acct_1", "refund", []string{"re_7", "re_9", "nope"})
			require.NoError(t, err)
			assert.Len(t, many, 2)
			for _, other := range [][2]string{{"acct_2", "refund"}, {"acct_1", "charge"}} {
				many, err = o.getMany(ctx, db, other[0], other[1], []string{"re_7"})
				require.NoError(t, err)
				assert.Empty(t, many, "another account's or type's object is not found")
			}
			none, err := o.children(ctx, db, "acct_2", "refund", ids)
			require.NoError(t, err)
			assert.Empty(t, none, "another account's objects are not found")
		})
	}
}

func explain(t *testing.T, db *storage.DB, q string, args ...any) string {
	t.Helper()
	rows, err := db.Query(context.Background(), q, args...)
	require.NoError(t, err)
	defer rows.Close()
	cols, err := rows.Columns()
	require.NoError(t, err)
	var lines []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		require.NoError(t, rows.Scan(ptrs...))
		lines = append(lines, fmt.Sprint(vals[len(vals)-1]))
	}
	require.NoError(t, rows.Err())
	return strings.Join(lines, "\n")
}

// TestParentMigration: objects stored before the parent column existed
// get it filled in when the store opens, on both stores.
func TestParentMigration(t *testing.T) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			db, _ := b.Open(t)
			require.NoError(t, db.Migrate(ctx, `CREATE TABLE verso_objects (
				id TEXT PRIMARY KEY, account TEXT NOT NULL, type TEXT NOT NULL,
				created BIGINT NOT NULL, seq BIGINT NOT NULL, body TEXT NOT NULL)`))
			for i, row := range [][3]string{
				{"re_1", "refund", `{"id":"re_1","object":"refund","charge":"ch_1"}`},
				{"ch_1", "charge", `{"id":"ch_1","object":"charge","payment_intent":"pi_1"}`},
				{"ch_2", "charge", `{"id":"ch_2","object":"charge","payment_intent":null}`},
				{"card_1", "card", `{"id":"card_1","object":"card","customer":"cus_1"}`},
			} {
				_, err := db.Exec(ctx, `INSERT INTO verso_objects (id, account, type, created, seq, body) VALUES (?, 'a', ?, ?, ?, ?)`, row[0], row[1], i, i, row[2])
				require.NoError(t, err)
			}
			o, err := newObjects(ctx, db)
			require.NoError(t, err)
			for parent, want := range map[string]string{"ch_1": "re_1", "pi_1": "ch_1", "cus_1": "card_1"} {
				typ := map[string]string{"ch_1": "refund", "pi_1": "charge", "cus_1": "card"}[parent]
				got, err := o.related(ctx, db, "a", typ, parent)
				require.NoError(t, err)
				require.Len(t, got, 1, parent)
				assert.Contains(t, string(got[0]), `"id":"`+want+`"`)
			}
			assert.Equal(t, []string{"ch_1"}, withChildren(t, db), "the one stored object another names")
			_, err = newObjects(ctx, db)
			require.NoError(t, err, "opening again migrates nothing")
		})
	}
}

// TestChildrenFlagMigration: a store made before has_children existed (it
// had parent) gets it set on every object another names, on both stores.
func TestChildrenFlagMigration(t *testing.T) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			db, _ := b.Open(t)
			require.NoError(t, db.Migrate(ctx, `CREATE TABLE verso_objects (
				id TEXT PRIMARY KEY, account TEXT NOT NULL, type TEXT NOT NULL,
				created BIGINT NOT NULL, seq BIGINT NOT NULL, body TEXT NOT NULL,
				parent TEXT NOT NULL DEFAULT '')`))
			for i, row := range [][3]string{
				{"pi_1", "payment_intent", ""},
				{"ch_1", "charge", "pi_1"},
				{"ch_2", "charge", ""},
				{"re_1", "refund", "ch_1"},
				{"re_2", "refund", "ch_1"},
				{"cus_1", "customer", ""},
			} {
				_, err := db.Exec(ctx, `INSERT INTO verso_objects (id, account, type, created, seq, body, parent) VALUES (?, 'a', ?, ?, ?, '{}', ?)`, row[0], row[1], i, i, row[2])
				require.NoError(t, err)
			}
			_, err := newObjects(ctx, db)
			require.NoError(t, err)
			assert.Equal(t, []string{"ch_1", "pi_1"}, withChildren(t, db))
		})
	}
}

// withChildren returns the ids of the objects whose has_children is set.
func withChildren(t *testing.T, db *storage.DB) []string {
	t.Helper()
	rows, err := db.Query(context.Background(), `SELECT id FROM verso_objects WHERE has_children <> 0 ORDER BY id`)
	require.NoError(t, err)
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		require.NoError(t, rows.Scan(&id))
		ids = append(ids, id)
	}
	require.NoError(t, rows.Err())
	return ids
}

// BenchmarkChildren: one query for the refunds of 100 charges, one of
// which has 6, in an account of 3,000 refunds on 500 others.
func BenchmarkChildren(b *testing.B) {
	for _, be := range storagetest.Backends() {
		b.Run(be.Name, func(b *testing.B) {
			ctx := context.Background()
			db, _ := be.Open(b)
			o, err := newObjects(ctx, db)
			if err != nil {
				b.Fatal(err)
			}
			err = db.InTx(ctx, func(tx *storage.Tx) error {
				for i := range 3000 {
					body := fmt.Sprintf(`{"id":"re_%d","object":"refund","charge":"ch_%d","amount":100}`, i, i%500)
					if err := o.insert(ctx, tx, "acct_1", "refund", fmt.Sprintf("re_%d", i), int64(i), int64(i), []byte(body)); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			if db.Dialect == storage.Postgres {
				if _, err := db.Exec(ctx, "ANALYZE verso_objects"); err != nil {
					b.Fatal(err)
				}
			}
			ids := make([]string, 100)
			for i := range ids {
				ids[i] = fmt.Sprintf("ch_%d", 1000+i)
			}
			ids[0] = "ch_1"
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				got, err := o.children(ctx, db, "acct_1", "refund", ids)
				if err != nil || len(got) != 1 || len(got["ch_1"]) != 6 {
					b.Fatal(err, len(got))
				}
			}
		})
	}
}
