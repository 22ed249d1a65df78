package api_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/verso-api/verso/demo/api"
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
