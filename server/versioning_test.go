package server_test

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/verso-api/verso/apierror"
	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/idempotency"
	"github.com/verso-api/verso/idempotency/echoidempotency"
	"github.com/verso-api/verso/pins"
	"github.com/verso-api/verso/prom"
	"github.com/verso-api/verso/server"
	"github.com/verso-api/verso/server/echoversioning"
	"github.com/verso-api/verso/transform"
	"github.com/verso-api/verso/versions"
)

const newest = "2024-09-30.acacia"

// customerRoute serves customerJSON (newest schema) and reports the version
// it was served in, as the handler saw it, in X-Seen-Version.
func customerRoute(e *echo.Echo) {
	e.GET("/v1/customers/:id", func(c echo.Context) error {
		c.Response().Header().Set("X-Seen-Version", echoversioning.VersionOf(c).String())
		return c.JSONBlob(http.StatusOK, []byte(customerJSON))
	})
}

func TestVersionChoice(t *testing.T) {
	tests := []struct {
		name    string
		pin     string // the account's pin before the request; "" for none
		account string // "" for an unauthenticated request
		header  string
		want    string // the version served
		balance string // the name of the balance field in the response
		wantPin string // the pin after the request; "" when no account
	}{
		{name: "no account no header: newest", want: newest, balance: "balance"},
		{name: "no account, header", header: "2017-01-27", want: "2017-01-27", balance: "account_balance"},
		{name: "pin", account: "acct_a", pin: "2017-01-27", want: "2017-01-27", balance: "account_balance", wantPin: "2017-01-27"},
		{name: "header beats pin", account: "acct_b", pin: "2017-01-27", header: newest, want: newest, balance: "balance", wantPin: "2017-01-27"},
		{name: "older header beats newer pin", account: "acct_c", pin: newest, header: "2019-10-17", want: "2019-10-17", balance: "balance", wantPin: newest},
		{name: "first request pins newest", account: "acct_d", want: newest, balance: "balance", wantPin: newest},
		{name: "a request with a header does not pin", account: "acct_e", header: "2017-01-27", want: "2017-01-27", balance: "account_balance", wantPin: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			store := pins.NewMemoryStore(nil)
			if tt.pin != "" {
				if _, _, err := store.PinIfAbsent(ctx, tt.account, versions.MustParse(tt.pin)); err != nil {
					t.Fatal(err)
				}
			}
			e := newEcho(t, server.Config{Engine: stripe(t), Account: authAccount, Pins: store})
			customerRoute(e)
			var hdr []string
			if tt.header != "" {
				hdr = append(hdr, "Stripe-Version", tt.header)
			}
			if tt.account != "" {
				hdr = append(hdr, "Authorization", "Bearer key_"+tt.account)
			}
			rec := do(e, "GET", "/v1/customers/cus_1", "", "", hdr...)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			if got := rec.Header().Get("Stripe-Version"); got != tt.want {
				t.Errorf("Stripe-Version = %q, want %q", got, tt.want)
			}
			if got := rec.Header().Get("X-Seen-Version"); got != tt.want {
				t.Errorf("handler saw version %q, want %q", got, tt.want)
			}
			body := decode(t, rec.Body.Bytes())
			if _, ok := body[tt.balance]; !ok {
				t.Errorf("response has no %q: %s", tt.balance, rec.Body)
			}
			// A walked response has its Content-Length; the newest streams.
			if got := rec.Header().Get(echo.HeaderContentLength); tt.want != newest && got != strconv.Itoa(rec.Body.Len()) {
				t.Errorf("Content-Length = %q, body is %d bytes", got, rec.Body.Len())
			}
			if tt.account == "" {
				return
			}
			p, err := store.Get(ctx, tt.account)
			switch {
			case tt.wantPin == "" && !errors.Is(err, pins.ErrNotPinned):
				t.Errorf("pin after the request = %v, %v; want none (a header request does not pin)", p.Version, err)
			case tt.wantPin != "" && (err != nil || p.Version.String() != tt.wantPin):
				t.Errorf("pin after the request = %v, %v; want %s", p.Version, err, tt.wantPin)
			}
		})
	}
}

