package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/verso-api/verso/apierror"
	"github.com/verso-api/verso/server"
	"github.com/verso-api/verso/server/echoversioning"
)

// FuzzVersioning sends arbitrary versions, content types, query strings and
// bodies through both forms of the middleware. Whatever comes in, the
// answer is a status the middleware may give, a valid JSON body with a
// matching Content-Length, the same in both forms, and no panic.
func FuzzVersioning(f *testing.F) {
	f.Add("2017-01-27", "application/json", "", `{"account_balance":5}`)
	f.Add("2014-12-22", "application/x-www-form-urlencoded", "expand[]=sources", "account_balance=5&cards[0][id]=card_1")
	f.Add("2024-04-10", "application/json; charset=utf-8", "", `{"amount":"12"}`)
	f.Add("2015-02-18", "application/vnd.api+json", "a[b][c]=1", `[{"object":"customer","balance":1}]`)
	f.Add("", "text/plain", "account_balance=1", "hello")
	f.Add("2099-01-01", "application/json", "", `{`)
	f.Add("2019-10-17", "APPLICATION/JSON", "%zz", `{"a":[[[[[[1]]]]]]}`)

	e := echo.New()
	e.HTTPErrorHandler = echoversioning.ErrorHandler
	e.Use(echoMW(f, server.Config{Engine: stripe(f), MaxBodyBytes: 4096}))
	// The handler returns a customer holding what it received, so that the
	// response walk meets whatever the request walk let through.
	handler := func(c echo.Context) error {
		b, err := io.ReadAll(c.Request().Body)
		if err != nil {
			return err
		}
		got := json.RawMessage("null")
		if json.Valid(b) && len(b) > 0 {
			got = b
		}
		return c.JSON(200, map[string]any{"object": "customer", "balance": 1, "got": got, "query": c.QueryParams()})
	}
	e.POST("/v1/customers", handler)
	e.POST("/v1/charges", handler)

	// The net/http form, with the same handler.
	mux := http.NewServeMux()
	echoed := func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			apierror.Write(w, r, err)
			return
		}
		got := json.RawMessage("null")
		if json.Valid(b) && len(b) > 0 {
			got = b
		}
		body, _ := json.Marshal(map[string]any{"object": "customer", "balance": 1, "got": got, "query": r.URL.Query()})
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}
	mux.HandleFunc("POST /v1/customers", echoed)
	mux.HandleFunc("POST /v1/charges", echoed)
	std := server.MiddlewareWithConfig(server.Config{Engine: stripe(f), MaxBodyBytes: 4096})(mux)

	f.Fuzz(func(t *testing.T, version, contentType, query, body string) {
		target := "/v1/customers"
		if len(body)%2 == 1 {
			target = "/v1/charges"
		}
		req := httptest.NewRequest("POST", target, strings.NewReader(body))
		req.URL.RawQuery = query
		req.Header.Set("Content-Type", contentType)
		if version != "" {
			req.Header.Set("Stripe-Version", version)
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		check(t, rec)
		req = httptest.NewRequest("POST", target, strings.NewReader(body))
		req.URL.RawQuery = query
		req.Header.Set("Content-Type", contentType)
		if version != "" {
			req.Header.Set("Stripe-Version", version)
		}
		srec := httptest.NewRecorder()
		std.ServeHTTP(srec, req)
		check(t, srec)
		if srec.Code != rec.Code {
			t.Fatalf("net/http answered %d, echo %d:\n%s\n%s", srec.Code, rec.Code, srec.Body, rec.Body)
		}
	})
}

// check fails t unless rec holds an answer the middleware may give.
func check(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	switch rec.Code {
	case 200, 400, 413, 500:
	default:
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if !json.Valid(rec.Body.Bytes()) {
		t.Fatalf("status %d, body not JSON: %q", rec.Code, rec.Body)
	}
	if cl := rec.Header().Get("Content-Length"); cl != "" && cl != strconv.Itoa(rec.Body.Len()) {
		t.Fatalf("Content-Length %s for %d bytes", cl, rec.Body.Len())
	}
	if rec.Code != 200 {
		// A 500 is a response the handler echoed that cannot walk back
		// (say {"object":"charge","amount":"x"}); it is Stripe-shaped.
		var er struct {
			Error struct{ Type, Message string }
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &er); err != nil || er.Error.Type == "" || er.Error.Message == "" {
			t.Fatalf("status %d, not a Stripe error: %s", rec.Code, rec.Body)
		}
	}
}
