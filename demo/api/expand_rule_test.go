package api_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/demo/api"
	"github.com/verso-api/verso/ratelimit"
	"github.com/verso-api/verso/storage/storagetest"
)

// TestExpandOneRule sends expand[] paths no object can expand to every
// /v1 endpoint the server routes (events, sources, webhook endpoints and
// the account's version included), in the query string, a form body and
// a JSON body, and checks each is the same 400 naming expand, as Stripe
// answers; then that what can be expanded still is, that a list says
// data., and that nothing was written by a refused request.
func TestExpandOneRule(t *testing.T) {
	eachBackend(t, func(t *testing.T, b storagetest.Backend) {
		lim := ratelimit.Per(10_000, time.Minute)
		a := start(t, b, api.Config{KeyLimit: lim, IPLimit: lim})
		cus := a.do(t, a.key, "POST", "/v1/customers", "", "email=x@example.com")
		require.Equal(t, 200, cus.status, cus.body)
		pi := a.do(t, a.key, "POST", "/v1/payment_intents", "", "amount=500&currency=usd&confirm=true&payment_method=pm_card_visa&customer="+cus.get("id").String())
		require.Equal(t, 200, pi.status, pi.body)
		ch := pi.get("latest_charge").String()

		n := 0
		for _, rt := range a.Echo.Routes() {
			if !strings.HasPrefix(rt.Path, "/v1/") || strings.HasSuffix(rt.Path, "/*") {
				continue
			}
			path := strings.ReplaceAll(rt.Path, ":id", "x_1")
			for _, form := range []struct{ name, path, body string }{
				{"query", path + "?expand[]=nonsense", ""},
				{"form", path, "expand[]=nonsense"},
				{"json", path, `{"expand":["nonsense"]}`},
			} {
				if (rt.Method == "GET" || rt.Method == "DELETE") && form.body != "" {
					continue
				}
				t.Run(rt.Method+" "+rt.Path+" "+form.name, func(t *testing.T) {
					r := a.do(t, a.key, rt.Method, form.path, oldest, form.body)
					if r.status == 404 && strings.HasPrefix(r.get("error.message").String(), "Unrecognized request URL") {
						r = a.do(t, a.key, rt.Method, form.path, stable, form.body) // an endpoint of newer versions
					}
					require.Equal(t, 400, r.status, r.body)
					assert.Equal(t, "expand", r.get("error.param").String(), r.body)
					assert.Equal(t, "invalid_request_error", r.get("error.type").String(), r.body)
					assert.Equal(t, "This property cannot be expanded (nonsense).", r.get("error.message").String(), r.body)
					n++
				})
			}
		}
		require.Greater(t, n, 40, "routes checked")

		// What can be expanded still is, on an object and through a list.
		r := a.do(t, a.key, "GET", "/v1/charges/"+ch+"?expand[]=customer&expand[]=payment_intent", "", "")
		require.Equal(t, 200, r.status, r.body)
		assert.Equal(t, "customer", r.get("customer.object").String(), r.body)
		assert.Equal(t, "payment_intent", r.get("payment_intent.object").String(), r.body)
		r = a.do(t, a.key, "GET", "/v1/charges?expand[]=data.customer", "", "")
		require.Equal(t, 200, r.status, r.body)
		assert.Equal(t, "customer", r.get("data.0.customer.object").String(), r.body)
		// A list's path without data. says how to write it.
		r = a.do(t, a.key, "GET", "/v1/charges?expand[]=customer", "", "")
		require.Equal(t, 400, r.status, r.body)
		assert.Equal(t, "expand", r.get("error.param").String(), r.body)
		assert.Equal(t, "This property cannot be expanded (customer). You may want to try expanding 'data.customer' instead.", r.get("error.message").String())
		// A charge's refunds are a list: a path cannot go through them.
		r = a.do(t, a.key, "GET", "/v1/charges/"+ch+"?expand[]=refunds.charge", "", "")
		require.Equal(t, 400, r.status, r.body)
		assert.Equal(t, "This property cannot be expanded (refunds.charge).", r.get("error.message").String())

		// Nothing was written by the refused requests.
		l := a.do(t, a.key, "GET", "/v1/customers?limit=100", "", "")
		require.Equal(t, 200, l.status, l.body)
		assert.Len(t, l.get("data").Array(), 1, l.body)
		l = a.do(t, a.key, "GET", "/v1/webhook_endpoints", "", "")
		require.Equal(t, 200, l.status, l.body)
		assert.Empty(t, l.get("data").Array(), l.body)
	})
}
