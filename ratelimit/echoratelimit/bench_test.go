package echoratelimit_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/verso-api/verso/ratelimit"
	"github.com/verso-api/verso/ratelimit/echoratelimit"
)

// BenchmarkAdapter measures a GET through an echo server: plain (no
// limiter), and with the limiter per client address (echo's IPExtractor)
// on a route with a limit of its own (echo's route path), so that what the
// adapter adds per request shows against plain.
func BenchmarkAdapter(b *testing.B) {
	for _, bc := range []struct {
		name    string
		limited bool
	}{{"plain", false}, {"limited", true}} {
		b.Run(bc.name, func(b *testing.B) {
			e := echo.New()
			e.IPExtractor = echo.ExtractIPFromXFFHeader()
			if bc.limited {
				mw, err := echoratelimit.New(ratelimit.Config{
					Default: ratelimit.Limit{Rate: 1e9, Burst: 1 << 20},
					Routes:  map[string]ratelimit.Limit{"GET /v1/customers/:id": {Rate: 1e9, Burst: 1 << 20}},
				})
				if err != nil {
					b.Fatal(err)
				}
				e.Use(mw)
			}
			e.GET("/v1/customers/:id", func(c echo.Context) error { return c.NoContent(http.StatusOK) })
			req := httptest.NewRequest(http.MethodGet, "/v1/customers/cus_1", nil)
			req.Header.Set("X-Forwarded-For", "203.0.113.1")
			rec := httptest.NewRecorder()
			b.ReportAllocs()
			for b.Loop() {
				clear(rec.Header())
				e.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatal(rec.Code)
				}
			}
			if bc.limited && rec.Header().Get(ratelimit.HeaderLimit) != "1048576" {
				b.Fatalf("the route's limit was not used: %v", rec.Header())
			}
		})
	}
}
