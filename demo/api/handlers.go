package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/verso-api/verso/apierror"
	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/idempotency"
	"github.com/verso-api/verso/server/echoversioning"
	"github.com/verso-api/verso/storage"
	"github.com/verso-api/verso/webhooks"
)

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// resource describes one type of object of the API.
type resource struct {
	typ    string // the "object" field
	plural string // the path segment
	prefix string // id prefix
	// expandable maps a field holding an id to the type it names.
	expandable map[string]string
	create     func(s *Server, c echo.Context, tx *storage.Tx, p *params, w *write) error
	update     func(s *Server, c echo.Context, tx *storage.Tx, p *params, w *write, old []byte) error
	filter     func(p *params) (func([]byte) bool, error)
}

// write collects what a handler writes in its transaction.
type write struct {
	account string
	now     time.Time
	body    []byte // the response object, newest schema
	events  []webhooks.Event
}

func (w *write) event(typ string, obj []byte, prev map[string]any) {
	ev := webhooks.Event{Account: w.account, Type: typ, Created: w.now, Object: append(json.RawMessage(nil), obj...)}
	if len(prev) > 0 {
		ev.PreviousAttributes, _ = json.Marshal(prev)
	}
	w.events = append(w.events, ev)
}

func (s *Server) resources() []*resource {
	return []*resource{
		{typ: "customer", plural: "customers", prefix: "cus_", create: createCustomer, update: updateCustomer, filter: customerListFilter},
		{typ: "charge", plural: "charges", prefix: "ch_", expandable: map[string]string{"customer": "customer", "payment_intent": "payment_intent", "refunds": "refund"},
			create: createCharge, update: updateCharge, filter: customerFilter},
		{typ: "payment_intent", plural: "payment_intents", prefix: "pi_", expandable: map[string]string{"customer": "customer", "latest_charge": "charge"},
			create: createPaymentIntent, update: updatePaymentIntent, filter: customerFilter},
		{typ: "refund", plural: "refunds", prefix: "re_", expandable: map[string]string{"charge": "charge", "payment_intent": "payment_intent"},
			create: createRefund, update: updateRefund, filter: refundFilter},
	}
}

// paymentMethodTypes are the payment method types a PaymentIntent of the
// demo may name: the test cards, and link, which the demo enables for
// accounts on automatic payment methods.
var paymentMethodTypes = []string{"card", "link"}

func customerFilter(p *params) (func([]byte) bool, error) {
	cus, err := p.str("customer", 64)
	if err != nil || cus == "" {
		return nil, err
	}
	return func(b []byte) bool { return gjson.GetBytes(b, "customer").String() == cus }, nil
}

// customerListFilter leaves deleted customers out of lists and applies
// the email filter (exact, case-sensitive, as Stripe's).
func customerListFilter(p *params) (func([]byte) bool, error) {
	email, err := p.str("email", 512)
	if err != nil {
		return nil, err
	}
	return func(b []byte) bool {
		if gjson.GetBytes(b, "deleted").Bool() {
			return false
		}
		return email == "" || gjson.GetBytes(b, "email").String() == email
	}, nil
}

// refundFilter applies the charge and payment_intent filters.
func refundFilter(p *params) (func([]byte) bool, error) {
	ch, err := p.str("charge", 64)
	if err != nil {
		return nil, err
	}
	pi, err := p.str("payment_intent", 64)
	if err != nil || ch == "" && pi == "" {
		return nil, err
	}
	return func(b []byte) bool {
		return (ch == "" || gjson.GetBytes(b, "charge").String() == ch) &&
			(pi == "" || gjson.GetBytes(b, "payment_intent").String() == pi)
	}, nil
}

