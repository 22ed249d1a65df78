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
	"github.com/verso-api/verso/ratelimit"
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

// TestWebhookURLForms creates webhook endpoints over HTTP with more than
// a hundred ways of writing a URL's host, and checks each is read as a
// browser or curl reads it (the WHATWG URL standard): the numeric,
// shortened, mixed, full-width and trailing-dot forms of loopback,
// metadata and private addresses, and the IPv6 forms that embed them,
// are refused at creation naming url; hosts no browser reads are refused
// as such; public addresses in the same forms are accepted. Nothing is
// stored for a refused URL.
func TestWebhookURLForms(t *testing.T) {
	const (
		private = "public address"
		bad     = "not a valid host"
		ok      = ""
	)
	forms := []struct{ url, want string }{
		// 127.0.0.1, every way.
		{"http://127.0.0.1/", private},
		{"http://2130706433/", private},
		{"http://0x7f000001/", private},
		{"http://0X7F000001/", private},
		{"http://017700000001/", private},
		{"http://0177.0.0.1/", private},
		{"http://0177.0000.0000.0001/", private},
		{"http://127.000.000.001/", private},
		{"http://127.1/", private},
		{"http://127.0.1/", private},
		{"http://0x7f.1/", private},
		{"http://0x7f.0.0.1/", private},
		{"http://0x7f.0x0.0x0.0x1/", private},
		{"http://0177.1/", private},
		{"http://127.0.0.1./", private},
		{"http://2130706433./", private},
		{"http://00000000000000000177.1/", private},
		{"http://0x00000000007f000001/", private},
		{"http://127.255.255.254/", private},
		{"http://１２７.０.０.１/", private},
		{"http://１２７。０。０。１/", private},
		{"http://127．0．0．1/", private},
		{"http://127｡0｡0｡1/", private},
		{"http://%EF%BC%91%EF%BC%92%EF%BC%97.0.0.1/", private},
		{"http://０ｘ７ｆ.１/", private},
		{"http://２１３０７０６４３３/", private},
		{"http://127.0.0.1:80/", private},
		{"http://127.1:8080/hook", private},
		{"https://0x7f.1:443/", private},
		{"http://user:pass@127.1/", private},
		{"http://[::1]/", private},
		{"http://[0:0:0:0:0:0:0:1]/", private},
		{"http://[::127.0.0.1]/", private},
		{"http://[::7f00:1]/", private},
		{"http://[::ffff:127.0.0.1]/", private},
		{"http://[::ffff:7f00:1]/", private},
		{"http://[0:0:0:0:0:ffff:127.0.0.1]/", private},
		{"http://[::ffff:0:127.0.0.1]/", private},
		{"http://[64:ff9b::127.0.0.1]/", private},
		{"http://[64:ff9b::7f00:1]/", private},
		{"http://[2002:7f00:1::]/", private},
		{"http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/", private},
		{"http://[::1%25lo]/", private},
		{"http://localhost/", private},
		{"http://LOCALHOST/", private},
		{"http://localhost./", private},
		{"http://ｌｏｃａｌｈｏｓｔ/", private},
		{"http://api.localhost/", private},
		{"http://LocalHost.:8080/", private},
		// The metadata address, 169.254.169.254.
		{"http://169.254.169.254/", private},
		{"http://2852039166/", private},
		{"http://0xa9fea9fe/", private},
		{"http://0251.0376.0251.0376/", private},
		{"http://0xa9.0xfe.0xa9.0xfe/", private},
		{"http://169.254.43518/", private},
		{"http://169.16689662/", private},
		{"http://0251.0xfe.43518/", private},
		{"http://[::ffff:169.254.169.254]/", private},
		{"http://[::a9fe:a9fe]/", private},
		{"http://[64:ff9b::a9fe:a9fe]/", private},
		{"http://[2002:a9fe:a9fe::1]/", private},
		{"http://[2001:0:4136:e378:8000:63bf:5601:5601]/", private},
		{"http://１６９.２５４.１６９.２５４/", private},
		{"http://[fe80::1]/", private},
		{"http://[fe80::a9fe:a9fe]/", private},
		{"http://[fe80::1%25eth0]/", private},
		{"http://100.100.100.200/", private},
		{"http://[fd00:ec2::254]/", private},
		// Private networks.
		{"http://10.0.0.1/", private},
		{"http://167772161/", private},
		{"http://0xa000001/", private},
		{"http://012.0.0.1/", private},
		{"http://10.1/", private},
		{"http://172.16.0.1/", private},
		{"http://0xac.0x10.0.1/", private},
		{"http://192.168.1.1/", private},
		{"http://3232235777/", private},
		{"http://0300.0250.1.1/", private},
		{"http://192.168.257/", private},
		{"http://[::ffff:10.0.0.1]/", private},
		{"http://[64:ff9b::10.0.0.1]/", private},
		{"http://[2002:c0a8:101::1]/", private},
		{"http://[fc00::1]/", private},
		{"http://[fd12:3456::1]/", private},
		// Unspecified, broadcast, multicast and reserved.
		{"http://0/", private},
		{"http://0.0.0.0/", private},
		{"http://0x0/", private},
		{"http://0x/", private},
		{"http://[::]/", private},
		{"http://255.255.255.255/", private},
		{"http://4294967295/", private},
		{"http://240.0.0.1/", private},
		{"http://224.0.0.1/", private},
		{"http://[ff02::1]/", private},
		{"http://100.64.0.1/", private},
		{"http://198.18.0.1/", private},
		{"http://192.0.2.1/", private},
		{"http://[2001:db8::1]/", private},
		{"http://[64:ff9b:1::808:808]/", private},
		{"http://[::808:808]/", private},
		// Hosts no browser reads.
		{"http://256.0.0.1/", bad},
		{"http://4294967296/", bad},
		{"http://0x100000000/", bad},
		{"http://1.2.3.4.5/", bad},
		{"http://127.0.0.0x100/", bad},
		{"http://08.0.0.1/", bad},
		{"http://foo.0x/", bad},
		{"http://example.123/", bad},
		{"http://1..1/", bad},
		{"http://a..b.example/", bad},
		{"http://[2606:4700::1111%25eth0]/", bad},
		// Public addresses, in the same forms.
		{"http://8.8.8.8/", ok},
		{"http://134744072/", ok},
		{"http://0x08080808/", ok},
		{"http://010.010.010.010/", ok},
		{"http://8.526344/", ok},
		{"http://８.８.８.８/", ok},
		{"https://93.184.216.34:8443/hook", ok},
		{"http://[2606:4700::1111]/", ok},
		{"http://[::ffff:8.8.8.8]/", ok},
		{"http://[64:ff9b::808:808]/", ok},
		{"http://[2002:808:808::1]/", ok},
		{"http://[2001:0:4136:e378:8000:63bf:f7f7:f7f7]/", ok},
	}
	require.GreaterOrEqual(t, len(forms), 100)
	eachBackend(t, func(t *testing.T, b storagetest.Backend) {
		a := start(t, b, api.Config{KeyLimit: ratelimit.Per(1000, time.Second), IPLimit: ratelimit.Per(1000, time.Second)})
		accepted := 0
		for _, f := range forms {
			t.Run(f.url, func(t *testing.T) {
				r := a.do(t, a.key, "POST", "/v1/webhook_endpoints", "", url.Values{"url": {f.url}, "enabled_events[]": {"*"}}.Encode())
				if f.want == ok {
					require.Equal(t, 200, r.status, r.body)
					assert.Equal(t, f.url, r.get("url").String(), r.body)
					accepted++
					return
				}
				require.Equal(t, 400, r.status, r.body)
				assert.Equal(t, "url", r.get("error.param").String(), r.body)
				assert.Equal(t, "invalid_request_error", r.get("error.type").String(), r.body)
				assert.Contains(t, r.get("error.message").String(), f.want, r.body)
			})
		}
		l := a.do(t, a.key, "GET", "/v1/webhook_endpoints?limit=100", "", "")
		require.Equal(t, 200, l.status, l.body)
		assert.Len(t, l.get("data").Array(), accepted, "refused endpoints were stored: %s", l.body)
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
