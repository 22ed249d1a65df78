package echoidempotency_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/verso-api/verso/idempotency"
	"github.com/verso-api/verso/idempotency/echoidempotency"
)

const benchResponse = `{"id":"ch_1","object":"charge","amount":2000,"currency":"usd","status":"succeeded"}`

// BenchmarkAdapter measures a POST through an echo server with a memory
// store: plain (no middleware), with a new key each time (claim, run,
// save) and replayed (one key), so that what the adapter adds per request
// shows against idempotency's own BenchmarkIdempotency.
func BenchmarkAdapter(b *testing.B) {
	newEcho := func(mw bool) *echo.Echo {
		e := echo.New()
		if mw {
			e.Use(echoidempotency.Middleware(idempotency.NewMemoryStore(nil)))
		}
		e.POST("/v1/charges", func(c echo.Context) error {
			if _, err := io.ReadAll(c.Request().Body); err != nil {
				return err
			}
			return c.JSONBlob(http.StatusOK, []byte(benchResponse))
		})
		return e
	}
	post := func(b *testing.B, e *echo.Echo, key string) {
		req := httptest.NewRequest(http.MethodPost, "/v1/charges", strings.NewReader(`{"amount":2000}`))
		req.Header.Set("Content-Type", "application/json")
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || rec.Body.String() != benchResponse {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
	b.Run("plain", func(b *testing.B) {
		e := newEcho(false)
		b.ReportAllocs()
		for b.Loop() {
			post(b, e, "")
		}
	})
	b.Run("new_key", func(b *testing.B) {
		e := newEcho(true)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			post(b, e, "bench-"+strconv.Itoa(i))
		}
	})
	b.Run("replay", func(b *testing.B) {
		e := newEcho(true)
		post(b, e, "bench-replay")
		b.ReportAllocs()
		for b.Loop() {
			post(b, e, "bench-replay")
		}
	})
}
