package proxy_test

import (
	"bufio"
	"compress/gzip"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/pins"
	"github.com/verso-api/verso/proxy"
	"github.com/verso-api/verso/server"
	"github.com/verso-api/verso/storage"
	"github.com/verso-api/verso/storage/storagetest"
	"github.com/verso-api/verso/transform"
	"github.com/verso-api/verso/versions"
)

// The versions of testdata/timeline.yaml.
const (
	v2024 = "2024-06-01" // the newest: the upstream's only version
	v2023 = "2023-03-01"
	v2022 = "2022-01-01" // the base
)

// upstreams are the programs the end-to-end tests run the proxy in front
// of: the same task API, knowing only the newest version, in Python and in
// Node.js (no framework).
var upstreams = []struct {
	name, interpreter, script, install string
}{
	{"python", "python3", "testdata/upstream.py", ".ci/run installs it"},
	{"node", "node", "testdata/upstream.js", ".ci/run installs nodejs"},
}

// startUpstream starts an upstream program and returns its URL. It skips t
// when the interpreter is not installed.
func startUpstream(t *testing.T, interpreter, script, install string) *url.URL {
	t.Helper()
	bin, err := exec.LookPath(interpreter)
	if err != nil {
		t.Skipf("%s is not installed: skipping the end-to-end test against %s (%s)", interpreter, script, install)
	}
	cmd := exec.Command(bin, script)
	cmd.Stderr = testLog{t}
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err, "the upstream did not start")
	port, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	require.True(t, ok, "unexpected first line from the upstream: %q", line)
	u, err := url.Parse("http://127.0.0.1:" + port)
	require.NoError(t, err)
	return u
}

func loadEngine(t testing.TB) *transform.Engine {
	t.Helper()
	tl, err := gates.LoadFile("testdata/timeline.yaml", nil)
	require.NoError(t, err)
	return transform.New(tl, nil)
}

// startProxy serves a proxy built on cfg over real HTTP on 127.0.0.1.
func startProxy(t *testing.T, cfg proxy.Config) (*proxy.Proxy, string) {
	t.Helper()
	if cfg.Engine == nil {
		cfg.Engine = loadEngine(t)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(testLog{t}, nil))
	}
	p, err := cfg.Handler()
	require.NoError(t, err)
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return p, srv.URL
}

// testLog writes the proxy's log to the test's.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// sqlPins opens the pin store of a backend, with the salt kept in its
// database.
func sqlPins(t *testing.T, u string) (*pins.SQLStore, []byte) {
	t.Helper()
	db, err := storage.Open(context.Background(), u)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	store, err := pins.NewSQLStore(context.Background(), db, nil)
	require.NoError(t, err)
	salt, err := proxy.LoadSalt(context.Background(), db)
	require.NoError(t, err)
	return store, salt
}

type response struct {
	status int
	header http.Header
	body   string
}

func (r response) get(path string) gjson.Result { return gjson.Get(r.body, path) }

// request is one client request through the proxy.
type request struct {
	method, path string
	header       map[string]string
	ctype, body  string
}

// noDecompress leaves Content-Encoding to the test.
var noDecompress = &http.Client{Transport: &http.Transport{DisableCompression: true}, Timeout: 30 * time.Second}

func do(t *testing.T, base string, r request) response {
	t.Helper()
	req, err := http.NewRequest(r.method, base+r.path, strings.NewReader(r.body))
	require.NoError(t, err)
	if r.ctype != "" {
		req.Header.Set("Content-Type", r.ctype)
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	res, err := noDecompress.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	var body io.Reader = res.Body
	if res.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(res.Body)
		require.NoError(t, err)
		body = zr
	}
	b, err := io.ReadAll(body)
	require.NoError(t, err)
	return response{status: res.StatusCode, header: res.Header, body: string(b)}
}

const (
	jsonType = "application/json"
	formType = "application/x-www-form-urlencoded"
)

// authCheck is the auth check of the proxies in front of the test
// upstreams: GET /v1/me answers 2xx only for accepted credentials.
const authCheck = "GET /v1/me"

// at returns the headers of a client on version v.
func at(v string) map[string]string { return map[string]string{"Acme-Version": v} }

