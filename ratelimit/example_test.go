package ratelimit_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/verso-api/verso/ratelimit"
)

func ExampleConfig() {
	limit, err := ratelimit.Config{
		// Count per API key (a real server asks its authentication).
		Identifier: func(r *http.Request) (string, error) { return r.Header.Get("Authorization"), nil },
		Default:    ratelimit.Per(100, time.Second),
		Routes:     map[string]ratelimit.Limit{"POST /v1/charges": ratelimit.Per(2, time.Minute)},
	}.ToMiddleware()
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /v1/charges", limit(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "charged")
	})))

	for range 3 {
		req := httptest.NewRequest(http.MethodPost, "/v1/charges", nil)
		req.Header.Set("Authorization", "Bearer sk_test_123")
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		fmt.Println(rec.Code, rec.Header().Get("X-RateLimit-Remaining"), rec.Header().Get("Retry-After"), rec.Body.String())
	}
	// Output:
	// 200 1  charged
	// 200 0  charged
	// 429 0 30 {"error":{"type":"rate_limit_error","code":"rate_limit","message":"Too many requests hit the API too quickly. Retry after the number of seconds in the Retry-After header, with exponential backoff."}}
}