func (s *Server) routes(g *echo.Group) {
	for _, r := range s.resources() {
		r := r
		g.POST("/"+r.plural, func(c echo.Context) error { return s.create(c, r) })
		g.GET("/"+r.plural, func(c echo.Context) error { return s.list(c, r) })
		g.GET("/"+r.plural+"/:id", func(c echo.Context) error { return s.retrieve(c, r) })
		g.POST("/"+r.plural+"/:id", func(c echo.Context) error { return s.update(c, r) })
	}
	g.DELETE("/customers/:id", s.deleteCustomer)
	g.POST("/payment_intents/:id/confirm", s.confirmPaymentIntent)
	g.GET("/events", s.listEvents)
	g.GET("/events/:id", s.retrieveEvent)
}

// fail turns a handler error into an API error.
func (s *Server) fail(c echo.Context, err error) error {
	var pe *paramError
	var ae *apierror.Error
	var he *echo.HTTPError
	switch {
	case errors.As(err, &pe):
		return apierror.New(http.StatusBadRequest, apierror.TypeInvalidRequest, pe.code, pe.msg).WithParam(pe.param)
	case errors.As(err, &ae), errors.As(err, &he):
		return err
	case errors.Is(err, context.Canceled):
		return err
	case busy(err):
		s.log.Warn("database busy", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
		return errDatabaseBusy.Wrap(err)
	case storage.IsUnavailable(err):
		s.log.Warn("database unavailable", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
		return errDatabaseDown.Wrap(err)
	}
	s.log.Error("request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
	return apierror.ErrInternal
}

// notFound is the 404 for an object the path names, as Stripe sends it:
// code resource_missing, param id.
func notFound(typ, id string) error {
	return apierror.New(http.StatusNotFound, apierror.TypeInvalidRequest, "resource_missing",
		fmt.Sprintf("No such %s: '%s'", typ, apierror.Bound(id))).WithParam("id")
}

// noSuch is the 400 for a parameter naming an object the account does not
// have: code resource_missing, param the parameter.
func noSuch(param, typ, id string) *paramError {
	return &paramError{code: "resource_missing", param: param, msg: fmt.Sprintf("No such %s: '%s'", typ, apierror.Bound(id))}
}

func (s *Server) commit(c echo.Context, status int, account string, p *params, r *resource, fn func(tx *storage.Tx, w *write) error) error {
	ctx := c.Request().Context()
	expand, err := s.expandPaths(c, p)
	if err != nil {
		return s.fail(c, err)
	}
	w := &write{account: account, now: s.now()}
	var body []byte
	err = s.db.InTx(ctx, func(tx *storage.Tx) error {
		var declined *cardError
		if err := fn(tx, w); errors.As(err, &declined) {
			// A declined card: the work is done (a failed charge, a
			// payment intent waiting for another payment method) and
			// commits; the answer is the decline.
			status = http.StatusPaymentRequired
		} else if err != nil {
			return err
		}
		for i := range w.events {
			w.events[i].APIVersion = s.timeline.Newest()
			if err := s.hooks.RecordEvent(ctx, tx, w.events[i]); err != nil {
				return err
			}
		}
		var err error
		if declined != nil {
			body = marshal(struct {
				Error *cardError `json:"error"`
			}{declined})
		} else if body, err = s.expandOne(ctx, tx, account, r, w.body, expand); err != nil {
			return err
		}
		return idempotency.FromContext(ctx).SaveInTx(ctx, tx, status, nil, body)
	})
	if err != nil {
		return s.fail(c, err)
	}
	if s.worker != nil && len(w.events) > 0 {
		s.worker.Notify()
	}
	return s.respond(c, status, body)
}

// respond writes a response body in the newest schema; the versioning
// middleware walks it back, resolvers putting back what older versions
// embedded (related.go).
func (s *Server) respond(c echo.Context, status int, body []byte) error {
	return c.JSONBlob(status, body)
}

func (s *Server) create(c echo.Context, r *resource) error {
	p, err := readDeclared(c)
	if err != nil {
		return s.fail(c, err)
	}
	account := accountOf(c)
	return s.commit(c, http.StatusOK, account, p, r, func(tx *storage.Tx, w *write) error {
		return r.create(s, c, tx, p, w)
	})
}

func (s *Server) update(c echo.Context, r *resource) error {
	p, err := readDeclared(c)
	if err != nil {
		return s.fail(c, err)
	}
	account, id := accountOf(c), c.Param("id")
	return s.commit(c, http.StatusOK, account, p, r, func(tx *storage.Tx, w *write) error {
		old, err := s.objects.getForUpdate(c.Request().Context(), tx, account, r.typ, id)
		if errors.Is(err, errNotFound) || gjson.GetBytes(old, "deleted").Bool() {
			return notFound(r.typ, id)
		}
		if err != nil {
			return err
		}
		return r.update(s, c, tx, p, w, old)
	})
}

func (s *Server) retrieve(c echo.Context, r *resource) error {
	p, err := readDeclared(c)
	if err != nil {
		return s.fail(c, err)
	}
	ctx := c.Request().Context()
	account, id := accountOf(c), c.Param("id")
	expand, err := s.expandPaths(c, p)
	if err != nil {
		return s.fail(c, err)
	}
	var body []byte
	if s.wantsKids(c, r.typ) {
		var k known
		if body, k, err = s.objects.getKids(ctx, account, r.typ, id); err == nil {
			scopeOf(ctx).learn(k)
		}
	} else {
		body, err = s.objects.get(ctx, s.db, account, r.typ, id)
	}
	if errors.Is(err, errNotFound) {
		return notFound(r.typ, id)
	}
	if err != nil {
		return s.fail(c, err)
	}
	if body, err = s.expandOne(ctx, s.db, account, r, body, expand); err != nil {
		return s.fail(c, err)
	}
	return s.respond(c, http.StatusOK, body)
}

func (s *Server) list(c echo.Context, r *resource) error {
	p, err := readDeclared(c)
	if err != nil {
		return s.fail(c, err)
	}
	ctx := c.Request().Context()
	limit, err := p.limit()
	if err != nil {
		return s.fail(c, err)
	}
	after, err := p.str("starting_after", 64)
	if err != nil {
		return s.fail(c, err)
	}
	before, err := p.str("ending_before", 64)
	if err != nil {
		return s.fail(c, err)
	}
	if after != "" && before != "" {
		return s.fail(c, invalid("ending_before", "You may only specify one of these parameters: starting_after, ending_before."))
	}
	var filter func([]byte) bool
	if r.filter != nil {
		if filter, err = r.filter(p); err != nil {
			return s.fail(c, err)
		}
	}
	account := accountOf(c)
	items, more, k, err := s.objects.list(ctx, account, r.typ, limit, after, before, filter, s.wantsKids(c, r.typ))
	if k != nil {
		scopeOf(ctx).learn(k)
	}
	if errors.Is(err, errNotFound) {
		param := "starting_after"
		if before != "" {
			param, after = "ending_before", before
		}
		return s.fail(c, invalid(param, "No such %s: '%s'", r.typ, apierror.Bound(after)))
	}
	if err != nil {
		return s.fail(c, err)
	}
	expand, err := s.expandPaths(c, p)
	if err != nil {
		return s.fail(c, err)
	}
	if err := s.expand(ctx, s.db, account, r, items, expand); err != nil {
		return s.fail(c, err)
	}
	return s.respond(c, http.StatusOK, listJSON("/v1/"+r.plural, items, more))
}

func listJSON(url string, items [][]byte, more bool) []byte {
	b := []byte(`{"object":"list","url":`)
	u, _ := json.Marshal(url)
	b = append(b, u...)
	b = append(b, `,"has_more":`...)
	if more {
		b = append(b, "true"...)
	} else {
		b = append(b, "false"...)
	}
	b = append(b, `,"data":[`...)
	for i, it := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, it...)
	}
	return append(b, "]}"...)
}

func marshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // the models always marshal
	}
	return b
}

