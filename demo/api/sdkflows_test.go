package api_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/verso-api/verso/demo/api"
	"github.com/verso-api/verso/pins"
	"github.com/verso-api/verso/storage/storagetest"
)

// TestTestPaymentMethods checks Stripe's test payment methods and tokens:
// the good cards succeed, the declining ones answer 402 card_error with
// Stripe's code and decline_code, after leaving a failed charge (and a
// payment intent waiting for another payment method) behind.
func TestTestPaymentMethods(t *testing.T) {
	a := start(t, storagetest.Backends()[0], api.Config{})
	tests := []struct {
		pm, brand, last4  string
		code, declineCode string
	}{
		{pm: "pm_card_visa", brand: "visa", last4: "4242"},
		{pm: "pm_card_mastercard", brand: "mastercard", last4: "4444"},
		{pm: "pm_card_amex", brand: "amex", last4: "8431"},
		{pm: "tok_visa", brand: "visa", last4: "4242"},
		{pm: "pm_card_visa_debit", brand: "visa", last4: "5556"},
		{pm: "pm_card_chargeDeclined", code: "card_declined", declineCode: "generic_decline"},
		{pm: "pm_card_chargeDeclinedInsufficientFunds", code: "card_declined", declineCode: "insufficient_funds"},
		{pm: "pm_card_chargeDeclinedExpiredCard", code: "expired_card", declineCode: "expired_card"},
		{pm: "pm_card_chargeDeclinedIncorrectCvc", code: "incorrect_cvc", declineCode: "incorrect_cvc"},
	}
	for _, tt := range tests {
		t.Run(tt.pm, func(t *testing.T) {
			r := a.do(t, a.key, "POST", "/v1/payment_intents", stable, "amount=1200&currency=usd&confirm=true&payment_method="+tt.pm)
			if tt.code == "" {
				require.Equal(t, 200, r.status, r.body)
				assert.Equal(t, "succeeded", r.get("status").String())
				assert.Regexp(t, `^pm_`, r.get("payment_method").String())
				ch := a.do(t, a.key, "GET", "/v1/charges/"+r.get("latest_charge").String(), stable, "")
				assert.Equal(t, tt.brand, ch.get("payment_method_details.card.brand").String())
				assert.Equal(t, tt.last4, ch.get("payment_method_details.card.last4").String())
				assert.Equal(t, r.get("payment_method").String(), ch.get("payment_method").String())
				return
			}
			require.Equal(t, 402, r.status, r.body)
			assert.Equal(t, "card_error", r.get("error.type").String())
			assert.Equal(t, tt.code, r.get("error.code").String())
			assert.Equal(t, tt.declineCode, r.get("error.decline_code").String())
			assert.Equal(t, "requires_payment_method", r.get("error.payment_intent.status").String())
			assert.Equal(t, tt.code, r.get("error.payment_intent.last_payment_error.code").String())
			piID := r.get("error.payment_intent.id").String()
			pi := a.do(t, a.key, "GET", "/v1/payment_intents/"+piID, stable, "")
			require.Equal(t, 200, pi.status, "the payment intent was created: %s", pi.body)
			ch := a.do(t, a.key, "GET", "/v1/charges/"+r.get("error.charge").String(), stable, "")
			require.Equal(t, 200, ch.status, ch.body)
			assert.Equal(t, "failed", ch.get("status").String())
			assert.False(t, ch.get("paid").Bool())
			assert.Equal(t, tt.code, ch.get("failure_code").String())
			// Another payment method then succeeds.
			ok := a.do(t, a.key, "POST", "/v1/payment_intents/"+piID+"/confirm", stable, "payment_method=pm_card_visa")
			require.Equal(t, 200, ok.status, ok.body)
			assert.Equal(t, "succeeded", ok.get("status").String())
			assert.False(t, ok.get("last_payment_error").IsObject())
		})
	}
	t.Run("charges API declines too", func(t *testing.T) {
		r := a.do(t, a.key, "POST", "/v1/charges", stable, "amount=500&currency=usd&source=tok_chargeDeclinedInsufficientFunds")
		require.Equal(t, 402, r.status, r.body)
		assert.Equal(t, "insufficient_funds", r.get("error.decline_code").String())
		assert.Regexp(t, `^ch_`, r.get("error.charge").String())
	})
	t.Run("unknown payment method", func(t *testing.T) {
		r := a.do(t, a.key, "POST", "/v1/payment_intents", stable, "amount=500&currency=usd&confirm=true&payment_method=pm_nope")
		require.Equal(t, 400, r.status, r.body)
		assert.Equal(t, "resource_missing", r.get("error.code").String())
		assert.Equal(t, "payment_method", r.get("error.param").String())
	})
	t.Run("confirm without a payment method", func(t *testing.T) {
		r := a.do(t, a.key, "POST", "/v1/payment_intents", stable, "amount=500&currency=usd&confirm=true")
		require.Equal(t, 400, r.status, r.body)
		assert.Equal(t, "payment_intent_unexpected_state", r.get("error.code").String())
	})
	t.Run("payment method at creation, confirm later", func(t *testing.T) {
		r := a.do(t, a.key, "POST", "/v1/payment_intents", stable, "amount=500&currency=usd&payment_method=pm_card_amex")
		require.Equal(t, 200, r.status, r.body)
		assert.Equal(t, "requires_confirmation", r.get("status").String())
		c := a.do(t, a.key, "POST", "/v1/payment_intents/"+r.get("id").String()+"/confirm", stable, "")
		require.Equal(t, 200, c.status, c.body)
		assert.Equal(t, "succeeded", c.get("status").String())
	})
}