func TestInvalidVersion(t *testing.T) {
	e := newEcho(t, server.Config{Engine: stripe(t)})
	customerRoute(e)
	supported := stripe(t).Timeline().Versions().List()
	tests := []struct {
		header string
		cause  error
	}{
		{"2099-01-01", versions.ErrUnknownVersion},
		{"2019-10-18", versions.ErrUnknownVersion},
		{"2024-09-30.basil", versions.ErrUnknownVersion},
		{"yesterday", versions.ErrSyntax},
		{"2019-1-17", versions.ErrSyntax},
		{"2019-02-30", versions.ErrSyntax},
		{"2019-10-17.", versions.ErrSyntax},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			rec := do(e, "GET", "/v1/customers/cus_1", "", "", "Stripe-Version", tt.header)
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", rec.Code, rec.Body)
			}
			er := stripeError(t, rec.Body.Bytes())
			if er["type"] != apierror.TypeInvalidRequest || er["code"] != server.CodeVersionInvalid {
				t.Errorf("error = %v", er)
			}
			msg := er["message"].(string)
			for _, v := range supported {
				if !strings.Contains(msg, v.String()) {
					t.Errorf("message does not list %s: %s", v, msg)
				}
			}
			if !strings.Contains(msg, tt.header) {
				t.Errorf("message does not name the version sent: %s", msg)
			}

			// The error returned to echo says why, for errors.Is.
			mw := echoversioning.Middleware(stripe(t))
			req := httptest.NewRequest("GET", "/", nil)
			req.Header.Set("Stripe-Version", tt.header)
			c := echo.New().NewContext(req, httptest.NewRecorder())
			err := mw(func(echo.Context) error { t.Fatal("handler ran"); return nil })(c)
			if !errors.Is(err, server.ErrInvalidVersion) || !errors.Is(err, tt.cause) {
				t.Errorf("err = %v; want it to wrap ErrInvalidVersion and %v", err, tt.cause)
			}
		})
	}
}

func TestPinOnFirstRequestConcurrent(t *testing.T) {
	ctx := context.Background()
	store := pins.NewMemoryStore(nil)
	metrics := prom.NewMetrics(nil)
	e := newEcho(t, server.Config{Engine: stripe(t), Account: authAccount, Pins: store, Metrics: metrics})
	customerRoute(e)
	srv := httptest.NewServer(e)
	defer srv.Close()

	const n = 50
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("GET", srv.URL+"/v1/customers/cus_1", nil)
			req.Header.Set("Authorization", "Bearer key_acct_race")
			res, err := srv.Client().Do(req)
			if err != nil {
				errs <- err
				return
			}
			defer res.Body.Close()
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != 200 || res.Header.Get("Stripe-Version") != newest || !strings.Contains(string(body), `"balance"`) {
				errs <- fmt.Errorf("status %d, version %q: %s", res.StatusCode, res.Header.Get("Stripe-Version"), body)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	h, err := store.History(ctx, "acct_race")
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 1 || h[0].Kind != pins.Pinned || h[0].To.String() != newest {
		t.Errorf("history = %+v, want one pin to %s", h, newest)
	}
	if got := counterValue(t, metrics.PinsCreated); got != 1 {
		t.Errorf("verso_pins_created_total = %v, want 1", got)
	}
}

func TestResponseWalkedBack(t *testing.T) {
	e := newEcho(t, server.Config{Engine: stripe(t)})
	customerRoute(e)
	tests := []struct {
		version string
		has     []string
		hasNot  []string
	}{
		{newest, []string{"balance", "default_source", "sources"}, []string{"account_balance", "tax_info"}},
		{"2019-10-17", []string{"balance"}, []string{"account_balance", "tax_info"}},
		{"2017-01-27", []string{"account_balance", "tax_info", "tax_info_verification", "sources"}, []string{"balance"}},
		{"2014-12-22", []string{"account_balance", "cards", "default_card"}, []string{"balance", "sources", "default_source"}},
	}
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			rec := do(e, "GET", "/v1/customers/cus_1", "", "", "Stripe-Version", tt.version)
			if rec.Code != 200 {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			body := decode(t, rec.Body.Bytes())
			for _, k := range tt.has {
				if _, ok := body[k]; !ok {
					t.Errorf("no %q in %s", k, rec.Body)
				}
			}
			for _, k := range tt.hasNot {
				if _, ok := body[k]; ok {
					t.Errorf("unexpected %q in %s", k, rec.Body)
				}
			}
			if got := body["balance"]; got == nil {
				got = body["account_balance"]
				if fmt.Sprint(got) != "5" {
					t.Errorf("balance = %v, want 5", got)
				}
			}
			if got := rec.Header().Get(echo.HeaderContentLength); tt.version != newest && got != strconv.Itoa(rec.Body.Len()) {
				t.Errorf("Content-Length = %q, body is %d bytes", got, rec.Body.Len())
			}
		})
	}
}

