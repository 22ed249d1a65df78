package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/verso-api/verso/client"
	"github.com/verso-api/verso/demo/api"
	"github.com/verso-api/verso/ratelimit"
	"github.com/verso-api/verso/storage"
	"github.com/verso-api/verso/storage/storagetest"
	"github.com/verso-api/verso/versions"
	"github.com/verso-api/verso/webhooks"
	"github.com/verso-api/verso/webhooks/signature"
)

const (
	newest = "9999-12-31.preview"
	// stable is the newest version that is not a preview: new accounts
	// are pinned to it.
	stable = "2026-11-18.endive"
	oldest = "2014-12-22"
)

// app is a real demo API server on 127.0.0.1.
type app struct {
	*api.Server
	url string
	key string
	acc string
}

func start(t testing.TB, b storagetest.Backend, cfg api.Config) *app {
	t.Helper()
	db, _ := b.Open(t)
	return startOn(t, db, cfg)
}

// startOn starts the API on an open database.
func startOn(t testing.TB, db *storage.DB, cfg api.Config) *app {
	t.Helper()
	cfg.DB = db
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Webhooks.Backoff.Initial == 0 {
		cfg.Webhooks.Backoff = webhooks.Backoff{Initial: 20 * time.Millisecond, Max: 100 * time.Millisecond, MaxAge: time.Minute}
		cfg.Webhooks.PollInterval = 20 * time.Millisecond
	}
	ctx, cancel := context.WithCancel(context.Background())
	s, err := api.New(ctx, cfg)
	require.NoError(t, err)
	acct, key, err := s.EnsureAccount(ctx)
	require.NoError(t, err) // key is empty when another server on the database made the account
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln, 5*time.Second) }()
	t.Cleanup(func() {
		http.DefaultClient.CloseIdleConnections()
		cancel()
		require.NoError(t, <-done)
	})
	return &app{Server: s, url: "http://" + ln.Addr().String(), key: key, acc: acct.ID}
}

// newAccount makes another account with its own key.
func (a *app) newAccount(t *testing.T) string {
	ctx := context.Background()
	acct, err := a.Accounts.CreateAccount(ctx, "t")
	require.NoError(t, err)
	key, _, err := a.Accounts.CreateKey(ctx, acct.ID)
	require.NoError(t, err)
	return key
}

type resp struct {
	status int
	header http.Header
	body   string
}

func (r resp) get(path string) gjson.Result { return gjson.Get(r.body, path) }

func (a *app) do(t testing.TB, key, method, path, version, body string, header ...string) resp {
	t.Helper()
	req, err := http.NewRequest(method, a.url+path, strings.NewReader(body))
	require.NoError(t, err)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if version != "" {
		req.Header.Set("Stripe-Version", version)
	}
	if strings.HasPrefix(body, "{") {
		req.Header.Set("Content-Type", "application/json")
	} else if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return resp{status: res.StatusCode, header: res.Header, body: string(b)}
}

func eachBackend(t *testing.T, fn func(t *testing.T, b storagetest.Backend)) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) { fn(t, b) })
	}
}

