package idempotency_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/verso-api/verso/idempotency"
)

func Example() {
	charges := 0
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/charges", func(w http.ResponseWriter, r *http.Request) {
		charges++
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"ch_%d","amount":%q}`, charges, r.FormValue("amount"))
	})
	h := idempotency.Middleware(idempotency.NewMemoryStore(nil))(mux)

	post := func(contentType, body string) {
		req := httptest.NewRequest(http.MethodPost, "/v1/charges", strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("Idempotency-Key", "order-1234")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		b, _ := io.ReadAll(rec.Body)
		fmt.Println(rec.Code, rec.Header().Get("Idempotent-Replayed"), string(b))
	}
	post("application/x-www-form-urlencoded", "amount=2000&currency=usd")
	post("application/json", `{"currency":"usd","amount":2000}`) // the same parameters: replayed
	post("application/json", `{"currency":"usd","amount":3000}`) // different ones: refused
	fmt.Println("charges made:", charges)
	// Output:
	// 200  {"id":"ch_1","amount":"2000"}
	// 200 true {"id":"ch_1","amount":"2000"}
	// 400  {"error":{"type":"idempotency_error","code":"idempotency_key_reused","message":"Keys for idempotent requests can only be used with the same request: Idempotency-Key \"order-1234\" was first used with different parameters for POST /v1/charges. Use a new key for a different request."}}
	// charges made: 1
}
