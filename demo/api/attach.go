package api

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/versions"
)

// Old versions see real data.
//
// A gate that puts back a removed field can only put back what the newest
// response carries. PaymentIntent `charges` and Charge `refunds`, which
// 2022-11-15 removed, are lists of other objects the newest schema no
// longer embeds, so a literal default (an empty list) would tell an old
// client that a paid intent has no charge. verso settles it this way:
//
//   - A `removed` op puts a field back only when the object lacks it. The
//     default is what the version returns when nothing better is known.
//   - The handler, which has the request's version (gates.FromContext) and
//     the store, attaches the real value, in the newest schema, to the
//     objects of a response served at a version where the change is not
//     yet in effect (gates.Timeline.Active). The attached objects are then
//     walked back with everything else: the charges inside a payment
//     intent get integer amounts, `paid` and `card` like any other charge.
//   - Newest clients never see the field: nothing is attached when the
//     change is in effect, and the response streams through unwalked.
//
// The engine stays a pure function of the body and the version; no gate
// reads a store. attachOld is the demo's one place that knows which
// fields need what.
//
// Limits: responses replayed from the idempotency store and webhook
// deliveries carry what was saved in the newest schema, so there these
// fields keep their defaults.

// attachOld adds to every charge and payment intent in body (a resource, a
// list of them, or an event) the lists that the request's version embeds
// and the newest schema does not. Objects created after asOf (a Unix
// time; 0 for none) are left out, so an event shows what was true when it
// happened.
func (s *Server) attachOld(ctx context.Context, q listQuerier, account string, body []byte) ([]byte, error) {
	v, _, ok := gates.FromContext(ctx)
	if !ok || s.inEffect(v, "payment_intent_latest_charge") && s.inEffect(v, "charge_refunds_not_expanded") {
		return body, nil
	}
	root := gjson.ParseBytes(body)
	if root.Get("object").String() != "list" {
		return s.attachAny(ctx, q, account, v, body)
	}
	for i, it := range root.Get("data").Array() {
		sub, err := s.attachAny(ctx, q, account, v, []byte(it.Raw))
		if err != nil {
			return nil, err
		}
		if body, err = sjson.SetRawBytes(body, "data."+strconv.Itoa(i), sub); err != nil {
			return nil, err
		}
	}
	return body, nil
}

// attachAny attaches to a resource, or to the object of an event as it
// was when the event happened.
func (s *Server) attachAny(ctx context.Context, q listQuerier, account string, v versions.Version, obj []byte) ([]byte, error) {
	if gjson.GetBytes(obj, "object").String() != "event" {
		return s.attachObject(ctx, q, account, v, obj, 0)
	}
	data := gjson.GetBytes(obj, "data.object")
	if !data.IsObject() {
		return obj, nil
	}
	sub, err := s.attachObject(ctx, q, account, v, []byte(data.Raw), gjson.GetBytes(obj, "created").Int())
	if err != nil {
		return nil, err
	}
	return sjson.SetRawBytes(obj, "data.object", sub)
}

// inEffect reports whether the change id is in effect at v; a timeline
// without the change (a custom timeline) never needs the attached field.
func (s *Server) inEffect(v versions.Version, id string) bool {
	on, err := s.timeline.Active(v, id)
	return err != nil || on
}

func (s *Server) attachObject(ctx context.Context, q listQuerier, account string, v versions.Version, obj []byte, asOf int64) ([]byte, error) {
	id := gjson.GetBytes(obj, "id").String()
	switch gjson.GetBytes(obj, "object").String() {
	case "payment_intent":
		if s.inEffect(v, "payment_intent_latest_charge") || gjson.GetBytes(obj, "charges").Exists() {
			return obj, nil
		}
		charges, err := s.objects.related(ctx, q, account, "charge", "payment_intent", id, asOf)
		if err != nil {
			return nil, err
		}
		for i := range charges {
			if charges[i], err = s.attachObject(ctx, q, account, v, charges[i], asOf); err != nil {
				return nil, err
			}
		}
		return sjson.SetRawBytes(obj, "charges", embeddedList("/v1/charges?payment_intent="+id, charges))
	case "charge":
		if s.inEffect(v, "charge_refunds_not_expanded") || gjson.GetBytes(obj, "refunds").Exists() {
			return obj, nil
		}
		refunds, err := s.objects.related(ctx, q, account, "refund", "charge", id, asOf)
		if err != nil {
			return nil, err
		}
		return sjson.SetRawBytes(obj, "refunds", embeddedList("/v1/charges/"+id+"/refunds", refunds))
	}
	return obj, nil
}

// embeddedList is a list embedded in an object, as Stripe embedded them:
// every item, and their count.
func embeddedList(url string, items [][]byte) []byte {
	b := listJSON(url, items, false)
	b = b[:len(b)-1]
	return append(append(b, `,"total_count":`...), strconv.Itoa(len(items))+"}"...)
}

// listQuerier runs queries on the database or in a transaction.
type listQuerier interface {
	querier
	Query(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

// related returns the account's objects of type typ whose field names id,
// newest first, leaving out those created after asOf when it is not 0.
func (o *objects) related(ctx context.Context, q listQuerier, account, typ, field, id string, asOf int64) ([][]byte, error) {
	// The bodies are compact JSON written by marshal, so the LIKE narrows
	// the scan and gjson confirms each match.
	pattern := fmt.Sprintf(`%%"%s":%s%%`, field, strconv.Quote(id))
	rows, err := q.Query(ctx, `SELECT body FROM verso_objects WHERE account = ? AND type = ? AND body LIKE ? ORDER BY seq DESC, id DESC`,
		account, typ, pattern)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := [][]byte{}
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return nil, err
		}
		b := []byte(body)
		if gjson.GetBytes(b, field).String() != id || asOf > 0 && gjson.GetBytes(b, "created").Int() > asOf {
			continue
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}
