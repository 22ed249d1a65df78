package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/demo/api"
	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/pins"
	"github.com/verso-api/verso/storage"
	"github.com/verso-api/verso/storage/storagetest"
	"github.com/verso-api/verso/versions"
)

const demoTimeline = "../../demo/api/timeline.yaml"

// copyDemo copies the demo timeline into a temporary directory.
func copyDemo(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(demoTimeline)
	require.NoError(t, err)
	p := filepath.Join(t.TempDir(), "timeline.yaml")
	require.NoError(t, os.WriteFile(p, data, 0o644))
	return p
}

// TestRetireDemo retires each version of the demo timeline but the newest:
// the written timeline loads, lacks the version, keeps every other line, and
// its changes moved to the newer neighbour (or left with it, for the base).
// A fold that would put two colliding ops in one version is refused.
func TestRetireDemo(t *testing.T) {
	orig, err := gates.LoadFile(demoTimeline, &gates.Options{Funcs: api.Funcs()})
	require.NoError(t, err)
	list := orig.List()
	// No two neighbours of the demo timeline collide when folded (2019-12-03
	// adds customer.tax_ids and 2020-08-27 stops returning it, with
	// 2020-03-02 between them); TestRetireRefuses covers a fold that does.
	collides := map[string]string{}
	for i := 1; i < len(list); i++ {
		v, into := list[i].ID, list[i-1].ID
		t.Run(v.String(), func(t *testing.T) {
			p := copyDemo(t)
			out := filepath.Join(t.TempDir(), "out.yaml")
			code, stdout, errs := runCLI(t, "", "retire", "-f", p, "--version", v.String(), "-o", out)
			if msg, ok := collides[v.String()]; ok {
				assert.Equal(t, 1, code)
				assert.Contains(t, errs, "the timeline without "+v.String()+" is not valid (fold the changes by hand): ")
				assert.Contains(t, errs, msg)
				assert.NoFileExists(t, out)
				return
			}
			if v.String() == "2014-12-22" {
				// The base goes with the changes of 2015-02-18, among them
				// the move of cards to sources: the router still has the
				// cards routes, which would then answer at every version.
				assert.Equal(t, 1, code)
				assert.Contains(t, errs, "route GET /v1/customers/id_1/cards differs at 41 versions")
				assert.Contains(t, errs, "the new timeline no longer names this endpoint: remove its route from the application first")
				assert.Contains(t, errs, "verso retire: failed: retiring 2014-12-22 would change what other versions return (2 differences)")
				assert.NoFileExists(t, out)
				return
			}
			require.Equal(t, 0, code, "stderr: %s", errs)
			assert.Contains(t, stdout, "verso: "+v.String()+" folds into "+into.String()+"; ")
			assert.Contains(t, stdout, "answer alike at the "+strconv.Itoa(len(list)-1)+" other versions")
			tl, err := gates.LoadFile(out, &gates.Options{Funcs: api.Funcs()})
			require.NoError(t, err)
			assert.False(t, tl.Versions().Contains(v))
			assert.Equal(t, len(list)-1, tl.Versions().Len())
			var got []string
			for _, x := range tl.List() {
				if x.ID == into {
					for _, c := range x.Changes {
						got = append(got, c.ID)
					}
				}
			}
			var want []string
			if i < len(list)-1 {
				for _, c := range list[i].Changes {
					want = append(want, c.ID)
				}
				for _, c := range list[i-1].Changes {
					want = append(want, c.ID)
				}
			}
			assert.Equal(t, want, got, "the retired version's changes come first in its neighbour's")
			before, _ := os.ReadFile(p)
			after, _ := os.ReadFile(out)
			assert.Subset(t, strings.Split(string(before), "\n"), strings.Split(string(after), "\n"), "no line is rewritten")
		})
	}
}

func TestRetireRefuses(t *testing.T) {
	dir := t.TempDir()
	collide := filepath.Join(dir, "collide.yaml")
	require.NoError(t, os.WriteFile(collide, []byte(`versions:
  - version: 2024-01-01
    changes:
      - id: b
        description: d
        resources: [customer]
        ops:
          - rename: {field: c, was: b}
  - version: 2020-01-01
    changes:
      - id: a
        description: d
        resources: [customer]
        ops:
          - rename: {field: b, was: a}
  - version: 2015-01-01
`), 0o644))
	before, _ := os.ReadFile(collide)
	tests := []struct {
		name string
		args []string
		code int
		errs string
	}{
		{"newest", []string{"retire", "-f", copyDemo(t), "--version", "9999-12-31.preview"}, 1, "is the newest version: there is no newer version to move its clients to"},
		{"unknown", []string{"retire", "-f", copyDemo(t), "--version", "2018-01-01"}, 1, "--version: unknown version 2018-01-01"},
		{"no version", []string{"retire", "-f", copyDemo(t)}, 2, "missing --version V"},
		{"move-pins without db", []string{"retire", "-f", copyDemo(t), "--version", "2014-12-22", "--move-pins"}, 2, "--move-pins goes with --db"},
		{"folding collides", []string{"retire", "-f", collide, "--version", "2020-01-01"}, 1, "the timeline without 2020-01-01 is not valid (fold the changes by hand): "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errs := runCLI(t, "", tt.args...)
			assert.Equal(t, tt.code, code, "stderr: %s", errs)
			assert.Contains(t, errs, tt.errs)
		})
	}
	after, _ := os.ReadFile(collide)
	assert.Equal(t, string(before), string(after), "nothing written when refused")
}

