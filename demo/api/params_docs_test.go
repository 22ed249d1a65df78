package api_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/verso-api/verso/demo/api"
	"github.com/verso-api/verso/ratelimit"
	"github.com/verso-api/verso/storage/storagetest"
	"github.com/verso-api/verso/webhooks"
)

// paramFixture holds objects made at the newest stable version, which the
// parameters sent at every version name.
type paramFixture struct {
	a                                         *app
	customer, card, charge, refund, pi, event string
	webhook, delivery                         string
	hookURL                                   string
	pathIDs                                   map[string]string
	lists                                     map[string]string // a list's path -> the id of an object in it
	created                                   []string          // webhook endpoints to delete
}

// make sends a request at the stable version and returns what it answers,
// failing the test unless it is a 2xx.
func (f *paramFixture) make(t *testing.T, method, path, body string) resp {
	t.Helper()
	r := f.a.do(t, f.a.key, method, path, stable, body)
	require.True(t, r.status/100 == 2, "%s %s %s: %d %s", method, path, body, r.status, r.body)
	return r
}

func (f *paramFixture) newCharge(t *testing.T) string {
	return f.make(t, "POST", "/v1/charges", "amount=500&currency=usd&source=tok_visa&customer="+f.customer).get("id").String()
}

func (f *paramFixture) newPaymentIntent(t *testing.T, confirm bool) string {
	body := "amount=500&currency=usd&customer=" + f.customer
	if confirm {
		body += "&confirm=true&payment_method=pm_card_visa"
	}
	return f.make(t, "POST", "/v1/payment_intents", body).get("id").String()
}

func newParamFixture(t *testing.T, a *app, hookURL string) *paramFixture {
	f := &paramFixture{a: a, hookURL: hookURL}
	f.customer = f.make(t, "POST", "/v1/customers", "email=jenny@example.com&name=Jenny").get("id").String()
	f.make(t, "POST", "/v1/customers", "email=other@example.com")
	f.card = f.make(t, "POST", "/v1/customers/"+f.customer+"/sources", "source=tok_visa").get("id").String()
	f.charge = f.newCharge(t)
	f.newCharge(t)
	f.refund = f.make(t, "POST", "/v1/refunds", "amount=100&charge="+f.charge).get("id").String()
	f.pi = f.newPaymentIntent(t, false)
	f.newPaymentIntent(t, true)
	f.webhook = f.make(t, "POST", "/v1/webhook_endpoints", "url="+url.QueryEscape(hookURL)+"&enabled_events[]=customer.deleted").get("id").String()
	gone := f.make(t, "POST", "/v1/customers", "email=gone@example.com").get("id").String()
	f.make(t, "DELETE", "/v1/customers/"+gone, "")
	f.event = f.make(t, "GET", "/v1/events?limit=1", "").get("data.0.id").String()
	require.Eventually(t, func() bool {
		f.delivery = f.make(t, "GET", "/v1/webhook_endpoints/"+f.webhook+"/deliveries", "").get("data.0.id").String()
		return f.delivery != ""
	}, 10*time.Second, 20*time.Millisecond, "the deleted customer's event is never delivered")
	f.pathIDs = map[string]string{
		"/v1/customers/{id}": f.customer, "/v1/charges/{id}": f.charge, "/v1/payment_intents/{id}": f.pi,
		"/v1/refunds/{id}": f.refund, "/v1/events/{id}": f.event, "/v1/webhook_endpoints/{id}": f.webhook,
		"/v1/webhook_deliveries/{id}": f.delivery,
	}
	f.lists = map[string]string{
		"/v1/customers": f.customer, "/v1/charges": f.charge, "/v1/payment_intents": f.pi, "/v1/refunds": f.refund,
		"/v1/events": f.event, "/v1/webhook_endpoints": f.webhook, "/v1/webhook_endpoints/{id}/deliveries": f.delivery,
	}
	return f
}

