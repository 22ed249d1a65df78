package proxy_test

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/verso-api/verso/pins"
	"github.com/verso-api/verso/proxy"
	"github.com/verso-api/verso/server"
	"github.com/verso-api/verso/storage/storagetest"
)

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	require.NoError(t, err)
	return u
}

func TestConfigErrors(t *testing.T) {
	engine := loadEngine(t)
	up := mustURL(t, "http://127.0.0.1:3000")
	for _, tt := range []struct {
		name string
		cfg  proxy.Config
		want string
	}{
		{"no upstream", proxy.Config{Config: server.Config{Engine: engine}}, "no Upstream"},
		{"not http", proxy.Config{Config: server.Config{Engine: engine}, Upstream: mustURL(t, "ftp://127.0.0.1/")}, "scheme must be http or https"},
		{"no host", proxy.Config{Config: server.Config{Engine: engine}, Upstream: mustURL(t, "http:///v1")}, "has no host"},
		{"no engine", proxy.Config{Upstream: up}, "no Engine"},
		{"negative timeout", proxy.Config{Config: server.Config{Engine: engine}, Upstream: up, DialTimeout: -time.Second}, "must not be negative"},
		{"bad account header", proxy.Config{Config: server.Config{Engine: engine}, Upstream: up, AccountHeader: "X Account"}, "not a valid HTTP header name"},
		{"bad version header", proxy.Config{Config: server.Config{Engine: engine, Header: "Acme Version"}, Upstream: up}, "not a valid HTTP header name"},
		{"negative limit", proxy.Config{Config: server.Config{Engine: engine, MaxResponseBytes: -1}, Upstream: up}, "negative"},
		{"auth check with no method", proxy.Config{Config: server.Config{Engine: engine}, Upstream: up, AuthCheck: "/v1/me"}, "is not METHOD /path"},
		{"auth check with no path", proxy.Config{Config: server.Config{Engine: engine}, Upstream: up, AuthCheck: "GET v1/me"}, "is not METHOD /path"},
		{"auth check elsewhere", proxy.Config{Config: server.Config{Engine: engine}, Upstream: up, AuthCheck: "GET //evil.example/me"}, "not a path on the upstream"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.cfg.Handler()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// TestAccount checks the account a request is served as: a keyed hash of
// its Authorization header, or the account header.
func TestAccount(t *testing.T) {
	engine := loadEngine(t)
	up := mustURL(t, "http://127.0.0.1:3000")
	newProxy := func(cfg proxy.Config) *proxy.Proxy {
		cfg.Engine, cfg.Upstream = engine, up
		p, err := cfg.Handler()
		require.NoError(t, err)
		return p
	}
	account := func(p *proxy.Proxy, header http.Header) string {
		r := httptest.NewRequest("GET", "/v1/tasks", nil)
		r.Header = header
		a, err := p.Account(r)
		require.NoError(t, err)
		return a
	}
	auth := http.Header{"Authorization": {"Bearer sk_test_123"}}
	saltA, saltB := []byte("0123456789abcdef0123456789abcdef"), []byte("fedcba9876543210fedcba9876543210")
	a1, a2, b := newProxy(proxy.Config{Salt: saltA}), newProxy(proxy.Config{Salt: saltA}), newProxy(proxy.Config{Salt: saltB})

	got := account(a1, auth)
	assert.Regexp(t, `^auth_[0-9a-f]{32}$`, got)
	assert.NotContains(t, got, "sk_test")
	assert.Equal(t, got, account(a2, auth), "the same salt gives the same account")
	assert.NotEqual(t, got, account(b, auth), "another salt gives another account")
	assert.NotEqual(t, got, account(a1, http.Header{"Authorization": {"Bearer sk_test_124"}}))
	assert.Empty(t, account(a1, http.Header{}), "no credentials, no account")

	h := newProxy(proxy.Config{AccountHeader: "x-account"})
	assert.Equal(t, "acct_1", account(h, http.Header{"X-Account": {" acct_1 "}}))
	assert.Empty(t, account(h, auth), "with an account header, Authorization is not used")
}

func TestLoadSaltIsStable(t *testing.T) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			db, _ := b.Open(t)
			first, err := proxy.LoadSalt(context.Background(), db)
			require.NoError(t, err)
			assert.Len(t, first, 32)
			again, err := proxy.LoadSalt(context.Background(), db)
			require.NoError(t, err)
			assert.Equal(t, first, again)
		})
	}
}