func TestVersionsEndToEnd(t *testing.T) {
	eachBackend(t, func(t *testing.T, b storagetest.Backend) {
		a := start(t, b, api.Config{})
		// An old client creates a customer in its own shape (form body).
		r := a.do(t, a.key, "POST", "/v1/customers", oldest, "email=jenny%40example.com&account_balance=-500&default_card=card_1&metadata[order]=6735")
		require.Equal(t, 200, r.status, r.body)
		assert.Equal(t, oldest, r.header.Get("Stripe-Version"))
		assert.Equal(t, int64(-500), r.get("account_balance").Int())
		assert.Equal(t, "card_1", r.get("default_card").String())
		assert.False(t, r.get("balance").Exists())
		assert.True(t, r.get("cards").Exists(), "sources put back, under their old name")
		id := r.get("id").String()

		// The newest client sees the same customer in the newest shape.
		n := a.do(t, a.key, "GET", "/v1/customers/"+id, newest, "")
		require.Equal(t, 200, n.status, n.body)
		assert.Equal(t, newest, n.header.Get("Stripe-Version"))
		assert.Equal(t, int64(-500), n.get("balance").Int())
		assert.Equal(t, "card_1", n.get("default_source").String())
		assert.Equal(t, "6735", n.get("metadata.order").String())
		assert.False(t, n.get("account_balance").Exists())
		assert.False(t, n.get("sources").Exists())

		// JSON bodies walk forward too.
		u := a.do(t, a.key, "POST", "/v1/customers/"+id, "2019-09-01", `{"account_balance": 100}`)
		assert.Equal(t, 400, u.status, "unknown version")
		assert.Contains(t, u.get("error.message").String(), "Supported versions: 9999-12-31.preview, 2026-11-18.endive")
		u = a.do(t, a.key, "POST", "/v1/customers/"+id, "2017-01-27", `{"account_balance": 100}`)
		require.Equal(t, 200, u.status, u.body)
		assert.Equal(t, int64(100), u.get("account_balance").Int())

		// Charges: amounts are strings in the newest schema, integers before.
		c := a.do(t, a.key, "POST", "/v1/charges", newest, "amount=2000&currency=usd&source=tok_visa&customer="+id)
		require.Equal(t, 200, c.status, c.body)
		assert.Equal(t, gjson.String, c.get("amount").Type)
		chID := c.get("id").String()
		o := a.do(t, a.key, "GET", "/v1/charges/"+chID+"?expand[]=customer", oldest, "")
		require.Equal(t, 200, o.status, o.body)
		assert.Equal(t, gjson.Number, o.get("amount").Type)
		assert.Equal(t, "paid", o.get("status").String())
		assert.Equal(t, o.get("source.id").String(), o.get("card.id").String())
		assert.Equal(t, int64(100), o.get("customer.account_balance").Int(), "expanded customer walked back too")

		// Refund, then list charges at an old version: nested objects walked.
		rf := a.do(t, a.key, "POST", "/v1/refunds", "2020-08-27", `{"charge":"`+chID+`","amount":500}`)
		require.Equal(t, 200, rf.status, rf.body)
		assert.Equal(t, int64(500), rf.get("amount").Int())
		l := a.do(t, a.key, "GET", "/v1/charges?limit=1", oldest, "")
		require.Equal(t, 200, l.status, l.body)
		assert.Equal(t, int64(500), l.get("data.0.amount_refunded").Int())
		assert.Equal(t, "list", l.get("object").String())

		// Payment intents: latest_charge (newest) vs charges (2022-08-01 and before).
		pi := a.do(t, a.key, "POST", "/v1/payment_intents", "2022-11-15", "amount=1000&currency=eur&confirm=true&payment_method=pm_card_visa")
		require.Equal(t, 200, pi.status, pi.body)
		assert.True(t, pi.get("latest_charge").Exists())
		assert.False(t, pi.get("automatic_payment_methods.enabled").Bool(), "behaviour gate off before 2023-08-16")
		pi2 := a.do(t, a.key, "GET", "/v1/payment_intents/"+pi.get("id").String(), "2020-08-27", "")
		assert.False(t, pi2.get("latest_charge").Exists())
		assert.Equal(t, "list", pi2.get("charges.object").String())
		pi3 := a.do(t, a.key, "POST", "/v1/payment_intents", newest, "amount=1000&currency=eur")
		assert.True(t, pi3.get("automatic_payment_methods.enabled").Bool(), "behaviour gate on at the newest version")

		// Events, rendered in the caller's version, previous_attributes included.
		ev := a.do(t, a.key, "GET", "/v1/events?type=customer.updated", oldest, "")
		require.Equal(t, 200, ev.status, ev.body)
		assert.Equal(t, int64(100), ev.get("data.0.data.object.account_balance").Int())
		assert.Equal(t, int64(-500), ev.get("data.0.data.previous_attributes.account_balance").Int())
	})
}