func TestRefundByPaymentIntent(t *testing.T) {
	a := start(t, storagetest.Backends()[0], api.Config{})
	pi := a.do(t, a.key, "POST", "/v1/payment_intents", stable, "amount=2000&currency=usd&confirm=true&payment_method=pm_card_visa")
	require.Equal(t, 200, pi.status, pi.body)
	piID := pi.get("id").String()
	tests := []struct {
		name, body  string
		status      int
		code, param string
	}{
		{"partial", "payment_intent=" + piID + "&amount=500", 200, "", ""},
		{"the rest", "payment_intent=" + piID, 200, "", ""},
		{"nothing left", "payment_intent=" + piID, 400, "parameter_invalid", "amount"},
		{"both", "payment_intent=" + piID + "&charge=" + pi.get("latest_charge").String(), 400, "parameter_invalid", "payment_intent"},
		{"neither", "amount=5", 400, "parameter_missing", "charge"},
		{"unknown intent", "payment_intent=pi_nope", 400, "resource_missing", "payment_intent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := a.do(t, a.key, "POST", "/v1/refunds", stable, tt.body)
			require.Equal(t, tt.status, r.status, r.body)
			if tt.status == 200 {
				assert.Equal(t, pi.get("latest_charge").String(), r.get("charge").String())
				assert.Equal(t, piID, r.get("payment_intent").String())
				return
			}
			assert.Equal(t, tt.code, r.get("error.code").String(), r.body)
			assert.Equal(t, tt.param, r.get("error.param").String(), r.body)
		})
	}
	l := a.do(t, a.key, "GET", "/v1/refunds?payment_intent="+piID, stable, "")
	require.Equal(t, 200, l.status, l.body)
	assert.Len(t, l.get("data").Array(), 2)

	// From 2022-11-15 on, a charge lists its refunds when asked to.
	chID := pi.get("latest_charge").String()
	plain := a.do(t, a.key, "GET", "/v1/charges/"+chID, stable, "")
	assert.False(t, plain.get("refunds").Exists(), plain.body)
	ex := a.do(t, a.key, "GET", "/v1/charges/"+chID+"?expand[]=refunds", stable, "")
	require.Equal(t, 200, ex.status, ex.body)
	assert.Equal(t, int64(2), ex.get("refunds.total_count").Int())
	assert.Equal(t, l.get("data.0.id").String(), ex.get("refunds.data.0.id").String())
	bad := a.do(t, a.key, "GET", "/v1/charges/"+chID+"?expand[]=refunds.charge", stable, "")
	assert.Equal(t, 400, bad.status, bad.body)
}

func TestDeleteCustomer(t *testing.T) {
	a := start(t, storagetest.Backends()[0], api.Config{})
	c := a.do(t, a.key, "POST", "/v1/customers", stable, "email=gone@example.com")
	require.Equal(t, 200, c.status, c.body)
	id := c.get("id").String()
	d := a.do(t, a.key, "DELETE", "/v1/customers/"+id, stable, "")
	require.Equal(t, 200, d.status, d.body)
	assert.JSONEq(t, `{"id":"`+id+`","object":"customer","deleted":true}`, d.body)

	g := a.do(t, a.key, "GET", "/v1/customers/"+id, stable, "")
	require.Equal(t, 200, g.status, g.body)
	assert.True(t, g.get("deleted").Bool(), "retrieving a deleted customer shows it deleted")
	assert.Empty(t, a.do(t, a.key, "GET", "/v1/customers?email=gone@example.com", stable, "").get("data").Array(), "lists leave it out")

	again := a.do(t, a.key, "DELETE", "/v1/customers/"+id, stable, "")
	assert.Equal(t, 404, again.status)
	assert.Equal(t, "id", again.get("error.param").String())
	u := a.do(t, a.key, "POST", "/v1/customers/"+id, stable, "name=x")
	assert.Equal(t, 404, u.status, u.body)
	ch := a.do(t, a.key, "POST", "/v1/charges", stable, "amount=100&currency=usd&customer="+id)
	require.Equal(t, 400, ch.status, ch.body)
	assert.Equal(t, "resource_missing", ch.get("error.code").String())
	assert.Equal(t, "customer", ch.get("error.param").String())
	ev := a.do(t, a.key, "GET", "/v1/events?type=customer.deleted", stable, "")
	assert.Equal(t, "gone@example.com", ev.get("data.0.data.object.email").String())
}

