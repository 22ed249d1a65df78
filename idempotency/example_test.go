package idempotency_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/verso-api/verso/idempotency"
)

func Example() {
	charges := 0
	e := echo.New()
	e.Use(idempotency.New(idempotency.NewMemoryStore()))
	e.POST("/v1/charges", func(c echo.Context) error {
		charges++
		return c.JSON(http.StatusOK, map[string]any{"id": fmt.Sprint("ch_", charges), "amount": c.FormValue("amount")})
	})

	post := func(contentType, body string) {
		req := httptest.NewRequest(http.MethodPost, "/v1/charges", strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("Idempotency-Key", "order-1234")
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		fmt.Println(rec.Code, rec.Header().Get("Idempotent-Replayed"), strings.TrimSpace(rec.Body.String()))
	}
	post("application/x-www-form-urlencoded", "amount=2000&currency=usd")
	post("application/json", `{"currency":"usd","amount":2000}`) // the same parameters: replayed
	post("application/json", `{"currency":"usd","amount":3000}`) // different ones: refused
	fmt.Println("charges made:", charges)
	// Output:
	// 200  {"amount":"2000","id":"ch_1"}
	// 200 true {"amount":"2000","id":"ch_1"}
	// 400  {"error":{"type":"idempotency_error","code":"idempotency_key_reused","message":"Keys for idempotent requests can only be used with the same request: Idempotency-Key \"order-1234\" was first used with different parameters for POST /v1/charges. Use a new key for a different request."}}
	// charges made: 1
}
