package api_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/verso-api/verso/demo/api"
	"github.com/verso-api/verso/ratelimit"
	"github.com/verso-api/verso/storage/storagetest"
)

// fuzzRoute is one route of the demo API as echo registered it.
type fuzzRoute struct{ method, path string }

// FuzzHTTP sends hostile requests to every route of the demo API, at every
// version, over real HTTP to a server on SQLite, and fails on any 5xx or
// on any error that is not in the error shape. Without -fuzz it runs its
// seeds: every route at every version, and every route with each of a few
// hostile bodies, in seconds.
// With -fuzz (go test ./demo/api -run '^$' -fuzz FuzzHTTP -fuzztime 60s)
// it explores from there.
func FuzzHTTP(f *testing.F) {
	lim := ratelimit.Per(1_000_000, time.Second)
	a := start(f, storagetest.Backends()[0], api.Config{KeyLimit: lim, IPLimit: lim})
	var routes []fuzzRoute
	for _, r := range a.Echo.Routes() {
		if strings.HasPrefix(r.Method, "echo_") || strings.HasSuffix(r.Path, "/*") {
			continue
		}
		routes = append(routes, fuzzRoute{r.Method, r.Path})
	}
	versions := []string{""}
	for _, v := range a.Engine.Timeline().Versions().List() {
		versions = append(versions, v.String())
	}
	ids := seedObjects(f, a)
	bodies := []struct {
		query, body string
		json        bool
	}{
		{"", "", false},
		{"limit=3&expand[]=customer", "amount=abc&currency=usd&balance=1.5&email=x@example.com", false},
		{"starting_after=" + ids[0], `{"amount":"100","currency":"usd","expand":["latest_charge.payment_intent.latest_charge.payment_intent.customer"],"metadata":{"k":"v"}}`, true},
		{"foo=%00", "description=%ff%00&url=http://169.254.169.254/&enabled_events[]=*&version=2019-10-17", false},
		{"", `{"url":"http://[::1]/","enabled_events":"*","charge":"` + ids[1] + `","payment_method":"pm_card_visa","event":"` + ids[2] + `"}`, true},
	}
	// Every route at every version with one of the bodies in turn, and
	// every route with every body at the account's own version: about a
	// thousand requests, seconds even under -race.
	for ri := range routes {
		for vi := range versions {
			b := bodies[(ri+vi)%len(bodies)]
			f.Add(uint16(ri), uint8(vi), ids[(ri+vi)%len(ids)], b.query, b.body, b.json)
		}
		for bi, b := range bodies {
			f.Add(uint16(ri), uint8(0), ids[(ri+bi)%len(ids)], b.query, b.body, b.json)
		}
	}
	client := &http.Client{Timeout: 30 * time.Second}
	f.Fuzz(func(t *testing.T, ri uint16, vi uint8, id, query, body string, isJSON bool) {
		r := routes[int(ri)%len(routes)]
		path := strings.ReplaceAll(r.path, ":id", url.PathEscape(id))
		u := a.url + path
		if query != "" {
			u += "?" + query
		}
		req, err := http.NewRequest(r.method, u, strings.NewReader(body))
		if err != nil {
			t.Skip() // not a request a client could send
		}
		req.Header.Set("Authorization", "Bearer "+a.key)
		if v := versions[int(vi)%len(versions)]; v != "" {
			req.Header.Set("Stripe-Version", v)
		}
		if isJSON {
			req.Header.Set("Content-Type", "application/json")
		} else if body != "" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", r.method, u, err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode >= 500 {
			t.Fatalf("%s %s (%q): %d %s", r.method, u, body, res.StatusCode, b)
		}
		if r.method == http.MethodHead || strings.HasPrefix(res.Header.Get("Content-Type"), "text/") {
			return
		}
		if !gjson.ValidBytes(b) {
			t.Fatalf("%s %s (%q): %d: not JSON: %s", r.method, u, body, res.StatusCode, b)
		}
		if res.StatusCode >= 400 {
			e := gjson.GetBytes(b, "error")
			if !e.IsObject() || e.Get("type").Type != gjson.String || e.Get("message").Type != gjson.String || e.Get("message").Str == "" {
				t.Fatalf("%s %s (%q): %d: not in the error shape: %s", r.method, u, body, res.StatusCode, b)
			}
		}
	})
}

// seedObjects creates one of each object for the fuzzer's ids: a
// customer, a charge, an event, a payment intent, a refund and a webhook
// endpoint.
func seedObjects(t testing.TB, a *app) []string {
	cus := a.do(t, a.key, "POST", "/v1/customers", "", "email=f@example.com")
	pi := a.do(t, a.key, "POST", "/v1/payment_intents", "", "amount=900&currency=usd&confirm=true&payment_method=pm_card_visa&customer="+cus.get("id").String())
	ch := pi.get("latest_charge").String()
	re := a.do(t, a.key, "POST", "/v1/refunds", "", "amount=100&charge="+ch)
	ev := a.do(t, a.key, "GET", "/v1/events?limit=1", "", "")
	ep := a.do(t, a.key, "POST", "/v1/webhook_endpoints", "", "url=https://93.184.216.34/h&enabled_events[]=*")
	ids := []string{cus.get("id").String(), ch, ev.get("data.0.id").String(), pi.get("id").String(), re.get("id").String(), ep.get("id").String(), "cus_nope", ""}
	for _, id := range ids[:6] {
		if id == "" {
			t.Fatalf("seeding failed: %v", ids)
		}
	}
	return ids
}
