package proxy

import (
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTransportBoundsUnansweredRequests checks the default transport's
// bounds on an upstream that never sends a request's response headers:
// over plain HTTP/1.1 the connection is silent and is cut after the
// timeout; over https, where HTTP/2 carries other exchanges on the same
// connection and keeps it busy, the request is still given up after the
// timeout.
func TestTransportBoundsUnansweredRequests(t *testing.T) {
	const timeout = 300 * time.Millisecond
	var release chan struct{}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/busy" {
			// Keeps the connection busy: a byte every 20 ms.
			for range 100 {
				select {
				case <-release:
					return
				case <-time.After(20 * time.Millisecond):
				}
				_, _ = w.Write([]byte("."))
				w.(http.Flusher).Flush()
			}
			return
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	for _, c := range []struct {
		name  string
		start func(http.Handler) *httptest.Server
		proto string
	}{
		{"http", httptest.NewServer, "HTTP/1.1"},
		{"https", func(h http.Handler) *httptest.Server {
			s := httptest.NewUnstartedServer(h)
			s.EnableHTTP2 = true
			s.StartTLS()
			return s
		}, "HTTP/2.0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			release = make(chan struct{})
			up := c.start(handler)
			defer up.Close()
			tr := newTransport(c.name, time.Second, timeout)
			if c.name == "https" {
				tr.TLSClientConfig = &tls.Config{RootCAs: up.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}
			}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr}

			busy, err := client.Get(up.URL + "/busy")
			require.NoError(t, err)
			defer busy.Body.Close()
			require.Equal(t, c.proto, busy.Proto)
			go func() { _, _ = io.Copy(io.Discard, busy.Body) }()

			start := time.Now()
			res, err := client.Get(up.URL + "/stall")
			if err == nil {
				res.Body.Close()
			}
			require.Error(t, err, "an upstream that never answers is given up")
			var nerr interface{ Timeout() bool }
			assert.True(t, errors.As(err, &nerr) && nerr.Timeout(), "a timeout: %v", err)
			assert.Less(t, time.Since(start), timeout+time.Second, "given up after about the timeout")
			close(release)
		})
	}
}
