// Command receiver receives the Tasks API's webhooks and checks each
// delivery's Stripe-Signature with package webhooks/signature, which
// imports the standard library only: a receiver needs nothing else of
// verso.
//
//	TASKS_WEBHOOK_SECRET=whsec_... go run ./receiver --addr 127.0.0.1:8091
package main

import (
	"errors"
	"flag"
	"io"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/verso-api/verso/webhooks/signature"
)

// maxEvent bounds the body read from a sender.
const maxEvent = 1 << 20

// newHandler verifies each delivery with secret and hands its body to
// received; a delivery that does not verify gets 400 and is dropped.
func newHandler(secret string, received func(event []byte)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		payload, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxEvent))
		if err != nil {
			http.Error(w, "cannot read the body", http.StatusBadRequest)
			return
		}
		// The exact bytes received, before any JSON decoding.
		err = signature.Verify(payload, r.Header.Get(signature.Header), secret, 5*time.Minute)
		switch {
		case errors.Is(err, signature.ErrTooOld):
			http.Error(w, "stale or replayed delivery", http.StatusBadRequest)
			return
		case err != nil:
			http.Error(w, "bad signature", http.StatusBadRequest)
			return
		}
		received(payload)
		w.WriteHeader(http.StatusNoContent)
	})
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8091", "address to listen on")
	flag.Parse()
	secret := os.Getenv("TASKS_WEBHOOK_SECRET")
	if secret == "" {
		log.Fatal("set TASKS_WEBHOOK_SECRET to the endpoint's secret (whsec_...)")
	}
	h := newHandler(secret, func(event []byte) { log.Printf("event: %s", event) })
	log.Printf("webhook receiver on http://%s", *addr)
	srv := &http.Server{Addr: *addr, Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