func TestRequestWalkedForward(t *testing.T) {
	e := newEcho(t, server.Config{Engine: stripe(t)})
	// The handler reports what it received: the body as the handler read
	// it, the query string, the form value "balance" and its version.
	echoRequest := func(c echo.Context) error {
		b, err := io.ReadAll(c.Request().Body)
		if err != nil {
			return err
		}
		c.Request().Body = io.NopCloser(strings.NewReader(string(b)))
		return c.JSON(200, map[string]any{
			"body":          string(b),
			"query":         c.QueryString(),
			"query_balance": c.QueryParam("balance"),
			"form_balance":  c.FormValue("balance"),
			"length":        c.Request().ContentLength,
		})
	}
	e.POST("/v1/customers", echoRequest)
	e.POST("/v1/customers/:id", echoRequest)
	e.POST("/v1/other", echoRequest)
	e.GET("/v1/customers", echoRequest)

	const form = "application/x-www-form-urlencoded"
	tests := []struct {
		name, version, method, target, ct, body string
		wantBody, wantQuery, wantFormBalance    string
	}{
		{name: "json", version: "2017-01-27", method: "POST", target: "/v1/customers", ct: "application/json",
			body: `{"account_balance":5,"name":"Jenny"}`, wantBody: `{"balance":5,"name":"Jenny"}`},
		{name: "json with charset", version: "2017-01-27", method: "POST", target: "/v1/customers/cus_1", ct: "application/json; charset=utf-8",
			body: `{"account_balance":5}`, wantBody: `{"balance":5}`},
		{name: "form", version: "2017-01-27", method: "POST", target: "/v1/customers", ct: form,
			body: "account_balance=5&name=Jenny", wantBody: "balance=5&name=Jenny", wantFormBalance: "5"},
		{name: "form, two versions", version: "2014-12-22", method: "POST", target: "/v1/customers/cus_1", ct: form,
			body: "account_balance=5&default_card=card_1", wantBody: "balance=5&default_source=card_1", wantFormBalance: "5"},
		{name: "query string", version: "2017-01-27", method: "POST", target: "/v1/customers?account_balance=7", ct: "",
			wantQuery: "balance=7", wantFormBalance: "7"},
		{name: "newest json untouched", version: newest, method: "POST", target: "/v1/customers", ct: "application/json",
			body: `{"account_balance":5}`, wantBody: `{"account_balance":5}`},
		{name: "newest form untouched", version: newest, method: "POST", target: "/v1/customers", ct: form,
			body: "account_balance=5", wantBody: "account_balance=5"},
		{name: "endpoint without changes", version: "2017-01-27", method: "POST", target: "/v1/other", ct: "application/json",
			body: `{"account_balance":5}`, wantBody: `{"account_balance":5}`},
		{name: "GET is not a declared endpoint", version: "2017-01-27", method: "GET", target: "/v1/customers?account_balance=7",
			wantQuery: "account_balance=7"},
		{name: "other content type untouched", version: "2017-01-27", method: "POST", target: "/v1/customers", ct: "text/plain",
			body: "account_balance=5", wantBody: "account_balance=5"},
	}
	t.Run("empty body of unknown length", func(t *testing.T) {
		req := httptest.NewRequest("POST", "/v1/customers", strings.NewReader(""))
		req.ContentLength = -1
		req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
		req.Header.Set("Stripe-Version", "2017-01-27")
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"body":""`) {
			t.Errorf("got %d %s", rec.Code, rec.Body)
		}
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := do(e, tt.method, tt.target, tt.ct, tt.body, "Stripe-Version", tt.version)
			if rec.Code != 200 {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			var got struct {
				Body         string `json:"body"`
				Query        string `json:"query"`
				FormBalance  string `json:"form_balance"`
				QueryBalance string `json:"query_balance"`
				Length       int64  `json:"length"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if got.Body != tt.wantBody {
				t.Errorf("handler read body %q, want %q", got.Body, tt.wantBody)
			}
			if got.Query != tt.wantQuery {
				t.Errorf("handler saw query %q, want %q", got.Query, tt.wantQuery)
			}
			if got.FormBalance != tt.wantFormBalance {
				t.Errorf("FormValue(balance) = %q, want %q", got.FormBalance, tt.wantFormBalance)
			}
			if tt.body != "" && got.Length != int64(len(tt.wantBody)) {
				t.Errorf("ContentLength = %d, want %d", got.Length, len(tt.wantBody))
			}
		})
	}
}

// TestQueryCacheRefreshed: a middleware before versioning that read the
// query (echo caches it) still leaves the handler the walked parameters.
func TestQueryCacheRefreshed(t *testing.T) {
	e := echo.New()
	e.HTTPErrorHandler = echoversioning.ErrorHandler
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			_ = c.QueryParam("anything")
			return next(c)
		}
	})
	e.Use(echoversioning.Middleware(gated(t)))
	e.GET("/v1/customers", func(c echo.Context) error {
		return c.String(200, c.QueryParam("balance")+"|"+c.QueryParam("account_balance"))
	})
	rec := do(e, "GET", "/v1/customers?account_balance=3", "", "", "Acme-Version", "2023-01-01")
	if rec.Body.String() != "3|" {
		t.Errorf("handler saw %q, want %q", rec.Body, "3|")
	}
}

