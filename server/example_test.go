package server_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/verso-api/verso/apierror"
	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/server"
	"github.com/verso-api/verso/transform"
	"github.com/verso-api/verso/versions"
)

func Example() {
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

	mux := http.NewServeMux()
	// The handler knows only the newest schema.
	mux.HandleFunc("POST /v1/customers", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"cus_1","object":"customer","balance":%s}`, strings.TrimPrefix(strings.TrimSuffix(string(body), "}"), `{"balance":`))
	})
	handler := server.Middleware(transform.New(timeline, nil))(mux)

	for _, tc := range []struct{ version, body string }{
		{"2015-02-18", `{"account_balance":5}`},
		{"2019-10-17", `{"balance":5}`},
		{"2001-01-01", `{}`},
	} {
		req := httptest.NewRequest("POST", "/v1/customers", strings.NewReader(tc.body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Stripe-Version", tc.version)
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		fmt.Println(rec.Code, rec.Header().Get("Stripe-Version"), rec.Body.String())
	}
	// Output:
	// 200 2015-02-18 {"id":"cus_1","object":"customer","account_balance":5}
	// 200 2019-10-17 {"id":"cus_1","object":"customer","balance":5}
	// 400  {"error":{"type":"invalid_request_error","code":"api_version_invalid","message":"Invalid API version \"2001-01-01\" in the Stripe-Version header: this version is not supported. Supported versions: 2019-10-17, 2015-02-18."}}
}

// An API declares its error shape (the timeline's errors key, or
// Config.ErrorShape); the middleware's own errors are written in it, and
// the handlers' too when they use apierror.Write.
func ExampleConfig_errorShape() {
	timeline := gates.MustNewTimeline(gates.Spec{
		Header:     "Api-Version",
		ErrorShape: apierror.Problem("https://api.example.com/errors/"),
		Versions:   []gates.Version{{ID: versions.MustParse("2024-01-01")}},
	}, nil)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
		apierror.Write(w, r, apierror.New(404, apierror.TypeInvalidRequest, "resource_missing", "No such user: "+r.PathValue("id")).WithParam("id"))
	})
	handler := server.MiddlewareWithConfig(server.Config{Engine: transform.New(timeline, nil)})(mux)
	for _, version := range []string{"2024-01-01", "2023-01-01"} {
		req := httptest.NewRequest("GET", "/v1/users/u_9", nil)
		req.Header.Set("Api-Version", version)
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		fmt.Println(rec.Code, rec.Header().Get("Content-Type"))
		fmt.Println(rec.Body.String())
	}
	// Output:
	// 404 application/problem+json
	// {"type":"https://api.example.com/errors/resource_missing","title":"Not Found","status":404,"detail":"No such user: u_9","code":"resource_missing","param":"id"}
	// 400 application/problem+json
	// {"type":"https://api.example.com/errors/api_version_invalid","title":"Bad Request","status":400,"detail":"Invalid API version \"2023-01-01\" in the Api-Version header: this version is not supported. Supported versions: 2024-01-01.","code":"api_version_invalid"}
}
