package api_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/verso-api/verso/demo/api"
	"github.com/verso-api/verso/ratelimit"
	"github.com/verso-api/verso/storage/storagetest"
)

// TestBadTextRefused sends NUL bytes and invalid UTF-8 in every place a
// client controls and checks each gets a 400 (401 for the key) in the
// error shape, on both stores; PostgreSQL refuses such text, so any of
// them reaching it would be a 500.
func TestBadTextRefused(t *testing.T) {
	eachBackend(t, func(t *testing.T, b storagetest.Backend) {
		a := start(t, b, api.Config{})
		cus := a.do(t, a.key, "POST", "/v1/customers", "", "email=a@example.com")
		require.Equal(t, 200, cus.status, cus.body)
		id := cus.get("id").String()
		tests := []struct {
			name, method, path, body string
			header                   []string
			status                   int
		}{
			{"NUL in an id", "GET", "/v1/customers/cus_%00x", "", nil, 400},
			{"invalid UTF-8 in an id", "GET", "/v1/customers/cus_%ff%fe", "", nil, 400},
			{"NUL in an event id", "GET", "/v1/events/evt_%00", "", nil, 400},
			{"NUL in a cursor", "GET", "/v1/customers?starting_after=cus_%00", "", nil, 400},
			{"invalid UTF-8 in a cursor", "GET", "/v1/events?starting_after=%c3%28", "", nil, 400},
			{"NUL in a form description", "POST", "/v1/customers/" + id, "description=a%00b", nil, 400},
			{"invalid UTF-8 in a form value", "POST", "/v1/customers", "name=%ff", nil, 400},
			{"invalid UTF-8 in a form name", "POST", "/v1/customers", "%ff=1", nil, 400},
			{"NUL escaped in JSON", "POST", "/v1/customers/" + id, `{"description":"a\u0000b"}`, nil, 400},
			{"raw invalid UTF-8 in JSON", "POST", "/v1/customers", "{\"name\":\"\xff\"}", nil, 400},
			{"NUL in a JSON key", "POST", "/v1/customers", `{"metadata":{"k\u0000":"v"}}`, nil, 400},
			{"NUL in a webhook url", "POST", "/v1/webhook_endpoints", "url=https://93.184.216.34/%00&enabled_events[]=*", nil, 400},
			{"invalid UTF-8 in a refund charge", "POST", "/v1/refunds", "charge=ch_%ff", nil, 400},
			{"invalid UTF-8 in the idempotency key", "POST", "/v1/customers", "email=b@example.com", []string{"Idempotency-Key", "k\xff"}, 400},
			{"invalid UTF-8 in the version", "GET", "/v1/customers", "", []string{"Stripe-Version", "2019-10-17\xff"}, 400},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := a.do(t, a.key, tt.method, tt.path, "", tt.body, tt.header...)
				require.Equal(t, tt.status, r.status, r.body)
				require.True(t, gjson.Valid(r.body), r.body)
				assert.Equal(t, "invalid_request_error", r.get("error.type").String(), r.body)
				assert.NotEmpty(t, r.get("error.message").String(), r.body)
			})
		}
		t.Run("invalid UTF-8 API key", func(t *testing.T) {
			r := a.do(t, "sk_test_\xff\xfe", "GET", "/v1/customers", "", "")
			require.Equal(t, 400, r.status, r.body)
			assert.Equal(t, "invalid_request_error", r.get("error.type").String(), r.body)
		})
		t.Run("basic auth with NUL", func(t *testing.T) {
			req, err := http.NewRequest("GET", a.url+"/v1/customers", nil)
			require.NoError(t, err)
			req.SetBasicAuth("sk_test_\x00abc", "")
			res, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			assert.Equal(t, 401, res.StatusCode, string(body))
		})
		got := a.do(t, a.key, "GET", "/v1/customers/"+id, "", "")
		assert.Equal(t, "null", got.get("description").Raw, got.body)
		// A lone surrogate escape is not an invalid byte: like encoding/json,
		// it is read as U+FFFD.
		r := a.do(t, a.key, "POST", "/v1/customers/"+id, "", `{"name":"\ud800"}`)
		require.Equal(t, 200, r.status, r.body)
		assert.Equal(t, "\ufffd", r.get("name").String())
	})
}

// TestInvalidKeyMessageBounded sends a 60 KB API key and checks the 401
// does not echo it back.
func TestInvalidKeyMessageBounded(t *testing.T) {
	a := start(t, storagetest.Backends()[0], api.Config{})
	key := "sk_test_" + strings.Repeat("x", 60<<10)
	r := a.do(t, key, "GET", "/v1/customers", "", "")
	require.Equal(t, 401, r.status, r.body)
	assert.Equal(t, "api_key_invalid", r.get("error.code").String())
	assert.Less(t, len(r.get("error.message").String()), 100, r.body)
}

