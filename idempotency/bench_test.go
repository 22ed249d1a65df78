package idempotency_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/verso-api/verso/apierror"
	"github.com/verso-api/verso/idempotency"
	"github.com/verso-api/verso/storage"
)

const (
	benchRequest  = `{"amount":2000,"currency":"usd","source":"tok_visa","description":"Charge for order 1234","metadata":{"order_id":"1234"}}`
	benchResponse = `{"id":"ch_3Vrs0rSample00snN0B15","object":"charge","amount":2000,"amount_captured":2000,"amount_refunded":0,` +
		`"balance_transaction":"txn_3Vrs0rSample00uke3Ezy","captured":true,"created":1679090539,"currency":"usd",` +
		`"description":"Charge for order 1234","livemode":false,"metadata":{"order_id":"1234"},"paid":true,` +
		`"payment_method":"card_1Vrs0rSample0IJwEWSNR","refunded":false,"status":"succeeded"}`
)

// BenchmarkIdempotency measures a POST through net/http: plain (no
// middleware), with a new key each time (claim, run, save) and replayed
// (one key), on a SQLite file and in memory.
func BenchmarkIdempotency(b *testing.B) {
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			apierror.Write(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, benchResponse)
	})
	sqlite := func(b *testing.B) idempotency.Store {
		ctx := context.Background()
		db, err := storage.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
		s, err := idempotency.NewSQLStore(ctx, db, nil)
		if err != nil {
			b.Fatal(err)
		}
		return s
	}
	memory := func(*testing.B) idempotency.Store { return idempotency.NewMemoryStore(nil) }
	post := func(b *testing.B, h http.Handler, key string) {
		req := httptest.NewRequest(http.MethodPost, "/v1/charges", strings.NewReader(benchRequest))
		req.Header.Set("Content-Type", "application/json")
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || rec.Body.Len() != len(benchResponse) {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}

	b.Run("plain", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(benchResponse)))
		for b.Loop() {
			post(b, handler, "")
		}
	})
	for _, s := range []struct {
		prefix string
		open   func(*testing.B) idempotency.Store
	}{{"", sqlite}, {"memory_", memory}} {
		b.Run(s.prefix+"new_key", func(b *testing.B) {
			h := idempotency.Middleware(s.open(b))(handler)
			b.ReportAllocs()
			b.SetBytes(int64(len(benchResponse)))
			i := 0
			for b.Loop() {
				i++
				post(b, h, "bench-"+strconv.Itoa(i))
			}
		})
		b.Run(s.prefix+"replay", func(b *testing.B) {
			h := idempotency.Middleware(s.open(b))(handler)
			post(b, h, "bench-replay")
			b.ReportAllocs()
			b.SetBytes(int64(len(benchResponse)))
			for b.Loop() {
				post(b, h, "bench-replay")
			}
		})
	}
}
