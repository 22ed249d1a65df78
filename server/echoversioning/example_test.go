package echoversioning_test

import (
	"fmt"
	"net/http/httptest"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/server"
	"github.com/verso-api/verso/server/echoversioning"
	"github.com/verso-api/verso/transform"
	"github.com/verso-api/verso/versions"
)

func ExampleNew() {
	timeline := gates.MustNewTimeline(gates.Spec{Versions: []gates.Version{
		{ID: versions.MustParse("2019-10-17"), Changes: []gates.Change{{
			ID:          "customer_balance",
			Description: "`account_balance` on Customer is renamed to `balance`.",
			Resources:   []string{"customer"},
			Endpoints:   []gates.Endpoint{{Method: "POST", Path: "/v1/customers"}},
			Ops:         []gates.Op{gates.Rename("balance", "account_balance")},
		}}},
		{ID: versions.MustParse("2015-02-18")},
	}}, nil)

	versioning, err := echoversioning.New(server.Config{Engine: transform.New(timeline, nil)})
	if err != nil {
		panic(err)
	}
	e := echo.New()
	e.HTTPErrorHandler = echoversioning.ErrorHandler
	e.Use(versioning)
	// The handler knows only the newest schema.
	e.POST("/v1/customers", func(c echo.Context) error {
		var in struct {
			Balance int `json:"balance"`
		}
		if err := c.Bind(&in); err != nil {
			return err
		}
		return c.JSON(200, map[string]any{"id": "cus_1", "object": "customer", "balance": in.Balance})
	})

	for _, tc := range []struct{ version, body string }{
		{"2015-02-18", `{"account_balance":5}`},
		{"2019-10-17", `{"balance":5}`},
		{"2001-01-01", `{}`},
	} {
		req := httptest.NewRequest("POST", "/v1/customers", strings.NewReader(tc.body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Stripe-Version", tc.version)
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		fmt.Println(rec.Code, rec.Header().Get("Stripe-Version"), strings.TrimSpace(rec.Body.String()))
	}
	// Output:
	// 200 2015-02-18 {"account_balance":5,"id":"cus_1","object":"customer"}
	// 200 2019-10-17 {"balance":5,"id":"cus_1","object":"customer"}
	// 400  {"error":{"type":"invalid_request_error","code":"api_version_invalid","message":"Invalid API version \"2001-01-01\" in the Stripe-Version header: this version is not supported. Supported versions: 2019-10-17, 2015-02-18."}}
}
