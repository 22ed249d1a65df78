package api_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
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
// on any error that is not in the error shape. Requests are written on
// the connection as they are, so the fuzzer also reaches what net/http
// refuses before any handler runs: a header line it chooses (over the
// header limit, with a NUL or a CR, a Transfer-Encoding or an Expect
// net/http does not take) and a request line broken by the query; and a
// body that stops halfway, which the server must answer with 408 when its
// read timeout ends. Without -fuzz it runs its seeds: every route at every
// version, every route with each of a few hostile bodies, the header
// cases and a few slow bodies, in seconds.
// With -fuzz (go test ./demo/api -run '^$' -fuzz FuzzHTTP -fuzztime 60s)
// it explores from there.
func FuzzHTTP(f *testing.F) {
	lim := ratelimit.Per(1_000_000, time.Second)
	// A short read timeout, so that a body that stops halfway is answered
	// soon; a whole request is written at once and read in milliseconds.
	a := start(f, storagetest.Backends()[0], api.Config{KeyLimit: lim, IPLimit: lim, HTTP: api.HTTPLimits{ReadTimeout: time.Second}})
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
			f.Add(uint16(ri), uint8(vi), ids[(ri+vi)%len(ids)], b.query, b.body, b.json, "", false)
		}
		for bi, b := range bodies {
			f.Add(uint16(ri), uint8(0), ids[(ri+bi)%len(ids)], b.query, b.body, b.json, "", false)
		}
	}
	// Header lines net/http refuses before any handler runs, on a few
	// routes; a request line broken by its query.
	headers := []string{
		"X-Big: " + strings.Repeat("x", 80<<10),
		"Stripe-Version: 2019-10-17\x00",
		"Idempotency-Key: a\rb",
		"Bad Name: 1",
		"Transfer-Encoding: gzip",
		"Expect: the-unexpected",
		"Content-Length: 5",
		"Host: second.example",
	}
	for hi, h := range headers {
		h = strings.NewReplacer(`\x00`, "\x00", `\r`, "\r").Replace(h)
		b := bodies[hi%len(bodies)]
		f.Add(uint16(hi*7), uint8(hi), ids[hi%len(ids)], b.query, b.body, b.json, h, false)
	}
	f.Add(uint16(0), uint8(0), ids[0], "a b\r\nX: y", "", false, "", false)
	// Bodies that stop halfway, form and JSON, at the newest and the
	// oldest version.
	for i, b := range bodies[1:3] {
		f.Add(uint16(i), uint8(i*(len(versions)-1)), ids[i], b.query, b.body, b.json, "", true)
	}
	host := strings.TrimPrefix(a.url, "http://")
	f.Fuzz(func(t *testing.T, ri uint16, vi uint8, id, query, body string, isJSON bool, header string, slow bool) {
		r := routes[int(ri)%len(routes)]
		target := strings.ReplaceAll(r.path, ":id", url.PathEscape(id))
		if query != "" {
			target += "?" + query
		}
		var head strings.Builder
		fmt.Fprintf(&head, "%s %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nConnection: close\r\n", r.method, target, host, a.key)
		if v := versions[int(vi)%len(versions)]; v != "" {
			fmt.Fprintf(&head, "Stripe-Version: %s\r\n", v)
		}
		if isJSON {
			head.WriteString("Content-Type: application/json\r\n")
		} else if body != "" {
			head.WriteString("Content-Type: application/x-www-form-urlencoded\r\n")
		}
		fmt.Fprintf(&head, "Content-Length: %d\r\n", len(body))
		if header != "" {
			head.WriteString(header + "\r\n")
		}
		head.WriteString("\r\n")
		sent := body
		if slow && body != "" {
			sent = body[:len(body)/2] // the rest never comes
		}
		conn, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if err := conn.SetDeadline(time.Now().Add(60 * time.Second)); err != nil {
			t.Fatal(err)
		}
		// The server may answer and close before it has read everything.
		go io.WriteString(conn, head.String()+sent)
		res, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: r.method})
		if err != nil {
			t.Fatalf("%s %q (%q, header %q): no response: %v", r.method, target, body, header, err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode >= 500 && res.StatusCode != http.StatusNotImplemented && res.StatusCode != http.StatusHTTPVersionNotSupported {
			t.Fatalf("%s %q (%q, header %q): %d %s", r.method, target, body, header, res.StatusCode, b)
		}
		if slow && body != "" && res.StatusCode != http.StatusRequestTimeout && r.method == http.MethodPost && res.StatusCode < 300 {
			t.Fatalf("%s %q: half a body was taken whole: %d %s", r.method, target, res.StatusCode, b)
		}
		ct := res.Header.Get("Content-Type")
		if r.method == http.MethodHead || strings.HasPrefix(ct, "text/html") || // the docs pages, for browsers
			res.StatusCode < 400 && strings.HasPrefix(ct, "text/") || // /metrics, the changelog in Markdown
			res.StatusCode == http.StatusExpectationFailed && len(b) == 0 { // net/http's, with no body at all
			return
		}
		if !gjson.ValidBytes(b) {
			t.Fatalf("%s %q (%q, header %q): %d: not JSON: %s", r.method, target, body, header, res.StatusCode, b)
		}
		if res.StatusCode >= 400 {
			e := gjson.GetBytes(b, "error")
			if !e.IsObject() || e.Get("type").Type != gjson.String || e.Get("message").Type != gjson.String || e.Get("message").Str == "" {
				t.Fatalf("%s %q (%q, header %q): %d: not in the error shape: %s", r.method, target, body, header, res.StatusCode, b)
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
