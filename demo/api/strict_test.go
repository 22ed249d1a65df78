package api_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/verso-api/verso/demo/api"
	"github.com/verso-api/verso/storage/storagetest"
)

// TestStrictParams sends loose input to every kind of endpoint and checks
// the 400 names the parameter with Stripe's error code, and that nothing
// was stored from a refused request.
func TestStrictParams(t *testing.T) {
	eachBackend(t, func(t *testing.T, b storagetest.Backend) {
		a := start(t, b, api.Config{})
		cus := a.do(t, a.key, "POST", "/v1/customers", "", "email=a@example.com")
		require.Equal(t, 200, cus.status, cus.body)
		cusID := cus.get("id").String()
		tests := []struct {
			name, method, path, version, body string
			code, param                       string
		}{
			{"integer with letters", "POST", "/v1/customers/" + cusID, "", "balance=12abc", "parameter_invalid_integer", "balance"},
			{"integer with a fraction", "POST", "/v1/customers/" + cusID, "", "balance=1.5", "parameter_invalid_integer", "balance"},
			{"integer with an exponent", "POST", "/v1/customers/" + cusID, "", `{"balance":1e3}`, "parameter_invalid_integer", "balance"},
			{"JSON fraction", "POST", "/v1/customers/" + cusID, "", `{"balance":1.5}`, "parameter_invalid_integer", "balance"},
			{"integer as a bool", "POST", "/v1/customers/" + cusID, "", `{"balance":true}`, "parameter_invalid_integer", "balance"},
			{"integer out of range", "POST", "/v1/customers/" + cusID, "", "balance=99999999999999999999", "parameter_invalid_integer", "balance"},
			{"old name, old version", "POST", "/v1/customers/" + cusID, "2015-02-18", "account_balance=7x", "parameter_invalid_integer", "balance"},
			{"amount fraction", "POST", "/v1/charges", "", "amount=1.5&currency=usd&source=tok_visa", "parameter_invalid_integer", "amount"},
			{"amount missing", "POST", "/v1/charges", "", "currency=usd&source=tok_visa", "parameter_missing", "amount"},
			{"currency missing", "POST", "/v1/payment_intents", "", "amount=100", "parameter_missing", "currency"},
			{"charge missing", "POST", "/v1/refunds", "", "amount=100", "parameter_missing", "charge"},
			{"version missing", "POST", "/v1/account/api_version", "", "", "parameter_missing", "version"},
			{"limit not an integer", "GET", "/v1/customers?limit=5x", "", "", "parameter_invalid_integer", "limit"},
			{"unknown body param", "POST", "/v1/customers", "", "email=b@example.com&emial=c@example.com", "parameter_unknown", "emial"},
			{"unknown JSON param", "POST", "/v1/charges", "", `{"amount":100,"currency":"usd","source":"tok_visa","capture":false}`, "parameter_unknown", "capture"},
			{"unknown query param on a list", "GET", "/v1/customers?created_after=1", "", "", "parameter_unknown", "created_after"},
			{"unknown query param on a retrieve", "GET", "/v1/customers/" + cusID + "?foo=1", "", "", "parameter_unknown", "foo"},
			{"unknown param on events", "GET", "/v1/events?customer=" + cusID, "", "", "parameter_unknown", "customer"},
			{"unknown param on an update", "POST", "/v1/customers/" + cusID, "", "balance=1&invoice_prefix=X", "parameter_unknown", "invoice_prefix"},
			{"unknown param on the pin", "POST", "/v1/account/api_version/rollback", "", "force=true", "parameter_unknown", "force"},
			{"unknown cursor on customers", "GET", "/v1/customers?starting_after=cus_nope", "", "", "parameter_invalid", "starting_after"},
			{"unknown cursor on charges", "GET", "/v1/charges?starting_after=ch_nope", "", "", "parameter_invalid", "starting_after"},
			{"unknown cursor on payment intents", "GET", "/v1/payment_intents?starting_after=pi_nope", "", "", "parameter_invalid", "starting_after"},
			{"unknown cursor on refunds", "GET", "/v1/refunds?starting_after=re_nope", "", "", "parameter_invalid", "starting_after"},
			{"unknown cursor on events", "GET", "/v1/events?starting_after=evt_nope", "", "", "parameter_invalid", "starting_after"},
			{"unknown ending_before on customers", "GET", "/v1/customers?ending_before=cus_nope", "", "", "parameter_invalid", "ending_before"},
			{"unknown ending_before on refunds", "GET", "/v1/refunds?ending_before=re_nope", "", "", "parameter_invalid", "ending_before"},
			{"unknown cursor on webhook endpoints", "GET", "/v1/webhook_endpoints?starting_after=we_nope", "", "", "", "starting_after"},
			{"another type's id as cursor", "GET", "/v1/charges?starting_after=" + cusID, "", "", "parameter_invalid", "starting_after"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := a.do(t, a.key, tt.method, tt.path, tt.version, tt.body)
				require.Equal(t, 400, r.status, r.body)
				assert.Equal(t, "invalid_request_error", r.get("error.type").String(), r.body)
				if tt.code != "" {
					assert.Equal(t, tt.code, r.get("error.code").String(), r.body)
				}
				assert.Equal(t, tt.param, r.get("error.param").String(), r.body)
				assert.NotEmpty(t, r.get("error.message").String(), r.body)
			})
		}
		// Nothing of the refused requests was written.
		got := a.do(t, a.key, "GET", "/v1/customers/"+cusID, "", "")
		require.Equal(t, 200, got.status, got.body)
		assert.Equal(t, int64(0), got.get("balance").Int(), got.body)
		list := a.do(t, a.key, "GET", "/v1/customers", "", "")
		assert.Len(t, list.get("data").Array(), 1, list.body)
		for _, typ := range []string{"charges", "payment_intents", "refunds"} {
			l := a.do(t, a.key, "GET", "/v1/"+typ, "", "")
			assert.Empty(t, l.get("data").Array(), l.body)
		}
		// A well-formed integer is taken as it is, from form and JSON.
		for _, body := range []string{"balance=-250", `{"balance":-250}`, `{"balance":"-250"}`} {
			r := a.do(t, a.key, "POST", "/v1/customers/"+cusID, "", body)
			require.Equal(t, 200, r.status, r.body)
			assert.Equal(t, int64(-250), gjson.Get(r.body, "balance").Int())
		}
	})
}