// ---- customers

func createCustomer(s *Server, c echo.Context, tx *storage.Tx, p *params, w *write) error {
	cus := customer{ID: newID("cus_"), Object: "customer", Created: w.now.Unix(), InvoicePrefix: strings.ToUpper(newID("")[:8]), Metadata: map[string]string{}}
	if err := applyCustomer(p, &cus, nil); err != nil {
		return err
	}
	w.body = marshal(cus)
	w.event("customer.created", w.body, nil)
	return s.objects.insert(c.Request().Context(), tx, w.account, "customer", cus.ID, cus.Created, w.now.UnixNano(), w.body)
}

func updateCustomer(s *Server, c echo.Context, tx *storage.Tx, p *params, w *write, old []byte) error {
	var cus customer
	if err := json.Unmarshal(old, &cus); err != nil {
		return err
	}
	prev := map[string]any{}
	if err := applyCustomer(p, &cus, prev); err != nil {
		return err
	}
	w.body = marshal(cus)
	w.event("customer.updated", w.body, prev)
	return s.objects.update(c.Request().Context(), tx, w.account, cus.ID, w.body)
}

// applyCustomer sets the customer's fields from p, recording old values
// in prev (when not nil) for the event's previous_attributes.
func applyCustomer(p *params, cus *customer, prev map[string]any) error {
	for _, f := range []struct {
		name string
		dst  **string
	}{{"email", &cus.Email}, {"name", &cus.Name}, {"description", &cus.Description}, {"phone", &cus.Phone}, {"default_source", &cus.DefaultSource}, {"currency", &cus.Currency}} {
		if !p.has(f.name) {
			continue
		}
		v, err := p.str(f.name, 512)
		if err != nil {
			return err
		}
		if prev != nil && !eqp(*f.dst, v) {
			prev[f.name] = *f.dst
		}
		*f.dst = strp(v)
	}
	if p.has("balance") {
		n, err := p.integer("balance")
		if err != nil {
			return err
		}
		if prev != nil && n != cus.Balance {
			prev["balance"] = cus.Balance
		}
		cus.Balance = n
	}
	return applyDescMeta(p, nil, &cus.Metadata, prev)
}

