package sdktest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	stripe "github.com/stripe/stripe-go/v72"
	"github.com/stripe/stripe-go/v72/client"
	"github.com/stripe/stripe-go/v72/webhook"
)

// TestStripeGoV72 runs the flow through stripe-go v72, which pins
// 2020-08-27: payment intents embed their charges, charges their refunds.
func TestStripeGoV72(t *testing.T) {
	url, key := serve(t)
	sc := client.New(key, &stripe.Backends{
		API: stripe.GetBackendWithConfig(stripe.APIBackend, &stripe.BackendConfig{URL: stripe.String(url), LeveledLogger: &stripe.LeveledLogger{Level: stripe.LevelError}}),
	})
	require.Equal(t, "2020-08-27", stripe.APIVersion)
	served := func(r *stripe.APIResponse) {
		t.Helper()
		assert.Equal(t, stripe.APIVersion, r.Header.Get("Stripe-Version"))
		assert.Regexp(t, `^req_`, r.RequestID)
	}

	t.Run("customers", func(t *testing.T) {
		email := uniq(t, "c") + "@example.com"
		var ids []string
		for i := 0; i < 3; i++ {
			c, err := sc.Customers.New(&stripe.CustomerParams{Email: stripe.String(email), Name: stripe.String("Jenny Rosen")})
			require.NoError(t, err)
			served(c.LastResponse)
			ids = append(ids, c.ID)
		}
		c, err := sc.Customers.Update(ids[0], &stripe.CustomerParams{Params: stripe.Params{Metadata: map[string]string{"order": "6735"}}, Balance: stripe.Int64(-500)})
		require.NoError(t, err)
		assert.Equal(t, "6735", c.Metadata["order"])
		assert.Equal(t, int64(-500), c.Balance)
		assert.Nil(t, c.Sources, "from 2020-08-27 on, sources only when expanded")

		// Every page, two at a time, through the SDK's iterator.
		params := &stripe.CustomerListParams{Email: stripe.String(email)}
		params.Limit = stripe.Int64(2)
		var got []string
		it := sc.Customers.List(params)
		for it.Next() {
			got = append(got, it.Customer().ID)
		}
		require.NoError(t, it.Err())
		assert.Equal(t, []string{ids[2], ids[1], ids[0]}, got)

		before := &stripe.CustomerListParams{Email: stripe.String(email)}
		before.EndingBefore = stripe.String(ids[0])
		before.Single = true
		it = sc.Customers.List(before)
		got = nil
		for it.Next() {
			got = append(got, it.Customer().ID)
		}
		require.NoError(t, it.Err())
		// The page is newest first; paging backwards, the SDK iterates it
		// from the oldest.
		assert.Equal(t, []string{ids[1], ids[2]}, got)

		d, err := sc.Customers.Del(ids[1], nil)
		require.NoError(t, err)
		assert.True(t, d.Deleted)
		_, err = sc.Customers.Update(ids[1], &stripe.CustomerParams{Name: stripe.String("x")})
		var se *stripe.Error
		require.ErrorAs(t, err, &se)
		assert.Equal(t, 404, se.HTTPStatusCode)
	})

	t.Run("charges and refunds", func(t *testing.T) {
		ch, err := sc.Charges.New(&stripe.ChargeParams{Amount: stripe.Int64(2000), Currency: stripe.String("usd"), Source: &stripe.SourceParams{Token: stripe.String("tok_visa")}})
		require.NoError(t, err)
		served(ch.LastResponse)
		assert.Equal(t, int64(2000), ch.Amount)
		assert.Equal(t, stripe.ChargeStatus("succeeded"), ch.Status)
		require.NotNil(t, ch.Source)
		assert.Equal(t, "4242", ch.Source.Card.Last4)

		re, err := sc.Refunds.New(&stripe.RefundParams{Charge: stripe.String(ch.ID), Amount: stripe.Int64(500)})
		require.NoError(t, err)
		assert.Equal(t, int64(500), re.Amount)
		got, err := sc.Charges.Get(ch.ID, nil)
		require.NoError(t, err)
		assert.Equal(t, int64(500), got.AmountRefunded)
		require.NotNil(t, got.Refunds)
		require.Len(t, got.Refunds.Data, 1, "a charge lists its refunds at 2020-08-27")
		assert.Equal(t, re.ID, got.Refunds.Data[0].ID)
		//lint:ignore SA1019 lists embedded at 2020-08-27 carry total_count: check the demo sends it.
		assert.Equal(t, uint32(1), got.Refunds.TotalCount)
	})

	t.Run("payment intents", func(t *testing.T) {
		pi, err := sc.PaymentIntents.New(&stripe.PaymentIntentParams{Amount: stripe.Int64(1500), Currency: stripe.String("usd"),
			PaymentMethod: stripe.String("pm_card_visa"), Confirm: stripe.Bool(true)})
		require.NoError(t, err)
		served(pi.LastResponse)
		assert.Equal(t, stripe.PaymentIntentStatusSucceeded, pi.Status)
		require.NotNil(t, pi.Charges)
		require.Len(t, pi.Charges.Data, 1, "a payment intent lists its charges at 2020-08-27")
		charge := pi.Charges.Data[0]
		assert.Equal(t, int64(1500), charge.Amount)
		assert.Equal(t, "visa", string(charge.PaymentMethodDetails.Card.Brand))

		re, err := sc.Refunds.New(&stripe.RefundParams{PaymentIntent: stripe.String(pi.ID)})
		require.NoError(t, err)
		assert.Equal(t, charge.ID, re.Charge.ID)
		assert.Equal(t, int64(1500), re.Amount)

		pi, err = sc.PaymentIntents.Get(pi.ID, nil)
		require.NoError(t, err)
		require.Len(t, pi.Charges.Data, 1)
		assert.True(t, pi.Charges.Data[0].Refunded)
		require.Len(t, pi.Charges.Data[0].Refunds.Data, 1)
		assert.Equal(t, re.ID, pi.Charges.Data[0].Refunds.Data[0].ID)
	})

	t.Run("events", func(t *testing.T) {
		params := &stripe.EventListParams{Type: stripe.String("payment_intent.succeeded")}
		it := sc.Events.List(params)
		require.True(t, it.Next(), "an event: %v", it.Err())
		ev := it.Event()
		assert.Equal(t, "payment_intent.succeeded", ev.Type)
		assert.Equal(t, "payment_intent", ev.Data.Object["object"])
		got, err := sc.Events.Get(ev.ID, nil)
		require.NoError(t, err)
		assert.Equal(t, ev.ID, got.ID)
	})

	t.Run("typed errors", func(t *testing.T) {
		var se *stripe.Error
		_, err := sc.Customers.Get("cus_nope", nil)
		require.ErrorAs(t, err, &se)
		assert.Equal(t, 404, se.HTTPStatusCode)
		assert.Equal(t, stripe.ErrorTypeInvalidRequest, se.Type)
		assert.Equal(t, stripe.ErrorCodeResourceMissing, se.Code)
		assert.Equal(t, "id", se.Param)
		assert.Regexp(t, `^req_`, se.RequestID)

		_, err = sc.Charges.New(&stripe.ChargeParams{Currency: stripe.String("usd"), Source: &stripe.SourceParams{Token: stripe.String("tok_visa")}})
		require.ErrorAs(t, err, &se)
		assert.Equal(t, 400, se.HTTPStatusCode)
		assert.Equal(t, stripe.ErrorCode("parameter_missing"), se.Code)
		assert.Equal(t, "amount", se.Param)

		_, err = sc.PaymentIntents.New(&stripe.PaymentIntentParams{Amount: stripe.Int64(900), Currency: stripe.String("usd"),
			PaymentMethod: stripe.String("pm_card_chargeDeclinedInsufficientFunds"), Confirm: stripe.Bool(true)})
		require.ErrorAs(t, err, &se)
		assert.Equal(t, 402, se.HTTPStatusCode)
		assert.Equal(t, stripe.ErrorTypeCard, se.Type)
		assert.Equal(t, stripe.ErrorCodeCardDeclined, se.Code)
		assert.Equal(t, stripe.DeclineCodeInsufficientFunds, se.DeclineCode)
		require.NotNil(t, se.PaymentIntent)
		assert.Equal(t, stripe.PaymentIntentStatusRequiresPaymentMethod, se.PaymentIntent.Status)
	})

	t.Run("idempotent retries", func(t *testing.T) {
		key := uniq(t, "idem")
		params := func() *stripe.CustomerParams {
			p := &stripe.CustomerParams{Email: stripe.String("idem@example.com")}
			p.IdempotencyKey = stripe.String(key)
			return p
		}
		first, err := sc.Customers.New(params())
		require.NoError(t, err)
		again, err := sc.Customers.New(params())
		require.NoError(t, err)
		assert.Equal(t, first.ID, again.ID)
		assert.Equal(t, "true", again.LastResponse.Header.Get("Idempotent-Replayed"))

		other := &stripe.CustomerParams{Email: stripe.String("other@example.com")}
		other.IdempotencyKey = stripe.String(key)
		_, err = sc.Customers.New(other)
		var se *stripe.Error
		require.ErrorAs(t, err, &se)
		assert.Equal(t, stripe.ErrorTypeIdempotency, se.Type)
	})

	t.Run("webhook", func(t *testing.T) {
		hookURL, next := receiver(t)
		we, err := sc.WebhookEndpoints.New(&stripe.WebhookEndpointParams{URL: stripe.String(hookURL),
			EnabledEvents: stripe.StringSlice([]string{"customer.created"}), APIVersion: stripe.String(stripe.APIVersion)})
		require.NoError(t, err)
		assert.Equal(t, stripe.APIVersion, we.APIVersion)
		c, err := sc.Customers.New(&stripe.CustomerParams{Email: stripe.String(uniq(t, "hook") + "@example.com")})
		require.NoError(t, err)
		d := next()
		// The SDK's own verifier: the signature, the timestamp, and the
		// event's api_version against the version the SDK pins.
		ev, err := webhook.ConstructEvent(d.body, d.sig, we.Secret)
		require.NoError(t, err)
		assert.Equal(t, "customer.created", string(ev.Type))
		assert.Equal(t, c.ID, ev.Data.Object["id"])
		_, err = webhook.ConstructEvent(d.body, d.sig, "whsec_wrong")
		assert.Error(t, err, "a wrong secret fails verification")
	})
}