// TestEndToEnd runs the proxy in front of the Python and the Node.js
// upstream, with its pins on SQLite and on PostgreSQL, over real HTTP.
func TestEndToEnd(t *testing.T) {
	for _, u := range upstreams {
		t.Run(u.name, func(t *testing.T) {
			up := startUpstream(t, u.interpreter, u.script, u.install)
			for _, b := range storagetest.Backends() {
				t.Run(b.Name, func(t *testing.T) {
					dbURL := b.URL(t)
					store, salt := sqlPins(t, dbURL)
					p, base := startProxy(t, proxy.Config{Config: server.Config{Pins: store}, Upstream: up, Salt: salt, AuthCheck: authCheck})
					t.Run("versions", func(t *testing.T) { testVersions(t, base) })
					t.Run("pins", func(t *testing.T) { testPins(t, p, base, store, salt, dbURL, up) })
					t.Run("headers", func(t *testing.T) { testHeaders(t, base) })
					t.Run("collapsed owner", func(t *testing.T) { testCollapsedOwner(t, base) })
					t.Run("bad input", func(t *testing.T) { testBadInput(t, base, up) })
					t.Run("faults", func(t *testing.T) { testFaults(t, up, store, salt) })
					t.Run("existing clients", func(t *testing.T) { testExistingClients(t, up, dbURL) })
				})
			}
		})
	}
}

// testVersions creates, reads and lists tasks from clients on the three
// versions, with JSON and form bodies.
func testVersions(t *testing.T, base string) {
	cases := []struct {
		version     string
		ctype, body string
		// want is the task as the client sees it, with ID for its id.
		want string
		// filter lists the client's tasks by status, in its version.
		filter string
	}{
		{v2022, jsonType, `{"name":"Write docs","priority":3,"status":"todo"}`,
			`{"object":"task","id":"ID","name":"Write docs","priority":3,"status":"todo"}`, "todo"},
		{v2022, formType, `name=Write+docs&priority=3&status=todo`,
			`{"object":"task","id":"ID","name":"Write docs","priority":3,"status":"todo"}`, "todo"},
		{v2023, jsonType, `{"title":"Write docs","priority":3,"status":"open"}`,
			`{"object":"task","id":"ID","title":"Write docs","priority":3,"status":"open"}`, "open"},
		{v2023, formType, `title=Write+docs&priority=3`,
			`{"object":"task","id":"ID","title":"Write docs","priority":3,"status":"open"}`, "open"},
		{v2024, jsonType, `{"title":"Write docs","priority":"3","status":"open","labels":["home"]}`,
			`{"object":"task","id":"ID","title":"Write docs","priority":"3","status":"open","labels":["home"]}`, "open"},
		{v2024, formType, `title=Write+docs&priority=3&labels[]=home`,
			`{"object":"task","id":"ID","title":"Write docs","priority":"3","status":"open","labels":["home"]}`, "open"},
	}
	for _, c := range cases {
		t.Run(c.version+" "+c.ctype, func(t *testing.T) {
			created := do(t, base, request{method: "POST", path: "/v1/tasks", header: at(c.version), ctype: c.ctype, body: c.body})
			require.Equal(t, 200, created.status, created.body)
			assert.Equal(t, []string{c.version}, created.header.Values("Acme-Version"), "the version served, once")
			id := created.get("id").String()
			require.NotEmpty(t, id)
			want := strings.Replace(c.want, `"ID"`, `"`+id+`"`, 1)
			assert.JSONEq(t, want, created.body, "create")

			got := do(t, base, request{method: "GET", path: "/v1/tasks/" + id, header: at(c.version)})
			require.Equal(t, 200, got.status, got.body)
			assert.JSONEq(t, want, got.body, "retrieve")

			// The query is walked forward (todo → open) and every task of
			// the list walked back.
			list := do(t, base, request{method: "GET", path: "/v1/tasks?status=" + c.filter, header: at(c.version)})
			require.Equal(t, 200, list.status, list.body)
			var found bool
			for _, task := range list.get("data").Array() {
				assert.Equal(t, c.filter, task.Get("status").String())
				if task.Get("id").String() == id {
					found = true
					assert.JSONEq(t, want, task.Raw, "in the list")
				}
			}
			assert.True(t, found, "the task is listed: %s", list.body)

			// An update in the client's version.
			upd := map[string]string{v2022: `{"name":"Ship docs"}`, v2023: `{"title":"Ship docs"}`, v2024: `{"title":"Ship docs"}`}[c.version]
			changed := do(t, base, request{method: "POST", path: "/v1/tasks/" + id, header: at(c.version), ctype: jsonType, body: upd})
			require.Equal(t, 200, changed.status, changed.body)
			assert.JSONEq(t, strings.Replace(want, "Write docs", "Ship docs", 1), changed.body, "update")
		})
	}
}