func eqp(p *string, v string) bool {
	if p == nil {
		return v == ""
	}
	return *p == v
}

func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// ---- charges

func createCharge(s *Server, c echo.Context, tx *storage.Tx, p *params, w *write) error {
	ctx := c.Request().Context()
	amt, _, err := p.amount("amount", true)
	if err != nil {
		return err
	}
	cur, err := currency(p)
	if err != nil {
		return err
	}
	ch := charge{ID: newID("ch_"), Object: "charge", Amount: amount(amt), AmountCaptured: amt, Captured: true,
		Created: w.now.Unix(), Currency: cur, Paid: true, Status: "succeeded", Metadata: map[string]string{}}
	if ch.Customer, err = s.customerParam(ctx, tx, p, w.account); err != nil {
		return err
	}
	src, err := p.str("source", 64)
	if err != nil {
		return err
	}
	if src == "" && ch.Customer == nil {
		return missing("source")
	}
	if src == "" {
		src = "tok_visa" // the customer's default card
	}
	m, ok := lookupTestMethod(src)
	if !ok {
		return noSuch("source", "source", src)
	}
	ch.Source, ch.PaymentMethodDetails = m.card(), m.details()
	ch.PaymentMethod = &ch.Source.ID
	if err := applyDescMeta(p, &ch.Description, &ch.Metadata, nil); err != nil {
		return err
	}
	if m.decline != nil {
		ch.fail(m.decline)
	}
	w.body = marshal(ch)
	if m.decline != nil {
		w.event("charge.failed", w.body, nil)
	} else {
		w.event("charge.succeeded", w.body, nil)
	}
	if err := s.objects.insert(ctx, tx, w.account, "charge", ch.ID, ch.Created, w.now.UnixNano(), w.body); err != nil {
		return err
	}
	if m.decline != nil {
		return m.decline.with(ch.ID)
	}
	return nil
}

func currency(p *params) (string, error) {
	cur, err := p.str("currency", 3)
	if err != nil {
		return "", err
	}
	if cur == "" {
		return "", missing("currency")
	}
	if len(cur) != 3 || strings.ToLower(cur) != cur {
		return "", invalid("currency", "currency must be a three-letter ISO code in lower case, such as usd")
	}
	return cur, nil
}

