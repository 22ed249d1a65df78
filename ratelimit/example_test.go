package ratelimit_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/verso-api/verso/ratelimit"
)

func ExampleWithConfig() {
	e := echo.New()
	e.Use(ratelimit.WithConfig(ratelimit.Config{
		// Count per API key (a real server asks its authentication).
		Identifier: func(c echo.Context) (string, error) { return c.Request().Header.Get("Authorization"), nil },
		Default:    ratelimit.Per(100, time.Second),
		Routes:     map[string]ratelimit.Limit{"POST /v1/charges": ratelimit.Per(2, time.Minute)},
	}))
	e.POST("/v1/charges", func(c echo.Context) error { return c.String(http.StatusOK, "charged") })

	for range 3 {
		req := httptest.NewRequest(http.MethodPost, "/v1/charges", nil)
		req.Header.Set("Authorization", "Bearer sk_test_123")
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		fmt.Println(rec.Code, rec.Header().Get("X-RateLimit-Remaining"), rec.Header().Get("Retry-After"), rec.Body.String())
	}
	// Output:
	// 200 1  charged
	// 200 0  charged
	// 429 0 30 {"error":{"type":"rate_limit_error","code":"rate_limit","message":"Too many requests hit the API too quickly. Retry after the number of seconds in the Retry-After header, with exponential backoff."}}
}