func TestPaginationAndFilters(t *testing.T) {
	a := start(t, storagetest.Backends()[0], api.Config{})
	var ids []string // oldest first
	for i := 0; i < 5; i++ {
		email := fmt.Sprintf("p%d@example.com", i)
		if i == 3 {
			email = "p1@example.com"
		}
		c := a.do(t, a.key, "POST", "/v1/customers", stable, "email="+email)
		require.Equal(t, 200, c.status, c.body)
		ids = append(ids, c.get("id").String())
	}
	page := func(q string) ([]string, bool) {
		r := a.do(t, a.key, "GET", "/v1/customers?"+q, stable, "")
		require.Equal(t, 200, r.status, r.body)
		var out []string
		for _, d := range r.get("data").Array() {
			out = append(out, d.Get("id").String())
		}
		return out, r.get("has_more").Bool()
	}
	tests := []struct {
		q    string
		want []string
		more bool
	}{
		{"limit=2", []string{ids[4], ids[3]}, true},
		{"limit=2&starting_after=" + ids[3], []string{ids[2], ids[1]}, true},
		{"limit=2&starting_after=" + ids[1], []string{ids[0]}, false},
		{"limit=2&ending_before=" + ids[0], []string{ids[2], ids[1]}, true},
		{"limit=2&ending_before=" + ids[2], []string{ids[4], ids[3]}, false},
		{"limit=10&ending_before=" + ids[4], nil, false},
		{"email=p1@example.com", []string{ids[3], ids[1]}, false},
		{"email=P1@example.com", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			got, more := page(tt.q)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.more, more)
		})
	}
	both := a.do(t, a.key, "GET", "/v1/customers?starting_after="+ids[1]+"&ending_before="+ids[3], stable, "")
	assert.Equal(t, 400, both.status)
	unknown := a.do(t, a.key, "GET", "/v1/customers?ending_before=cus_nope", stable, "")
	assert.Equal(t, 400, unknown.status)
	assert.Equal(t, "ending_before", unknown.get("error.param").String())
}

// TestRequestID checks that every response, errors included, carries a
// Request-Id, and that a client's own is not echoed.
func TestRequestID(t *testing.T) {
	a := start(t, storagetest.Backends()[0], api.Config{})
	tests := []struct {
		name, key, method, path string
		status                  int
	}{
		{"ok", a.key, "GET", "/v1/customers", 200},
		{"no key", "", "GET", "/v1/customers", 401},
		{"missing", a.key, "GET", "/v1/charges/ch_nope", 404},
		{"bad param", a.key, "GET", "/v1/customers?limit=0", 400},
		{"no route", a.key, "GET", "/v1/nothing", 404},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := a.do(t, tt.key, tt.method, tt.path, "", "", "Request-Id", "req_client_chosen")
			assert.Equal(t, tt.status, r.status, r.body)
			id := r.header.Get("Request-Id")
			assert.Regexp(t, `^req_[0-9A-Za-z]{14}$`, id)
			assert.False(t, seen[id], "request ids are unique")
			seen[id] = true
		})
	}
}

func TestNearestVersion(t *testing.T) {
	strict := start(t, storagetest.Backends()[0], api.Config{})
	nearest := start(t, storagetest.Backends()[0], api.Config{NearestVersion: true})
	tests := []struct {
		asked         string
		strict        int    // status without the option
		status        int    // with it
		served, field string // the version served, a field of that version
	}{
		{asked: "2024-01-01", strict: 400, status: 200, served: "2023-10-16"},
		{asked: "2019-12-31", strict: 400, status: 200, served: "2019-12-03", field: "balance"},
		{asked: "2019-10-16", strict: 400, status: 200, served: "2017-01-27", field: "account_balance"},
		{asked: "2099-01-01", strict: 400, status: 200, served: stable},
		{asked: "9999-12-31.preview", strict: 200, status: 200, served: newest},
		{asked: "2024-09-30.acacia", strict: 200, status: 200, served: "2024-09-30.acacia"},
		{asked: "2014-01-01", strict: 400, status: 400},
		{asked: "2024-13-01", strict: 400, status: 400},
	}
	for _, tt := range tests {
		t.Run(tt.asked, func(t *testing.T) {
			s := strict.do(t, strict.key, "POST", "/v1/customers", tt.asked, "name=x")
			assert.Equal(t, tt.strict, s.status, s.body)
			r := nearest.do(t, nearest.key, "POST", "/v1/customers", tt.asked, "name=x")
			require.Equal(t, tt.status, r.status, r.body)
			if tt.status != 200 {
				assert.Equal(t, "api_version_invalid", r.get("error.code").String())
				return
			}
			assert.Equal(t, tt.served, r.header.Get("Stripe-Version"))
			if tt.field != "" {
				assert.True(t, r.get(tt.field).Exists(), r.body)
			}
		})
	}
}