// TestStreamsAtNewestVersion checks that at the newest version the
// upstream's answer reaches the client as it is written: the client reads
// the first part while the upstream still holds the rest.
func TestStreamsAtNewestVersion(t *testing.T) {
	release := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"object":"list","data":[`+"\n")
		_ = http.NewResponseController(w).Flush()
		<-release
		_, _ = io.WriteString(w, `]}`)
	}))
	defer up.Close()
	defer close(release)
	p, base := startProxy(t, proxy.Config{Upstream: mustURL(t, up.URL)})
	_ = p
	req, err := http.NewRequest("GET", base+"/v1/tasks", nil)
	require.NoError(t, err)
	req.Header.Set("Acme-Version", v2024)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	line, err := bufio.NewReader(res.Body).ReadString('\n')
	require.NoError(t, err, "the first part arrives while the upstream holds the rest")
	assert.Equal(t, `{"object":"list","data":[`+"\n", line)
}

// TestUpstreamTimeout checks that an upstream that sends no response
// headers gets 504 in the API's error shape.
func TestUpstreamTimeout(t *testing.T) {
	release := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer up.Close()
	defer close(release)
	_, base := startProxy(t, proxy.Config{Upstream: mustURL(t, up.URL), UpstreamTimeout: 50 * time.Millisecond})
	for _, v := range []string{v2022, v2024} {
		t.Run(v, func(t *testing.T) {
			r := do(t, base, request{method: "GET", path: "/v1/tasks", header: at(v)})
			require.Equal(t, 504, r.status, r.body)
			assert.Equal(t, "upstream_timeout", r.get("error.code").String())
			assert.Equal(t, "api_error", r.get("error.type").String())
			assert.Equal(t, v, r.header.Get("Acme-Version"))
		})
	}
}

// TestPinEndpointsStayInTheProxy checks that the pin endpoints are
// answered by the proxy, never forwarded, and that without a pin store
// they are the upstream's.
func TestPinEndpointsStayInTheProxy(t *testing.T) {
	var (
		mu        sync.Mutex
		forwarded []string
	)
	seen := func() []string { mu.Lock(); defer mu.Unlock(); return slices.Clone(forwarded) }
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		forwarded = append(forwarded, r.URL.Path)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"object":"upstream"}`)
	}))
	defer up.Close()
	_, withPins := startProxy(t, proxy.Config{Config: server.Config{Pins: pinsMemory()}, Upstream: mustURL(t, up.URL), PinPath: "/v2/pin", AuthCheck: "GET /v1/me?check=1"})
	auth := map[string]string{"Authorization": "Bearer sk_test_1"}
	r := do(t, withPins, request{method: "GET", path: "/v2/pin", header: auth})
	require.Equal(t, 200, r.status, r.body)
	assert.Equal(t, "api_version_pin", r.get("object").String())
	r = do(t, withPins, request{method: "POST", path: "/v2/pin/rollback", header: auth})
	assert.Equal(t, "rollback_unavailable", r.get("error.code").String())
	assert.Equal(t, []string{"/v1/me", "/v1/me"}, seen(), "only the auth checks reach the upstream")
	mu.Lock()
	forwarded = nil
	mu.Unlock()

	_, noPins := startProxy(t, proxy.Config{Upstream: mustURL(t, up.URL)})
	r = do(t, noPins, request{method: "GET", path: "/v1/account/api_version", header: auth})
	assert.Equal(t, "upstream", gjson.Get(r.body, "object").String())
	assert.Equal(t, []string{"/v1/account/api_version"}, seen())
}

func pinsMemory() pins.Store { return pins.NewMemoryStore(nil) }

// TestUpstreamFaults checks answers an upstream should never send and
// bodies a client should never send, against a Go upstream: a corrupt
// gzip stream is the upstream's fault (502), a body of unknown length over
// MaxBodyBytes the client's (413), as is one of known length.
func TestUpstreamFaults(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/v1/corrupt":
			w.Header().Set("Content-Encoding", "gzip")
			_, _ = io.WriteString(w, "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xffnot deflate at all")
		case "/v1/bomb":
			// 10 MB of zeros in a few KB of gzip, over the proxy's limit
			// once decompressed.
			w.Header().Set("Content-Encoding", "gzip")
			zw := gzip.NewWriter(w)
			_, _ = zw.Write([]byte(`{"object":"list","data":"`))
			_, _ = zw.Write(make([]byte, 10<<20))
			_ = zw.Close()
		default:
			_, _ = io.WriteString(w, `{"object":"task","id":"task_1","title":"t","priority":"1","status":"open","labels":[]}`)
		}
	}))
	defer up.Close()
	_, base := startProxy(t, proxy.Config{Config: server.Config{MaxBodyBytes: 1 << 10, MaxResponseBytes: 1 << 20}, Upstream: mustURL(t, up.URL)})
	for _, c := range []struct {
		name   string
		req    request
		chunk  bool
		status int
		code   string
	}{
		{"corrupt gzip", request{method: "GET", path: "/v1/corrupt", header: map[string]string{"Acme-Version": v2022, "Accept-Encoding": "gzip"}}, false, 502, "upstream_unavailable"},
		{"gzip bomb", request{method: "GET", path: "/v1/bomb", header: map[string]string{"Acme-Version": v2022, "Accept-Encoding": "gzip"}}, false, 500, "api_error"},
		{"chunked body over the limit, newest", request{method: "POST", path: "/v1/tasks", header: at(v2024), ctype: "application/octet-stream", body: strings.Repeat("x", 4<<10)}, true, 413, "request_body_too_large"},
		{"chunked body over the limit, old", request{method: "POST", path: "/v1/tasks", header: at(v2022), ctype: jsonType, body: `{"name":"` + strings.Repeat("x", 4<<10) + `"}`}, true, 413, "request_body_too_large"},
		{"body over the limit", request{method: "POST", path: "/v1/tasks", header: at(v2024), ctype: "application/octet-stream", body: strings.Repeat("x", 4<<10)}, false, 413, "request_body_too_large"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var body io.Reader = strings.NewReader(c.req.body)
			if c.chunk {
				body = io.MultiReader(body) // no length: sent chunked
			}
			req, err := http.NewRequest(c.req.method, base+c.req.path, body)
			require.NoError(t, err)
			for k, v := range c.req.header {
				req.Header.Set(k, v)
			}
			if c.req.ctype != "" {
				req.Header.Set("Content-Type", c.req.ctype)
			}
			res, err := noDecompress.Do(req)
			require.NoError(t, err)
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			require.Equal(t, c.status, res.StatusCode, string(b))
			assert.Empty(t, res.Header.Get("Content-Encoding"))
			assert.Equal(t, c.code, gjson.GetBytes(b, "error.code").String(), string(b))
		})
	}
	t.Run("the proxy answers on", func(t *testing.T) {
		r := do(t, base, request{method: "GET", path: "/v1/tasks/task_1", header: map[string]string{"Acme-Version": v2022, "Accept-Encoding": "gzip"}})
		require.Equal(t, 200, r.status, r.body)
		assert.Equal(t, "t", r.get("name").String())
	})
}