// TestExpandBounds checks the depth and count bounds of expand[] on
// retrieve, list, create and update, and that a bounded chain still
// expands.
func TestExpandBounds(t *testing.T) {
	eachBackend(t, func(t *testing.T, b storagetest.Backend) {
		a := start(t, b, api.Config{})
		cus := a.do(t, a.key, "POST", "/v1/customers", "", "email=x@example.com")
		pi := a.do(t, a.key, "POST", "/v1/payment_intents", "", "amount=500&currency=usd&confirm=true&payment_method=pm_card_visa&customer="+cus.get("id").String())
		require.Equal(t, 200, pi.status, pi.body)
		piID := pi.get("id").String()
		chain := func(n int) string {
			parts := make([]string, n)
			for i := range parts {
				if i%2 == 0 {
					parts[i] = "latest_charge"
				} else {
					parts[i] = "payment_intent"
				}
			}
			return strings.Join(parts, ".")
		}
		ok := a.do(t, a.key, "GET", "/v1/payment_intents/"+piID+"?expand[]="+chain(3)+".customer", "", "")
		require.Equal(t, 200, ok.status, ok.body)
		assert.Equal(t, "customer", ok.get("latest_charge.payment_intent.latest_charge.customer.object").String(), ok.body)

		many := url.Values{}
		for i := 0; i < 11; i++ {
			many.Add("expand[]", fmt.Sprintf("customer%d", i))
		}
		tests := []struct{ name, method, path, body string }{
			{"five levels on retrieve", "GET", "/v1/payment_intents/" + piID + "?expand[]=" + chain(5), ""},
			{"4,000 levels on retrieve", "GET", "/v1/payment_intents/" + piID + "?expand[]=" + chain(4000), ""},
			{"five levels on a list", "GET", "/v1/payment_intents?expand[]=data." + chain(4), ""},
			{"five levels on an update", "POST", "/v1/payment_intents/" + piID, "description=x&expand[]=" + chain(5)},
			{"five levels on a create", "POST", "/v1/customers", "email=y@example.com&expand[]=a.b.c.d.e"},
			{"eleven paths", "GET", "/v1/charges?" + many.Encode(), ""},
			{"not a string", "POST", "/v1/payment_intents/" + piID, `{"expand":[{"a":1}]}`},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := a.do(t, a.key, tt.method, tt.path, "", tt.body)
				require.Equal(t, 400, r.status, r.body)
				assert.Equal(t, "expand", r.get("error.param").String(), r.body)
				assert.Less(t, len(r.body), 1000, "the error echoes the whole path")
			})
		}
		got := a.do(t, a.key, "GET", "/v1/payment_intents/"+piID, "", "")
		assert.Equal(t, "null", got.get("description").Raw, "a refused update was written: %s", got.body)
		// Ten repeats of one path are one path.
		rep := url.Values{}
		for i := 0; i < 30; i++ {
			rep.Add("expand[]", "customer")
		}
		r := a.do(t, a.key, "GET", "/v1/payment_intents/"+piID+"?"+rep.Encode(), "", "")
		require.Equal(t, 200, r.status, r.body)
	})
}

// TestConcurrentWriters sends 256 creates at once, each with its own
// idempotency key, and checks every one succeeds: SQLite writers queue
// instead of failing with SQLITE_BUSY.
func TestConcurrentWriters(t *testing.T) {
	eachBackend(t, func(t *testing.T, b storagetest.Backend) {
		// A minute's budget: on PostgreSQL the limits live in the database,
		// and a request delayed longer than the bucket's span (a second
		// for a per-second limit, on a loaded machine) would be refused.
		lim := ratelimit.Per(100_000, time.Minute)
		a := start(t, b, api.Config{KeyLimit: lim, IPLimit: lim})
		tr := &http.Transport{MaxIdleConnsPerHost: 256}
		defer tr.CloseIdleConnections()
		client := &http.Client{Transport: tr}
		const n = 256
		statuses := make([]int, n)
		bodies := make([]string, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				<-start
				req, _ := http.NewRequest("POST", a.url+"/v1/customers", strings.NewReader(fmt.Sprintf("email=w%d@example.com&metadata[n]=%d", i, i)))
				req.Header.Set("Authorization", "Bearer "+a.key)
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("Idempotency-Key", fmt.Sprintf("writer-%d", i))
				res, err := client.Do(req)
				if err != nil {
					bodies[i] = err.Error()
					return
				}
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				statuses[i], bodies[i] = res.StatusCode, string(b)
			}(i)
		}
		close(start)
		wg.Wait()
		for i := range statuses {
			require.Equal(t, 200, statuses[i], "writer %d: %s", i, bodies[i])
		}
		seen := map[string]bool{}
		after := ""
		for {
			path := "/v1/customers?limit=100"
			if after != "" {
				path += "&starting_after=" + after
			}
			l := a.do(t, a.key, "GET", path, "", "")
			require.Equal(t, 200, l.status, l.body)
			for _, c := range l.get("data").Array() {
				seen[c.Get("id").String()] = true
				after = c.Get("id").String()
			}
			if !l.get("has_more").Bool() {
				break
			}
		}
		assert.Len(t, seen, n)
	})
}

