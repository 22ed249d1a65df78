package signature_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/verso-api/verso/webhooks/signature"
)

// A receiver checks each delivery against its endpoint's secret before it
// trusts the body.
func ExampleVerify() {
	const secret = "whsec_5WbX5kEWLlfzsGNjH64I8lOOqUB6e8FH"

	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		payload, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "cannot read body", http.StatusBadRequest)
			return
		}
		err = signature.Verify(payload, r.Header.Get("Stripe-Signature"), secret, 0)
		switch {
		case errors.Is(err, signature.ErrTooOld):
			http.Error(w, "replayed?", http.StatusBadRequest)
		case err != nil:
			http.Error(w, err.Error(), http.StatusBadRequest)
		default:
			fmt.Fprint(w, "ok")
		}
	})

	send := func(body, signedBody string, at time.Time) {
		req := httptest.NewRequest(http.MethodPost, "/webhooks", strings.NewReader(body))
		req.Header.Set("Stripe-Signature", signature.Sign(secret, at, []byte(signedBody)))
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		fmt.Println(rec.Code, strings.TrimSpace(rec.Body.String()))
	}
	event := `{"id":"evt_1","object":"event","type":"customer.created"}`
	send(event, event, time.Now())
	send(strings.Replace(event, "evt_1", "evt_2", 1), event, time.Now())
	send(event, event, time.Now().Add(-time.Hour))
	// Output:
	// 200 ok
	// 400 signature: no signature matches the payload
	// 400 replayed?
}
