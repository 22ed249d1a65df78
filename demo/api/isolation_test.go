package api_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/demo/api"
	"github.com/verso-api/verso/storage/storagetest"
)

// TestAccountIsolation gives the first account one of every object, then
// has a second account try to read, update, expand, refund, confirm,
// delete, list and page through them, and checks it reaches none and
// changes nothing.
func TestAccountIsolation(t *testing.T) {
	eachBackend(t, func(t *testing.T, b storagetest.Backend) {
		a := start(t, b, api.Config{})
		ids := seedObjects(t, a)
		cus, ch, ev, pi, re, ep := ids[0], ids[1], ids[2], ids[3], ids[4], ids[5]
		owned := map[string]string{
			"/v1/customers/" + cus: "", "/v1/charges/" + ch: "", "/v1/events/" + ev: "",
			"/v1/payment_intents/" + pi: "", "/v1/refunds/" + re: "", "/v1/webhook_endpoints/" + ep: "",
		}
		for p := range owned {
			r := a.do(t, a.key, "GET", p, "", "")
			require.Equal(t, 200, r.status, r.body)
			owned[p] = r.body
		}
		other := a.newAccount(t)
		tests := []struct {
			name, method, path, body string
			status                   int
		}{
			{"retrieve a customer", "GET", "/v1/customers/" + cus, "", 404},
			{"retrieve a charge", "GET", "/v1/charges/" + ch, "", 404},
			{"retrieve a payment intent", "GET", "/v1/payment_intents/" + pi, "", 404},
			{"retrieve a refund", "GET", "/v1/refunds/" + re, "", 404},
			{"retrieve an event", "GET", "/v1/events/" + ev, "", 404},
			{"retrieve an endpoint", "GET", "/v1/webhook_endpoints/" + ep, "", 404},
			{"update a customer", "POST", "/v1/customers/" + cus, "name=mallory", 404},
			{"update a charge", "POST", "/v1/charges/" + ch, "description=mine", 404},
			{"update a payment intent", "POST", "/v1/payment_intents/" + pi, "description=mine", 404},
			{"update a refund", "POST", "/v1/refunds/" + re, "metadata[a]=b", 404},
			{"confirm a payment intent", "POST", "/v1/payment_intents/" + pi + "/confirm", "payment_method=pm_card_visa", 404},
			{"delete a customer", "DELETE", "/v1/customers/" + cus, "", 404},
			{"delete an endpoint", "DELETE", "/v1/webhook_endpoints/" + ep, "", 404},
			{"test an endpoint", "POST", "/v1/webhook_endpoints/" + ep + "/test", "type=customer.created", 404},
			{"list an endpoint's deliveries", "GET", "/v1/webhook_endpoints/" + ep + "/deliveries", "", 404},
			{"refund a charge", "POST", "/v1/refunds", "charge=" + ch, 400},
			{"refund a payment intent", "POST", "/v1/refunds", "payment_intent=" + pi, 400},
			{"charge a customer", "POST", "/v1/charges", "amount=100&currency=usd&customer=" + cus, 400},
			{"page customers after one", "GET", "/v1/customers?starting_after=" + cus, "", 400},
			{"page charges after one", "GET", "/v1/charges?starting_after=" + ch, "", 400},
			{"page events after one", "GET", "/v1/events?starting_after=" + ev, "", 400},
			{"page endpoints after one", "GET", "/v1/webhook_endpoints?starting_after=" + ep, "", 400},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := a.do(t, other, tt.method, tt.path, "", tt.body)
				require.Equal(t, tt.status, r.status, r.body)
				assert.NotEmpty(t, r.get("error.message").String(), r.body)
				assert.NotContains(t, r.body, "f@example.com", "the answer shows the first account's data")
				assert.NotContains(t, r.body, "whsec_", "the answer shows the first account's signing secret")
			})
		}
		// Lists and filters show nothing of the first account.
		for _, p := range []string{"/v1/customers", "/v1/charges", "/v1/payment_intents", "/v1/refunds", "/v1/events", "/v1/webhook_endpoints",
			"/v1/charges?customer=" + cus, "/v1/payment_intents?customer=" + cus, "/v1/refunds?charge=" + ch, "/v1/customers?email=f@example.com"} {
			r := a.do(t, other, "GET", p, "", "")
			require.Equal(t, 200, r.status, "%s: %s", p, r.body)
			assert.Empty(t, r.get("data").Array(), "%s: %s", p, r.body)
		}
		// Expanding the second account's own objects never pulls in the
		// first's: it has none to expand into, and ids of the first's are
		// refused where a parameter names them.
		own := a.do(t, other, "POST", "/v1/customers", "", "email=o@example.com&expand[]=nothing")
		assert.Equal(t, 400, own.status, own.body)
		opi := a.do(t, other, "POST", "/v1/payment_intents", "", "amount=100&currency=usd&confirm=true&payment_method=pm_card_visa&expand[]=latest_charge.customer")
		require.Equal(t, 200, opi.status, opi.body)
		assert.NotContains(t, opi.body, cus)
		// The first account's objects are as they were.
		for p, before := range owned {
			r := a.do(t, a.key, "GET", p, "", "")
			require.Equal(t, 200, r.status, r.body)
			assert.JSONEq(t, before, r.body, p)
		}
		// The first account's key does not list the second's objects either.
		l := a.do(t, a.key, "GET", "/v1/payment_intents", "", "")
		assert.NotContains(t, l.body, opi.get("id").String())
	})
}
