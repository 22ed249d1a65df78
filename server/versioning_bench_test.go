package server_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/tidwall/gjson"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/server"
	"github.com/verso-api/verso/server/echoversioning"
	"github.com/verso-api/verso/transform"
	"github.com/verso-api/verso/versions"
)

// benchTimeline has eleven versions: ten, each changing one or two fields
// of a charge, over a base. Walking testdata/charge.json from the newest
// to the base crosses all ten.
func benchTimeline(tb testing.TB) *transform.Engine {
	tb.Helper()
	change := func(id string, ops ...gates.Op) []gates.Change {
		return []gates.Change{{ID: id, Description: id + ".", Resources: []string{"charge"}, Ops: ops}}
	}
	list := func() map[string]any { return map[string]any{"object": "list", "data": []any{}, "has_more": false} }
	v := versions.MustParse
	tl, err := gates.NewTimeline(gates.Spec{Versions: []gates.Version{
		{ID: v("2025-10-01"), Changes: change("amount_string", gates.Retype("amount", gates.Integer, gates.String))},
		{ID: v("2025-09-01"), Changes: change("captured_string", gates.Retype("amount_captured", gates.Integer, gates.String))},
		{ID: v("2025-08-01"), Changes: change("refunded_string", gates.Retype("amount_refunded", gates.Integer, gates.String))},
		{ID: v("2025-07-01"), Changes: change("postal_code", gates.Rename("billing_details.address.postal_code", "billing_details.address.zip"))},
		{ID: v("2025-06-01"), Changes: change("disputed", gates.Added("disputed"), gates.RemovedDefault("dispute", nil))},
		{ID: v("2025-05-01"), Changes: change("refunds", gates.RemovedDefault("refunds", list()))},
		{ID: v("2025-04-01"), Changes: change("status_succeeded", gates.Enum("status", map[string]string{"succeeded": "paid"}))},
		{ID: v("2025-03-01"), Changes: change("source", gates.RemovedFrom("card", "source"))},
		{ID: v("2025-02-01"), Changes: change("payment_method_details", gates.Rename("payment_method_details", "payment_details"))},
		{ID: v("2025-01-01"), Changes: change("receipt", gates.Rename("receipt_email", "email_receipt"), gates.Added("calculated_statement_descriptor"))},
		{ID: v("2024-12-01")},
	}}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return transform.New(tl, nil)
}

func chargeJSON(tb testing.TB) []byte {
	tb.Helper()
	b, err := os.ReadFile("testdata/charge.json")
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// BenchmarkMiddleware serves testdata/charge.json (3.6 KB) through echo and
// through net/http's ServeMux: plain, with no versioning; newest, through
// the middleware at the newest version; back10, walked back across ten
// versions. BenchmarkValid is gjson.Valid over the same bytes: the cost of
// versioning is stated as (back10 - plain) / Valid, a ratio that travels
// between machines.
func BenchmarkMiddleware(b *testing.B) {
	charge := chargeJSON(b)
	engine := benchTimeline(b)

	handler := func(c echo.Context) error { return c.JSONBlob(http.StatusOK, charge) }
	plainEcho := echo.New()
	plainEcho.GET("/v1/charges/:id", handler)
	versionedEcho := echo.New()
	versionedEcho.Use(echoversioning.Middleware(engine))
	versionedEcho.GET("/v1/charges/:id", handler)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/charges/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(charge)
	})
	versionedMux := server.Middleware(engine)(mux)

	for _, bc := range []struct {
		name    string
		h       http.Handler
		version string
		want    string // a fragment of the response
	}{
		{"echo/plain", plainEcho, "", `"status": "succeeded"`},
		{"echo/newest", versionedEcho, "2025-10-01", `"status": "succeeded"`},
		{"echo/back10", versionedEcho, "2024-12-01", `"status": "paid"`},
		{"http/plain", mux, "", `"status": "succeeded"`},
		{"http/newest", versionedMux, "2025-10-01", `"status": "succeeded"`},
		{"http/back10", versionedMux, "2024-12-01", `"status": "paid"`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			req := httptest.NewRequest("GET", "/v1/charges/ch_1", nil)
			if bc.version != "" {
				req.Header.Set("Stripe-Version", bc.version)
			}
			rec := httptest.NewRecorder()
			bc.h.ServeHTTP(rec, req)
			if rec.Code != 200 || !bytes.Contains(rec.Body.Bytes(), []byte(bc.want)) {
				b.Fatalf("status %d, no %s in %s", rec.Code, bc.want, rec.Body)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(charge)))
			for b.Loop() {
				bc.h.ServeHTTP(httptest.NewRecorder(), req)
			}
		})
	}
}