// fail marks the charge as declined.
func (ch *charge) fail(e *cardError) {
	ch.Paid, ch.Captured, ch.AmountCaptured, ch.Status = false, false, 0, "failed"
	ch.FailureCode, ch.FailureMessage = strp(e.Code), strp(e.Message)
}

func updateCharge(s *Server, c echo.Context, tx *storage.Tx, p *params, w *write, old []byte) error {
	var ch charge
	if err := json.Unmarshal(old, &ch); err != nil {
		return err
	}
	prev := map[string]any{}
	if err := applyDescMeta(p, &ch.Description, &ch.Metadata, prev); err != nil {
		return err
	}
	w.body = marshal(ch)
	w.event("charge.updated", w.body, prev)
	return s.objects.update(c.Request().Context(), tx, w.account, ch.ID, w.body)
}

// ---- payment intents

func createPaymentIntent(s *Server, c echo.Context, tx *storage.Tx, p *params, w *write) error {
	ctx := c.Request().Context()
	amt, _, err := p.amount("amount", true)
	if err != nil {
		return err
	}
	cur, err := currency(p)
	if err != nil {
		return err
	}
	pi := paymentIntent{ID: newID("pi_"), Object: "payment_intent", Amount: amount(amt), Created: w.now.Unix(), Currency: cur,
		Status: "requires_payment_method", Metadata: map[string]string{}}
	types := p.get("payment_method_types").Array()
	switch {
	case len(types) > 0:
		for i, t := range types {
			if t.Type != gjson.String || !slices.Contains(paymentMethodTypes, t.Str) {
				return invalid("payment_method_types", "Invalid payment_method_types[%d]: must be one of %s", i, strings.Join(paymentMethodTypes, ", "))
			}
			if !slices.Contains(pi.PaymentMethodTypes, t.Str) {
				pi.PaymentMethodTypes = append(pi.PaymentMethodTypes, t.Str)
			}
		}
	case gates.Active(ctx, "payment_intent_automatic_payment_methods"):
		// From 2023-08-16 on, the payment methods enabled for the account.
		pi.AutomaticPaymentMethods = &automaticPaymentMethods{Enabled: true}
		pi.PaymentMethodTypes = []string{"card", "link"}
	default:
		pi.PaymentMethodTypes = []string{"card"}
	}
	if pi.Customer, err = s.customerParam(ctx, tx, p, w.account); err != nil {
		return err
	}
	if err := applyDescMeta(p, &pi.Description, &pi.Metadata, nil); err != nil {
		return err
	}
	w.event("payment_intent.created", marshal(pi), nil)
	confirm, err := p.boolean("confirm")
	if err != nil {
		return err
	}
	var declined error
	if confirm {
		if declined = s.confirm(ctx, tx, p, w, &pi); declined != nil && !isDecline(declined) {
			return declined
		}
	} else if pm, err := p.str("payment_method", 64); err != nil {
		return err
	} else if pm != "" {
		if _, ok := lookupTestMethod(pm); !ok {
			return noSuch("payment_method", "PaymentMethod", pm)
		}
		pi.PaymentMethod, pi.Status = &pm, "requires_confirmation"
	}
	w.body = marshal(pi)
	if err := s.objects.insert(ctx, tx, w.account, "payment_intent", pi.ID, pi.Created, w.now.UnixNano(), w.body); err != nil {
		return err
	}
	return declined
}

// isDecline reports whether err is a declined card (cardError).
func isDecline(err error) bool {
	var ce *cardError
	return errors.As(err, &ce)
}