func TestPins(t *testing.T) {
	eachBackend(t, func(t *testing.T, b storagetest.Backend) {
		a := start(t, b, api.Config{})
		ctx := context.Background()
		// First request without a header pins the account to the newest
		// version that is not a preview: integer amounts.
		r := a.do(t, a.key, "POST", "/v1/charges", "", "amount=700&currency=usd&source=tok_visa")
		require.Equal(t, 200, r.status, r.body)
		assert.Equal(t, stable, r.header.Get("Stripe-Version"))
		assert.Equal(t, gjson.Number, r.get("amount").Type)
		p, err := a.Pins.Get(ctx, a.acc)
		require.NoError(t, err)
		assert.Equal(t, stable, p.Version.String())
		// The preview is served to whoever asks for it.
		pr := a.do(t, a.key, "GET", "/v1/charges/"+r.get("id").String(), newest, "")
		assert.Equal(t, newest, pr.header.Get("Stripe-Version"))
		assert.Equal(t, "700", pr.get("amount").Str)

		// An account pinned to an old version gets it without a header; a
		// header overrides the pin for one request.
		key := a.newAccount(t)
		acct, err := a.Accounts.Authenticate(ctx, key)
		require.NoError(t, err)
		_, _, err = a.Pins.PinIfAbsent(ctx, acct.ID, versions.MustParse("2019-10-17"))
		require.NoError(t, err)
		c := a.do(t, key, "POST", "/v1/customers", "", "balance=7")
		assert.Equal(t, "2019-10-17", c.header.Get("Stripe-Version"))
		assert.Equal(t, int64(7), c.get("balance").Int())
		o := a.do(t, key, "GET", "/v1/customers/"+c.get("id").String(), "2017-01-27", "")
		assert.Equal(t, "2017-01-27", o.header.Get("Stripe-Version"))
		assert.Equal(t, int64(7), o.get("account_balance").Int())
		p, err = a.Pins.Get(ctx, acct.ID)
		require.NoError(t, err)
		assert.Equal(t, "2019-10-17", p.Version.String(), "a header does not move the pin")

		// Many concurrent first requests end with one pin.
		key2 := a.newAccount(t)
		var wg sync.WaitGroup
		for i := 0; i < 30; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := a.do(t, key2, "GET", "/v1/charges", "", "")
				assert.Equal(t, 200, r.status, r.body)
			}()
		}
		wg.Wait()
		acct2, _ := a.Accounts.Authenticate(ctx, key2)
		h, err := a.Pins.History(ctx, acct2.ID)
		require.NoError(t, err)
		assert.Len(t, h, 1, "exactly one pin")
	})
}

