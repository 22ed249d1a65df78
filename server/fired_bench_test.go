package server_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/verso-api/verso/reports"
	"github.com/verso-api/verso/server"
	"github.com/verso-api/verso/server/echoversioning"
)

// BenchmarkMiddlewareFired is BenchmarkMiddleware's newest and back10 with
// an account, without and with the changes that fire recorded
// (reports.Recorder into a memory store, every request sampled): what
// upgrade reports cost a request. Compare each "fired" line with the one
// before it.
func BenchmarkMiddlewareFired(b *testing.B) {
	charge := chargeJSON(b)
	engine := benchTimeline(b)
	recorder, err := reports.NewRecorder(engine.Timeline(), reports.NewMemoryStore(nil), nil)
	if err != nil {
		b.Fatal(err)
	}
	account := func(*http.Request) (string, error) { return "acct_1", nil }
	handler := func(c echo.Context) error { return c.JSONBlob(http.StatusOK, charge) }
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/charges/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(charge)
	})
	forms := map[string]http.Handler{}
	for _, fired := range []server.FiredRecorder{nil, recorder} {
		cfg := server.Config{Engine: engine, Account: account, Fired: fired}
		mw, err := echoversioning.New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		e := echo.New()
		e.Use(mw)
		e.GET("/v1/charges/:id", handler)
		name := ""
		if fired != nil {
			name = "-fired"
		}
		forms["echo"+name] = e
		forms["http"+name] = server.MiddlewareWithConfig(cfg)(mux)
	}
	for _, bc := range []struct {
		name, form, version, want string
	}{
		{"echo/newest", "echo", "2025-10-01", `"status": "succeeded"`},
		{"echo/newest-fired", "echo-fired", "2025-10-01", `"status": "succeeded"`},
		{"echo/back10", "echo", "2024-12-01", `"status": "paid"`},
		{"echo/back10-fired", "echo-fired", "2024-12-01", `"status": "paid"`},
		{"http/newest", "http", "2025-10-01", `"status": "succeeded"`},
		{"http/newest-fired", "http-fired", "2025-10-01", `"status": "succeeded"`},
		{"http/back10", "http", "2024-12-01", `"status": "paid"`},
		{"http/back10-fired", "http-fired", "2024-12-01", `"status": "paid"`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			h := forms[bc.form]
			req := httptest.NewRequest("GET", "/v1/charges/ch_1", nil)
			req.Header.Set("Stripe-Version", bc.version)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != 200 || !bytes.Contains(rec.Body.Bytes(), []byte(bc.want)) {
				b.Fatalf("status %d, no %s in %s", rec.Code, bc.want, rec.Body)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(charge)))
			for b.Loop() {
				h.ServeHTTP(httptest.NewRecorder(), req)
			}
		})
	}
	if recorder.Dropped() != 0 {
		b.Fatalf("%d requests dropped", recorder.Dropped())
	}
}