// confirm charges the payment method of a payment intent.
func (s *Server) confirm(ctx context.Context, tx *storage.Tx, p *params, w *write, pi *paymentIntent) error {
	if pi.Status == "succeeded" {
		return apierror.New(http.StatusBadRequest, apierror.TypeInvalidRequest, "payment_intent_unexpected_state", "This PaymentIntent has already succeeded.")
	}
	pm, err := p.str("payment_method", 64)
	if err != nil {
		return err
	}
	if pm == "" && pi.PaymentMethod != nil {
		pm = *pi.PaymentMethod
	}
	if pm == "" {
		return &paramError{code: "payment_intent_unexpected_state", param: "payment_method",
			msg: "You cannot confirm this PaymentIntent because it's missing a payment method. Send payment_method=pm_card_visa (or another test payment method)."}
	}
	m, ok := lookupTestMethod(pm)
	if !ok {
		return noSuch("payment_method", "PaymentMethod", pm)
	}
	pmID := newID("pm_")
	pi.PaymentMethod = &pmID
	ch := charge{ID: newID("ch_"), Object: "charge", Amount: pi.Amount, AmountCaptured: int64(pi.Amount), Captured: true,
		Created: w.now.Unix(), Currency: pi.Currency, Customer: pi.Customer, Paid: true, PaymentIntent: &pi.ID,
		PaymentMethod: &pmID, PaymentMethodDetails: m.details(), Source: m.card(), Status: "succeeded", Metadata: map[string]string{}}
	prevStatus := pi.Status
	if m.decline != nil {
		ch.fail(m.decline)
	}
	chBody := marshal(ch)
	if err := s.objects.insert(ctx, tx, w.account, "charge", ch.ID, ch.Created, w.now.UnixNano(), chBody); err != nil {
		return err
	}
	pi.LatestCharge = &ch.ID
	if m.decline != nil {
		w.event("charge.failed", chBody, nil)
		lpe := *m.decline.with(ch.ID)
		pi.LastPaymentError = &lpe
		pi.Status = "requires_payment_method"
		piBody := marshal(pi)
		w.event("payment_intent.payment_failed", piBody, nil)
		declined := m.decline.with(ch.ID)
		declined.PaymentIntent = piBody
		return declined
	}
	w.event("charge.succeeded", chBody, nil)
	pi.LastPaymentError = nil
	pi.AmountReceived = int64(pi.Amount)
	pi.Status = "succeeded"
	w.event("payment_intent.succeeded", marshal(pi), map[string]any{"status": prevStatus, "latest_charge": nil})
	return nil
}

func (s *Server) confirmPaymentIntent(c echo.Context) error {
	p, err := readDeclared(c)
	if err != nil {
		return s.fail(c, err)
	}
	r := s.byType["payment_intent"]
	account, id := accountOf(c), c.Param("id")
	return s.commit(c, http.StatusOK, account, p, r, func(tx *storage.Tx, w *write) error {
		ctx := c.Request().Context()
		old, err := s.objects.getForUpdate(ctx, tx, account, "payment_intent", id)
		if errors.Is(err, errNotFound) {
			return notFound("payment_intent", id)
		}
		if err != nil {
			return err
		}
		var pi paymentIntent
		if err := json.Unmarshal(old, &pi); err != nil {
			return err
		}
		declined := s.confirm(ctx, tx, p, w, &pi)
		if declined != nil && !isDecline(declined) {
			return declined
		}
		w.body = marshal(pi)
		if err := s.objects.update(ctx, tx, account, pi.ID, w.body); err != nil {
			return err
		}
		return declined
	})
}

func updatePaymentIntent(s *Server, c echo.Context, tx *storage.Tx, p *params, w *write, old []byte) error {
	var pi paymentIntent
	if err := json.Unmarshal(old, &pi); err != nil {
		return err
	}
	prev := map[string]any{}
	if amt, ok, err := p.amount("amount", false); err != nil {
		return err
	} else if ok {
		if pi.Status == "succeeded" {
			return invalid("amount", "The amount of a PaymentIntent that has succeeded cannot change.")
		}
		prev["amount"] = pi.Amount
		pi.Amount = amount(amt)
	}
	if err := applyDescMeta(p, &pi.Description, &pi.Metadata, prev); err != nil {
		return err
	}
	w.body = marshal(pi)
	w.event("payment_intent.updated", w.body, prev)
	return s.objects.update(c.Request().Context(), tx, w.account, pi.ID, w.body)
}

// ---- refunds