// testCollapsedOwner checks a change declared without Go: the owner of a
// task was its id before 2024-06-01, and is the user object since; old
// clients send and see the id, the upstream takes owner_id.
func testCollapsedOwner(t *testing.T, base string) {
	created := do(t, base, request{method: "POST", path: "/v1/tasks", header: at(v2022), ctype: formType, body: "name=Owned&priority=1&owner=usr_1"})
	require.Equal(t, 200, created.status, created.body)
	assert.Equal(t, "usr_1", created.get("owner").String(), created.body)
	id := created.get("id").String()

	now := do(t, base, request{method: "GET", path: "/v1/tasks/" + id, header: at(v2024)})
	require.Equal(t, 200, now.status, now.body)
	assert.JSONEq(t, `{"object":"user","id":"usr_1","name":"Ann"}`, now.get("owner").Raw)

	moved := do(t, base, request{method: "POST", path: "/v1/tasks/" + id, header: at(v2023), ctype: jsonType, body: `{"owner":"usr_2"}`})
	require.Equal(t, 200, moved.status, moved.body)
	assert.Equal(t, "usr_2", moved.get("owner").String(), moved.body)
	list := do(t, base, request{method: "GET", path: "/v1/tasks?status=todo", header: at(v2022)})
	require.Equal(t, 200, list.status, list.body)
	for _, task := range list.get("data").Array() {
		if task.Get("id").String() == id {
			assert.Equal(t, "usr_2", task.Get("owner").String(), "walked back in lists too")
		}
	}

	now = do(t, base, request{method: "POST", path: "/v1/tasks/" + id, header: at(v2024), ctype: jsonType, body: `{"owner_id":"usr_1"}`})
	require.Equal(t, 200, now.status, now.body)
	assert.Equal(t, "Ann", now.get("owner.name").String())

	both := do(t, base, request{method: "POST", path: "/v1/tasks/" + id, header: at(v2022), ctype: jsonType, body: `{"owner":"usr_1","owner_id":"usr_2"}`})
	assert.Equal(t, 400, both.status, both.body)
	assert.Equal(t, "parameters_exclusive", both.get("error.code").String(), both.body)
	unknown := do(t, base, request{method: "POST", path: "/v1/tasks/" + id, header: at(v2022), ctype: jsonType, body: `{"owner":"usr_9"}`})
	assert.Equal(t, 400, unknown.status, unknown.body)
	assert.Equal(t, "owner_id", unknown.get("error.param").String(), "the upstream's own error, about the field it knows")
}

