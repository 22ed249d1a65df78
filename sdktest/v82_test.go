//lint:file-ignore SA1019 v82 is driven through its client package, deprecated in v82 for stripe.Client but what integrations written for earlier majors still use; v85 covers stripe.Client.

package sdktest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	stripe "github.com/stripe/stripe-go/v82"
	"github.com/stripe/stripe-go/v82/client"
	"github.com/stripe/stripe-go/v82/webhook"
)

// TestStripeGoV82 runs the flow through stripe-go v82, which pins
// 2025-08-27.basil: payment intents name their latest_charge, and a charge lists
// its refunds only when expanded.
func TestStripeGoV82(t *testing.T) {
	url, key := serve(t)
	sc := client.New(key, &stripe.Backends{
		API: stripe.GetBackendWithConfig(stripe.APIBackend, &stripe.BackendConfig{URL: stripe.String(url), LeveledLogger: &stripe.LeveledLogger{Level: stripe.LevelError}}),
	})
	require.Equal(t, "2025-08-27.basil", stripe.APIVersion)
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
		p := &stripe.CustomerParams{Balance: stripe.Int64(-500)}
		p.AddMetadata("order", "6735")
		c, err := sc.Customers.Update(ids[0], p)
		require.NoError(t, err)
		assert.Equal(t, "6735", c.Metadata["order"])
		assert.Equal(t, int64(-500), c.Balance)

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
		assert.Equal(t, []string{ids[1], ids[2]}, got, "paging backwards, the SDK iterates from the oldest")

		d, err := sc.Customers.Del(ids[1], nil)
		require.NoError(t, err)
		assert.True(t, d.Deleted)
		g, err := sc.Customers.Get(ids[1], nil)
		require.NoError(t, err)
		assert.True(t, g.Deleted)
	})

	t.Run("charges and refunds", func(t *testing.T) {
		cp := &stripe.ChargeParams{Amount: stripe.Int64(2000), Currency: stripe.String(string(stripe.CurrencyUSD))}
		require.NoError(t, cp.SetSource("tok_mastercard"))
		ch, err := sc.Charges.New(cp)
		require.NoError(t, err)
		served(ch.LastResponse)
		assert.Equal(t, int64(2000), ch.Amount)
		assert.Equal(t, stripe.ChargeStatusSucceeded, ch.Status)
		assert.Nil(t, ch.Refunds, "not expanded")

		re, err := sc.Refunds.New(&stripe.RefundParams{Charge: stripe.String(ch.ID), Amount: stripe.Int64(500)})
		require.NoError(t, err)
		assert.Equal(t, int64(500), re.Amount)
		gp := &stripe.ChargeParams{}
		gp.AddExpand("refunds")
		got, err := sc.Charges.Get(ch.ID, gp)
		require.NoError(t, err)
		assert.Equal(t, int64(500), got.AmountRefunded)
		require.NotNil(t, got.Refunds)
		require.Len(t, got.Refunds.Data, 1)
		assert.Equal(t, re.ID, got.Refunds.Data[0].ID)
	})

	t.Run("payment intents", func(t *testing.T) {
		pp := &stripe.PaymentIntentParams{Amount: stripe.Int64(1500), Currency: stripe.String("usd"),
			PaymentMethod: stripe.String("pm_card_visa"), Confirm: stripe.Bool(true)}
		pp.AddExpand("latest_charge")
		pi, err := sc.PaymentIntents.New(pp)
		require.NoError(t, err)
		served(pi.LastResponse)
		assert.Equal(t, stripe.PaymentIntentStatusSucceeded, pi.Status)
		require.NotNil(t, pi.LatestCharge)
		assert.Equal(t, int64(1500), pi.LatestCharge.Amount)
		assert.Equal(t, stripe.PaymentMethodCardBrand("visa"), pi.LatestCharge.PaymentMethodDetails.Card.Brand)
		require.NotNil(t, pi.PaymentMethod)

		re, err := sc.Refunds.New(&stripe.RefundParams{PaymentIntent: stripe.String(pi.ID)})
		require.NoError(t, err)
		assert.Equal(t, pi.LatestCharge.ID, re.Charge.ID)
		assert.Equal(t, pi.ID, re.PaymentIntent.ID)

		// Automatic payment methods are on by default from 2023-08-16.
		plain, err := sc.PaymentIntents.New(&stripe.PaymentIntentParams{Amount: stripe.Int64(700), Currency: stripe.String("usd")})
		require.NoError(t, err)
		require.NotNil(t, plain.AutomaticPaymentMethods)
		assert.True(t, plain.AutomaticPaymentMethods.Enabled)
		confirmed, err := sc.PaymentIntents.Confirm(plain.ID, &stripe.PaymentIntentConfirmParams{PaymentMethod: stripe.String("pm_card_amex")})
		require.NoError(t, err)
		assert.Equal(t, stripe.PaymentIntentStatusSucceeded, confirmed.Status)
	})

	t.Run("events", func(t *testing.T) {
		it := sc.Events.List(&stripe.EventListParams{Type: stripe.String("charge.refunded")})
		require.True(t, it.Next(), "an event: %v", it.Err())
		ev := it.Event()
		assert.Equal(t, "charge.refunded", string(ev.Type))
		assert.Equal(t, "charge", ev.Data.Object["object"])
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

		_, err = sc.PaymentIntents.New(&stripe.PaymentIntentParams{Currency: stripe.String("usd")})
		require.ErrorAs(t, err, &se)
		assert.Equal(t, stripe.ErrorCodeParameterMissing, se.Code)
		assert.Equal(t, "amount", se.Param)

		_, err = sc.PaymentIntents.New(&stripe.PaymentIntentParams{Amount: stripe.Int64(900), Currency: stripe.String("usd"),
			PaymentMethod: stripe.String("pm_card_chargeDeclined"), Confirm: stripe.Bool(true)})
		require.ErrorAs(t, err, &se)
		assert.Equal(t, 402, se.HTTPStatusCode)
		assert.Equal(t, stripe.ErrorTypeCard, se.Type)
		assert.Equal(t, stripe.ErrorCodeCardDeclined, se.Code)
		assert.Equal(t, stripe.DeclineCodeGenericDecline, se.DeclineCode)
		require.NotNil(t, se.PaymentIntent)
		assert.Equal(t, stripe.PaymentIntentStatusRequiresPaymentMethod, se.PaymentIntent.Status)
	})

	t.Run("idempotent retries", func(t *testing.T) {
		key := uniq(t, "idem")
		params := func(email string) *stripe.CustomerParams {
			p := &stripe.CustomerParams{Email: stripe.String(email)}
			p.SetIdempotencyKey(key)
			return p
		}
		first, err := sc.Customers.New(params("idem@example.com"))
		require.NoError(t, err)
		again, err := sc.Customers.New(params("idem@example.com"))
		require.NoError(t, err)
		assert.Equal(t, first.ID, again.ID)
		assert.Equal(t, "true", again.LastResponse.Header.Get("Idempotent-Replayed"))
		_, err = sc.Customers.New(params("other@example.com"))
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
