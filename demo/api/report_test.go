package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/verso-api/verso/demo/api"
	"github.com/verso-api/verso/storage/storagetest"
	"github.com/verso-api/verso/versions"
	"github.com/verso-api/verso/webhooks"
)

// TestUpgradeReport is the demo of upgrade reports (issue 24.5): with
// --default-version 2014-12-22, a new account's client that creates and
// reads customers and charges (and nothing else) gets a report to the
// newest stable version in which the customer and charge changes it
// touched affect it and the payment intents' do not, over HTTP, on SQLite
// and PostgreSQL.
func TestUpgradeReport(t *testing.T) {
	eachBackend(t, func(t *testing.T, b storagetest.Backend) {
		a := start(t, b, api.Config{DefaultVersion: versions.MustParse(oldest)})
		key := a.newAccount(t)
		ctx := context.Background()

		cus := a.do(t, key, "POST", "/v1/customers", "", "email=ana%40example.com&account_balance=500")
		require.Equal(t, 200, cus.status, cus.body)
		require.Equal(t, oldest, cus.header.Get("Stripe-Version"), "pinned to the default version")
		require.Equal(t, int64(500), cus.get("account_balance").Int())
		id := cus.get("id").String()
		for _, path := range []string{"/v1/customers/" + id, "/v1/customers"} {
			r := a.do(t, key, "GET", path, "", "")
			require.Equal(t, 200, r.status, r.body)
		}
		ch := a.do(t, key, "POST", "/v1/charges", "", "amount=1500&currency=usd&source=tok_visa&customer="+id)
		require.Equal(t, 200, ch.status, ch.body)
		require.Equal(t, "paid", ch.get("status").String())
		for _, path := range []string{"/v1/charges/" + ch.get("id").String(), "/v1/charges"} {
			r := a.do(t, key, "GET", path, "", "")
			require.Equal(t, 200, r.status, r.body)
		}
		require.NoError(t, a.Recorder.Flush(ctx))

		r := a.do(t, key, "GET", "/v1/account/api_version/upgrade_report", "", "")
		require.Equal(t, 200, r.status, r.body)
		assert.Equal(t, oldest, r.get("version").String())
		assert.Equal(t, stable, r.get("to").String(), "the newest stable version by default")
		affects := map[string]any{}
		resources := map[string][]string{}
		for _, it := range r.get("items").Array() {
			var v any
			require.NoError(t, json.Unmarshal([]byte(it.Get("affects_you").Raw), &v))
			affects[it.Get("id").String()] = v
		}
		for _, v := range a.Engine.Timeline().List() {
			for _, c := range v.Changes {
				resources[c.ID] = c.Resources
			}
		}
		for _, id := range []string{"customer_balance", "customer_sources", "customer_lists_not_expanded", "customer_tax_info_removed",
			"charge_source", "charge_status_succeeded", "charge_disputed", "charge_refunds_not_expanded", "charge_invoice_removed"} {
			assert.Equal(t, true, affects[id], "%s: the client's customers and charges met it", id)
		}
		assert.Equal(t, false, affects["payment_intent_latest_charge"], "no payment intent was ever touched")
		assert.Equal(t, "unknown", affects["payment_intent_automatic_payment_methods"], "a behaviour change")
		for id, v := range affects {
			if v == true {
				assert.Subset(t, []string{"customer", "charge"}, resources[id][:1], "%s fired on what the client touched", id)
			}
		}
		bal := r.get(`items.#(id=="customer_balance")`)
		assert.Equal(t, int64(1), bal.Get("evidence.requests").Int(), "the POST sent account_balance")
		assert.Equal(t, int64(3), bal.Get("evidence.responses").Int(), "the created, read and listed customer")
		assert.ElementsMatch(t, []any{"POST /v1/customers", "GET /v1/customers/:id", "GET /v1/customers"}, names(bal.Get("evidence.endpoints")), "templates, never ids")
		assert.Contains(t, bal.Get("what_to_do").String(), "Read `customer.balance` instead of `customer.account_balance`.")
		assert.Equal(t, []any{"charge.invoice"}, names(r.get(`items.#(id=="charge_invoice_removed").evidence.fields`)),
			"the charges' invoice put back, not the payment intents'")
		assert.ElementsMatch(t, []any{"charge.status"}, names(r.get(`items.#(id=="charge_status_succeeded").evidence.fields`)))
		assert.NotContains(t, r.body, id, "no identifier is kept")
		assert.NotContains(t, r.body, "ana@example.com", "no value is kept")
		assert.Regexp(t, `^\d+ of \d+ breaking changes touch your integration\.`, r.get("summary").String())

		// Trying the newest stable version on one request: the report
		// tells it apart from the traffic at the pin.
		tried := a.do(t, key, "GET", "/v1/customers/"+id, stable, "")
		require.Equal(t, 200, tried.status, tried.body)
		require.NoError(t, a.Recorder.Flush(ctx))
		r = a.do(t, key, "GET", "/v1/account/api_version/upgrade_report", "", "")
		require.Equal(t, 200, r.status, r.body)
		assert.Equal(t, int64(1), r.get("traffic.at_target.requests").Int())
		assert.Equal(t, int64(1), r.get("traffic.at_target.header").Int())
		assert.Equal(t, int64(1), r.get(`items.#(id=="customer_balance").tried_at_target`).Int())
		assert.Equal(t, int64(0), r.get(`items.#(id=="charge_status_succeeded").tried_at_target`).Int())
		assert.Contains(t, r.get("summary").String(), "You already sent 1 request at "+stable)

		page := a.do(t, key, "GET", "/v1/account/api_version/upgrade_report?format=html", "", "")
		require.Equal(t, 200, page.status, page.body)
		assert.True(t, strings.HasPrefix(page.header.Get("Content-Type"), "text/html"))
		assert.Contains(t, page.body, `href="/changelog#change-customer_balance"`)

		// The upgrade guide links the report, and a browser without the
		// key is asked for it, as Stripe asks.
		code, _, guide := a.page(t, "GET", "/changelog/guide?from="+oldest)
		require.Equal(t, 200, code)
		assert.Contains(t, guide, `<a href="/v1/account/api_version/upgrade_report?format=html&amp;to=`+stable+`">Your upgrade report</a>`)
		anon := a.do(t, "", "GET", "/v1/account/api_version/upgrade_report?format=html", "", "")
		assert.Equal(t, 401, anon.status)
		assert.Equal(t, `Basic realm="Stripe-like Payments"`, anon.header.Get("WWW-Authenticate"))
	})
}

