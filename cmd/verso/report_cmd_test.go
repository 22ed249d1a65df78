package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/verso-api/verso/demo/api"
	"github.com/verso-api/verso/pins"
	"github.com/verso-api/verso/proxy"
	"github.com/verso-api/verso/reports"
	"github.com/verso-api/verso/server"
	"github.com/verso-api/verso/storage"
	"github.com/verso-api/verso/storage/storagetest"
	"github.com/verso-api/verso/versions"
)

// TestUpgradeReportCommand prints reports of accounts whose evidence a
// recorder put in the database, on SQLite and PostgreSQL.
func TestUpgradeReportCommand(t *testing.T) {
	tl, err := api.LoadDefaultTimeline()
	require.NoError(t, err)
	old := versions.MustParse("2014-12-22")
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			url := b.URL(t)
			db, err := storage.Open(ctx, url)
			require.NoError(t, err)
			defer db.Close()
			store, err := pins.NewSQLStore(ctx, db, nil)
			require.NoError(t, err)
			_, _, err = store.PinIfAbsent(ctx, "acct_1", old)
			require.NoError(t, err)
			salt, err := proxy.LoadSalt(ctx, db)
			require.NoError(t, err)
			hashed := proxy.AccountOf(salt, "Bearer sk_live_1")
			evidence, err := reports.NewSQLStore(ctx, db, nil)
			require.NoError(t, err)
			rec, err := reports.NewRecorder(tl, evidence, nil)
			require.NoError(t, err)
			for _, account := range []string{"acct_1", hashed} {
				x := &server.Exchange{Account: account, Version: old, Source: server.SourcePin, Method: "GET", Path: "/v1/customers/cus_1", Status: 200}
				ci := tl.ChangeIndex("customer_balance")
				x.Response.Add(ci)
				x.ResponseFields.Add(tl.FieldSlotIndex(ci, 0, "customer"))
				rec.Record(x)
			}
			require.NoError(t, rec.Flush(ctx))

			code, out, errs := runCLI(t, "", "upgrade-report", "--db", url, "--account", "acct_1")
			require.Equal(t, 0, code, errs)
			r := gjson.Parse(out)
			assert.Equal(t, "2014-12-22", r.Get("version").String(), "the account's pin")
			assert.Equal(t, tl.NewestStable().String(), r.Get("to").String())
			assert.True(t, r.Get(`items.#(id=="customer_balance").affects_you`).Bool())
			assert.Equal(t, "customer.balance", r.Get(`items.#(id=="customer_balance").evidence.fields.0.name`).String())
			assert.Equal(t, "GET /v1/customers/:id", r.Get(`items.#(id=="customer_balance").evidence.endpoints.0.name`).String())
			assert.False(t, r.Get(`items.#(id=="customer_sources").affects_you`).Bool())
			assert.Equal(t, "unknown", r.Get(`items.#(id=="payment_intent_automatic_payment_methods").affects_you`).String())

			code, out, errs = runCLI(t, "", "upgrade-report", "--db", url, "--account", "acct_1", "--to", "2019-10-17", "--format", "html")
			require.Equal(t, 0, code, errs)
			assert.Contains(t, out, "<h1>Upgrade report: <code>2014-12-22</code> to <code>2019-10-17</code></h1>")

			code, out, errs = runCLI(t, "Bearer sk_live_1\n", "upgrade-report", "--db", url, "--authorization", "-", "--default-version", "2014-12-22")
			require.Equal(t, 0, code, errs)
			assert.True(t, gjson.Get(out, `items.#(id=="customer_balance").affects_you`).Bool(), "the proxy's account, by its credentials")
			assert.Equal(t, "2014-12-22", gjson.Get(out, "version").String(), "no pin: the default version")
			assert.NotContains(t, out+errs, "sk_live")

			code, out, errs = runCLI(t, "", "upgrade-report", "--db", url, "--account", "acct_none", "--default-version", "2019-10-17")
			require.Equal(t, 0, code, errs)
			assert.Equal(t, "2019-10-17", gjson.Get(out, "version").String())
			assert.Contains(t, gjson.Get(out, "summary").String(), "No request of your account was recorded")

			for _, bad := range []struct {
				code int
				args []string
				want string
			}{
				{2, []string{"--db", url}, "give one of --account A and --authorization VALUE"},
				{2, []string{"--db", url, "--account", "acct_1", "--format", "pdf"}, "--format"},
				{1, []string{"--db", url, "--account", "acct_1", "--to", "2030-01-01"}, "unknown version"},
				{1, []string{"--db", url, "--account", "acct_1", "--to", "2014-12-22.x"}, "--to"},
			} {
				code, _, errs := runCLI(t, "", append([]string{"upgrade-report"}, bad.args...)...)
				assert.Equal(t, bad.code, code, "%v: %s", bad.args, errs)
				assert.Contains(t, errs, bad.want)
			}
			_, _, err = store.PinIfAbsent(ctx, "acct_new", tl.NewestStable())
			require.NoError(t, err)
			code, _, errs = runCLI(t, "", "upgrade-report", "--db", url, "--account", "acct_new", "--to", "2019-10-17")
			assert.Equal(t, 1, code)
			assert.Contains(t, errs, "older than")
		})
	}
}