// testPins checks the pin of an account taken from its Authorization
// header: pinned on its first request, upgraded, rolled back, kept across
// a restart, never stored in clear.
func testPins(t *testing.T, p *proxy.Proxy, base string, store pins.Store, salt []byte, dbURL string, up *url.URL) {
	ctx := context.Background()
	keyA, keyB := "Bearer sk_test_alice_0123456789", "Bearer sk_test_bob_0123456789"
	authA, authB := map[string]string{"Authorization": keyA}, map[string]string{"Authorization": keyB}
	accountOf := func(auth string) string {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", auth)
		a, err := p.Account(r)
		require.NoError(t, err)
		return a
	}
	acctA, acctB := accountOf(keyA), accountOf(keyB)
	require.NotEqual(t, acctA, acctB)

	// B's first request pins it to the newest version.
	first := do(t, base, request{method: "GET", path: "/v1/tasks", header: authB})
	require.Equal(t, 200, first.status, first.body)
	assert.Equal(t, v2024, first.header.Get("Acme-Version"))
	pb, err := store.Get(ctx, acctB)
	require.NoError(t, err)
	assert.Equal(t, v2024, pb.Version.String())

	// A integrated against the base version.
	_, _, err = store.PinIfAbsent(ctx, acctA, versions.MustParse(v2022))
	require.NoError(t, err)
	created := do(t, base, request{method: "POST", path: "/v1/tasks", header: authA, ctype: formType, body: "name=Pinned&priority=2&status=todo"})
	require.Equal(t, 200, created.status, created.body)
	assert.Equal(t, v2022, created.header.Get("Acme-Version"))
	assert.Equal(t, "Pinned", created.get("name").String())
	assert.Equal(t, int64(2), created.get("priority").Int())
	id := created.get("id").String()

	pin := do(t, base, request{method: "GET", path: "/v1/account/api_version", header: authA})
	require.Equal(t, 200, pin.status, pin.body)
	assert.Equal(t, v2022, pin.get("version").String())
	assert.Equal(t, `["2024-06-01","2023-03-01","2022-01-01"]`, pin.get("supported_versions").Raw)

	upg := do(t, base, request{method: "POST", path: "/v1/account/api_version", header: authA, ctype: formType, body: "version=" + v2023})
	require.Equal(t, 200, upg.status, upg.body)
	assert.Equal(t, v2023, upg.get("version").String())
	assert.Equal(t, v2022, upg.get("previous_version").String())
	after := do(t, base, request{method: "GET", path: "/v1/tasks/" + id, header: authA})
	assert.Equal(t, v2023, after.header.Get("Acme-Version"))
	assert.Equal(t, "Pinned", after.get("title").String(), after.body)
	assert.Equal(t, "open", after.get("status").String(), "todo is open since 2023-03-01")
	down := do(t, base, request{method: "POST", path: "/v1/account/api_version", header: authA, ctype: jsonType, body: `{"version":"` + v2022 + `"}`})
	assert.Equal(t, 400, down.status, "an upgrade only moves forward")
	assert.Equal(t, "parameter_invalid", down.get("error.code").String())

	rb := do(t, base, request{method: "POST", path: "/v1/account/api_version/rollback", header: authA})
	require.Equal(t, 200, rb.status, rb.body)
	assert.Equal(t, v2022, rb.get("version").String())
	kinds := []string{}
	for _, h := range rb.get("history").Array() {
		kinds = append(kinds, h.Get("kind").String())
	}
	assert.Equal(t, []string{"pin", "upgrade", "rollback"}, kinds)

	// A header beats the pin, and leaves it alone.
	hdr := do(t, base, request{method: "GET", path: "/v1/tasks/" + id, header: map[string]string{"Authorization": keyA, "Acme-Version": v2024}})
	assert.Equal(t, v2024, hdr.header.Get("Acme-Version"))
	assert.Equal(t, "Pinned", hdr.get("title").String())

	// The pin endpoints need credentials the upstream accepts: its own 401
	// or 403 is the answer otherwise, and nothing is read or moved.
	for _, c := range []struct {
		auth   string
		status int
		code   string
	}{
		{"", 401, "invalid_api_key"},
		{"Bearer not_a_key", 401, "invalid_api_key"},
		{"Bearer sk_test_forbidden_1", 403, "forbidden"},
	} {
		h := map[string]string{}
		if c.auth != "" {
			h["Authorization"] = c.auth
		}
		for _, m := range []string{"GET", "POST"} {
			r := do(t, base, request{method: m, path: "/v1/account/api_version", header: h, ctype: formType, body: "version=" + v2024})
			assert.Equal(t, c.status, r.status, r.body)
			assert.Equal(t, c.code, r.get("error.code").String(), r.body)
		}
		if c.status == 401 {
			assert.Equal(t, "Bearer", do(t, base, request{method: "GET", path: "/v1/account/api_version", header: h}).header.Get("Www-Authenticate"))
		}
	}
	pa, err := store.Get(ctx, acctA)
	require.NoError(t, err)
	assert.Equal(t, v2022, pa.Version.String(), "nothing moved")

	// Without an auth check the proxy does not answer them: the upstream
	// does, like any other request.
	_, noCheck := startProxy(t, proxy.Config{Config: server.Config{Pins: store}, Upstream: up, Salt: salt})
	r := do(t, noCheck, request{method: "GET", path: "/v1/account/api_version", header: authA})
	assert.Equal(t, 404, r.status, r.body)
	assert.Equal(t, "resource_missing", r.get("error.code").String())

	// Only keyed hashes of the credentials are stored.
	db, err := storage.Open(ctx, dbURL)
	require.NoError(t, err)
	defer db.Close()
	for _, q := range []string{"SELECT account FROM verso_pins", "SELECT account FROM verso_pin_history"} {
		rows, err := db.Query(ctx, q)
		require.NoError(t, err)
		n := 0
		for rows.Next() {
			var a string
			require.NoError(t, rows.Scan(&a))
			assert.Regexp(t, `^auth_[0-9a-f]{32}$`, a)
			assert.NotContains(t, a, "sk_test")
			n++
		}
		require.NoError(t, rows.Err())
		rows.Close()
		assert.NotZero(t, n, q)
	}

	// A second proxy on the same database (a restart) finds A's pin.
	store2, salt2 := sqlPins(t, dbURL)
	_, base2 := startProxy(t, proxy.Config{Config: server.Config{Pins: store2}, Upstream: up, Salt: salt2, AuthCheck: authCheck})
	again := do(t, base2, request{method: "GET", path: "/v1/tasks/" + id, header: authA})
	require.Equal(t, 200, again.status, again.body)
	assert.Equal(t, v2022, again.header.Get("Acme-Version"))
	assert.Equal(t, "Pinned", again.get("name").String())

	// An account header set by a gateway in front, instead.
	_, base3 := startProxy(t, proxy.Config{Config: server.Config{Pins: store2}, Upstream: up, AccountHeader: "X-Account"})
	gw := do(t, base3, request{method: "GET", path: "/v1/tasks", header: map[string]string{"X-Account": "acct_gateway_1"}})
	require.Equal(t, 200, gw.status, gw.body)
	pg, err := store2.Get(ctx, "acct_gateway_1")
	require.NoError(t, err)
	assert.Equal(t, v2024, pg.Version.String())
	long := do(t, base3, request{method: "GET", path: "/v1/tasks", header: map[string]string{"X-Account": strings.Repeat("a", 300)}})
	assert.Equal(t, 400, long.status)
	assert.Equal(t, "account_invalid", long.get("error.code").String())
}