func TestAuthAndErrors(t *testing.T) {
	a := start(t, storagetest.Backends()[0], api.Config{})
	tests := []struct {
		name, key, method, path, version, body string
		status                                 int
		code                                   string
	}{
		{"no key", "", "GET", "/v1/customers", "", "", 401, "api_key_required"},
		{"unknown key", "sk_test_00000000000000000000000000000000", "GET", "/v1/customers", "", "", 401, "api_key_invalid"},
		{"malformed version", a.key, "GET", "/v1/customers", "yesterday", "", 400, "api_version_invalid"},
		{"unknown version", a.key, "GET", "/v1/customers", "2020-01-01", "", 400, "api_version_invalid"},
		{"missing object", a.key, "GET", "/v1/customers/cus_nope", "", "", 404, "resource_missing"},
		{"bad json", a.key, "POST", "/v1/customers", "", `{"email":`, 400, ""},
		{"bad param", a.key, "POST", "/v1/charges", "", "amount=abc&currency=usd&source=tok_visa", 400, "parameter_invalid_integer"},
		{"bad limit", a.key, "GET", "/v1/charges?limit=1000", "", "", 400, "parameter_invalid"},
		{"unknown route", a.key, "GET", "/v1/nothing", "", "", 404, ""},
		{"bad expand", a.key, "GET", "/v1/charges?expand[]=status", "", "", 400, "parameter_invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := a.do(t, tt.key, tt.method, tt.path, tt.version, tt.body)
			assert.Equal(t, tt.status, r.status, r.body)
			require.True(t, gjson.Valid(r.body), r.body)
			assert.NotEmpty(t, r.get("error.type").String(), r.body)
			assert.NotEmpty(t, r.get("error.message").String(), r.body)
			if tt.code != "" {
				assert.Equal(t, tt.code, r.get("error.code").String(), r.body)
			}
		})
	}
	big := strings.Repeat("a", 2<<20)
	r := a.do(t, a.key, "POST", "/v1/customers", "", "description="+big)
	assert.Equal(t, 413, r.status)
	assert.Equal(t, "invalid_request_error", r.get("error.type").String(), r.body)
	// A body of a type the middleware does not walk, sent chunked (no
	// Content-Length to refuse it early), is bounded by the handler.
	req, err := http.NewRequest("POST", a.url+"/v1/customers", io.MultiReader(strings.NewReader("description="+big)))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+a.key)
	req.Header.Set("Content-Type", "text/plain")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	assert.Equal(t, 413, res.StatusCode, string(b))
	assert.Equal(t, "request_body_too_large", gjson.GetBytes(b, "error.code").String(), string(b))
}

func TestRateLimit(t *testing.T) {
	a := start(t, storagetest.Backends()[0], api.Config{KeyLimit: ratelimit.Per(5, time.Hour)})
	codes := map[int]int{}
	var last resp
	for i := 0; i < 8; i++ {
		last = a.do(t, a.key, "GET", "/v1/customers", "", "")
		codes[last.status]++
	}
	assert.Equal(t, map[int]int{200: 5, 429: 3}, codes)
	assert.Equal(t, "rate_limit_error", last.get("error.type").String())
	assert.NotEmpty(t, last.header.Get("Retry-After"))
	// Another key has its own budget.
	assert.Equal(t, 200, a.do(t, a.newAccount(t), "GET", "/v1/customers", "", "").status)
}

