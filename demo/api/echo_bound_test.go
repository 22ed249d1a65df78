package api_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/verso-api/verso/demo/api"
	"github.com/verso-api/verso/storage/storagetest"
)

// TestErrorEchoesBounded sends names and values of up to 300 KB wherever
// a client puts them (form and JSON parameter names, values, ids in the
// path, expand paths, list cursors, nested form keys) and checks that
// each error is a 4xx in the error shape that echoes at most 100
// characters of them (apierror.Bound), in its message and its param.
func TestErrorEchoesBounded(t *testing.T) {
	eachBackend(t, func(t *testing.T, b storagetest.Backend) {
		a := start(t, b, api.Config{})
		cus := a.do(t, a.key, "POST", "/v1/customers", "", "email=q@example.com")
		require.Equal(t, 200, cus.status, cus.body)
		id := cus.get("id").String()
		q := func(n int) string { return strings.Repeat("q", n) }
		tests := []struct {
			name, method, path, body string
			status                   int
			header                   []string
		}{
			{"a form key nested 100,000 levels", "POST", "/v1/customers", "metadata" + strings.Repeat("[q]", 100_000) + "=1", 400, nil},
			{"a form key of 100,000 bytes", "POST", "/v1/customers", q(100_000) + "=1", 400, nil},
			{"a JSON key of 100,000 bytes", "POST", "/v1/customers", `{"` + q(100_000) + `":1}`, 400, nil},
			{"a long key in a form list", "POST", "/v1/customers", "email=a@b.c&" + q(5000) + "[x]=1", 400, nil},
			{"a long query parameter", "GET", "/v1/customers?" + q(5000) + "=1", "", 400, nil},
			{"an integer of 100,000 bytes", "POST", "/v1/customers", "balance=" + q(100_000), 400, nil},
			{"an integer in JSON", "POST", "/v1/customers", `{"balance":"` + q(100_000) + `"}`, 400, nil},
			{"a long customer id", "GET", "/v1/customers/cus_" + q(5000), "", 404, nil},
			{"a long event id", "GET", "/v1/events/evt_" + q(5000), "", 404, nil},
			{"a long charge id to update", "POST", "/v1/charges/ch_" + q(5000), "description=x", 404, nil},
			{"a long expand path", "GET", "/v1/customers/" + id + "?expand[]=" + q(150), "", 400, nil},
			{"a long expand path on a list", "GET", "/v1/charges?expand[]=" + q(150), "", 400, nil},
			{"a deep expand path", "GET", "/v1/charges?expand[]=" + strings.Repeat("q.", 2000), "", 400, nil},
			{"a long payment method type", "POST", "/v1/payment_intents", "amount=100&currency=usd&payment_method_types[]=" + q(100_000), 400, nil},
			{"a long name with a NUL byte", "POST", "/v1/customers", q(5000) + "%00=1", 400, nil},
			{"a long value with a NUL byte", "POST", "/v1/customers", "name=" + q(5000) + "%00", 400, nil},
			{"a long currency", "POST", "/v1/charges", "amount=100&source=tok_visa&currency=" + q(100_000), 400, nil},
			{"a long token", "POST", "/v1/customers/" + id + "/sources", "source=" + q(100_000), 400, nil},
			{"a long unknown webhook parameter", "POST", "/v1/webhook_endpoints", "url=https://93.184.216.34/&enabled_events[]=*&" + q(100_000) + "=1", 400, nil},
			{"a long webhook api_version", "POST", "/v1/webhook_endpoints", "url=https://93.184.216.34/&enabled_events[]=*&api_version=" + q(100_000), 400, nil},
			{"a long webhook url", "POST", "/v1/webhook_endpoints", "url=https://" + q(100_000) + ".example/&enabled_events[]=*", 400, nil},
			{"a long webhook event type", "POST", "/v1/webhook_endpoints", "url=https://93.184.216.34/&enabled_events[]=" + q(100_000), 400, nil},
			{"a long webhook endpoint id", "GET", "/v1/webhook_endpoints/we_" + q(5000), "", 404, nil},
			{"a long webhook cursor", "GET", "/v1/webhook_endpoints?starting_after=" + q(5000), "", 400, nil},
			{"a long webhook limit", "GET", "/v1/webhook_endpoints?limit=" + q(5000), "", 400, nil},
			{"a long pin version", "POST", "/v1/account/api_version", "version=" + q(5000), 400, nil},
			{"a form key nested 10,000 levels at an old version", "POST", "/v1/customers", "metadata" + strings.Repeat("[q]", 10_000) + "=1", 400, []string{"Stripe-Version", oldest}},
			{"a long form key at an old version", "POST", "/v1/customers", q(100_000) + "=1", 400, []string{"Stripe-Version", oldest}},
			{"a long integer at an old version", "POST", "/v1/customers", "account_balance=" + q(100_000), 400, []string{"Stripe-Version", oldest}},
			{"a long JSON integer at an old version", "POST", "/v1/customers", `{"account_balance":"` + q(100_000) + `"}`, 400, []string{"Stripe-Version", oldest}},
			{"a long version", "GET", "/v1/customers", "", 400, []string{"Stripe-Version", q(5000)}},
			{"a long named version", "GET", "/v1/customers", "", 400, []string{"Stripe-Version", "2019-10-17." + q(5000)}},
			{"a long unknown path", "GET", "/v1/" + q(5000), "", 404, nil},
			{"a long idempotency key", "POST", "/v1/customers", "email=a@b.c", 400, []string{"Idempotency-Key", q(5000)}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := a.do(t, a.key, tt.method, tt.path, "", tt.body, tt.header...)
				require.Equal(t, tt.status, r.status, "%.300s", r.body)
				require.True(t, gjson.Valid(r.body), "%.300s", r.body)
				assert.Equal(t, "invalid_request_error", r.get("error.type").String(), "%.300s", r.body)
				assertBounded(t, r.get("error.message").String())
				assertBounded(t, r.get("error.param").String())
				assert.Less(t, len(r.body), 4096, "%.300s", r.body) // a message may list the supported versions
			})
		}
		got := a.do(t, a.key, "GET", "/v1/customers?limit=100", "", "")
		assert.Len(t, got.get("data").Array(), 1, "a refused request was written: %.300s", got.body)
	})
}

// assertBounded checks that s echoes at most 100 characters of the
// test's q payloads.
func assertBounded(t *testing.T, s string) {
	t.Helper()
	assert.NotContains(t, s, strings.Repeat("q", 101), "%.300s", s)
	assert.NotContains(t, s, strings.Repeat("[q]", 34), "%.300s", s)
	assert.NotContains(t, s, strings.Repeat("q.", 51), "%.300s", s)
}