// testHeaders checks what the upstream is sent and what the client gets
// back: hop-by-hop headers, X-Forwarded-*, the version header,
// compression.
func testHeaders(t *testing.T, base string) {
	for _, v := range []string{v2022, v2024} {
		t.Run(v, func(t *testing.T) {
			echo := do(t, base, request{method: "GET", path: "/v1/echo?x=1", header: map[string]string{
				"Acme-Version":    v,
				"Connection":      "X-Private",
				"X-Private":       "hop-by-hop",
				"X-Forwarded-For": "203.0.113.9",
				"Accept-Encoding": "gzip",
			}})
			require.Equal(t, 200, echo.status, echo.body)
			seen := echo.get("headers")
			assert.False(t, seen.Get("x-private").Exists(), "hop-by-hop header forwarded: %s", seen.Raw)
			assert.Equal(t, "127.0.0.1", seen.Get("x-forwarded-for").String(), "what the client claimed is dropped")
			assert.Equal(t, "http", seen.Get("x-forwarded-proto").String())
			assert.Equal(t, strings.TrimPrefix(base, "http://"), seen.Get("x-forwarded-host").String())
			assert.Equal(t, v, seen.Get("acme-version").String(), "the upstream is told the client's version")
			assert.Equal(t, "/v1/echo", echo.get("path").String())
			assert.Equal(t, "x=1", echo.get("query").String())
			assert.Equal(t, []string{v}, echo.header.Values("Acme-Version"), "the upstream's own version header is dropped")
			assert.Equal(t, "gzip", echo.header.Get("Content-Encoding"), "the upstream's gzip reaches a client that accepts it, at every version")
		})
	}
	t.Run("gzip walked", func(t *testing.T) {
		created := do(t, base, request{method: "POST", path: "/v1/tasks", header: at(v2024), ctype: jsonType, body: `{"title":"Zip","priority":"5"}`})
		require.Equal(t, 200, created.status, created.body)
		for _, ae := range []string{"gzip", "br;q=1.0, gzip;q=0.8", "", "gzip;q=0", "identity"} {
			t.Run("Accept-Encoding "+ae, func(t *testing.T) {
				h := map[string]string{"Acme-Version": v2022}
				if ae != "" {
					h["Accept-Encoding"] = ae
				}
				got := do(t, base, request{method: "GET", path: "/v1/tasks/" + created.get("id").String(), header: h})
				require.Equal(t, 200, got.status, got.body)
				if ae == "gzip" || strings.HasPrefix(ae, "br") {
					assert.Equal(t, "gzip", got.header.Get("Content-Encoding"), "walked on the decompressed body, compressed again")
					assert.Contains(t, got.header.Values("Vary"), "Accept-Encoding")
					assert.NotEmpty(t, got.header.Get("Content-Length"))
				} else {
					assert.Empty(t, got.header.Get("Content-Encoding"), "a client that does not accept gzip gets the body in the clear")
				}
				assert.Equal(t, "Zip", got.get("name").String(), got.body)
				assert.Equal(t, int64(5), got.get("priority").Int())
				assert.Equal(t, "Number", got.get("priority").Type.String())
			})
		}
	})
	t.Run("text passes through", func(t *testing.T) {
		txt := do(t, base, request{method: "GET", path: "/v1/text", header: at(v2022)})
		require.Equal(t, 200, txt.status)
		assert.Equal(t, "plain text, as it was sent", txt.body)
		assert.Equal(t, v2022, txt.header.Get("Acme-Version"))
	})
	t.Run("upstream errors are passed on", func(t *testing.T) {
		missing := do(t, base, request{method: "GET", path: "/v1/tasks/task_none", header: at(v2022)})
		assert.Equal(t, 404, missing.status)
		assert.Equal(t, "resource_missing", missing.get("error.code").String())
		bad := do(t, base, request{method: "POST", path: "/v1/tasks", header: at(v2022), ctype: jsonType, body: `{"name":"x","status":"someday"}`})
		assert.Equal(t, 400, bad.status, bad.body)
		assert.Equal(t, "status", bad.get("error.param").String())
	})
}