func TestIdempotencyAcrossVersions(t *testing.T) {
	eachBackend(t, func(t *testing.T, b storagetest.Backend) {
		a := start(t, b, api.Config{})
		first := a.do(t, a.key, "POST", "/v1/charges", newest, "amount=2000&currency=usd&source=tok_visa", "Idempotency-Key", "order-6735")
		require.Equal(t, 200, first.status, first.body)
		// A retry from an older client gets the same charge, in its shape.
		again := a.do(t, a.key, "POST", "/v1/charges", oldest, `{"amount":2000,"currency":"usd","source":"tok_visa"}`, "Idempotency-Key", "order-6735")
		require.Equal(t, 200, again.status, again.body)
		assert.Equal(t, "true", again.header.Get("Idempotent-Replayed"))
		assert.Equal(t, first.get("id").String(), again.get("id").String())
		assert.Equal(t, gjson.Number, again.get("amount").Type)
		assert.Equal(t, "paid", again.get("status").String())
		// Same key, other amount: 400 idempotency_error, not to be retried,
		// and nothing created.
		other := a.do(t, a.key, "POST", "/v1/charges", newest, "amount=3000&currency=usd&source=tok_visa", "Idempotency-Key", "order-6735")
		assert.Equal(t, 400, other.status)
		assert.Equal(t, "idempotency_error", other.get("error.type").String())
		assert.Equal(t, "idempotency_key_reused", other.get("error.code").String())
		assert.Equal(t, "false", other.header.Get("Stripe-Should-Retry"))
		// A request refused by validation saves nothing: the corrected
		// retry with the same key makes the charge.
		bad := a.do(t, a.key, "POST", "/v1/charges", newest, "amount=-1&currency=usd&source=tok_visa", "Idempotency-Key", "order-6736")
		require.Equal(t, 400, bad.status, bad.body)
		assert.Equal(t, "invalid_request_error", bad.get("error.type").String())
		fixed := a.do(t, a.key, "POST", "/v1/charges", newest, "amount=2500&currency=usd&source=tok_visa", "Idempotency-Key", "order-6736")
		require.Equal(t, 200, fixed.status, fixed.body)
		assert.Empty(t, fixed.header.Get("Idempotent-Replayed"))
		l := a.do(t, a.key, "GET", "/v1/charges", "", "")
		assert.Len(t, l.get("data").Array(), 2)
		evs := a.do(t, a.key, "GET", "/v1/events?type=charge.succeeded", "", "")
		assert.Len(t, evs.get("data").Array(), 2, "one event for each charge")

		// 40 concurrent identical POSTs with one key make one charge.
		var wg sync.WaitGroup
		var ok, inUse atomic.Int32
		ids := sync.Map{}
		for i := 0; i < 40; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := a.do(t, a.key, "POST", "/v1/charges", newest, "amount=100&currency=usd&source=tok_visa", "Idempotency-Key", "burst")
				switch r.status {
				case 200:
					ok.Add(1)
					ids.Store(r.get("id").String(), true)
				case 409:
					inUse.Add(1)
					assert.Equal(t, "idempotency_key_in_use", r.get("error.code").String())
				default:
					t.Errorf("status %d: %s", r.status, r.body)
				}
			}()
		}
		wg.Wait()
		n := 0
		ids.Range(func(any, any) bool { n++; return true })
		assert.Equal(t, 1, n, "one charge id across all 200s")
		l = a.do(t, a.key, "GET", "/v1/charges", "", "")
		assert.Len(t, l.get("data").Array(), 3)
	})
}

func TestRetryingClient(t *testing.T) {
	a := start(t, storagetest.Backends()[0], api.Config{})
	c, err := client.New(client.Config{BaseURL: a.url, APIKey: a.key, Version: "2014-12-22"})
	require.NoError(t, err)
	var ch map[string]any
	require.NoError(t, c.Post(context.Background(), "/v1/charges", map[string]any{"amount": 1500, "currency": "usd", "source": "tok_visa", "metadata": map[string]string{"order": "1"}}, &ch))
	assert.Equal(t, float64(1500), ch["amount"])
	assert.NotNil(t, ch["card"])
	err = c.Post(context.Background(), "/v1/charges", map[string]any{"amount": -1, "currency": "usd", "source": "tok_visa"}, nil)
	var ce *client.Error
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, 400, ce.StatusCode)
}

