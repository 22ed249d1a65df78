package proxy_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/verso-api/verso/pins"
	"github.com/verso-api/verso/proxy"
	"github.com/verso-api/verso/server"
)

// faultTimeout is the upstream timeout of the proxy the fault tests run:
// short, so that a stalled upstream is given up quickly.
const faultTimeout = 400 * time.Millisecond

// testFaults checks what an attacker, or a broken upstream, could do to
// the proxy: an upstream that stalls or never ends, a malformed request
// body, a Connection header naming what the proxy relies on, protocol
// upgrades.
func testFaults(t *testing.T, up *url.URL, store pins.Store, salt []byte) {
	_, base := startProxy(t, proxy.Config{Config: server.Config{Pins: store}, Upstream: up, Salt: salt, UpstreamTimeout: faultTimeout})
	upstreamOpen := func() int64 {
		r := do(t, up.String(), request{method: "GET", path: "/v1/stats"})
		require.Equal(t, 200, r.status, r.body)
		return r.get("open").Int()
	}
	// freed waits for the upstream to see every faulty request's
	// connection closed by the proxy.
	freed := func(t *testing.T) {
		t.Helper()
		require.Eventually(t, func() bool { return upstreamOpen() == 0 }, 20*time.Second, 20*time.Millisecond,
			"the proxy keeps the upstream's connection open")
	}

	t.Run("stalled or endless answer at a walked version", func(t *testing.T) {
		for _, path := range []string{"/v1/stall", "/v1/stall?before=1", "/v1/endless"} {
			t.Run(path, func(t *testing.T) {
				client := &http.Client{Transport: &http.Transport{}, Timeout: 30 * time.Second}
				defer client.CloseIdleConnections()
				r := doWith(t, client, base, request{method: "GET", path: path, header: at(v2022)})
				require.Equal(t, 504, r.status, r.body)
				assert.Equal(t, "upstream_timeout", r.get("error.code").String())
				assert.Equal(t, "api_error", r.get("error.type").String())
				assert.Equal(t, v2022, r.header.Get("Acme-Version"))
				assert.Equal(t, "application/json", r.header.Get("Content-Type"))
				freed(t)
				// The client's connection is free for its next request.
				again := doWith(t, client, base, request{method: "GET", path: "/v1/tasks", header: at(v2022)})
				assert.Equal(t, 200, again.status, again.body)
			})
		}
	})
	t.Run("stalled answer at the newest version", func(t *testing.T) {
		// The answer streams: once the upstream has been silent for the
		// timeout, it is cut, and the client's connection closed (its
		// status may have gone out, so no 504 can follow).
		req, err := http.NewRequest("GET", base+"/v1/stall", nil)
		require.NoError(t, err)
		req.Header.Set("Acme-Version", v2024)
		res, err := noDecompress.Do(req)
		if err == nil {
			assert.Equal(t, 200, res.StatusCode)
			_, err = io.ReadAll(res.Body)
			res.Body.Close()
		}
		assert.Error(t, err, "the answer ends in an error, not in a truncated success")
		freed(t)

		r := do(t, base, request{method: "GET", path: "/v1/stall?before=1", header: at(v2024)})
		assert.Equal(t, 504, r.status, r.body)
		assert.Equal(t, "upstream_timeout", r.get("error.code").String())
		freed(t)
	})

	t.Run("malformed chunked body", func(t *testing.T) {
		for _, c := range []struct{ version, ctype string }{
			{v2024, jsonType}, {v2022, jsonType}, {v2022, "application/octet-stream"},
		} {
			t.Run(c.version+" "+c.ctype, func(t *testing.T) {
				raw := "POST /v1/echo HTTP/1.1\r\nHost: proxy\r\nAcme-Version: " + c.version +
					"\r\nContent-Type: " + c.ctype + "\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"a\":\r\nzz\r\n"
				res, body := rawRequest(t, base, raw)
				require.Equal(t, 400, res.StatusCode, body)
				assert.Equal(t, "request_body_unreadable", gjson.Get(body, "error.code").String(), body)
				assert.Equal(t, "invalid_request_error", gjson.Get(body, "error.type").String())
			})
		}
	})

	t.Run("Connection naming what the proxy relies on", func(t *testing.T) {
		for _, name := range []string{"Content-Type", "authorization", "Acme-Version", "Content-Length", "Cookie"} {
			t.Run(name, func(t *testing.T) {
				r := do(t, base, request{method: "POST", path: "/v1/echo", ctype: jsonType, body: `{}`,
					header: map[string]string{"Acme-Version": v2024, "Authorization": "Bearer sk_test_conn", "Connection": "keep-alive, " + name}})
				require.Equal(t, 400, r.status, r.body)
				assert.Equal(t, "header_invalid", r.get("error.code").String())
				assert.Contains(t, r.get("error.message").String(), http.CanonicalHeaderKey(name))
			})
		}
		r := do(t, base, request{method: "POST", path: "/v1/echo", ctype: jsonType, body: `{}`,
			header: map[string]string{"Acme-Version": v2024, "Connection": "keep-alive, X-Private", "X-Private": "hop"}})
		require.Equal(t, 200, r.status, r.body)
		assert.False(t, r.get("headers.x-private").Exists(), "a hop-by-hop header stays with the proxy")
		assert.Equal(t, jsonType, r.get("headers.content-type").String())
	})

	t.Run("upstream's Connection naming Content-Type", func(t *testing.T) {
		created := do(t, base, request{method: "POST", path: "/v1/tasks", header: at(v2024), ctype: jsonType, body: `{"title":"Hop","priority":"4"}`})
		require.Equal(t, 200, created.status, created.body)
		for _, q := range []string{"?hop=1", "?hop=1&identity=1"} {
			r := do(t, base, request{method: "GET", path: "/v1/tasks/" + created.get("id").String() + q,
				header: map[string]string{"Acme-Version": v2022, "Accept-Encoding": "gzip"}})
			require.Equal(t, 200, r.status, r.body)
			assert.Equal(t, "Hop", r.get("name").String(), "still walked back: %s", r.body)
			assert.Equal(t, "application/json", r.header.Get("Content-Type"))
		}
	})

	t.Run("upgrades", func(t *testing.T) {
		// At the newest version nothing is walked: the connection switches
		// and carries bytes both ways.
		res, rest := upgrade(t, base, v2024, "websocket")
		require.Equal(t, 101, res.StatusCode)
		assert.Equal(t, "websocket", res.Header.Get("Upgrade"))
		_, err := rest.conn.Write([]byte("ping\n"))
		require.NoError(t, err)
		line, err := rest.r.ReadString('\n')
		require.NoError(t, err)
		assert.Equal(t, "ping\n", line)
		rest.conn.Close()

		for _, c := range []struct{ version, protocol, says string }{
			{v2022, "websocket", "at API version 2022-01-01"},
			{v2023, "websocket", "at API version 2023-03-01"},
			{v2024, "h2c", "would not be versioned"},
			{v2022, "h2c", "would not be versioned"},
		} {
			res, rest := upgrade(t, base, c.version, c.protocol)
			body, _ := io.ReadAll(io.LimitReader(rest.r, 4096))
			rest.conn.Close()
			require.Equal(t, 400, res.StatusCode, c.protocol+" at "+c.version)
			assert.Equal(t, "upgrade_refused", gjson.GetBytes(body, "error.code").String(), string(body))
			assert.Contains(t, gjson.GetBytes(body, "error.message").String(), c.says)
		}
	})
}