// id returns the id a path's {id} names for a request: a fresh object
// where the request uses it up (deleting, confirming), else the
// fixture's.
func (f *paramFixture) id(t *testing.T, method, path string) string {
	switch {
	case method == "DELETE" && strings.HasPrefix(path, "/v1/customers/"):
		return f.make(t, "POST", "/v1/customers", "email=fresh@example.com").get("id").String()
	case method == "DELETE" && strings.HasPrefix(path, "/v1/webhook_endpoints/"):
		return f.make(t, "POST", "/v1/webhook_endpoints", "url="+url.QueryEscape(f.hookURL)+"&enabled_events[]=customer.deleted").get("id").String()
	case strings.HasSuffix(path, "/confirm"):
		return f.newPaymentIntent(t, false)
	}
	for prefix, id := range f.pathIDs {
		if path == prefix || strings.HasPrefix(path, prefix+"/") {
			return id
		}
	}
	if strings.HasPrefix(path, "/v1/customers/{id}/") {
		return f.customer
	}
	t.Fatalf("no object for the path %s", path)
	return ""
}

// opRequest is what one request of the test sends.
type opRequest struct {
	query  url.Values
	body   url.Values
	header http.Header
}

// value returns the form values of parameter name for a request of
// method and path, from the fixture where the name says what it is, else
// from the schema: its example, first enum value, minimum, or a word.
func (f *paramFixture) value(t *testing.T, version, method, path, name string, s *openapi3.Schema, example any) (url.Values, bool) {
	v := url.Values{}
	one := func(x string) (url.Values, bool) { v.Set(name, x); return v, true }
	switch name {
	case "customer":
		return one(f.customer)
	case "source", "card":
		return one("tok_visa")
	case "default_source", "default_card":
		return one(f.card)
	case "payment_method":
		return one("pm_card_visa")
	case "currency":
		return one("usd")
	case "amount":
		return one("50")
	case "email":
		return one("jenny@example.com")
	case "phone":
		return one("+15555550100")
	case "url":
		return one(f.hookURL)
	case "api_version":
		return one(version)
	case "version":
		return one(newest) // the pin's upgrade: newer than the account's
	case "to":
		return one(stable) // the upgrade report's target: the account's version or newer
	case "event":
		return one(f.event)
	case "type":
		return one("customer.created")
	case "disabled":
		return one("false")
	case "starting_after", "ending_before":
		id, ok := f.lists[path]
		require.True(t, ok, "no object in the list %s", path)
		return one(id)
	case "charge":
		if method == "POST" {
			return one(f.newCharge(t))
		}
		return one(f.charge)
	case "payment_intent":
		if method == "POST" {
			return one(f.newPaymentIntent(t, true))
		}
		return one(f.pi)
	case "enabled_events":
		v.Add(name+"[]", "customer.deleted")
		return v, true
	case "metadata":
		v.Set(name+"[order]", "6735")
		return v, true
	}
	if ex, ok := example.([]any); ok && len(ex) > 0 {
		for _, x := range ex {
			v.Add(name, fmt.Sprint(x))
		}
		return v, true
	}
	if s == nil {
		t.Fatalf("%s %s: %s has no schema", method, path, name)
	}
	scalar := func(s *openapi3.Schema) string {
		switch {
		case len(s.Enum) > 0:
			return fmt.Sprint(s.Enum[0])
		case s.Type.Is("boolean"):
			return "true"
		case s.Type.Is("integer"), s.Type.Is("number"):
			if s.Min != nil {
				return fmt.Sprint(*s.Min)
			}
			return "1"
		}
		return "verso docs test"
	}
	if s.Type.Is("array") && s.Items != nil {
		v.Add(name+"[]", scalar(s.Items.Value))
		return v, true
	}
	if s.Type.Is("object") {
		t.Fatalf("%s %s: no value for the object parameter %s", method, path, name)
	}
	return one(scalar(s))
}

// groups are the parameters an operation needs one of although its
// document cannot say so (a charge needs a source or a customer), by
// method and path.
var groups = map[string][]string{
	"POST /v1/charges":                      {"source", "card", "customer"},
	"POST /v1/refunds":                      {"charge", "payment_intent"},
	"POST /v1/payment_intents/{id}/confirm": {"payment_method"},
	"POST /v1/webhook_endpoints/{id}/test":  {"type", "event"},
	"POST /v1/customers/{id}/sources":       {"source"},
	"POST /v1/customers/{id}/cards":         {"source"},
}

// companions are the parameters a parameter needs beside it.
var companions = map[string]url.Values{
	"confirm": {"payment_method": {"pm_card_visa"}},
}

// noEcho are parameters whose answer holds something else under their
// name: a test token becomes a card or a payment method.
var noEcho = map[string]bool{"source": true, "card": true, "payment_method": true}