func TestRequestErrors(t *testing.T) {
	e := newEcho(t, server.Config{Engine: stripe(t), MaxBodyBytes: 64})
	called := false
	e.POST("/v1/customers", func(c echo.Context) error { called = true; return c.NoContent(200) })
	e.POST("/v1/charges", func(c echo.Context) error { called = true; return c.NoContent(200) })
	big := `{"account_balance":5,"name":"` + strings.Repeat("x", 100) + `"}`
	tests := []struct {
		name, version, target, ct, body string
		chunked                         bool
		status                          int
		code                            string
	}{
		{"malformed json", "2017-01-27", "/v1/customers", "application/json", `{"account_balance":5`, false, 400, server.CodeBodyInvalid},
		{"json trailing data", "2017-01-27", "/v1/customers", "application/json", `{"a":1} x`, false, 400, server.CodeBodyInvalid},
		{"json of the wrong type", "2024-04-10", "/v1/charges", "application/json", `{"amount":true}`, false, 400, server.CodeParameterInvalidInteger},
		{"malformed form", "2017-01-27", "/v1/customers", "application/x-www-form-urlencoded", "a=%zz", false, 400, server.CodeBodyInvalid},
		{"malformed query", "2017-01-27", "/v1/customers?a=%zz", "", "", false, 400, server.CodeBodyInvalid},
		{"too large", "2017-01-27", "/v1/customers", "application/json", big, false, 413, "request_body_too_large"},
		{"too large, chunked", "2017-01-27", "/v1/customers", "application/json", big, true, 413, "request_body_too_large"},
		{"too large at newest", newest, "/v1/customers", "application/json", big, false, 413, "request_body_too_large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			called = false
			req := httptest.NewRequest("POST", tt.target, strings.NewReader(tt.body))
			if tt.ct != "" {
				req.Header.Set(echo.HeaderContentType, tt.ct)
			}
			req.Header.Set("Stripe-Version", tt.version)
			if tt.chunked {
				req.ContentLength = -1
			}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			er := stripeError(t, rec.Body.Bytes())
			if er["code"] != tt.code || er["type"] != apierror.TypeInvalidRequest {
				t.Errorf("error = %v, want code %s", er, tt.code)
			}
			if called {
				t.Error("the handler ran")
			}
		})
	}
}

func TestErrorBodiesWalkedBack(t *testing.T) {
	// A card error embedding the charge, in the newest schema: the charge's
	// status "succeeded" was "paid" before 2016-07-06.
	declined := map[string]any{"error": map[string]any{
		"type": "card_error", "code": "card_declined", "message": "Your card was declined.",
		"charge": map[string]any{"id": "ch_1", "object": "charge", "amount": "100", "status": "succeeded"},
	}}
	// The body is the handler's own, written by itself or by echo's
	// default error handler from an *echo.HTTPError.
	handlers := map[string]struct {
		eh   echo.HTTPErrorHandler
		post echo.HandlerFunc
	}{
		"written by the handler": {echoversioning.ErrorHandler, func(c echo.Context) error {
			return c.JSON(http.StatusPaymentRequired, declined)
		}},
		"echo default": {nil, func(c echo.Context) error {
			return &echo.HTTPError{Code: http.StatusPaymentRequired, Message: declined}
		}},
	}
	for name, h := range handlers {
		t.Run(name, func(t *testing.T) {
			e := echo.New()
			if h.eh != nil {
				e.HTTPErrorHandler = h.eh
			}
			e.Use(echoversioning.Middleware(stripe(t)))
			e.POST("/v1/charges", h.post)
			for _, tt := range []struct{ version, status, amount string }{
				{newest, "succeeded", `"100"`},
				{"2016-07-06", "succeeded", `100`},
				{"2015-02-18", "paid", `100`},
			} {
				rec := do(e, "POST", "/v1/charges", "", "", "Stripe-Version", tt.version)
				if rec.Code != http.StatusPaymentRequired {
					t.Fatalf("%s: status %d: %s", tt.version, rec.Code, rec.Body)
				}
				var got struct {
					Error struct {
						Code   string `json:"code"`
						Charge struct {
							Status string          `json:"status"`
							Amount json.RawMessage `json:"amount"`
						} `json:"charge"`
					} `json:"error"`
				}
				if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
					t.Fatalf("%s: %v: %s", tt.version, err, rec.Body)
				}
				if got.Error.Code != "card_declined" || got.Error.Charge.Status != tt.status || string(got.Error.Charge.Amount) != tt.amount {
					t.Errorf("%s: got %s; want status %s amount %s", tt.version, rec.Body, tt.status, tt.amount)
				}
				if cl := rec.Header().Get(echo.HeaderContentLength); cl != "" && cl != strconv.Itoa(rec.Body.Len()) {
					t.Errorf("%s: Content-Length %s for %d bytes", tt.version, cl, rec.Body.Len())
				}
				if got := rec.Header().Get("Stripe-Version"); got != tt.version {
					t.Errorf("Stripe-Version = %q, want %q", got, tt.version)
				}
			}
		})
	}
}

