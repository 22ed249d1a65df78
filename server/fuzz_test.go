package server_test

import (
	"encoding/json"
	"io"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/verso-api/verso/server"
	"github.com/verso-api/verso/server/echoversioning"
)

// FuzzVersioning sends arbitrary versions, content types, query strings and
// bodies through the middleware. Whatever comes in, the answer is a status
// the middleware may give, a valid JSON body with a matching
// Content-Length, and no panic.
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
	})
}