// doWith is do with a client of the test's.
func doWith(t *testing.T, client *http.Client, base string, r request) response {
	t.Helper()
	req, err := http.NewRequest(r.method, base+r.path, strings.NewReader(r.body))
	require.NoError(t, err)
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	res, err := client.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return response{status: res.StatusCode, header: res.Header, body: string(b)}
}

// rawRequest writes raw to the server at base and reads one response.
func rawRequest(t *testing.T, base, raw string) (*http.Response, string) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(30*time.Second)))
	_, err = io.WriteString(conn, raw)
	require.NoError(t, err)
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res, string(b)
}

type rawConn struct {
	conn net.Conn
	r    *bufio.Reader
}

// upgrade asks the server at base to switch GET /v1/ws to protocol at
// version, and returns its answer and the connection, to go on with.
func upgrade(t *testing.T, base, version, protocol string) (*http.Response, rawConn) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	require.NoError(t, err)
	require.NoError(t, conn.SetDeadline(time.Now().Add(30*time.Second)))
	_, err = io.WriteString(conn, "GET /v1/ws HTTP/1.1\r\nHost: proxy\r\nConnection: Upgrade\r\nUpgrade: "+protocol+
		"\r\nAcme-Version: "+version+"\r\n\r\n")
	require.NoError(t, err)
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	if res.StatusCode != http.StatusSwitchingProtocols {
		return res, rawConn{conn, bufio.NewReader(res.Body)}
	}
	return res, rawConn{conn, br}
}