func TestNewestStreamsThrough(t *testing.T) {
	tests := []struct {
		name    string
		engine  *transform.Engine
		header  string
		version string
		wrapped bool
	}{
		{"newest", stripe(t), "Stripe-Version", newest, false},
		{"no version asked", stripe(t), "", "", false},
		{"older", stripe(t), "Stripe-Version", "2024-04-10", true},
		// gated's newest version only changes behaviour: walking back
		// across it changes nothing, so it streams; across the rename it
		// does not.
		{"older across a rename", gated(t), "Acme-Version", "2023-01-01", true},
		{"older across a behaviour change only", gated(t), "Acme-Version", "2024-01-01", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEcho(t, server.Config{Engine: tt.engine})
			rec := httptest.NewRecorder()
			var sawRecorder, flushed bool
			e.GET("/v1/stream", func(c echo.Context) error {
				sawRecorder = c.Response().Writer == http.ResponseWriter(rec)
				c.Response().Header().Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
				c.Response().WriteHeader(200)
				_, _ = c.Response().Write([]byte(`{"object":"customer","balance":1}`))
				c.Response().Flush()
				flushed = rec.Flushed
				return nil
			})
			req := httptest.NewRequest("GET", "/v1/stream", nil)
			if tt.header != "" {
				req.Header.Set(tt.header, tt.version)
			}
			e.ServeHTTP(rec, req)
			if sawRecorder == tt.wrapped || flushed == tt.wrapped {
				t.Errorf("handler wrote to the recorder itself: %v, flush reached it: %v; want %v", sawRecorder, flushed, !tt.wrapped)
			}
			if rec.Code != 200 || !strings.Contains(rec.Body.String(), "balance") {
				t.Errorf("status %d: %s", rec.Code, rec.Body)
			}
		})
	}
}

func TestPassthrough(t *testing.T) {
	e := newEcho(t, server.Config{Engine: stripe(t)})
	e.GET("/text", func(c echo.Context) error {
		return c.String(200, `{"object":"customer","balance":5}`)
	})
	e.GET("/csv", func(c echo.Context) error {
		c.Response().Header().Set(echo.HeaderContentLength, "13")
		return c.Blob(200, "text/csv", []byte("balance\n5\n10\n"))
	})
	e.GET("/empty", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
	e.GET("/json-empty", func(c echo.Context) error {
		c.Response().Header().Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
		return c.NoContent(http.StatusAccepted)
	})
	e.GET("/nothing", func(c echo.Context) error { return nil })
	tests := []struct {
		target, body string
		status       int
	}{
		{"/text", `{"object":"customer","balance":5}`, 200},
		{"/csv", "balance\n5\n10\n", 200},
		{"/empty", "", 204},
		{"/json-empty", "", 202},
		{"/nothing", "", 200},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			rec := do(e, "GET", tt.target, "", "", "Stripe-Version", "2014-12-22")
			if rec.Code != tt.status || rec.Body.String() != tt.body {
				t.Errorf("got %d %q, want %d %q", rec.Code, rec.Body, tt.status, tt.body)
			}
			if got := rec.Header().Get("Stripe-Version"); got != "2014-12-22" {
				t.Errorf("Stripe-Version = %q", got)
			}
		})
	}
}

func TestRenderFailure(t *testing.T) {
	logger, logs := logBuffer()
	metrics := prom.NewMetrics(nil)
	e := newEcho(t, server.Config{Engine: stripe(t), Logger: logger, MaxResponseBytes: 4096, Metrics: metrics})
	e.GET("/bad-amount", func(c echo.Context) error {
		// amount must be an integer string to walk back to an integer.
		return c.JSONBlob(200, []byte(`{"id":"ch_1","object":"charge","amount":"twelve"}`))
	})
	e.GET("/malformed", func(c echo.Context) error {
		return c.JSONBlob(200, []byte(`{"id":"ch_1","object":"charge",`))
	})
	e.GET("/huge", func(c echo.Context) error {
		return c.JSONBlob(200, []byte(`{"pad":"`+strings.Repeat("x", 5000)+`"}`))
	})
	e.GET("/gzipped", func(c echo.Context) error {
		c.Response().Header().Set(echo.HeaderContentEncoding, "gzip")
		return c.JSONBlob(200, []byte(`{"object":"charge"}`))
	})
	e.GET("/streamed-huge", func(c echo.Context) error {
		c.Response().Header().Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
		c.Response().WriteHeader(200)
		for range 10 {
			if _, err := c.Response().Write([]byte(strings.Repeat(" ", 1000))); err != nil {
				return err
			}
		}
		return nil
	})
	for _, target := range []string{"/bad-amount", "/malformed", "/huge", "/gzipped", "/streamed-huge"} {
		t.Run(target, func(t *testing.T) {
			rec := do(e, "GET", target, "", "", "Stripe-Version", "2015-02-18")
			if rec.Code != 500 {
				t.Fatalf("status %d, want 500: %s", rec.Code, rec.Body)
			}
			er := stripeError(t, rec.Body.Bytes())
			if er["type"] != apierror.TypeAPI {
				t.Errorf("error = %v", er)
			}
			if rec.Header().Get(echo.HeaderContentEncoding) != "" {
				t.Error("Content-Encoding kept on the error")
			}
			if got := rec.Header().Get(echo.HeaderContentLength); got != strconv.Itoa(rec.Body.Len()) {
				t.Errorf("Content-Length = %q, body is %d bytes", got, rec.Body.Len())
			}
			if !strings.Contains(logs.String(), "path="+target) {
				t.Errorf("not logged: %s", logs)
			}
		})
	}
	if got := counterValue(t, metrics.WalkErrors.WithLabelValues("response")); got != 2 {
		t.Errorf("response walk errors = %v, want 2 (bad amount, malformed)", got)
	}
	// The same handler at the newest version is not walked: it goes out as
	// the handler wrote it.
	rec := do(e, "GET", "/bad-amount", "", "", "Stripe-Version", newest)
	if rec.Code != 200 {
		t.Errorf("newest: status %d", rec.Code)
	}
}

