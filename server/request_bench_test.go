package server_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/verso-api/verso/server"
)

// BenchmarkRequestUpgrade sends a 70-byte JSON body at the base version of
// testdata/stripe.yaml through the net/http middleware, on an endpoint no
// change names and on one that three changes name: the cost of walking a
// request forward, over a handler that reads the body and answers 204.
func BenchmarkRequestUpgrade(b *testing.B) {
	engine := stripe(b)
	base := engine.Timeline().Versions().Base().String()
	h := server.Middleware(engine)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	}))
	for _, bc := range []struct{ name, path, body string }{
		{"unnamed", "/v1/invoices/in_1", `{"description":"Order 6735","metadata":{"order":"6735","n":"12345"}}`},
		{"named", "/v1/customers/cus_1", `{"account_balance":500,"email":"a@example.com","cards":["card_1"]}`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			body := []byte(bc.body)
			rd := bytes.NewReader(body)
			req := httptest.NewRequest("POST", bc.path, rd)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Stripe-Version", base)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusNoContent {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				rd.Reset(body)
				req.Body = io.NopCloser(rd)
				h.ServeHTTP(rec, req)
			}
		})
	}
}