// freeAddr returns an address on 127.0.0.1 where nothing listens.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

func testBadInput(t *testing.T, base string, up *url.URL) {
	small, smallBase := startProxy(t, proxy.Config{Config: server.Config{MaxResponseBytes: 64 << 10}, Upstream: up})
	_ = small
	down, err := url.Parse("http://" + freeAddr(t))
	require.NoError(t, err)
	_, downBase := startProxy(t, proxy.Config{Upstream: down, DialTimeout: 2 * time.Second})

	cases := []struct {
		name   string
		base   string
		req    request
		status int
		code   string
	}{
		{"unknown version", base, request{method: "GET", path: "/v1/tasks", header: at("2020-01-01")}, 400, "api_version_invalid"},
		{"malformed version", base, request{method: "GET", path: "/v1/tasks", header: at("yesterday")}, 400, "api_version_invalid"},
		{"malformed JSON body", base, request{method: "POST", path: "/v1/tasks", header: at(v2022), ctype: jsonType, body: `{"name":`}, 400, "body_invalid"},
		{"malformed form body", base, request{method: "POST", path: "/v1/tasks", header: at(v2022), ctype: formType, body: `name=%zz`}, 400, "body_invalid"},
		{"a value of the old version's wrong type", base, request{method: "POST", path: "/v1/tasks", header: at(v2022), ctype: jsonType, body: `{"name":"x","priority":"high"}`}, 400, "parameter_invalid_integer"},
		{"upstream down, old version", downBase, request{method: "GET", path: "/v1/tasks", header: at(v2022)}, 502, "upstream_unavailable"},
		{"upstream down, newest version", downBase, request{method: "POST", path: "/v1/tasks", header: at(v2024), ctype: jsonType, body: `{"title":"x"}`}, 502, "upstream_unavailable"},
		{"answer too large, gzipped", smallBase, request{method: "GET", path: "/v1/big?n=1000", header: at(v2022)}, 500, "api_error"},
		{"answer too large, Content-Length", smallBase, request{method: "GET", path: "/v1/big?n=1000&identity=1", header: at(v2023)}, 500, "api_error"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := do(t, c.base, c.req)
			require.Equal(t, c.status, r.status, r.body)
			assert.Equal(t, "application/json", r.header.Get("Content-Type"))
			assert.Equal(t, c.code, r.get("error.code").String(), r.body)
			assert.NotEmpty(t, r.get("error.type").String())
			assert.NotEmpty(t, r.get("error.message").String())
			if c.code == "api_version_invalid" {
				assert.Contains(t, r.get("error.message").String(), "2024-06-01, 2023-03-01, 2022-01-01")
			}
		})
	}
	t.Run("large answer streams at the newest version", func(t *testing.T) {
		r := do(t, smallBase, request{method: "GET", path: "/v1/big?n=1000", header: map[string]string{"Acme-Version": v2024, "Accept-Encoding": "gzip"}})
		require.Equal(t, 200, r.status)
		assert.Equal(t, int64(1000), r.get("data.#").Int())
		assert.Greater(t, len(r.body), 64<<10)
	})
	t.Run("a proxy still answers after an answer too large", func(t *testing.T) {
		r := do(t, smallBase, request{method: "GET", path: "/v1/big?n=10", header: at(v2022)})
		require.Equal(t, 200, r.status, r.body)
		assert.Equal(t, int64(10), r.get("data.#").Int())
		assert.False(t, r.get("data.0.labels").Exists())
	})
}
