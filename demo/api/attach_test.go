package api_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/verso-api/verso/demo/api"
	"github.com/verso-api/verso/ratelimit"
	"github.com/verso-api/verso/storage/storagetest"
)

// TestOldVersionsSeeRealData checks that the lists 2022-11-15 removed
// (PaymentIntent charges, Charge refunds) carry the real objects at the
// versions before it, walked back like any other object, and that newer
// versions never see them.
func TestOldVersionsSeeRealData(t *testing.T) {
	eachBackend(t, func(t *testing.T, b storagetest.Backend) {
		a := start(t, b, api.Config{})
		pi := a.do(t, a.key, "POST", "/v1/payment_intents", "2022-08-01", "amount=1500&currency=usd&confirm=true&payment_method=tok_visa")
		require.Equal(t, 200, pi.status, pi.body)
		piID := pi.get("id").String()
		chID := pi.get("charges.data.0.id").String()
		require.NotEmpty(t, chID, "the confirm response lists its charge: %s", pi.body)
		assert.Equal(t, int64(1), pi.get("charges.total_count").Int())
		assert.Equal(t, piID, pi.get("charges.data.0.payment_intent").String())
		assert.Equal(t, gjson.Number, pi.get("charges.data.0.amount").Type, "the embedded charge is walked back too")
		assert.Equal(t, int64(0), pi.get("charges.data.0.refunds.total_count").Int())

		rf := a.do(t, a.key, "POST", "/v1/refunds", "2022-08-01", "charge="+chID+"&amount=400")
		require.Equal(t, 200, rf.status, rf.body)
		rfID := rf.get("id").String()

		tests := []struct {
			version     string
			charges     bool // PaymentIntent embeds its charges
			refunds     bool // Charge embeds its refunds
			amountIsNum bool
		}{
			{"2014-12-22", true, true, true},
			{"2020-08-27", true, true, true},
			{"2022-08-01", true, true, true},
			{"2022-11-15", false, false, true},
			{stable, false, false, true},
			{newest, false, false, false},
		}
		for _, tt := range tests {
			t.Run(tt.version, func(t *testing.T) {
				p := a.do(t, a.key, "GET", "/v1/payment_intents/"+piID, tt.version, "")
				require.Equal(t, 200, p.status, p.body)
				assert.Equal(t, tt.version, p.header.Get("Stripe-Version"))
				assert.Equal(t, tt.charges, p.get("charges").Exists(), p.body)
				assert.Equal(t, !tt.charges, p.get("latest_charge").Exists(), p.body)
				if tt.charges {
					assert.Equal(t, chID, p.get("charges.data.0.id").String())
					assert.Equal(t, rfID, p.get("charges.data.0.refunds.data.0.id").String(), "refunds inside the embedded charge")
					assert.Equal(t, int64(400), p.get("charges.data.0.amount_refunded").Int())
				}
				ch := a.do(t, a.key, "GET", "/v1/charges/"+chID, tt.version, "")
				require.Equal(t, 200, ch.status, ch.body)
				assert.Equal(t, tt.refunds, ch.get("refunds").Exists(), ch.body)
				if tt.refunds {
					assert.Equal(t, int64(1), ch.get("refunds.total_count").Int())
					assert.Equal(t, rfID, ch.get("refunds.data.0.id").String())
					assert.Equal(t, int64(400), ch.get("refunds.data.0.amount").Int())
					assert.Equal(t, "/v1/charges/"+chID+"/refunds", ch.get("refunds.url").String())
				}
				if tt.amountIsNum {
					assert.Equal(t, gjson.Number, ch.get("amount").Type)
				} else {
					assert.Equal(t, gjson.String, ch.get("amount").Type)
				}
				// Lists attach to every item.
				l := a.do(t, a.key, "GET", "/v1/charges?limit=3", tt.version, "")
				require.Equal(t, 200, l.status, l.body)
				assert.Equal(t, tt.refunds, l.get("data.0.refunds").Exists(), l.body)
			})
		}

		// An event shows the lists as they were when it happened: the
		// payment_intent.succeeded event's charge had no refund yet.
		ev := a.do(t, a.key, "GET", "/v1/events?type=payment_intent.succeeded", "2020-08-27", "")
		require.Equal(t, 200, ev.status, ev.body)
		assert.Equal(t, chID, ev.get("data.0.data.object.charges.data.0.id").String(), ev.body)
		refunded := a.do(t, a.key, "GET", "/v1/events?type=charge.refunded", "2020-08-27", "")
		require.Equal(t, 200, refunded.status, refunded.body)
		assert.Equal(t, rfID, refunded.get("data.0.data.object.refunds.data.0.id").String(), refunded.body)
		newestEv := a.do(t, a.key, "GET", "/v1/events?type=charge.refunded", stable, "")
		assert.False(t, newestEv.get("data.0.data.object.refunds").Exists(), newestEv.body)
	})
}