// TestRetirePins retires a version with accounts pinned to it, on SQLite and
// PostgreSQL: refused without --move-pins, then the accounts move in one
// transaction, recorded in their pin history, and verso pins shows it.
// TestRetireRefusesTraffic: a version that served requests no pin move
// reaches (accounts sending it in the version header, requests with no
// account) is not retired without --allow-traffic.
func TestRetireRefusesTraffic(t *testing.T) {
	v := versions.MustParse("2017-01-27")
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			url := b.URL(t)
			db, err := storage.Open(ctx, url)
			require.NoError(t, err)
			defer db.Close()
			store, err := pins.NewSQLStore(ctx, db, nil)
			require.NoError(t, err)
			_, _, err = store.PinIfAbsent(ctx, "acct_pinned", v)
			require.NoError(t, err)
			require.NoError(t, store.CountRequests(ctx, []pins.Served{
				{Version: v, Account: "acct_pinned", Requests: 5},
				{Version: v, Account: "acct_header", Requests: 3},
				{Version: v, Requests: 2},
			}))
			p := copyDemo(t)
			code, _, errs := runCLI(t, "", "retire", "-f", p, "--version", "2017-01-27", "--db", url, "--move-pins")
			assert.Equal(t, 1, code)
			assert.Contains(t, errs, "2017-01-27 served requests in the last 720h that no pin move reaches: 3 from 1 accounts not pinned to it")
			assert.Contains(t, errs, "and 2 with no account")
			pin, err := store.Get(ctx, "acct_pinned")
			require.NoError(t, err)
			assert.Equal(t, v, pin.Version, "nothing moved when refused")

			code, out, errs := runCLI(t, "", "retire", "-f", p, "--version", "2017-01-27", "--db", url, "--move-pins", "--allow-traffic")
			require.Equal(t, 0, code, errs)
			assert.Contains(t, out, "verso: moved 1 accounts from 2017-01-27 to 2019-10-17\n")
		})
	}
}

func TestRetirePins(t *testing.T) {
	v, into := versions.MustParse("2017-01-27"), versions.MustParse("2019-10-17")
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			url := b.URL(t)
			db, err := storage.Open(ctx, url)
			require.NoError(t, err)
			defer db.Close()
			store, err := pins.NewSQLStore(ctx, db, nil)
			require.NoError(t, err)
			for a, pv := range map[string]versions.Version{"acct_1": v, "acct_2": v, "acct_3": into} {
				_, _, err := store.PinIfAbsent(ctx, a, pv)
				require.NoError(t, err)
			}
			require.NoError(t, store.CountRequests(ctx, []pins.Served{
				{Version: v, Account: "acct_1", Requests: 4}, {Version: v, Account: "acct_2", Requests: 3}, {Version: into, Requests: 2},
			}))

			code, out, errs := runCLI(t, "", "pins", "--db", url)
			require.Equal(t, 0, code, errs)
			assert.Contains(t, out, "REQUESTS (24h)")
			assert.Regexp(t, `(?m)^2017-01-27\s+2\s+7\s+2\s*$`, out)
			assert.Regexp(t, `(?m)^2019-10-17\s+1\s+2\s+0\s*$`, out)
			assert.Regexp(t, `(?m)^2016-07-06\s+0\s+0\s+0\s+unused: can be retired$`, out)
			assert.Regexp(t, `(?m)^total\s+3\s+9\s*$`, out)
			code, out, errs = runCLI(t, "", "pins", "--db", url, "--version", "2017-01-27")
			require.Equal(t, 0, code, errs)
			assert.Regexp(t, `(?s)ACCOUNT\s+REQUESTS IN 2017-01-27 \(24h\)\nacct_1\s+4\nacct_2\s+3\n$`, out)

			p := copyDemo(t)
			before, _ := os.ReadFile(p)
			code, _, errs = runCLI(t, "", "retire", "-f", p, "--version", "2017-01-27", "--db", url)
			assert.Equal(t, 1, code)
			assert.Contains(t, errs, "2 accounts are pinned to 2017-01-27 (7 requests in the last 720h): pass --move-pins to move them to 2019-10-17")
			after, _ := os.ReadFile(p)
			assert.Equal(t, string(before), string(after), "nothing written when refused")

			code, out, errs = runCLI(t, "", "retire", "-f", p, "--version", "2017-01-27", "--db", url, "--move-pins")
			require.Equal(t, 0, code, errs)
			assert.Contains(t, out, "verso: moved 2 accounts from 2017-01-27 to 2019-10-17\n")
			assert.Contains(t, out, "verso: wrote "+p+"\n")
			for _, a := range []string{"acct_1", "acct_2"} {
				pin, err := store.Get(ctx, a)
				require.NoError(t, err)
				assert.Equal(t, into, pin.Version)
				h, err := store.History(ctx, a)
				require.NoError(t, err)
				require.Len(t, h, 2)
				assert.Equal(t, pins.Retired, h[1].Kind)
				assert.Equal(t, v, h[1].From)
				assert.Equal(t, into, h[1].To)
				assert.WithinDuration(t, time.Now(), h[1].At, time.Hour)
			}
			tl, err := gates.LoadFile(p, &gates.Options{Funcs: api.Funcs()})
			require.NoError(t, err)
			assert.False(t, tl.Versions().Contains(v))

			code, out, _ = runCLI(t, "", "pins", "--db", url, "-f", p)
			require.Equal(t, 0, code)
			assert.Regexp(t, `(?m)^2019-10-17\s+3\s+2\s+0\s*$`, out)
			assert.Regexp(t, `(?m)^2017-01-27\s+0\s+7\s+2\s+not on the timeline$`, out, "requests counted before the retirement still show")
		})
	}
}