// TestPanicAfterWrite: a handler that writes and then panics leaves nothing
// half-sent; echo's Recover middleware answers in Stripe's shape.
func TestPanicAfterWrite(t *testing.T) {
	e := echo.New()
	e.HTTPErrorHandler = echoversioning.ErrorHandler
	e.Use(middleware.Recover(), echoversioning.Middleware(stripe(t)))
	e.GET("/v1/customers/:id", func(c echo.Context) error {
		c.Response().Header().Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
		c.Response().WriteHeader(200)
		_, _ = c.Response().Write([]byte(`{"object":"customer",`))
		panic("boom")
	})
	rec := do(e, "GET", "/v1/customers/cus_1", "", "", "Stripe-Version", "2017-01-27")
	if rec.Code != 500 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	er := stripeError(t, rec.Body.Bytes())
	if er["type"] != apierror.TypeAPI || strings.Contains(rec.Body.String(), "customer") {
		t.Errorf("body %s", rec.Body)
	}
}

func TestBehaviorGate(t *testing.T) {
	e := newEcho(t, server.Config{Engine: gated(t)})
	e.POST("/v1/charges/:id/capture", func(c echo.Context) error {
		if gates.Active(c.Request().Context(), "async_capture") {
			return c.JSON(202, map[string]string{"status": "pending", "version": echoversioning.VersionOf(c).String()})
		}
		return c.JSON(200, map[string]string{"status": "succeeded", "version": echoversioning.VersionOf(c).String()})
	})
	for _, tt := range []struct {
		version, want string
		status        int
	}{
		{"", "pending", 202},
		{"2024-02-01", "pending", 202},
		{"2024-01-01", "succeeded", 200},
		{"2023-01-01", "succeeded", 200},
	} {
		t.Run(tt.version, func(t *testing.T) {
			var hdr []string
			if tt.version != "" {
				hdr = []string{"Acme-Version", tt.version}
			}
			rec := do(e, "POST", "/v1/charges/ch_1/capture", "", "", hdr...)
			body := decode(t, rec.Body.Bytes())
			if rec.Code != tt.status || body["status"] != tt.want {
				t.Errorf("got %d %s, want %d %s", rec.Code, rec.Body, tt.status, tt.want)
			}
			want := tt.version
			if want == "" {
				want = "2024-02-01"
			}
			if body["version"] != want || rec.Header().Get("Acme-Version") != want {
				t.Errorf("version %v, header %q; want %s", body["version"], rec.Header().Get("Acme-Version"), want)
			}
		})
	}
}

func TestAccountErrorReturnedAsIs(t *testing.T) {
	e := newEcho(t, server.Config{Engine: stripe(t), Pins: pins.NewMemoryStore(nil),
		Account: func(*http.Request) (string, error) {
			return "", echo.NewHTTPError(http.StatusUnauthorized, "You did not provide an API key.")
		}})
	called := false
	e.GET("/v1/customers/:id", func(c echo.Context) error { called = true; return nil })
	rec := do(e, "GET", "/v1/customers/cus_1", "", "")
	if rec.Code != 401 || called {
		t.Fatalf("status %d, handler ran: %v", rec.Code, called)
	}
	er := stripeError(t, rec.Body.Bytes())
	if er["message"] != "You did not provide an API key." || er["code"] != "authentication_required" {
		t.Errorf("error = %v", er)
	}
}

// failingPins is a server.PinStore whose every call fails, to check that
// a broken store is a logged 503 rather than a panic or a silent default.
type failingPins struct{ server.PinStore }

func (failingPins) Get(context.Context, string) (pins.Pin, error) {
	return pins.Pin{}, errors.New("database is down")
}

