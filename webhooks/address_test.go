package webhooks

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/storage"
	"github.com/verso-api/verso/webhooks/signature"
)

func TestForbiddenAddress(t *testing.T) {
	tests := []struct {
		ip        string
		forbidden bool
	}{
		{"127.0.0.1", true}, {"127.9.9.9", true}, {"::1", true}, {"0.0.0.0", true}, {"::", true},
		{"10.1.2.3", true}, {"172.16.0.1", true}, {"192.168.1.1", true}, {"fd00::1", true},
		{"169.254.169.254", true}, {"fe80::1", true}, {"224.0.0.1", true}, {"ff02::1", true},
		{"100.100.100.200", true}, {"255.255.255.255", true}, {"::ffff:127.0.0.1", true}, {"::ffff:10.0.0.1", true},
		{"64:ff9b::7f00:1", true}, {"0.1.2.3", true},
		{"93.184.216.34", false}, {"8.8.8.8", false}, {"2606:4700::1111", false}, {"::ffff:8.8.8.8", false},
		// Documentation and reserved ranges.
		{"192.0.2.1", true}, {"198.51.100.1", true}, {"203.0.113.9", true}, {"2001:db8::1", true},
		{"100::1", true}, {"fec0::1", true},
		// IPv4-compatible (::/96): forbidden whatever it embeds.
		{"::7f00:1", true}, {"::a9fe:a9fe", true}, {"::808:808", true}, {"::2", true},
		// IPv4-translated (SIIT): judged by what it embeds.
		{"::ffff:0:7f00:1", true}, {"::ffff:0:808:808", false},
		// NAT64, well-known prefix: judged by the last 32 bits.
		{"64:ff9b::a9fe:a9fe", true}, {"64:ff9b::a00:1", true}, {"64:ff9b::808:808", false},
		// NAT64, local-use prefix: the operator's own translator.
		{"64:ff9b:1::808:808", true}, {"64:ff9b:1:ffff::1", true},
		// 6to4: bits 16 to 47.
		{"2002:7f00:1::1", true}, {"2002:a9fe:a9fe::", true}, {"2002:c0a8:101::1", true}, {"2002:808:808::1", false},
		// Teredo: the server in bits 32 to 63, the client inverted in the last 32.
		{"2001:0:4136:e378:8000:63bf:80ff:fffe", true},  // client 127.0.0.1
		{"2001:0:4136:e378:8000:63bf:5601:5601", true},  // client 169.254.169.254
		{"2001:0:7f00:1:8000:63bf:f7f7:f7f7", true},     // server 127.0.0.1, client 8.8.8.8
		{"2001:0:4136:e378:8000:63bf:f7f7:f7f7", false}, // server 65.54.227.120, client 8.8.8.8
	}
	for _, tt := range tests {
		t.Run(tt.ip, func(t *testing.T) {
			assert.Equal(t, tt.forbidden, ForbiddenAddress(netip.MustParseAddr(tt.ip)))
		})
	}
}

// TestCreateRefusesPrivateURLs checks that a store without AllowPrivate
// refuses URLs that name or resolve to non-public addresses, and that
// AllowPrivate lets them through.
func TestCreateRefusesPrivateURLs(t *testing.T) {
	forEachDB(t, func(t *testing.T, open opener) {
		db := open(t)
		ctx := context.Background()
		strict, err := NewSQLStore(ctx, db, nil)
		require.NoError(t, err)
		for _, u := range []string{
			"http://127.0.0.1:8080/hook", "http://[::1]/hook", "http://localhost:9/hook", "http://LOCALHOST./hook",
			"http://api.localhost/hook", "http://169.254.169.254/latest/meta-data", "http://0.0.0.0:80/",
			"http://10.0.0.1/", "https://192.168.0.10/", "http://[::ffff:127.0.0.1]/", "http://224.0.0.1/",
			"http://[fe80::1%25eth0]/", "http://100.100.100.200/",
		} {
			t.Run(u, func(t *testing.T) {
				_, err := strict.CreateEndpoint(ctx, EndpointParams{Account: "acct_a", URL: u, EnabledEvents: []string{"*"}, APIVersion: vNew})
				require.ErrorIs(t, err, ErrForbiddenAddress)
				require.ErrorIs(t, err, ErrInvalid)
			})
		}
		eps, _, err := strict.ListEndpoints(ctx, "acct_a", ListParams{})
		require.NoError(t, err)
		assert.Empty(t, eps, "a refused endpoint was stored")

		_, err = strict.CreateEndpoint(ctx, EndpointParams{Account: "acct_a", URL: "https://93.184.216.34/hook", EnabledEvents: []string{"*"}, APIVersion: vNew})
		require.NoError(t, err)
		loose, err := NewSQLStore(ctx, db, &Options{AllowPrivate: true})
		require.NoError(t, err)
		_, err = loose.CreateEndpoint(ctx, EndpointParams{Account: "acct_a", URL: "http://127.0.0.1:8080/hook", EnabledEvents: []string{"*"}, APIVersion: vNew})
		require.NoError(t, err)
	})
}