// TestWhichRequestsPin pins down, for the README, which requests pin an
// account that has no pin yet: a success under /v1 with no version header
// (an error proves nothing about the credentials it was sent with).
func TestWhichRequestsPin(t *testing.T) {
	a := start(t, storagetest.Backends()[0], api.Config{})
	tests := []struct {
		name, method, path, version string
		bad                         bool // sent with a wrong key
		pins                        bool
	}{
		{name: "wrong key", method: "GET", path: "/v1/customers", bad: true},
		{name: "with a version header", method: "GET", path: "/v1/customers", version: "2019-10-17"},
		{name: "outside /v1", method: "GET", path: "/changelog"},
		{name: "healthz", method: "GET", path: "/healthz"},
		{name: "a 400 under /v1", method: "GET", path: "/v1/customers?limit=0"},
		{name: "a 404 object", method: "GET", path: "/v1/customers/cus_nope"},
		{name: "a list", method: "GET", path: "/v1/customers", pins: true},
		{name: "the pin endpoint", method: "GET", path: "/v1/account/api_version", pins: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := a.newAccount(t)
			acct, err := a.Accounts.Authenticate(context.Background(), key)
			require.NoError(t, err)
			send := key
			if tt.bad {
				send = "sk_test_00000000000000000000000000000000"
			}
			a.do(t, send, tt.method, tt.path, tt.version, "")
			p, err := a.Pins.Get(context.Background(), acct.ID)
			if !tt.pins {
				assert.ErrorIs(t, err, pins.ErrNotPinned)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, stable, p.Version.String())
		})
	}
}

// TestNearestVersionWebhooks: under NearestVersion, a webhook endpoint may
// ask for a date the timeline does not list (the version a newer SDK
// pins); its events are rendered at the nearest older version and carry
// the version it asked for, so an SDK's verifier, which compares the
// event's api_version with its own, accepts them. Without the option the
// endpoint is refused, with a code.
func TestNearestVersionWebhooks(t *testing.T) {
	const asked = "2027-01-27.fig"
	strict := start(t, storagetest.Backends()[0], api.Config{WebhooksAllowPrivate: true})
	r := strict.do(t, strict.key, "POST", "/v1/webhook_endpoints", "", url.Values{"url": {"http://127.0.0.1:9/"}, "enabled_events[]": {"*"}, "api_version": {asked}}.Encode())
	require.Equal(t, 400, r.status, r.body)
	assert.Equal(t, "parameter_invalid", r.get("error.code").String())
	assert.Equal(t, "api_version", r.get("error.param").String())

	a := start(t, storagetest.Backends()[0], api.Config{WebhooksAllowPrivate: true, NearestVersion: true})
	bodies := make(chan []byte, 10)
	rs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies <- b
	}))
	defer rs.Close()
	for _, bad := range []string{"2014-01-01", "2024-13-01", "x"} {
		r := a.do(t, a.key, "POST", "/v1/webhook_endpoints", "", url.Values{"url": {rs.URL}, "api_version": {bad}, "enabled_events[]": {"*"}}.Encode())
		require.Equal(t, 400, r.status, r.body)
		assert.Equal(t, "parameter_invalid", r.get("error.code").String(), bad)
	}
	r = a.do(t, a.key, "POST", "/v1/webhook_endpoints", "", url.Values{"url": {rs.URL}, "enabled_events[]": {"charge.succeeded"}, "api_version": {asked}}.Encode())
	require.Equal(t, 200, r.status, r.body)
	assert.Equal(t, asked, r.get("api_version").String())
	ch := a.do(t, a.key, "POST", "/v1/charges", "", "amount=2000&currency=usd&source=tok_visa")
	require.Equal(t, 200, ch.status, ch.body)
	select {
	case b := <-bodies:
		ev := gjson.ParseBytes(b)
		assert.Equal(t, asked, ev.Get("api_version").String())
		assert.Equal(t, ch.get("id").String(), ev.Get("data.object.id").String())
		// Rendered at the newest stable version, not at the preview.
		assert.Equal(t, gjson.Number, ev.Get("data.object.amount").Type, string(b))
	case <-time.After(10 * time.Second):
		t.Fatal("no delivery")
	}
}