// TestWebhooksInEachVersion: two endpoints pinned to different versions
// receive the same event in their own shapes, signed.
func TestWebhooksInEachVersion(t *testing.T) {
	eachBackend(t, func(t *testing.T, b storagetest.Backend) {
		a := start(t, b, api.Config{WebhooksAllowPrivate: true}) // the receivers are on 127.0.0.1
		type got struct {
			body []byte
			sig  string
		}
		recv := make(chan got, 10)
		rs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			recv <- got{body, r.Header.Get("Stripe-Signature")}
		})}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		go rs.Serve(ln)
		defer rs.Close()
		secrets := map[string]string{}
		for _, v := range []string{"2014-12-22", newest} {
			r := a.do(t, a.key, "POST", "/v1/webhook_endpoints", "", url.Values{"url": {"http://" + ln.Addr().String() + "/" + v}, "enabled_events[]": {"customer.created"}, "api_version": {v}}.Encode())
			require.Equal(t, 200, r.status, r.body)
			secrets[v] = r.get("secret").String()
			require.True(t, strings.HasPrefix(secrets[v], "whsec_"), r.body)
		}
		c := a.do(t, a.key, "POST", "/v1/customers", "", "balance=42")
		require.Equal(t, 200, c.status, c.body)
		seen := map[string]gjson.Result{}
		for len(seen) < 2 {
			select {
			case g := <-recv:
				ev := gjson.ParseBytes(g.body)
				v := ev.Get("api_version").String()
				require.NoError(t, signature.Verify(g.body, g.sig, secrets[v], 0), "signed with the endpoint's secret")
				seen[v] = ev
			case <-time.After(10 * time.Second):
				t.Fatalf("only %d deliveries", len(seen))
			}
		}
		assert.Equal(t, int64(42), seen[newest].Get("data.object.balance").Int())
		assert.Equal(t, int64(42), seen["2014-12-22"].Get("data.object.account_balance").Int())
		assert.False(t, seen["2014-12-22"].Get("data.object.balance").Exists())
		assert.Equal(t, seen[newest].Get("id").String(), seen["2014-12-22"].Get("id").String())
	})
}

// TestLoad: dozens of clients on mixed versions, thousands of requests,
// no error, and every account ends with one consistent pin.
func TestLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("load test skipped in -short mode")
	}
	a := start(t, storagetest.Backends()[0], api.Config{KeyLimit: ratelimit.Per(100000, time.Second), IPLimit: ratelimit.Per(100000, time.Second)})
	vs := a.Engine.Timeline().Versions().List()
	const clients, perClient = 24, 80
	keys := make([]string, 8)
	for i := range keys {
		keys[i] = a.newAccount(t)
	}
	var failures atomic.Int32
	var wg sync.WaitGroup
	tr := &http.Transport{MaxIdleConnsPerHost: clients}
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	defer tr.CloseIdleConnections()
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			key := keys[c%len(keys)]
			for i := 0; i < perClient; i++ {
				v := vs[(c+i)%len(vs)].String()
				if i%5 == 0 {
					v = "" // use the pin
				}
				method, path, body := "GET", "/v1/customers?limit=3", ""
				if i%3 == 0 {
					method, path, body = "POST", "/v1/customers", fmt.Sprintf("email=c%d-%d%%40example.com", c, i)
				}
				req, _ := http.NewRequest(method, a.url+path, strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+key)
				if v != "" {
					req.Header.Set("Stripe-Version", v)
				}
				if body != "" {
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				}
				res, err := hc.Do(req)
				if err != nil {
					failures.Add(1)
					continue
				}
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				want := v
				if want == "" {
					want = stable
				}
				if res.StatusCode != 200 || res.Header.Get("Stripe-Version") != want || !json.Valid(b) {
					failures.Add(1)
					t.Logf("status %d version %q want %q: %s", res.StatusCode, res.Header.Get("Stripe-Version"), want, b)
				}
			}
		}(c)
	}
	wg.Wait()
	assert.Zero(t, failures.Load())
	ctx := context.Background()
	for _, k := range keys {
		acct, err := a.Accounts.Authenticate(ctx, k)
		require.NoError(t, err)
		h, err := a.Pins.History(ctx, acct.ID)
		require.NoError(t, err)
		assert.Len(t, h, 1)
		p, err := a.Pins.Get(ctx, acct.ID)
		require.NoError(t, err)
		assert.Equal(t, stable, p.Version.String())
	}
}