// TestDialRefusesPrivate stores endpoints on 127.0.0.1 and on localhost
// behind the creation check (as a DNS answer that changed since creation
// would), and checks that the worker's dialer refuses to connect: the
// receiver gets nothing, and the result says why without the network
// error.
func TestDialRefusesPrivate(t *testing.T) {
	forEachDB(t, func(t *testing.T, open opener) {
		db := open(t)
		ctx := context.Background()
		rc := newReceiver(t, nil)
		loose, err := NewSQLStore(ctx, db, &Options{AllowPrivate: true})
		require.NoError(t, err)
		_, port, _ := net.SplitHostPort(strings.TrimPrefix(rc.URL, "http://"))
		strict, err := NewSQLStore(ctx, db, nil)
		require.NoError(t, err)
		w := mustWorker(t, Config{Store: strict, Renderer: fakeRender, Timeout: 5 * time.Second})
		for _, u := range []string{rc.URL + "/hook", "http://localhost:" + port + "/hook"} {
			t.Run(u, func(t *testing.T) {
				ep, err := loose.CreateEndpoint(ctx, EndpointParams{Account: "acct_d", URL: u, EnabledEvents: []string{"*"}, APIVersion: vNew})
				require.NoError(t, err)
				res, err := w.SendTest(ctx, "acct_d", ep.ID, []byte(`{"object":"event","type":"customer.created"}`), vNew)
				require.NoError(t, err)
				assert.Equal(t, 0, res.Status)
				assert.Equal(t, "address not allowed: webhooks must reach a public address", res.Error)
			})
		}
		assert.Empty(t, rc.requests(), "the receiver on 127.0.0.1 was reached")
	})
}

// TestAttemptWording checks that delivery results say what happened in a
// few fixed words, never the network error.
func TestAttemptWording(t *testing.T) {
	forEachDB(t, func(t *testing.T, open opener) {
		db := open(t)
		ctx := context.Background()
		s := newStore(t, db, nil)
		failing := newReceiver(t, func(int, *http.Request) int { return http.StatusServiceUnavailable })
		release := make(chan struct{})
		slow := newReceiver(t, func(int, *http.Request) int { <-release; return 200 })
		t.Cleanup(func() { close(release) })
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		closed := "http://" + ln.Addr().String() + "/hook"
		ln.Close() // nothing listens there now
		w := mustWorker(t, Config{Store: s, Renderer: fakeRender, Timeout: 200 * time.Millisecond})
		tests := []struct {
			name, url, want string
			status          int
		}{
			{"status", failing.URL, "receiver answered 503 Service Unavailable", 503},
			{"timeout", slow.URL, "timed out", 0},
			{"refused", closed, "connection failed", 0},
			{"unresolvable", "http://verso-test.invalid/hook", "connection failed", 0},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ep, err := s.CreateEndpoint(ctx, EndpointParams{Account: "acct_w", URL: tt.url, EnabledEvents: []string{"*"}, APIVersion: vNew})
				require.NoError(t, err)
				res, err := w.SendTest(ctx, "acct_w", ep.ID, []byte(`{"object":"event","type":"customer.created"}`), vNew)
				require.NoError(t, err)
				assert.Equal(t, tt.status, res.Status)
				assert.Equal(t, tt.want, res.Error)
			})
		}
	})
}

// TestSecretsSealed checks that with a Sealer the secret column holds no
// secret, that the worker still signs with it, and that a store without
// the key cannot read it.
func TestSecretsSealed(t *testing.T) {
	forEachDB(t, func(t *testing.T, open opener) {
		db := open(t)
		ctx := context.Background()
		sealer, err := storage.NewSealer([]byte(strings.Repeat("k", storage.KeySize)))
		require.NoError(t, err)
		s, err := NewSQLStore(ctx, db, &Options{AllowPrivate: true, Sealer: sealer})
		require.NoError(t, err)
		rc := newReceiver(t, nil)
		ep, err := s.CreateEndpoint(ctx, EndpointParams{Account: "acct_s", URL: rc.URL, EnabledEvents: []string{"*"}, APIVersion: vNew})
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(ep.Secret, "whsec_"), ep.Secret)
		var stored string
		require.NoError(t, db.QueryRow(ctx, `SELECT secret FROM webhook_endpoints WHERE id = ?`, ep.ID).Scan(&stored))
		assert.NotContains(t, stored, ep.Secret)
		assert.True(t, storage.IsSealed([]byte(stored)), stored)

		w := mustWorker(t, Config{Store: s, Renderer: fakeRender})
		res, err := w.SendTest(ctx, "acct_s", ep.ID, []byte(`{"id":"evt_1","object":"event","type":"customer.created"}`), vNew)
		require.NoError(t, err)
		require.Empty(t, res.Error)
		got := rc.requests()
		require.Len(t, got, 1)
		err = signature.Verify(got[0].body, got[0].header.Get(signature.Header), ep.Secret, time.Hour)
		require.NoError(t, err, "the delivery is not signed with the endpoint's secret")

		keyless, err := NewSQLStore(ctx, db, &Options{AllowPrivate: true})
		require.NoError(t, err)
		_, err = keyless.endpointWithSecret(ctx, "acct_s", ep.ID)
		assert.ErrorIs(t, err, storage.ErrSealed)
	})
}
