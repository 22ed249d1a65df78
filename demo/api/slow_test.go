package api_test

import (
	"bufio"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/verso-api/verso/demo/api"
	"github.com/verso-api/verso/internal/logtest"
	"github.com/verso-api/verso/storage/storagetest"
)

// rawRequest writes head (a request line and headers, without the blank
// line that ends them) and then body one byte at a time, every gap,
// until the server answers; it returns the response, read whole.
func rawRequest(t *testing.T, addr, head, body string, gap time.Duration) (*http.Response, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer conn.Close()
	_, err = io.WriteString(conn, head+"\r\n\r\n")
	require.NoError(t, err)
	answered := make(chan struct{})
	go func() {
		for i := 0; i < len(body); i++ {
			select {
			case <-answered:
				return
			case <-time.After(gap):
			}
			if _, err := conn.Write([]byte{body[i]}); err != nil {
				return
			}
		}
	}()
	defer close(answered)
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(60*time.Second))) // a hung server fails the test
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res, string(b)
}

// TestSlowBody sends a request whose body trickles in slower than the
// server's read timeout (Content-Length 100, a byte at a time), and
// checks the client gets 408 in the error shape, that nothing was
// written, that the server logs it below error, and that it is counted
// as a 4xx, not a 5xx.
func TestSlowBody(t *testing.T) {
	eachBackend(t, func(t *testing.T, b storagetest.Backend) {
		logs := &logtest.Recorder{}
		a := start(t, b, api.Config{Logger: slog.New(logs), HTTP: api.HTTPLimits{ReadTimeout: 500 * time.Millisecond}})
		addr := strings.TrimPrefix(a.url, "http://")
		for _, tt := range []struct{ name, path, ctype, version string }{
			{"form at the newest version", "/v1/customers", "application/x-www-form-urlencoded", ""},
			{"form at an old version", "/v1/customers", "application/x-www-form-urlencoded", oldest},
			{"JSON", "/v1/customers", "application/json", stable},
			{"webhook endpoint", "/v1/webhook_endpoints", "application/x-www-form-urlencoded", ""},
			{"an idempotent request", "/v1/customers", "application/x-www-form-urlencoded", ""},
		} {
			t.Run(tt.name, func(t *testing.T) {
				head := "POST " + tt.path + " HTTP/1.1\r\nHost: " + addr + "\r\nAuthorization: Bearer " + a.key +
					"\r\nContent-Type: " + tt.ctype + "\r\nContent-Length: 100"
				if tt.version != "" {
					head += "\r\nStripe-Version: " + tt.version
				}
				if tt.name == "an idempotent request" {
					head += "\r\nIdempotency-Key: slow-1"
				}
				res, body := rawRequest(t, addr, head, strings.Repeat("e", 100), 200*time.Millisecond)
				require.Equal(t, http.StatusRequestTimeout, res.StatusCode, body)
				require.True(t, gjson.Valid(body), body)
				assert.Equal(t, "invalid_request_error", gjson.Get(body, "error.type").String(), body)
				assert.Equal(t, "request_timeout", gjson.Get(body, "error.code").String(), body)
			})
		}
		assert.Empty(t, logs.At(slog.LevelError), "a slow client is logged as an error")
		assert.NotEmpty(t, logs.At(slog.LevelInfo), "nothing logged")
		l := a.do(t, a.key, "GET", "/v1/customers", "", "")
		require.Equal(t, 200, l.status, l.body)
		assert.Empty(t, l.get("data").Array(), "a slow request was written: %s", l.body)
		m := a.do(t, "", "GET", "/metrics", "", "")
		require.Equal(t, 200, m.status)
		assert.NotContains(t, m.body, `code="5xx"`, "a slow client counted as a 5xx")
		// The idempotency key was not spent: the same key with a whole body
		// succeeds.
		r := a.do(t, a.key, "POST", "/v1/customers", "", "email=slow@example.com", "Idempotency-Key", "slow-1")
		require.Equal(t, 200, r.status, r.body)
	})
}

// TestMalformedRequestsInShape sends requests net/http refuses before any
// handler runs (headers over the limit, a NUL, a lone CR or a bad name in
// a header, no Host) and checks each answer is in the API's error shape.
func TestMalformedRequestsInShape(t *testing.T) {
	a := start(t, storagetest.Backends()[0], api.Config{})
	addr := strings.TrimPrefix(a.url, "http://")
	get := "GET /v1/customers HTTP/1.1\r\nHost: " + addr + "\r\nAuthorization: Bearer " + a.key
	tests := []struct {
		name, head string
		status     int
		code       string
	}{
		{"headers over the limit", get + "\r\nX-Big: " + strings.Repeat("x", 80<<10), 431, "request_headers_too_large"},
		{"many headers over the limit", get + strings.Repeat("\r\nX-Many: "+strings.Repeat("y", 1000), 80), 431, "request_headers_too_large"},
		{"a NUL in a header", get + "\r\nStripe-Version: 2019-10-17\x00", 400, "request_malformed"},
		{"a CR in a header", get + "\r\nIdempotency-Key: a\rb", 400, "request_malformed"},
		{"a space in a header name", get + "\r\nStripe Version: 2019-10-17", 400, "request_malformed"},
		{"no Host", "GET /v1/customers HTTP/1.1\r\nAuthorization: Bearer " + a.key, 400, "request_malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := rawRequest(t, addr, tt.head, "", 0)
			require.Equal(t, tt.status, res.StatusCode, body)
			assert.Equal(t, "application/json", res.Header.Get("Content-Type"))
			require.True(t, gjson.Valid(body), body)
			assert.Equal(t, "invalid_request_error", gjson.Get(body, "error.type").String(), body)
			assert.Equal(t, tt.code, gjson.Get(body, "error.code").String(), body)
			assert.NotEmpty(t, gjson.Get(body, "error.message").String(), body)
		})
	}
}