// TestAccountOf checks that AccountOf names an Authorization header as the
// proxy does.
func TestAccountOf(t *testing.T) {
	salt := []byte("0123456789abcdef0123456789abcdef")
	p, err := proxy.Config{Config: server.Config{Engine: loadEngine(t)}, Upstream: mustURL(t, "http://127.0.0.1:3000"), Salt: salt}.Handler()
	require.NoError(t, err)
	for _, auth := range []string{"Bearer sk_test_123", "Basic dXNlcjpwYXNz", "x"} {
		r := httptest.NewRequest("GET", "/v1/tasks", nil)
		r.Header.Set("Authorization", auth)
		want, err := p.Account(r)
		require.NoError(t, err)
		assert.Equal(t, want, proxy.AccountOf(salt, auth))
	}
	assert.NotEqual(t, proxy.AccountOf(salt, "a"), proxy.AccountOf([]byte("another salt, another account.."), "a"))
}

// TestAccountIsKeyedHash checks the account named by an Authorization
// header against the HMAC-SHA-256 computed here: stored pins depend on it
// staying the same. Headers of different lengths go through the same
// proxy in turn, so that a hasher's reused buffers carry nothing over.
func TestAccountIsKeyedHash(t *testing.T) {
	salt := []byte("0123456789abcdef0123456789abcdef")
	p, err := proxy.Config{Config: server.Config{Engine: loadEngine(t)}, Upstream: mustURL(t, "http://127.0.0.1:3000"), Salt: salt}.Handler()
	require.NoError(t, err)
	for _, auth := range []string{"Bearer " + strings.Repeat("k", 2000), "Bearer sk_test_123", "x", "Basic dXNlcjpwYXNz", "Bearer sk_test_123"} {
		mac := hmac.New(sha256.New, salt)
		mac.Write([]byte(auth))
		want := "auth_" + hex.EncodeToString(mac.Sum(nil)[:16])
		r := httptest.NewRequest("GET", "/v1/tasks", nil)
		r.Header.Set("Authorization", auth)
		got, err := p.Account(r)
		require.NoError(t, err)
		assert.Equal(t, want, got, "%.20s", auth)
		assert.Equal(t, want, proxy.AccountOf(salt, auth))
	}
}

// TestAuthCheckFaults checks the pin endpoints when the auth check cannot
// say yes or no: an upstream answering something else than 2xx, 401 or
// 403, or not at all.
func TestAuthCheckFaults(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer up.Close()
	down := mustURL(t, "http://"+freeAddr(t))
	auth := map[string]string{"Authorization": "Bearer sk_test_1"}
	for _, c := range []struct {
		name     string
		upstream *url.URL
		status   int
		code     string
	}{
		{"the check fails", mustURL(t, up.URL), 502, "auth_check_failed"},
		{"the upstream is down", down, 502, "auth_check_failed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, base := startProxy(t, proxy.Config{Config: server.Config{Pins: pinsMemory()}, Upstream: c.upstream, AuthCheck: "GET /v1/me", DialTimeout: time.Second})
			r := do(t, base, request{method: "GET", path: "/v1/account/api_version", header: auth})
			assert.Equal(t, c.status, r.status, r.body)
			assert.Equal(t, c.code, r.get("error.code").String(), r.body)
		})
	}
}
