package api

import (
	"context"
	"fmt"
	"time"

	"net/http"

	"github.com/verso-api/verso/apierror"
	"github.com/verso-api/verso/versions"
	"github.com/verso-api/verso/webhooks"
)

// sampleEvent returns a sample event of a type, in the newest schema, for
// webhook test sends that name a type rather than an event.
func (s *Server) sampleEvent(_ *http.Request, typ string) ([]byte, error) {
	now := s.now().Unix()
	var obj []byte
	switch typ {
	case "customer.created", "customer.updated":
		obj = marshal(customer{ID: "cus_sample", Object: "customer", Balance: -500, Created: now, Email: strp("jenny@example.com"),
			DefaultSource: strp("card_sample"), InvoicePrefix: "SAMPLE01", Metadata: map[string]string{}})
	case "charge.succeeded", "charge.refunded", "charge.updated":
		obj = marshal(charge{ID: "ch_sample", Object: "charge", Amount: 2000, AmountCaptured: 2000, Captured: true, Created: now,
			Currency: "usd", Paid: true, Source: testMethods["visa"].card(), Status: "succeeded", Metadata: map[string]string{}})
	case "payment_intent.created", "payment_intent.succeeded", "payment_intent.updated":
		obj = marshal(paymentIntent{ID: "pi_sample", Object: "payment_intent", Amount: 2000, Created: now, Currency: "usd",
			LatestCharge: strp("ch_sample"), Status: "succeeded", PaymentMethodTypes: []string{"card"}, Metadata: map[string]string{}})
	case "refund.created", "refund.updated":
		obj = marshal(refund{ID: "re_sample", Object: "refund", Amount: 500, Charge: "ch_sample", Created: now, Currency: "usd",
			Status: "succeeded", Metadata: map[string]string{}})
	default:
		return nil, invalid("type", "no sample event of type %q", apierror.Bound(typ))
	}
	ev := fmt.Sprintf(`{"id":"evt_sample_%d","object":"event","api_version":%q,"created":%d,"type":%q,"data":{"object":%s}}`,
		time.Now().UnixNano(), s.timeline.Newest(), now, typ, obj)
	return []byte(ev), nil
}

// SendTest sends one event to an account's webhook endpoint, rendered in
// v, without changing the endpoint or its queue: the recorded event eventID,
// or else a sample event of type typ.
func (s *Server) SendTest(ctx context.Context, account, endpointID, eventID, typ string, v versions.Version) (webhooks.TestResult, error) {
	if eventID != "" {
		return s.worker.SendTestEvent(ctx, account, endpointID, eventID, v)
	}
	ev, err := s.sampleEvent(nil, typ)
	if err != nil {
		return webhooks.TestResult{}, err
	}
	return s.worker.SendTest(ctx, account, endpointID, ev, v)
}
