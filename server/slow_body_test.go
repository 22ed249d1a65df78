package server_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/verso-api/verso/server"
)

// TestSlowBody serves every form of the middleware over HTTP with a short
// read timeout, sends a body the middleware walks forward (JSON and form,
// at an old version) slower than the timeout, and checks the client gets
// 408 in the error shape and nothing is logged at level error: a slow
// client is not the server's fault.
func TestSlowBody(t *testing.T) {
	logger, logs := logBuffer()
	for name, h := range forms(t, server.Config{Engine: stripe(t), Logger: logger}) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		srv := &http.Server{Handler: h, ReadTimeout: 300 * time.Millisecond}
		go srv.Serve(ln)
		t.Cleanup(func() { srv.Close() })
		for _, ct := range []string{"application/json", "application/x-www-form-urlencoded"} {
			t.Run(name+"/"+ct, func(t *testing.T) {
				c, err := net.Dial("tcp", ln.Addr().String())
				require.NoError(t, err)
				defer c.Close()
				require.NoError(t, c.SetDeadline(time.Now().Add(60*time.Second)))
				_, err = io.WriteString(c, "POST /v1/customers HTTP/1.1\r\nHost: a\r\nStripe-Version: 2017-01-27\r\nContent-Type: "+ct+
					"\r\nContent-Length: 100\r\n\r\n"+`{"account_balance":`)
				require.NoError(t, err) // and the rest never comes
				res, err := http.ReadResponse(bufio.NewReader(c), nil)
				require.NoError(t, err)
				b, _ := io.ReadAll(res.Body)
				require.Equal(t, http.StatusRequestTimeout, res.StatusCode, string(b))
				assert.Equal(t, "request_timeout", gjson.GetBytes(b, "error.code").String(), string(b))
				assert.Equal(t, "2017-01-27", res.Header.Get("Stripe-Version"))
			})
		}
	}
	assert.NotContains(t, logs.String(), "level=ERROR", logs.String())
	assert.False(t, strings.Contains(logs.String(), "status=500"), logs.String())
}

// TestBrokenBody sends a body the middleware walks forward in a chunked
// encoding that breaks off, to every form of the middleware over HTTP, and
// checks the client gets 400 request_body_unreadable (apierror.FromBodyRead),
// as the idempotency middleware and the demo answer the same body, and
// nothing is logged at level error.
func TestBrokenBody(t *testing.T) {
	logger, logs := logBuffer()
	for name, h := range forms(t, server.Config{Engine: stripe(t), Logger: logger}) {
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		for _, ct := range []string{"application/json", "application/x-www-form-urlencoded"} {
			t.Run(name+"/"+ct, func(t *testing.T) {
				c, err := net.Dial("tcp", srv.Listener.Addr().String())
				require.NoError(t, err)
				defer c.Close()
				require.NoError(t, c.SetDeadline(time.Now().Add(60*time.Second)))
				_, err = io.WriteString(c, "POST /v1/customers HTTP/1.1\r\nHost: a\r\nStripe-Version: 2017-01-27\r\nContent-Type: "+ct+
					"\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"acc\r\nzz\r\n")
				require.NoError(t, err)
				res, err := http.ReadResponse(bufio.NewReader(c), nil)
				require.NoError(t, err)
				b, _ := io.ReadAll(res.Body)
				require.Equal(t, http.StatusBadRequest, res.StatusCode, string(b))
				assert.Equal(t, "request_body_unreadable", gjson.GetBytes(b, "error.code").String(), string(b))
				assert.Equal(t, "2017-01-27", res.Header.Get("Stripe-Version"))
			})
		}
	}
	assert.NotContains(t, logs.String(), "level=ERROR", logs.String())
}
