package proxy_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/verso-api/verso/proxy"
	"github.com/verso-api/verso/reports"
	"github.com/verso-api/verso/server"
	"github.com/verso-api/verso/storage"
	"github.com/verso-api/verso/storage/storagetest"
	"github.com/verso-api/verso/versions"
)

// TestUpgradeReportThroughProxy runs a client of the Python and the
// Node.js upstream, pinned to the base version, through the proxy
// recording the changes that fire, on SQLite and PostgreSQL, and reads its
// upgrade report from the proxy's pin endpoints.
func TestUpgradeReportThroughProxy(t *testing.T) {
	for _, u := range upstreams {
		t.Run(u.name, func(t *testing.T) {
			up := startUpstream(t, u.interpreter, u.script, u.install)
			for _, b := range storagetest.Backends() {
				t.Run(b.Name, func(t *testing.T) { testUpgradeReport(t, up.String(), b) })
			}
		})
	}
}

func testUpgradeReport(t *testing.T, upstream string, b storagetest.Backend) {
	ctx := context.Background()
	dbURL := b.URL(t)
	store, salt := sqlPins(t, dbURL)
	db, err := storage.Open(ctx, dbURL)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	evidence, err := reports.NewSQLStore(ctx, db, nil)
	require.NoError(t, err)
	engine := loadEngine(t)
	recorder, err := reports.NewRecorder(engine.Timeline(), evidence, nil)
	require.NoError(t, err)
	reporter, err := reports.NewReporter(engine.Timeline(), evidence, nil)
	require.NoError(t, err)
	_, base := startProxy(t, proxy.Config{
		Config:    server.Config{Engine: engine, Pins: store, Fired: recorder, DefaultVersion: versions.MustParse(v2022)},
		Upstream:  mustURL(t, upstream),
		Salt:      salt,
		AuthCheck: authCheck,
		Reports:   reporter,
	})
	key := map[string]string{"Authorization": "Bearer sk_test_reports"}
	with := func(h map[string]string, kv ...string) map[string]string {
		out := map[string]string{}
		for k, v := range h {
			out[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return out
	}

	created := do(t, base, request{method: "POST", path: "/v1/tasks", header: key, ctype: jsonType, body: `{"name":"Write the report","priority":2}`})
	require.Equal(t, 200, created.status, created.body)
	require.Equal(t, v2022, created.header.Get("Acme-Version"), "pinned to the default version")
	require.Equal(t, "todo", created.get("status").String())
	id := created.get("id").String()
	read := do(t, base, request{method: "GET", path: "/v1/tasks/" + id, header: key})
	require.Equal(t, 200, read.status, read.body)
	tried := do(t, base, request{method: "GET", path: "/v1/tasks/" + id, header: with(key, "Acme-Version", v2024)})
	require.Equal(t, 200, tried.status, tried.body)
	require.Equal(t, "open", tried.get("status").String())
	refused := do(t, base, request{method: "GET", path: "/v1/tasks/" + id, header: map[string]string{"Authorization": "Bearer nope"}})
	require.Equal(t, 401, refused.status, refused.body)
	require.NoError(t, recorder.Flush(ctx))

	none, err := evidence.Evidence(ctx, proxy.AccountOf(salt, "Bearer nope"))
	require.NoError(t, err)
	assert.Empty(t, none.Traffic, "credentials the upstream refused record nothing")

	r := do(t, base, request{method: "GET", path: "/v1/account/api_version/upgrade_report", header: key})
	require.Equal(t, 200, r.status, r.body)
	assert.Equal(t, "upgrade_report", r.get("object").String())
	assert.Equal(t, v2022, r.get("version").String())
	assert.Equal(t, v2024, r.get("to").String())
	assert.Equal(t, proxy.AccountOf(salt, "Bearer sk_test_reports"), r.get("account").String(), "the proxy's account: a keyed hash")
	affects := map[string]any{}
	for _, it := range r.get("items").Array() {
		var v any
		require.NoError(t, json.Unmarshal([]byte(it.Get("affects_you").Raw), &v))
		affects[it.Get("id").String()] = v
	}
	assert.Equal(t, map[string]any{"task_title": true, "task_status_open": true, "task_priority_as_string": true, "task_labels": true,
		"task_owner_embedded": false}, affects, "the client's tasks have no owner")
	title := r.get(`items.#(id=="task_title")`)
	assert.Equal(t, int64(1), title.Get("evidence.requests").Int(), "the task created with name")
	assert.Equal(t, int64(2), title.Get("evidence.responses").Int())
	assert.ElementsMatch(t, []any{"POST /v1/tasks", "GET /v1/tasks/:id"}, names(title.Get("evidence.endpoints")), "templates, never ids")
	assert.Equal(t, int64(1), title.Get("tried_at_target").Int(), "the read at the newest version")
	assert.Equal(t, int64(1), r.get("traffic.at_target.requests").Int())
	assert.NotContains(t, r.body, id)
	assert.NotContains(t, r.body, "Write the report")
	assert.Equal(t, "3 of 4 breaking changes touch your integration. You already sent 1 request at "+v2024+".", r.get("summary").String(), "task_labels is not breaking")

	page := do(t, base, request{method: "GET", path: "/v1/account/api_version/upgrade_report?format=html", header: key})
	require.Equal(t, 200, page.status, page.body)
	assert.Contains(t, page.body, "<h1>Upgrade report")

	anon := do(t, base, request{method: "GET", path: "/v1/account/api_version/upgrade_report"})
	assert.Equal(t, 401, anon.status, "the upstream's answer to the auth check: %s", anon.body)
	bad := do(t, base, request{method: "GET", path: "/v1/account/api_version/upgrade_report?to=2001-01-01", header: key})
	assert.Equal(t, 400, bad.status, bad.body)
	assert.Equal(t, "to", bad.get("error.param").String())
}

// names returns the names of a report's list of names and counts.
func names(list gjson.Result) []any {
	var out []any
	for _, e := range list.Array() {
		out = append(out, e.Get("name").String())
	}
	return out
}