// TestRelatedListsWithTheirObjects: the lists an old version embeds,
// fetched with the charges and payment intents a request lists or
// retrieves, are those the newest version expands (expand[]=refunds asks
// the database on its own), on every page of a list, forwards and back.
func TestRelatedListsWithTheirObjects(t *testing.T) {
	eachBackend(t, func(t *testing.T, b storagetest.Backend) {
		db, _ := b.Open(t)
		a := startOn(t, db, api.Config{KeyLimit: ratelimit.Per(1_000_000, time.Hour)})
		// 12 payment intents; the charges of 4 of them refunded, 10
		// refunds in all.
		charges, intents := seedPayments(t, a, 12, 4, 10)
		// A customer's two charges, one refunded: a list filtered by
		// customer has no bound, and leaves its refunds to the resolver.
		cus := a.do(t, a.key, "POST", "/v1/customers", newest, "email=jenny%40example.com")
		require.Equal(t, 200, cus.status, cus.body)
		var theirs []string
		for range 2 {
			c := a.do(t, a.key, "POST", "/v1/charges", newest, "amount=2000&currency=usd&source=tok_visa&customer="+cus.get("id").String())
			require.Equal(t, 200, c.status, c.body)
			theirs = append(theirs, c.get("id").String())
		}
		rf := a.do(t, a.key, "POST", "/v1/refunds", newest, "amount=7&charge="+theirs[0])
		require.Equal(t, 200, rf.status, rf.body)
		ids := func(r gjson.Result) []string {
			var out []string
			for _, v := range r.Array() {
				out = append(out, v.String())
			}
			return out
		}
		// refunds returns, by charge, the ids of its refunds as the newest
		// version expands them.
		refunds := map[string][]string{}
		all := a.do(t, a.key, "GET", "/v1/charges?limit=100&expand[]=data.refunds", newest, "")
		require.Equal(t, 200, all.status, all.body)
		for _, ch := range all.get("data").Array() {
			refunds[ch.Get("id").String()] = ids(ch.Get("refunds.data.#.id"))
		}
		require.Len(t, refunds, 14)
		n := 0
		for _, rs := range refunds {
			n += len(rs)
		}
		require.Equal(t, 11, n)

		for _, v := range []string{oldest, "2022-08-01"} {
			t.Run(v, func(t *testing.T) {
				for _, path := range []string{
					"/v1/charges?limit=14",
					"/v1/charges?limit=5",
					"/v1/charges?limit=5&starting_after=" + charges[4],
					"/v1/charges?limit=3&ending_before=" + charges[10],
					"/v1/charges?limit=3&customer=" + cus.get("id").String(), // a filter: the resolver asks
				} {
					r := a.do(t, a.key, "GET", path, v, "")
					require.Equal(t, 200, r.status, r.body)
					items := r.get("data").Array()
					require.NotEmpty(t, items, path)
					for _, ch := range items {
						id := ch.Get("id").String()
						assert.Equal(t, refunds[id], ids(ch.Get("refunds.data.#.id")), "%s: %s", path, id)
						assert.Equal(t, int64(len(refunds[id])), ch.Get("refunds.total_count").Int(), "%s: %s", path, id)
					}
				}
				for _, id := range []string{charges[0], charges[11], theirs[0]} {
					r := a.do(t, a.key, "GET", "/v1/charges/"+id, v, "")
					require.Equal(t, 200, r.status, r.body)
					assert.Equal(t, refunds[id], ids(r.get("refunds.data.#.id")), id)
				}
				for _, path := range []string{"/v1/payment_intents?limit=12", "/v1/payment_intents/" + intents[11]} {
					r := a.do(t, a.key, "GET", path, v, "")
					require.Equal(t, 200, r.status, r.body)
					pis := r.get("data").Array()
					if !r.get("data").Exists() {
						pis = []gjson.Result{gjson.Parse(r.body)}
					}
					for _, pi := range pis {
						require.Equal(t, int64(1), pi.Get("charges.total_count").Int(), pi.Raw)
						ch := pi.Get("charges.data.0")
						assert.Equal(t, refunds[ch.Get("id").String()], ids(ch.Get("refunds.data.#.id")), pi.Get("id").String())
					}
				}
				missing := a.do(t, a.key, "GET", "/v1/charges/ch_missing", v, "")
				assert.Equal(t, 404, missing.status, missing.body)
			})
		}

		// has_children is set exactly on the objects others name as their
		// parent.
		var wrong int
		require.NoError(t, db.QueryRow(context.Background(), `SELECT COUNT(*) FROM verso_objects AS p
			WHERE (p.has_children <> 0) <> EXISTS (SELECT 1 FROM verso_objects AS c WHERE c.account = p.account AND c.parent = p.id)`).Scan(&wrong))
		assert.Zero(t, wrong)
	})
}