func createRefund(s *Server, c echo.Context, tx *storage.Tx, p *params, w *write) error {
	ctx := c.Request().Context()
	chID, err := p.str("charge", 64)
	if err != nil {
		return err
	}
	piID, err := p.str("payment_intent", 64)
	if err != nil {
		return err
	}
	switch {
	case chID != "" && piID != "":
		return invalid("payment_intent", "You can only specify one of these parameters: charge, payment_intent.")
	case chID == "" && piID == "":
		return &paramError{code: codeParamMissing, param: "charge",
			msg: "One of the following params should be provided for this request: charge or payment_intent."}
	case piID != "":
		pi, err := s.objects.get(ctx, tx, w.account, "payment_intent", piID)
		if errors.Is(err, errNotFound) {
			return noSuch("payment_intent", "payment_intent", piID)
		}
		if err != nil {
			return err
		}
		if gjson.GetBytes(pi, "status").String() != "succeeded" {
			return &paramError{code: "charge_not_refundable", param: "payment_intent",
				msg: fmt.Sprintf("This PaymentIntent (%s) does not have a successful charge to refund.", apierror.Bound(piID))}
		}
		chID = gjson.GetBytes(pi, "latest_charge").String()
	}
	old, err := s.objects.getForUpdate(ctx, tx, w.account, "charge", chID)
	if errors.Is(err, errNotFound) {
		return noSuch("charge", "charge", chID)
	}
	if err != nil {
		return err
	}
	var ch charge
	if err := json.Unmarshal(old, &ch); err != nil {
		return err
	}
	left := int64(ch.Amount) - ch.AmountRefunded
	amt, ok, err := p.amount("amount", false)
	if err != nil {
		return err
	}
	if !ok {
		amt = left
	}
	if amt > left || left == 0 {
		return invalid("amount", "Refund amount (%d) is greater than the charge's unrefunded amount (%d).", amt, left)
	}
	re := refund{ID: newID("re_"), Object: "refund", Amount: amount(amt), Charge: ch.ID, Created: w.now.Unix(), Currency: ch.Currency,
		PaymentIntent: ch.PaymentIntent, Status: "succeeded", Metadata: map[string]string{}}
	if r, err := p.str("reason", 64); err != nil {
		return err
	} else if r != "" {
		switch r {
		case "duplicate", "fraudulent", "requested_by_customer":
		default:
			return invalid("reason", "reason must be one of duplicate, fraudulent, requested_by_customer")
		}
		re.Reason = &r
	}
	if err := applyDescMeta(p, nil, &re.Metadata, nil); err != nil {
		return err
	}
	prevRefunded := ch.AmountRefunded
	ch.AmountRefunded += amt
	ch.Refunded = ch.AmountRefunded == int64(ch.Amount)
	chBody := marshal(ch)
	if err := s.objects.update(ctx, tx, w.account, ch.ID, chBody); err != nil {
		return err
	}
	w.body = marshal(re)
	w.event("refund.created", w.body, nil)
	w.event("charge.refunded", chBody, map[string]any{"amount_refunded": prevRefunded, "refunded": false})
	return s.objects.insert(ctx, tx, w.account, "refund", re.ID, re.Created, w.now.UnixNano(), w.body)
}

func updateRefund(s *Server, c echo.Context, tx *storage.Tx, p *params, w *write, old []byte) error {
	var re refund
	if err := json.Unmarshal(old, &re); err != nil {
		return err
	}
	prev := map[string]any{}
	if err := applyDescMeta(p, nil, &re.Metadata, prev); err != nil {
		return err
	}
	w.body = marshal(re)
	w.event("refund.updated", w.body, prev)
	return s.objects.update(c.Request().Context(), tx, w.account, re.ID, w.body)
}

// ---- events

