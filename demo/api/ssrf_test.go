package api_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/demo/api"
	"github.com/verso-api/verso/storage"
	"github.com/verso-api/verso/storage/storagetest"
)

// TestWebhookURLsMustBePublic checks over HTTP that endpoint URLs naming
// the server's own network are refused with 400 naming url, and that
// nothing is stored for them.
func TestWebhookURLsMustBePublic(t *testing.T) {
	eachBackend(t, func(t *testing.T, b storagetest.Backend) {
		a := start(t, b, api.Config{})
		for _, u := range []string{
			"http://127.0.0.1:4242/hook", "http://[::1]/hook", "http://localhost/hook", "http://169.254.169.254/latest/meta-data/",
			"http://0.0.0.0/", "http://10.0.0.7/", "http://[::ffff:7f00:1]/", "http://224.0.0.1/",
		} {
			t.Run(u, func(t *testing.T) {
				r := a.do(t, a.key, "POST", "/v1/webhook_endpoints", "", url.Values{"url": {u}, "enabled_events[]": {"*"}}.Encode())
				require.Equal(t, 400, r.status, r.body)
				assert.Equal(t, "url", r.get("error.param").String(), r.body)
				assert.Equal(t, "invalid_request_error", r.get("error.type").String(), r.body)
				assert.Contains(t, r.get("error.message").String(), "public address", r.body)
			})
		}
		l := a.do(t, a.key, "GET", "/v1/webhook_endpoints", "", "")
		require.Equal(t, 200, l.status, l.body)
		assert.Empty(t, l.get("data").Array(), l.body)
	})
}

// TestWebhookTestSendWording checks that the test endpoint reports a
// receiver's failure in fixed words, never the network error.
func TestWebhookTestSendWording(t *testing.T) {
	eachBackend(t, func(t *testing.T, b storagetest.Backend) {
		a := start(t, b, api.Config{WebhooksAllowPrivate: true}) // the receivers are on 127.0.0.1
		failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(502) }))
		t.Cleanup(failing.Close)
		gone := httptest.NewServer(http.NotFoundHandler())
		gone.Close()
		for _, tt := range []struct{ url, want string }{
			{failing.URL, "receiver answered 502 Bad Gateway"},
			{gone.URL, "connection failed"},
		} {
			ep := a.do(t, a.key, "POST", "/v1/webhook_endpoints", "", url.Values{"url": {tt.url}, "enabled_events[]": {"*"}}.Encode())
			require.Equal(t, 200, ep.status, ep.body)
			r := a.do(t, a.key, "POST", "/v1/webhook_endpoints/"+ep.get("id").String()+"/test", "", "type=customer.created")
			require.Equal(t, 200, r.status, r.body)
			assert.Equal(t, tt.want, r.get("error").String(), r.body)
			assert.NotContains(t, r.body, "dial")
			assert.NotContains(t, r.body, "refused")
		}
	})
}

// TestSecretsNotInPlainText creates an endpoint with an idempotency key
// and a Sealer, and checks that neither the endpoint row nor the saved
// response holds the secret, while a retry still shows it.
func TestSecretsNotInPlainText(t *testing.T) {
	eachBackend(t, func(t *testing.T, b storagetest.Backend) {
		db, _ := b.Open(t)
		sealer, err := storage.NewSealer(bytes.Repeat([]byte{3}, storage.KeySize))
		require.NoError(t, err)
		a := startOn(t, db, api.Config{Sealer: sealer})
		body := url.Values{"url": {"https://93.184.216.34/hook"}, "enabled_events[]": {"*"}}.Encode()
		first := a.do(t, a.key, "POST", "/v1/webhook_endpoints", "", body, "Idempotency-Key", "ep-1")
		require.Equal(t, 200, first.status, first.body)
		secret := first.get("secret").String()
		require.True(t, strings.HasPrefix(secret, "whsec_"), first.body)
		retry := a.do(t, a.key, "POST", "/v1/webhook_endpoints", "", body, "Idempotency-Key", "ep-1")
		require.Equal(t, 200, retry.status, retry.body)
		assert.Equal(t, "true", retry.header.Get("Idempotent-Replayed"))
		assert.Equal(t, secret, retry.get("secret").String())

		ctx := context.Background()
		for _, q := range []string{`SELECT secret FROM webhook_endpoints`, `SELECT body FROM idempotency_keys`} {
			rows, err := db.Query(ctx, q)
			require.NoError(t, err, q)
			n := 0
			for rows.Next() {
				var v []byte
				require.NoError(t, rows.Scan(&v))
				assert.NotContains(t, string(v), secret, q)
				assert.NotContains(t, string(v), "whsec_", q)
				n++
			}
			require.NoError(t, rows.Err())
			rows.Close()
			assert.Equal(t, 1, n, q)
		}
	})
}

// TestDeliveryRecordWording checks that a failed delivery's record says
// "connection failed", not the network error.
func TestDeliveryRecordWording(t *testing.T) {
	eachBackend(t, func(t *testing.T, b storagetest.Backend) {
		a := start(t, b, api.Config{WebhooksAllowPrivate: true}) // the dead receiver is on 127.0.0.1
		gone := httptest.NewServer(http.NotFoundHandler())
		gone.Close()
		ep := a.do(t, a.key, "POST", "/v1/webhook_endpoints", "", url.Values{"url": {gone.URL}, "enabled_events[]": {"*"}}.Encode())
		require.Equal(t, 200, ep.status, ep.body)
		require.Equal(t, 200, a.do(t, a.key, "POST", "/v1/customers", "", "email=d@example.com").status)
		var last string
		deadline := time.Now().Add(30 * time.Second)
		for last == "" && time.Now().Before(deadline) {
			r := a.do(t, a.key, "GET", "/v1/webhook_endpoints/"+ep.get("id").String()+"/deliveries", "", "")
			require.Equal(t, 200, r.status, r.body)
			last = r.get("data.0.last_error").String()
			if last == "" {
				time.Sleep(20 * time.Millisecond)
			}
		}
		assert.Equal(t, "connection failed", last)
	})
}