// TestWebhooksSeeRealData: webhook deliveries to an endpoint on an old
// version carry the related lists of the endpoint's account, as they were
// when each event happened, as the API's responses do.
func TestWebhooksSeeRealData(t *testing.T) {
	eachBackend(t, func(t *testing.T, b storagetest.Backend) {
		var clock atomic.Int64
		clock.Store(time.Now().Unix())
		a := start(t, b, api.Config{WebhooksAllowPrivate: true, Clock: func() time.Time { return time.Unix(clock.Load(), 0) }})
		recv := make(chan []byte, 10)
		rs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			recv <- body
		})}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		go rs.Serve(ln)
		defer rs.Close()
		ep := a.do(t, a.key, "POST", "/v1/webhook_endpoints", "", url.Values{"url": {"http://" + ln.Addr().String()},
			"enabled_events[]": {"payment_intent.succeeded", "charge.refunded"}, "api_version": {oldest}}.Encode())
		require.Equal(t, 200, ep.status, ep.body)

		pi := a.do(t, a.key, "POST", "/v1/payment_intents", newest, "amount=1500&currency=usd&confirm=true&payment_method=tok_visa")
		require.Equal(t, 200, pi.status, pi.body)
		chID := pi.get("latest_charge").String()
		clock.Add(60) // the refund a minute after the payment
		rf := a.do(t, a.key, "POST", "/v1/refunds", newest, "amount=400&charge="+chID)
		require.Equal(t, 200, rf.status, rf.body)

		got := map[string]gjson.Result{}
		for len(got) < 2 {
			select {
			case body := <-recv:
				ev := gjson.ParseBytes(body)
				require.Equal(t, oldest, ev.Get("api_version").String())
				got[ev.Get("type").String()] = ev.Get("data.object")
			case <-time.After(10 * time.Second):
				t.Fatalf("only %d deliveries", len(got))
			}
		}
		paid := got["payment_intent.succeeded"]
		assert.Equal(t, int64(1), paid.Get("charges.total_count").Int(), paid.Raw)
		assert.Equal(t, chID, paid.Get("charges.data.0.id").String(), paid.Raw)
		assert.Equal(t, int64(0), paid.Get("charges.data.0.refunds.total_count").Int(), "no refund yet when the payment succeeded: %s", paid.Raw)
		refunded := got["charge.refunded"]
		assert.Equal(t, int64(1), refunded.Get("refunds.total_count").Int(), refunded.Raw)
		assert.Equal(t, rf.get("id").String(), refunded.Get("refunds.data.0.id").String(), refunded.Raw)
		assert.Equal(t, int64(400), refunded.Get("refunds.data.0.amount").Int(), "walked back: an integer")
	})
}