// BenchmarkValid is gjson.Valid over testdata/charge.json and a list of
// 100 of them: the yardstick BenchmarkMiddleware's and BenchmarkCost's
// costs are stated in.
func BenchmarkValid(b *testing.B) {
	for _, bc := range costBodies(b) {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.body)))
			for b.Loop() {
				if !gjson.ValidBytes(bc.body) {
					b.Fatal("invalid")
				}
			}
		})
	}
}

// BenchmarkWalkBack10 is the engine's share of BenchmarkMiddleware/back10
// and BenchmarkCost's engine case: the same walk into a reused buffer, as
// the middleware does, with no HTTP around it.
func BenchmarkWalkBack10(b *testing.B) {
	p, err := benchTimeline(b).Plan(versions.MustParse("2025-10-01"), versions.MustParse("2024-12-01"))
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range costBodies(b) {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.body)))
			var out []byte
			for b.Loop() {
				if out, err = p.AppendApply(out[:0], bc.body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// costBodies are the bodies BenchmarkCost measures: testdata/charge.json
// and a list of 100 of them.
func costBodies(tb testing.TB) []struct {
	name string
	body []byte
} {
	charge := chargeJSON(tb)
	return []struct {
		name string
		body []byte
	}{{"charge", charge}, {"list100", chargeList(charge, 100)}}
}

// TestNewestAddsNoBytePerBodyByte checks that at the newest version the
// middleware allocates the same few bytes whatever the size of the body:
// it never buffers or copies a response it does not walk. At an older
// version it buffers and walks the body in pooled buffers, so it does not
// allocate per byte either once warm. A handler that copies the body shows
// that the measurement sees per-byte allocations (the check can fail).
func TestNewestAddsNoBytePerBodyByte(t *testing.T) {
	for _, size := range []int{4 << 10, 256 << 10} {
		body := []byte(`{"object":"charge","pad":"` + string(bytes.Repeat([]byte("x"), size)) + `"}`)
		handler := func(c echo.Context) error { return c.JSONBlob(http.StatusOK, body) }
		plain := echo.New()
		plain.GET("/", handler)
		versioned := echo.New()
		versioned.Use(echoversioning.Middleware(benchTimeline(t)))
		versioned.GET("/", handler)
		perOp := func(e *echo.Echo, version string) int64 {
			req := httptest.NewRequest("GET", "/", nil)
			req.Header.Set("Stripe-Version", version)
			// One recorder, reset each time, so that its own buffer does
			// not count.
			rec := httptest.NewRecorder()
			serve := func() {
				rec.Body.Reset()
				clear(rec.Header())
				e.ServeHTTP(rec, req)
			}
			for range 10 {
				serve()
			}
			const n = 200
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			for range n {
				serve()
			}
			runtime.ReadMemStats(&after)
			return int64(after.TotalAlloc-before.TotalAlloc) / n
		}
		base := perOp(plain, "")
		if extra := perOp(versioned, "2025-10-01") - base; extra > 1024 {
			t.Errorf("newest, body of %d bytes: the middleware allocates %d bytes more than plain echo", size, extra)
		}
		// A pool emptied by the GC costs a refill now and then: allow a
		// small fraction of one copy of the body per request on average.
		if extra := perOp(versioned, "2024-12-01") - base; extra > 1024+int64(size)/8 && !raceEnabled {
			t.Errorf("older, body of %d bytes: the middleware allocates %d bytes more than plain echo", size, extra)
		}
		copying := echo.New()
		copying.GET("/", func(c echo.Context) error { return c.JSONBlob(http.StatusOK, append([]byte(nil), body...)) })
		if extra := perOp(copying, "") - base; extra < int64(size) {
			t.Errorf("body of %d bytes: a handler copying it allocates only %d bytes more; the check is broken", size, extra)
		}
	}
}