// TestDocumentedParametersAreTaken reads each version's OpenAPI document
// from the demo (GET /openapi.json?version=V, all 42 versions) and sends
// every parameter it documents on every operation (path, query, header
// and body parameters), one at a time with those the operation needs, at
// that version, over HTTP: the demo must take each one (a 2xx answer). A
// body parameter the answer has a field of is checked to come back as
// sent, and a list filter to hold for every object listed, so that a
// parameter the server ignores fails as well as one it refuses.
func TestDocumentedParametersAreTaken(t *testing.T) {
	if testing.Short() {
		t.Skip("sends every documented parameter at every version")
	}
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }))
	t.Cleanup(hook.Close)
	unlimited := ratelimit.Per(1000000, time.Second)
	a := start(t, storagetest.Backends()[0], api.Config{KeyLimit: unlimited, IPLimit: unlimited, WebhooksAllowPrivate: true,
		Webhooks: webhooks.Config{Backoff: webhooks.Backoff{Initial: time.Hour, Max: time.Hour, MaxAge: 24 * time.Hour}, PollInterval: 20 * time.Millisecond}})
	f := newParamFixture(t, a, hook.URL+"/hook")
	sent := 0
	for _, v := range a.Engine.Timeline().Versions().List() {
		version := v.String()
		t.Run(version, func(t *testing.T) {
			res := a.do(t, "", "GET", "/openapi.json?version="+version, "", "")
			require.Equal(t, 200, res.status, res.body)
			doc, err := openapi3.NewLoader().LoadFromData([]byte(res.body))
			require.NoError(t, err)
			paths := doc.Paths.InMatchingOrder()
			sort.Strings(paths)
			for _, path := range paths {
				item := doc.Paths.Value(path)
				for method, op := range item.Operations() {
					sent += f.checkOperation(t, version, method, path, item, op)
				}
			}
		})
	}
	for _, id := range f.created {
		a.do(t, a.key, "DELETE", "/v1/webhook_endpoints/"+id, stable, "")
	}
	t.Logf("%d requests sent, each with a documented parameter, at %d versions", sent, a.Engine.Timeline().Versions().Len())
}

// subject is one parameter the test sends: where it goes, its name and
// its schema.
type subject struct {
	in, name string
	schema   *openapi3.Schema
	example  any
	required bool
}

// checkOperation sends each parameter one operation documents, at
// version, and returns how many requests it sent.
func (f *paramFixture) checkOperation(t *testing.T, version, method, path string, item *openapi3.PathItem, op *openapi3.Operation) int {
	var subjects []subject
	for _, list := range []openapi3.Parameters{item.Parameters, op.Parameters} {
		for _, p := range list {
			pv := p.Value
			s := &openapi3.Schema{}
			if pv.Schema != nil {
				s = pv.Schema.Value
			}
			subjects = append(subjects, subject{in: pv.In, name: pv.Name, schema: s, example: pv.Example, required: pv.Required})
		}
	}
	if op.RequestBody != nil {
		media := op.RequestBody.Value.Content.Get("application/x-www-form-urlencoded")
		require.NotNil(t, media, "%s %s: no form body", method, path)
		body := media.Schema.Value
		names := make([]string, 0, len(body.Properties))
		for n := range body.Properties {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			s := body.Properties[n].Value
			subjects = append(subjects, subject{in: "body", name: n, schema: s, example: s.Example, required: contains(body.Required, n)})
		}
	}
	key := method + " " + path
	group := groups[key]
	documented := func(name string) bool {
		for _, s := range subjects {
			if s.name == name {
				return true
			}
		}
		return false
	}
	seen := map[string]bool{}
	n := 0
	for i := -1; i < len(subjects); i++ {
		var subj *subject
		if i >= 0 {
			subj = &subjects[i]
		}
		// The version header goes with every request: a.do sends it.
		req := opRequest{query: url.Values{}, body: url.Values{}, header: http.Header{}}
		add := func(s subject) {
			switch s.in {
			case "path":
				return
			case "header":
				require.Equal(t, "Stripe-Version", s.name, "%s %s: an unknown header parameter", method, path)
				return
			}
			vals, _ := f.value(t, version, method, path, s.name, s.schema, s.example)
			dst := req.body
			if s.in == "query" {
				dst = req.query
			}
			for k, vs := range vals {
				dst[k] = vs
			}
			for k, vs := range companions[s.name] {
				if documented(k) && req.body.Get(k) == "" {
					req.body[k] = vs
				}
			}
		}
		for _, s := range subjects {
			if s.required && (subj == nil || s.name != subj.name) {
				add(s)
			}
		}
		if subj != nil {
			add(*subj)
		}
		if !groupMet(group, subj, req) {
			for _, g := range group {
				if documented(g) && (subj == nil || subj.name != g) {
					for _, s := range subjects {
						if s.name == g {
							add(s)
						}
					}
					break
				}
			}
		}
		name := "(the parameters it needs)"
		if subj != nil {
			name = subj.name + " (" + subj.in + ")"
		}
		k := req.query.Encode() + "|" + req.body.Encode() + "|" + fmt.Sprint(req.header)
		if seen[k] {
			continue
		}
		seen[k] = true
		target := path
		if strings.Contains(path, "{id}") {
			target = strings.ReplaceAll(path, "{id}", f.id(t, method, path))
		}
		if q := req.query.Encode(); q != "" {
			target += "?" + q
		}
		var hdr []string
		for h := range req.header {
			hdr = append(hdr, h, req.header.Get(h))
		}
		r := f.a.do(t, f.a.key, method, target, version, req.body.Encode(), hdr...)
		n++
		if r.status/100 != 2 {
			t.Errorf("%s %s at %s: the documented parameter %s is not taken: %d %s\n(sent: %s %s)", method, path, version, name, r.status, r.body, target, req.body.Encode())
			continue
		}
		if method == "POST" && path == "/v1/webhook_endpoints" {
			f.created = append(f.created, r.get("id").String())
		}
		if subj == nil {
			continue
		}
		switch subj.in {
		case "body":
			if noEcho[subj.name] {
				break
			}
			checkEcho(t, version, method, path, subj.name, req.body, r)
		case "query":
			checkFilter(t, version, method, path, subj.name, req.query, r)
		}
	}
	return n
}