func TestPinStoreFailure(t *testing.T) {
	logger, logs := logBuffer()
	e := newEcho(t, server.Config{Engine: stripe(t), Account: authAccount, Pins: failingPins{}, Logger: logger})
	customerRoute(e)
	rec := do(e, "GET", "/v1/customers/cus_1", "", "", "Authorization", "Bearer key_acct_x")
	if rec.Code != 503 || rec.Header().Get("Retry-After") != "1" {
		t.Fatalf("status %d, Retry-After %q: %s", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
	if er := stripeError(t, rec.Body.Bytes()); er["type"] != apierror.TypeAPI || strings.Contains(er["message"].(string), "database") {
		t.Errorf("error = %v", er)
	}
	if !strings.Contains(logs.String(), "database is down") {
		t.Errorf("not logged: %s", logs)
	}
	// A store away answers every request 503: a warning each, not an
	// error (an outage would flood the log at level error).
	if strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "level=WARN") {
		t.Errorf("logged at level error, or not at warn: %s", logs)
	}
	// With a header the store is not asked.
	rec = do(e, "GET", "/v1/customers/cus_1", "", "", "Authorization", "Bearer key_acct_x", "Stripe-Version", "2017-01-27")
	if rec.Code != 200 {
		t.Errorf("with a header: status %d", rec.Code)
	}
}

func TestRetiredPin(t *testing.T) {
	ctx := context.Background()
	store := pins.NewMemoryStore(nil)
	if _, _, err := store.PinIfAbsent(ctx, "acct_old", versions.MustParse("2011-01-01")); err != nil {
		t.Fatal(err)
	}
	e := newEcho(t, server.Config{Engine: stripe(t), Account: authAccount, Pins: store})
	customerRoute(e)
	rec := do(e, "GET", "/v1/customers/cus_1", "", "", "Authorization", "Bearer key_acct_old")
	if rec.Code != 400 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	er := stripeError(t, rec.Body.Bytes())
	if er["code"] != server.CodeVersionInvalid || !strings.Contains(er["message"].(string), "2011-01-01") {
		t.Errorf("error = %v", er)
	}
}

func TestSkipper(t *testing.T) {
	e := newEcho(t, server.Config{Engine: stripe(t),
		Skipper: func(r *http.Request) bool { return r.URL.Path == "/health" }})
	e.GET("/health", func(c echo.Context) error {
		return c.String(200, echoversioning.VersionOf(c).String())
	})
	rec := do(e, "GET", "/health", "", "", "Stripe-Version", "garbage")
	if rec.Code != 200 || rec.Header().Get("Stripe-Version") != "" || rec.Body.String() != "" {
		t.Errorf("got %d %q, header %q", rec.Code, rec.Body, rec.Header().Get("Stripe-Version"))
	}
}

func TestConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  server.Config
		err  string
	}{
		{"no engine", server.Config{}, "no Engine"},
		{"bad header", server.Config{Engine: stripe(t), Header: "Stripe Version"}, "not a valid HTTP header"},
		{"negative body limit", server.Config{Engine: stripe(t), MaxBodyBytes: -1}, "negative"},
		{"negative response limit", server.Config{Engine: stripe(t), MaxResponseBytes: -1}, "negative"},
		{"zero values take defaults", server.Config{Engine: stripe(t)}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.cfg.ToMiddleware()
			if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
				t.Errorf("err = %v, want %q", err, tt.err)
			}
		})
	}
	t.Run("the constructors that cannot return an error panic on a bad config", func(t *testing.T) {
		for name, f := range map[string]func(){
			"server.MiddlewareWithConfig": func() { server.MiddlewareWithConfig(server.Config{}) },
			"server.Middleware":           func() { server.Middleware(nil) },
			"echoversioning.Middleware":   func() { echoversioning.Middleware(nil) },
		} {
			func() {
				defer func() {
					if recover() == nil {
						t.Errorf("%s: no panic", name)
					}
				}()
				f()
			}()
		}
		if _, err := echoversioning.New(server.Config{}); err == nil {
			t.Error("echoversioning.New accepted a config with no engine")
		}
	})
	t.Run("the header is the timeline's by default, or configured", func(t *testing.T) {
		for _, tt := range []struct{ header, send string }{{"", "Acme-Version"}, {"x-api-version", "X-Api-Version"}} {
			e := newEcho(t, server.Config{Engine: gated(t), Header: tt.header})
			e.GET("/", func(c echo.Context) error { return c.String(200, echoversioning.VersionOf(c).String()) })
			rec := do(e, "GET", "/", "", "", tt.send, "2023-01-01")
			if rec.Body.String() != "2023-01-01" || rec.Header().Get(tt.send) != "2023-01-01" {
				t.Errorf("header %q: got %q, response header %q", tt.header, rec.Body, rec.Header().Get(tt.send))
			}
		}
	})
}