func names(list gjson.Result) []any {
	var out []any
	for _, e := range list.Array() {
		out = append(out, e.Get("name").String())
	}
	return out
}

// TestUpgradeReportWebhooks: a webhook delivery rendered in an old
// endpoint's version is evidence too, counted once per delivery (its
// retries are not counted again), with its event type.
func TestUpgradeReportWebhooks(t *testing.T) {
	eachBackend(t, func(t *testing.T, b storagetest.Backend) {
		a := start(t, b, api.Config{DefaultVersion: versions.MustParse(oldest), WebhooksAllowPrivate: true, // the receiver is on 127.0.0.1
			Webhooks: webhooks.Config{Backoff: webhooks.Backoff{Initial: time.Millisecond, Max: 5 * time.Millisecond}, PollInterval: 5 * time.Millisecond}})
		key := a.newAccount(t)
		var calls atomic.Int32
		rs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			if calls.Add(1) == 1 {
				w.WriteHeader(http.StatusInternalServerError) // the first attempt fails: retried
			}
		})}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		go rs.Serve(ln)
		defer rs.Close()
		ep := a.do(t, key, "POST", "/v1/webhook_endpoints", "", url.Values{"url": {"http://" + ln.Addr().String() + "/hook"},
			"enabled_events[]": {"customer.created"}, "api_version": {oldest}}.Encode())
		require.Equal(t, 200, ep.status, ep.body)
		c := a.do(t, key, "POST", "/v1/customers", "", "email=ana%40example.com")
		require.Equal(t, 200, c.status, c.body)
		deadline := time.Now().Add(30 * time.Second)
		for calls.Load() < 2 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		require.GreaterOrEqual(t, calls.Load(), int32(2), "delivered on a retry")
		require.NoError(t, a.Recorder.Flush(context.Background()))
		r := a.do(t, key, "GET", "/v1/account/api_version/upgrade_report", "", "")
		require.Equal(t, 200, r.status, r.body)
		bal := r.get(`items.#(id=="customer_balance").evidence`)
		assert.Equal(t, int64(1), bal.Get("webhook_deliveries").Int(), "one delivery, two attempts: %s", bal.Raw)
		assert.Equal(t, []any{"customer.created"}, names(bal.Get("event_types")))
		assert.Contains(t, names(bal.Get("fields")), any("customer.balance"))
	})
}
