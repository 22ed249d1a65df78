package sdktest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	stripe "github.com/stripe/stripe-go/v85"
	"github.com/stripe/stripe-go/v85/webhook"
)

// TestStripeGoV85 runs the flow through stripe-go v85, the newest major on
// the Go module proxy, which pins 2026-03-25.dahlia, with the stripe.Client
// its documentation recommends (the older client package is covered by
// v72, v76 and v82).
func TestStripeGoV85(t *testing.T) {
	url, key := serve(t)
	sc := stripe.NewClient(key, stripe.WithBackends(&stripe.Backends{
		API: stripe.GetBackendWithConfig(stripe.APIBackend, &stripe.BackendConfig{URL: stripe.String(url), LeveledLogger: &stripe.LeveledLogger{Level: stripe.LevelError}}),
	}))
	ctx := context.Background()
	require.Equal(t, "2026-03-25.dahlia", stripe.APIVersion)
	served := func(r *stripe.APIResponse) {
		t.Helper()
		assert.Equal(t, stripe.APIVersion, r.Header.Get("Stripe-Version"))
		assert.Regexp(t, `^req_`, r.RequestID)
	}

	t.Run("customers", func(t *testing.T) {
		email := uniq(t, "c") + "@example.com"
		var ids []string
		for i := 0; i < 3; i++ {
			c, err := sc.V1Customers.Create(ctx, &stripe.CustomerCreateParams{Email: stripe.String(email), Name: stripe.String("Jenny Rosen")})
			require.NoError(t, err)
			served(c.LastResponse)
			ids = append(ids, c.ID)
		}
		p := &stripe.CustomerUpdateParams{Balance: stripe.Int64(-500)}
		p.AddMetadata("order", "6735")
		c, err := sc.V1Customers.Update(ctx, ids[0], p)
		require.NoError(t, err)
		assert.Equal(t, "6735", c.Metadata["order"])
		assert.Equal(t, int64(-500), c.Balance)

		params := &stripe.CustomerListParams{Email: stripe.String(email)}
		params.Limit = stripe.Int64(2)
		var got []string
		for c, err := range sc.V1Customers.List(ctx, params).All(ctx) {
			require.NoError(t, err)
			got = append(got, c.ID)
		}
		assert.Equal(t, []string{ids[2], ids[1], ids[0]}, got)

		before := &stripe.CustomerListParams{Email: stripe.String(email)}
		before.EndingBefore = stripe.String(ids[0])
		page := sc.V1Customers.List(ctx, before)
		got = nil
		for _, c := range page.Data() {
			got = append(got, c.ID)
		}
		require.NoError(t, page.Err())
		assert.Equal(t, []string{ids[1], ids[2]}, got, "paging backwards, the SDK orders the page from the oldest")

		d, err := sc.V1Customers.Delete(ctx, ids[1], nil)
		require.NoError(t, err)
		assert.True(t, d.Deleted)
		g, err := sc.V1Customers.Retrieve(ctx, ids[1], nil)
		require.NoError(t, err)
		assert.True(t, g.Deleted)
	})

	t.Run("charges and refunds", func(t *testing.T) {
		cp := &stripe.ChargeCreateParams{Amount: stripe.Int64(2000), Currency: stripe.String(string(stripe.CurrencyUSD))}
		require.NoError(t, cp.SetSource("tok_amex"))
		ch, err := sc.V1Charges.Create(ctx, cp)
		require.NoError(t, err)
		served(ch.LastResponse)
		assert.Equal(t, int64(2000), ch.Amount)
		assert.Equal(t, stripe.ChargeStatusSucceeded, ch.Status)
		assert.Equal(t, "8431", ch.PaymentMethodDetails.Card.Last4)

		re, err := sc.V1Refunds.Create(ctx, &stripe.RefundCreateParams{Charge: stripe.String(ch.ID), Amount: stripe.Int64(500)})
		require.NoError(t, err)
		assert.Equal(t, int64(500), re.Amount)
		gp := &stripe.ChargeRetrieveParams{}
		gp.AddExpand("refunds")
		got, err := sc.V1Charges.Retrieve(ctx, ch.ID, gp)
		require.NoError(t, err)
		assert.Equal(t, int64(500), got.AmountRefunded)
		require.NotNil(t, got.Refunds)
		require.Len(t, got.Refunds.Data, 1)
		assert.Equal(t, re.ID, got.Refunds.Data[0].ID)
	})

	t.Run("payment intents", func(t *testing.T) {
		pp := &stripe.PaymentIntentCreateParams{Amount: stripe.Int64(1500), Currency: stripe.String("usd"),
			PaymentMethod: stripe.String("pm_card_visa"), Confirm: stripe.Bool(true)}
		pp.AddExpand("latest_charge")
		pi, err := sc.V1PaymentIntents.Create(ctx, pp)
		require.NoError(t, err)
		served(pi.LastResponse)
		assert.Equal(t, stripe.PaymentIntentStatusSucceeded, pi.Status)
		require.NotNil(t, pi.LatestCharge)
		assert.Equal(t, int64(1500), pi.LatestCharge.Amount)
		assert.Equal(t, stripe.PaymentMethodCardBrand("visa"), pi.LatestCharge.PaymentMethodDetails.Card.Brand)

		re, err := sc.V1Refunds.Create(ctx, &stripe.RefundCreateParams{PaymentIntent: stripe.String(pi.ID)})
		require.NoError(t, err)
		assert.Equal(t, pi.LatestCharge.ID, re.Charge.ID)
		assert.Equal(t, pi.ID, re.PaymentIntent.ID)

		plain, err := sc.V1PaymentIntents.Create(ctx, &stripe.PaymentIntentCreateParams{Amount: stripe.Int64(700), Currency: stripe.String("usd")})
		require.NoError(t, err)
		require.NotNil(t, plain.AutomaticPaymentMethods)
		assert.True(t, plain.AutomaticPaymentMethods.Enabled)
		confirmed, err := sc.V1PaymentIntents.Confirm(ctx, plain.ID, &stripe.PaymentIntentConfirmParams{PaymentMethod: stripe.String("pm_card_mastercard")})
		require.NoError(t, err)
		assert.Equal(t, stripe.PaymentIntentStatusSucceeded, confirmed.Status)
	})

	t.Run("events", func(t *testing.T) {
		var ev *stripe.Event
		for e, err := range sc.V1Events.List(ctx, &stripe.EventListParams{Type: stripe.String("charge.refunded")}).All(ctx) {
			require.NoError(t, err)
			ev = e
			break
		}
		require.NotNil(t, ev, "a charge.refunded event")
		assert.Equal(t, "charge.refunded", string(ev.Type))
		assert.Equal(t, "charge", ev.Data.Object["object"])
		got, err := sc.V1Events.Retrieve(ctx, ev.ID, nil)
		require.NoError(t, err)
		assert.Equal(t, ev.ID, got.ID)
	})

	t.Run("typed errors", func(t *testing.T) {
		var se *stripe.Error
		_, err := sc.V1Customers.Retrieve(ctx, "cus_nope", nil)
		require.ErrorAs(t, err, &se)
		assert.Equal(t, 404, se.HTTPStatusCode)
		assert.Equal(t, stripe.ErrorTypeInvalidRequest, se.Type)
		assert.Equal(t, stripe.ErrorCodeResourceMissing, se.Code)
		assert.Equal(t, "id", se.Param)
		assert.Regexp(t, `^req_`, se.RequestID)

		_, err = sc.V1PaymentIntents.Create(ctx, &stripe.PaymentIntentCreateParams{Currency: stripe.String("usd")})
		require.ErrorAs(t, err, &se)
		assert.Equal(t, stripe.ErrorCodeParameterMissing, se.Code)
		assert.Equal(t, "amount", se.Param)

		_, err = sc.V1PaymentIntents.Create(ctx, &stripe.PaymentIntentCreateParams{Amount: stripe.Int64(900), Currency: stripe.String("usd"),
			PaymentMethod: stripe.String("pm_card_chargeDeclinedIncorrectCvc"), Confirm: stripe.Bool(true)})
		require.ErrorAs(t, err, &se)
		assert.Equal(t, 402, se.HTTPStatusCode)
		assert.Equal(t, stripe.ErrorTypeCard, se.Type)
		assert.Equal(t, stripe.ErrorCodeIncorrectCVC, se.Code)
		require.NotNil(t, se.PaymentIntent)
		assert.Equal(t, stripe.PaymentIntentStatusRequiresPaymentMethod, se.PaymentIntent.Status)
	})

	t.Run("idempotent retries", func(t *testing.T) {
		key := uniq(t, "idem")
		params := func(email string) *stripe.CustomerCreateParams {
			p := &stripe.CustomerCreateParams{Email: stripe.String(email)}
			p.SetIdempotencyKey(key)
			return p
		}
		first, err := sc.V1Customers.Create(ctx, params("idem@example.com"))
		require.NoError(t, err)
		again, err := sc.V1Customers.Create(ctx, params("idem@example.com"))
		require.NoError(t, err)
		assert.Equal(t, first.ID, again.ID)
		assert.Equal(t, "true", again.LastResponse.Header.Get("Idempotent-Replayed"))
		_, err = sc.V1Customers.Create(ctx, params("other@example.com"))
		var se *stripe.Error
		require.ErrorAs(t, err, &se)
		assert.Equal(t, stripe.ErrorTypeIdempotency, se.Type)
	})

	t.Run("webhook", func(t *testing.T) {
		hookURL, next := receiver(t)
		we, err := sc.V1WebhookEndpoints.Create(ctx, &stripe.WebhookEndpointCreateParams{URL: stripe.String(hookURL),
			EnabledEvents: stripe.StringSlice([]string{"customer.created"}), APIVersion: stripe.String(stripe.APIVersion)})
		require.NoError(t, err)
		assert.Equal(t, stripe.APIVersion, we.APIVersion)
		c, err := sc.V1Customers.Create(ctx, &stripe.CustomerCreateParams{Email: stripe.String(uniq(t, "hook") + "@example.com")})
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