// TestRealHTTP runs an old client and a newest one against one server on
// 127.0.0.1, with pins, JSON and form bodies.
func TestRealHTTP(t *testing.T) {
	store := pins.NewMemoryStore(nil)
	ctx := context.Background()
	if _, _, err := store.PinIfAbsent(ctx, "acct_old", versions.MustParse("2017-01-27")); err != nil {
		t.Fatal(err)
	}
	e := newEcho(t, server.Config{Engine: stripe(t), Account: authAccount, Pins: store})
	var mu sync.Mutex
	customers := map[string]int64{}
	e.POST("/v1/customers", func(c echo.Context) error {
		var in struct {
			Balance json.Number `json:"balance" form:"balance"`
		}
		if err := c.Bind(&in); err != nil {
			return err
		}
		n, err := in.Balance.Int64()
		if err != nil {
			return apierror.New(400, apierror.TypeInvalidRequest, "parameter_missing", "balance is required")
		}
		mu.Lock()
		id := fmt.Sprintf("cus_%d", len(customers)+1)
		customers[id] = n
		mu.Unlock()
		return c.JSON(200, map[string]any{"id": id, "object": "customer", "balance": n})
	})
	srv := httptest.NewServer(e)
	defer srv.Close()
	for _, tt := range []struct {
		key, ct, body, field string
	}{
		{"acct_old", "application/json", `{"account_balance":5}`, "account_balance"},
		{"acct_old", "application/x-www-form-urlencoded", "account_balance=6", "account_balance"},
		{"acct_new", "application/json", `{"balance":7}`, "balance"},
		{"acct_new", "application/x-www-form-urlencoded", "balance=8", "balance"},
	} {
		req, _ := http.NewRequest("POST", srv.URL+"/v1/customers", strings.NewReader(tt.body))
		req.Header.Set("Authorization", "Bearer key_"+tt.key)
		req.Header.Set("Content-Type", tt.ct)
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Errorf("%s %s: status %d: %s", tt.key, tt.body, res.StatusCode, body)
			continue
		}
		m := decode(t, body)
		if _, ok := m[tt.field]; !ok || res.ContentLength != int64(len(body)) {
			t.Errorf("%s %s: %s (Content-Length %d)", tt.key, tt.body, body, res.ContentLength)
		}
	}
	if len(customers) != 4 {
		t.Errorf("created %d customers, want 4: %v", len(customers), customers)
	}
}

// TestIdempotentReplayRendered: with the idempotency middleware inside
// versioning, what is saved is the newest-schema response, and a replay is
// rendered in the retrying client's version.
func TestIdempotentReplayRendered(t *testing.T) {
	e := echo.New()
	e.HTTPErrorHandler = echoversioning.ErrorHandler
	idem, err := echoidempotency.New(idempotency.Config{Store: idempotency.NewMemoryStore(nil),
		Account: func(r *http.Request) (string, error) {
			return strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer key_"), nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	e.Use(testAuth, echoMW(t, server.Config{Engine: stripe(t)}), idem)
	runs := 0
	e.POST("/v1/customers", func(c echo.Context) error {
		runs++
		return c.JSONBlob(200, []byte(customerJSON))
	})
	for i, tt := range []struct{ version, field string }{
		{"2017-01-27", "account_balance"},
		{"2017-01-27", "account_balance"},
		{newest, "balance"},
	} {
		rec := do(e, "POST", "/v1/customers", "application/x-www-form-urlencoded", "name=Jenny",
			"Stripe-Version", tt.version, "Idempotency-Key", "key-1", "Authorization", "Bearer key_acct_idem")
		if rec.Code != 200 {
			t.Fatalf("request %d: status %d: %s", i, rec.Code, rec.Body)
		}
		if _, ok := decode(t, rec.Body.Bytes())[tt.field]; !ok {
			t.Errorf("request %d at %s: no %q in %s", i, tt.version, tt.field, rec.Body)
		}
		if replayed := rec.Header().Get(idempotency.HeaderReplayed) == "true"; replayed != (i > 0) {
			t.Errorf("request %d: replayed = %v", i, replayed)
		}
	}
	if runs != 1 {
		t.Errorf("the handler ran %d times, want 1", runs)
	}
}

// TestCompressionOutside: echo's Gzip middleware before versioning
// compresses the walked body.
func TestCompressionOutside(t *testing.T) {
	e := echo.New()
	e.HTTPErrorHandler = echoversioning.ErrorHandler
	e.Use(middleware.Gzip(), echoversioning.Middleware(stripe(t)))
	customerRoute(e)
	rec := do(e, "GET", "/v1/customers/cus_1", "", "", "Stripe-Version", "2017-01-27", "Accept-Encoding", "gzip")
	if rec.Code != 200 || rec.Header().Get(echo.HeaderContentEncoding) != "gzip" {
		t.Fatalf("status %d, encoding %q", rec.Code, rec.Header().Get(echo.HeaderContentEncoding))
	}
	zr, err := gzip.NewReader(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := decode(t, body)["account_balance"]; !ok {
		t.Errorf("not walked back: %s", body)
	}
}
