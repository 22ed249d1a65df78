package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/pins"
	"github.com/verso-api/verso/proxy"
	"github.com/verso-api/verso/storage"
	"github.com/verso-api/verso/storage/storagetest"
	"github.com/verso-api/verso/versions"
)

// TestPinsSetImport sets and imports pins on SQLite and PostgreSQL: plain
// accounts, and the proxy's accounts named by Authorization values, of
// which only the keyed hash is stored.
func TestPinsSetImport(t *testing.T) {
	old, older := versions.MustParse("2019-10-17"), versions.MustParse("2017-01-27")
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			url := b.URL(t)
			db, err := storage.Open(ctx, url)
			require.NoError(t, err)
			defer db.Close()
			store, err := pins.NewSQLStore(ctx, db, nil)
			require.NoError(t, err)
			_, _, err = store.PinIfAbsent(ctx, "acct_new", versions.MustParse("2024-09-30.acacia"))
			require.NoError(t, err)

			code, out, errs := runCLI(t, "", "pins", "set", "--db", url, "--account", "acct_new", "--version", "2019-10-17")
			require.Equal(t, 0, code, errs)
			assert.Equal(t, "verso: moved acct_new from 2024-09-30.acacia to 2019-10-17\n", out)
			code, out, errs = runCLI(t, "", "pins", "set", "--db", url, "--account", "acct_none", "--version", "2017-01-27")
			require.Equal(t, 0, code, errs)
			assert.Equal(t, "verso: pinned acct_none to 2017-01-27\n", out)
			code, out, _ = runCLI(t, "", "pins", "set", "--db", url, "--account", "acct_none", "--version", "2017-01-27")
			require.Equal(t, 0, code)
			assert.Equal(t, "verso: acct_none is already pinned to 2017-01-27\n", out)
			h, err := store.History(ctx, "acct_new")
			require.NoError(t, err)
			require.Len(t, h, 2)
			assert.Equal(t, pins.Change{Account: "acct_new", Kind: pins.Set, From: versions.MustParse("2024-09-30.acacia"), To: old, At: h[1].At}, h[1])

			// The proxy's accounts, by credentials, from the command line
			// and from standard input.
			code, out, errs = runCLI(t, "Bearer sk_live_stdin\n", "pins", "set", "--db", url, "--authorization", "-", "--version", "2019-10-17")
			require.Equal(t, 0, code, errs)
			assert.NotContains(t, out, "sk_live")
			salt, err := proxy.LoadSalt(ctx, db)
			require.NoError(t, err)
			p, err := store.Get(ctx, proxy.AccountOf(salt, "Bearer sk_live_stdin"))
			require.NoError(t, err)
			assert.Equal(t, old, p.Version)

			csvFile := filepath.Join(t.TempDir(), "keys.csv")
			require.NoError(t, os.WriteFile(csvFile, []byte("account,version\nBearer sk_live_a, 2019-10-17\n\"Bearer sk_live_b,with comma\",2017-01-27\nBearer sk_live_stdin,2017-01-27\n"), 0o600))
			code, out, errs = runCLI(t, "", "pins", "import", "--db", url, "--authorization", csvFile)
			require.Equal(t, 0, code, errs)
			assert.Equal(t, "verso: imported 3 lines: 3 pins created or moved, the others already at their version\n", out)
			for auth, v := range map[string]versions.Version{"Bearer sk_live_a": old, "Bearer sk_live_b,with comma": older, "Bearer sk_live_stdin": older} {
				p, err := store.Get(ctx, proxy.AccountOf(salt, auth))
				require.NoError(t, err, auth)
				assert.Equal(t, v, p.Version, auth)
			}
			for _, q := range []string{"SELECT account FROM verso_pins", "SELECT account FROM verso_pin_history"} {
				rows, err := db.Query(ctx, q)
				require.NoError(t, err)
				for rows.Next() {
					var a string
					require.NoError(t, rows.Scan(&a))
					assert.NotContains(t, a, "sk_live", "no credential is stored")
				}
				require.NoError(t, rows.Err())
				rows.Close()
			}

			// Plain accounts from standard input; one bad line and none is
			// imported.
			code, out, errs = runCLI(t, "acct_x,2019-10-17\nacct_y,2017-01-27\n", "pins", "import", "--db", url, "-")
			require.Equal(t, 0, code, errs)
			assert.Contains(t, out, "imported 2 lines: 2 pins")
			for _, c := range []struct{ name, in, want string }{
				{"unknown version", "acct_z,2019-10-17\nacct_w,2020-02-30\n", "line 2 (account \"acct_w\")"},
				{"a missing column", "acct_z,2019-10-17\nacct_w\n", "line 2: not account,version"},
				{"no account", "acct_z,2019-10-17\n,2019-10-17\n", "line 2: no account"},
				{"empty", "account,version\n", "the file pins no account"},
				{"a line too long", "acct_z," + strings.Repeat("9", 5000) + "\n", "too long"},
			} {
				t.Run(c.name, func(t *testing.T) {
					code, _, errs := runCLI(t, c.in, "pins", "import", "--db", url, "-")
					assert.Equal(t, 1, code)
					assert.Contains(t, errs, c.want)
					_, err := store.Get(ctx, "acct_z")
					assert.ErrorIs(t, err, pins.ErrNotPinned, "all or nothing")
				})
			}
			code, _, errs = runCLI(t, "Bearer sk_live_secret,1999-01-01\n", "pins", "import", "--db", url, "--authorization", "-")
			assert.Equal(t, 1, code)
			assert.Contains(t, errs, "line 1 (its Authorization value)")
			assert.NotContains(t, errs, "sk_live_secret", "a credential is never printed")

			code, _, errs = runCLI(t, "", "pins", "set", "--db", url, "--account", "a", "--authorization", "b", "--version", "2019-10-17")
			assert.Equal(t, 2, code)
			assert.Contains(t, errs, "give one of --account A and --authorization VALUE")
		})
	}
}

// FuzzReadAssignments: an import file, whatever it holds, is refused with
// an error or read into assignments each naming an account and a version
// of the timeline; a line never runs past maxImportLine.
func FuzzReadAssignments(f *testing.F) {
	for _, s := range []string{"account,version\nacct_1,2019-10-17\n", "a,2019-10-17\r\nb, 2017-01-27", "\"a,b\",2019-10-17\n", "a\n", ",\n", "a,b,c\n", "\"unterminated,2019-10-17\n", strings.Repeat("x", 5000) + ",2019-10-17\n"} {
		f.Add(s)
	}
	tl, err := pinsTimeline(&timelineArg{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		as, err := readAssignments(strings.NewReader(s), tl, true)
		if err != nil {
			return
		}
		for _, a := range as {
			if a.Account == "" || !tl.Versions().Contains(a.Version) || len(a.Account) > maxImportLine {
				t.Fatalf("%q: %+v", s, a)
			}
		}
	})
}