// TestSlowClientsShed checks over TCP that the server closes connections
// that send their header too slowly, stall in their body or sit idle,
// and answers an oversized header with 431.
func TestSlowClientsShed(t *testing.T) {
	a := start(t, storagetest.Backends()[0], api.Config{HTTP: api.HTTPLimits{
		ReadHeaderTimeout: 300 * time.Millisecond, ReadTimeout: 600 * time.Millisecond,
		WriteTimeout: 5 * time.Second, IdleTimeout: 300 * time.Millisecond, MaxHeaderBytes: 4096,
	}})
	addr := strings.TrimPrefix(a.url, "http://")
	closed := func(t *testing.T, c net.Conn) {
		t.Helper()
		c.SetReadDeadline(time.Now().Add(20 * time.Second))
		b, err := io.ReadAll(c)
		require.NoError(t, err, "the server kept the connection open")
		_ = b
	}
	t.Run("slow header", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		defer c.Close()
		_, err = c.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\n"))
		require.NoError(t, err)
		closed(t, c)
	})
	t.Run("stalled body", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		defer c.Close()
		fmt.Fprintf(c, "POST /v1/customers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nemail=", a.key)
		c.SetReadDeadline(time.Now().Add(20 * time.Second))
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err == nil {
			// The body read failed and the server answered before closing.
			assert.GreaterOrEqual(t, res.StatusCode, 400)
			res.Body.Close()
		}
		closed(t, c)
	})
	t.Run("idle keep-alive", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		defer c.Close()
		_, err = c.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"))
		require.NoError(t, err)
		br := bufio.NewReader(c)
		res, err := http.ReadResponse(br, nil)
		require.NoError(t, err)
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		require.Equal(t, 200, res.StatusCode)
		c.SetReadDeadline(time.Now().Add(20 * time.Second))
		_, err = br.ReadByte()
		require.ErrorIs(t, err, io.EOF, "the idle connection was not closed")
	})
	t.Run("header too large", func(t *testing.T) {
		req, _ := http.NewRequest("GET", a.url+"/v1/customers", nil)
		req.Header.Set("Authorization", "Bearer "+a.key)
		req.Header.Set("X-Padding", strings.Repeat("p", 16<<10))
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge, res.StatusCode)
	})
}

// TestIPLimitAndProxyHeader checks the per-IP limit, that a client's
// X-Forwarded-For is ignored unless a proxy header is configured, and that
// when it is, each forwarded address has its own budget.
func TestIPLimitAndProxyHeader(t *testing.T) {
	hour := ratelimit.Per(3, time.Hour)
	get := func(a *app, xff string) int {
		return a.do(t, a.key, "GET", "/v1/customers", "", "", "X-Forwarded-For", xff).status
	}
	t.Run("header not trusted", func(t *testing.T) {
		a := start(t, storagetest.Backends()[0], api.Config{IPLimit: hour})
		for i := 0; i < 3; i++ {
			require.Equal(t, 200, get(a, fmt.Sprintf("203.0.113.%d", i)))
		}
		assert.Equal(t, 429, get(a, "203.0.113.99"), "a forged X-Forwarded-For got a fresh budget")
	})
	t.Run("header from a trusted proxy", func(t *testing.T) {
		a := start(t, storagetest.Backends()[0], api.Config{IPLimit: hour, ClientIPHeader: "X-Forwarded-For"})
		for i := 0; i < 3; i++ {
			require.Equal(t, 200, get(a, "203.0.113.1"))
		}
		assert.Equal(t, 429, get(a, "203.0.113.1"))
		assert.Equal(t, 200, get(a, "203.0.113.2"), "another client behind the proxy shares the first one's budget")
	})
}

// TestHealthAndMetrics checks /healthz, /readyz and that /metrics leaves
// the API's address when it is served apart.
func TestHealthAndMetrics(t *testing.T) {
	a := start(t, storagetest.Backends()[0], api.Config{SeparateMetrics: true})
	for _, p := range []string{"/healthz", "/readyz"} {
		r := a.do(t, "", "GET", p, "", "")
		assert.Equal(t, 200, r.status, r.body)
		assert.Equal(t, "ok", r.get("status").String(), r.body)
	}
	r := a.do(t, "", "GET", "/metrics", "", "")
	assert.Equal(t, 404, r.status)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: a.MetricsHandler()}
	go srv.Serve(ln)
	defer srv.Shutdown(context.Background())
	res, err := http.Get("http://" + ln.Addr().String() + "/metrics")
	require.NoError(t, err)
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	assert.Equal(t, 200, res.StatusCode)
	assert.Contains(t, string(b), "verso_")
}