func (s *Server) listEvents(c echo.Context) error {
	p, err := readDeclared(c)
	if err != nil {
		return s.fail(c, err)
	}
	limit, err := p.limit()
	if err != nil {
		return s.fail(c, err)
	}
	after, err := p.str("starting_after", 64)
	if err != nil {
		return s.fail(c, err)
	}
	typ, err := p.str("type", 100)
	if err != nil {
		return s.fail(c, err)
	}
	evs, more, err := s.hooks.ListEvents(c.Request().Context(), accountOf(c), webhooks.EventListParams{ListParams: webhooks.ListParams{Limit: limit, StartingAfter: after}, Type: typ})
	if errors.Is(err, webhooks.ErrInvalidCursor) {
		return s.fail(c, invalid("starting_after", "No such event: '%s'", apierror.Bound(after)))
	}
	if err != nil {
		return s.fail(c, err)
	}
	items := make([][]byte, len(evs))
	for i := range evs {
		if items[i], err = servedIn(c, evs[i].Body); err != nil {
			return s.fail(c, err)
		}
	}
	return s.respond(c, http.StatusOK, listJSON("/v1/events", items, more))
}

func (s *Server) retrieveEvent(c echo.Context) error {
	if _, err := readDeclared(c); err != nil {
		return s.fail(c, err)
	}
	id := c.Param("id")
	ev, err := s.hooks.GetEvent(c.Request().Context(), accountOf(c), id)
	if errors.Is(err, webhooks.ErrNotFound) {
		return notFound("event", id)
	}
	if err != nil {
		return s.fail(c, err)
	}
	body, err := servedIn(c, ev.Body)
	if err != nil {
		return s.fail(c, err)
	}
	return s.respond(c, http.StatusOK, body)
}

// servedIn sets an event's api_version to the version this request is
// served in: the versioning middleware renders its data.object in that
// version on the way out, so the event says which one it is in (a stored
// event is in the newest).
func servedIn(c echo.Context, event []byte) ([]byte, error) {
	v := echoversioning.VersionOf(c)
	if v.IsZero() {
		return event, nil
	}
	return sjson.SetBytes(event, "api_version", v.String())
}

// applyDescMeta sets the description (when desc is not nil) and merges the
// metadata from p, recording the old values in prev when it is not nil.
func applyDescMeta(p *params, desc **string, md *map[string]string, prev map[string]any) error {
	if desc != nil && p.has("description") {
		d, err := p.str("description", 1000)
		if err != nil {
			return err
		}
		if prev != nil {
			prev["description"] = *desc
		}
		*desc = strp(d)
	}
	m, err := p.metadata()
	if err != nil || m == nil {
		return err
	}
	if prev != nil {
		prev["metadata"] = *md
	}
	*md = mergeMetadata(copyMap(*md), m)
	return nil
}

// customerParam reads the optional customer parameter, which must name a
// customer of the account.
func (s *Server) customerParam(ctx context.Context, tx *storage.Tx, p *params, account string) (*string, error) {
	cus, err := p.str("customer", 64)
	if err != nil || cus == "" {
		return nil, err
	}
	b, err := s.objects.get(ctx, tx, account, "customer", cus)
	if errors.Is(err, errNotFound) || gjson.GetBytes(b, "deleted").Bool() {
		return nil, noSuch("customer", "customer", cus)
	}
	if err != nil {
		return nil, err
	}
	return &cus, nil
}

// deleteCustomer deletes a customer: what is left is {id, object,
// deleted: true}, which retrieving it returns; lists leave it out.
func (s *Server) deleteCustomer(c echo.Context) error {
	p, err := readDeclared(c)
	if err != nil {
		return s.fail(c, err)
	}
	account, id := accountOf(c), c.Param("id")
	return s.commit(c, http.StatusOK, account, p, s.byType["customer"], func(tx *storage.Tx, w *write) error {
		ctx := c.Request().Context()
		old, err := s.objects.getForUpdate(ctx, tx, account, "customer", id)
		if errors.Is(err, errNotFound) || gjson.GetBytes(old, "deleted").Bool() {
			return notFound("customer", id)
		}
		if err != nil {
			return err
		}
		w.body = marshal(deletedCustomer{ID: id, Object: "customer", Deleted: true})
		w.event("customer.deleted", old, nil)
		return s.objects.update(ctx, tx, account, id, w.body)
	})
}