// groupMet reports whether a request names one of the group's parameters.
func groupMet(group []string, subj *subject, req opRequest) bool {
	if len(group) == 0 {
		return true
	}
	for _, g := range group {
		if req.body.Has(g) || req.query.Has(g) || subj != nil && subj.name == g {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// checkEcho checks that a body parameter the answer has a field of came
// back as sent: a scalar as its text, a list's values, a map's entries.
func checkEcho(t *testing.T, version, method, path, name string, sent url.Values, r resp) {
	t.Helper()
	got := r.get(name)
	if !got.Exists() {
		return // the answer has no field of that name: nothing to compare
	}
	for k, vs := range sent {
		switch {
		case k == name && !got.IsObject() && !got.IsArray():
			if got.String() != vs[0] {
				t.Errorf("%s %s at %s: sent %s=%s, the answer has %s", method, path, version, name, vs[0], got.Raw)
			}
		case k == name+"[]" && got.IsArray():
			for _, x := range vs {
				if !strings.Contains(got.Raw, `"`+x+`"`) {
					t.Errorf("%s %s at %s: sent %s[]=%s, the answer has %s", method, path, version, name, x, got.Raw)
				}
			}
		case strings.HasPrefix(k, name+"[") && got.IsObject():
			member := strings.TrimSuffix(strings.TrimPrefix(k, name+"["), "]")
			if g := got.Get(gjson.Escape(member)).String(); g != vs[0] {
				t.Errorf("%s %s at %s: sent %s=%s, the answer has %s", method, path, version, k, vs[0], got.Raw)
			}
		}
	}
}

// checkFilter checks that a list filter holds for every object listed,
// and a limit of 1 lists at most one.
func checkFilter(t *testing.T, version, method, path, name string, sent url.Values, r resp) {
	t.Helper()
	data := r.get("data")
	if !data.IsArray() {
		return
	}
	switch name {
	case "limit":
		if n := len(data.Array()); n > 1 {
			t.Errorf("%s %s at %s: limit=1 listed %d objects", method, path, version, n)
		}
	case "starting_after", "ending_before", "expand[]":
	default:
		for _, o := range data.Array() {
			if got := o.Get(gjson.Escape(name)).String(); got != sent.Get(name) {
				t.Errorf("%s %s at %s: the filter %s=%s listed an object whose %s is %q", method, path, version, name, sent.Get(name), name, got)
			}
		}
	}
}