func TestPinUpgradeAndRollback(t *testing.T) {
	eachBackend(t, func(t *testing.T, b storagetest.Backend) {
		now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
		var mu sync.Mutex
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		a := start(t, b, api.Config{Clock: clock})
		key := a.newAccount(t)
		acct, err := a.Accounts.Authenticate(context.Background(), key)
		require.NoError(t, err)
		_, _, err = a.Pins.PinIfAbsent(context.Background(), acct.ID, versions.MustParse("2015-02-18"))
		require.NoError(t, err)

		g := a.do(t, key, "GET", "/v1/account/api_version", "", "")
		require.Equal(t, 200, g.status, g.body)
		assert.Equal(t, "2015-02-18", g.get("version").String())
		assert.Len(t, g.get("supported_versions").Array(), 42)

		u := a.do(t, key, "POST", "/v1/account/api_version", "", "version=2019-10-17")
		require.Equal(t, 200, u.status, u.body)
		assert.Equal(t, "2019-10-17", u.get("version").String())
		assert.Equal(t, "2015-02-18", u.get("previous_version").String())
		assert.Len(t, u.get("history").Array(), 2)
		// Requests without a header now get the new pin.
		assert.Equal(t, "2019-10-17", a.do(t, key, "GET", "/v1/customers", "", "").header.Get("Stripe-Version"))

		down := a.do(t, key, "POST", "/v1/account/api_version", "", "version=2015-02-18")
		assert.Equal(t, 400, down.status, "an upgrade only moves forward")
		bad := a.do(t, key, "POST", "/v1/account/api_version", "", "version=2019-10-18")
		assert.Equal(t, 400, bad.status)
		assert.Contains(t, bad.get("error.message").String(), "supported versions")

		mu.Lock()
		now = now.Add(71 * time.Hour)
		mu.Unlock()
		r := a.do(t, key, "POST", "/v1/account/api_version/rollback", "", "")
		require.Equal(t, 200, r.status, r.body)
		assert.Equal(t, "2015-02-18", r.get("version").String())
		assert.Equal(t, "rollback", r.get("history.2.kind").String())

		// A second upgrade, then past the window: refused.
		require.Equal(t, 200, a.do(t, key, "POST", "/v1/account/api_version", "", "version=2020-08-27").status)
		mu.Lock()
		now = now.Add(73 * time.Hour)
		mu.Unlock()
		late := a.do(t, key, "POST", "/v1/account/api_version/rollback", "", "")
		assert.Equal(t, 400, late.status)
		assert.Equal(t, "rollback_expired", late.get("error.code").String())
	})
}

func TestChangelogPage(t *testing.T) {
	a := start(t, storagetest.Backends()[0], api.Config{})
	res, err := http.Get(a.url + "/changelog")
	require.NoError(t, err)
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	assert.Equal(t, 200, res.StatusCode)
	assert.Contains(t, res.Header.Get("Content-Type"), "text/html")
	assert.Contains(t, string(body), `id="v2019-10-17"`)
}

// TestEventsSayTheirVersion checks that /v1/events reports, in each event's
// api_version, the version its data.object is rendered in: the version the
// request is served in, not the newest one the event is stored in.
func TestEventsSayTheirVersion(t *testing.T) {
	eachBackend(t, func(t *testing.T, b storagetest.Backend) {
		a := start(t, b, api.Config{})
		c := a.do(t, a.key, "POST", "/v1/customers", newest, "balance=42")
		require.Equal(t, 200, c.status, c.body)
		for _, v := range []string{oldest, "2019-10-17", newest} {
			t.Run(v, func(t *testing.T) {
				l := a.do(t, a.key, "GET", "/v1/events?type=customer.created", v, "")
				require.Equal(t, 200, l.status, l.body)
				ev := l.get("data.0")
				assert.Equal(t, v, ev.Get("api_version").String())
				one := a.do(t, a.key, "GET", "/v1/events/"+ev.Get("id").String(), v, "")
				require.Equal(t, 200, one.status, one.body)
				assert.Equal(t, v, one.get("api_version").String())
				if v == oldest { // before 2019-10-17, balance was account_balance
					assert.Equal(t, int64(42), one.get("data.object.account_balance").Int(), "rendered in %s", v)
				} else {
					assert.Equal(t, int64(42), one.get("data.object.balance").Int(), "rendered in %s", v)
				}
			})
		}
	})
}
