package server_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/tidwall/gjson"

	"github.com/verso-api/verso/server"
	"github.com/verso-api/verso/server/echoversioning"
	"github.com/verso-api/verso/versions"
)

// costRounds is how many times BenchmarkCost runs each case per iteration,
// taking turns, so that one run with -benchtime 1x gives steady ratios.
const costRounds = 61

// BenchmarkCost states what versioning costs in gjson.Valid scans of the
// same body, measured in one run with the cases taking turns (a round runs
// each case in a row; each case's time is that of its fastest round, as
// the load of a shared machine only ever adds to it): testdata/charge.json
// (3.6 KB) and a list of 100 of them (360 KB), walked back across ten
// versions.
//
//   - engine/valid: Plan.AppendApply into a reused buffer, alone;
//   - http/valid and echo/valid: (the middleware at the oldest version −
//     the same handler with no middleware) / Valid, through net/http's
//     ServeMux and through echo;
//   - http-newest/valid and echo-newest/valid: the same at the newest
//     version, where the body streams through.
//
// Run it with
//
//	go test -run '^$' -bench Cost -benchtime 1x ./server/
func BenchmarkCost(b *testing.B) {
	charge := chargeJSON(b)
	engine := benchTimeline(b)
	plan, err := engine.Plan(versions.MustParse("2025-10-01"), versions.MustParse("2024-12-01"))
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		body []byte
	}{{"charge", charge}, {"list100", chargeList(charge, 100)}} {
		b.Run(bc.name, func(b *testing.B) {
			body := bc.body
			mux := http.NewServeMux()
			mux.HandleFunc("GET /v1/charges", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write(body)
			})
			versionedMux := server.Middleware(engine)(mux)
			handler := func(c echo.Context) error { return c.JSONBlob(http.StatusOK, body) }
			plainEcho := echo.New()
			plainEcho.GET("/v1/charges", handler)
			versionedEcho := echo.New()
			versionedEcho.Use(echoversioning.Middleware(engine))
			versionedEcho.GET("/v1/charges", handler)

			var out []byte
			serve := func(h http.Handler, version string) func() {
				req := httptest.NewRequest("GET", "/v1/charges", nil)
				if version != "" {
					req.Header.Set("Stripe-Version", version)
				}
				w := &sinkWriter{h: http.Header{}}
				return func() {
					clear(w.h)
					w.buf, w.status = w.buf[:0], 0
					h.ServeHTTP(w, req)
				}
			}
			cases := []costCase{
				{"valid", func() { gjson.ValidBytes(body) }},
				{"engine", func() { out, _ = plan.AppendApply(out[:0], body) }},
			}
			add := func(name string, h http.Handler, version, want string) {
				req := httptest.NewRequest("GET", "/v1/charges", nil)
				if version != "" {
					req.Header.Set("Stripe-Version", version)
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK || !bytes.Contains(rec.Body.Bytes(), []byte(want)) {
					b.Fatalf("%s: status %d, no %s in the response", name, rec.Code, want)
				}
				cases = append(cases, costCase{name, serve(h, version)})
			}
			add("http/plain", mux, "", `"status": "succeeded"`)
			add("http/newest", versionedMux, "2025-10-01", `"status": "succeeded"`)
			add("http/back10", versionedMux, "2024-12-01", `"status": "paid"`)
			add("echo/plain", plainEcho, "", `"status": "succeeded"`)
			add("echo/newest", versionedEcho, "2025-10-01", `"status": "succeeded"`)
			add("echo/back10", versionedEcho, "2024-12-01", `"status": "paid"`)

			// Each case runs k times in a row, about 50 µs, then the next.
			k := max(1, 50_000/(len(body)/2))
			times := make([][]float64, len(cases)) // ns per run, per round
			for b.Loop() {
				for range costRounds {
					for i, c := range cases {
						t0 := time.Now()
						for range k {
							c.run()
						}
						times[i] = append(times[i], float64(time.Since(t0).Nanoseconds())/float64(k))
					}
				}
			}
			at := func(name string) []float64 {
				for i, c := range cases {
					if c.name == name {
						return times[i]
					}
				}
				b.Fatalf("no case %s", name)
				return nil
			}
			fastest := func(name string) float64 { return slices.Min(at(name)) }
			valid := fastest("valid")
			b.ReportMetric(fastest("engine")/valid, "engine/valid")
			for _, form := range []string{"http", "echo"} {
				plain := fastest(form + "/plain")
				b.ReportMetric((fastest(form+"/back10")-plain)/valid, form+"/valid")
				b.ReportMetric((fastest(form+"/newest")-plain)/valid, form+"-newest/valid")
			}
			b.ReportMetric(valid, "valid-ns")
		})
	}
}

// costCase is one thing BenchmarkCost times.
type costCase struct {
	name string
	run  func()
}

// sinkWriter is the response writer of BenchmarkCost: it keeps the body in
// a buffer it reuses, as a server copies it to its connection's.
type sinkWriter struct {
	h      http.Header
	buf    []byte
	status int
}

func (w *sinkWriter) Header() http.Header { return w.h }

func (w *sinkWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *sinkWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.buf = append(w.buf, p...)
	return len(p), nil
}

// chargeList returns a list object of n copies of charge.
func chargeList(charge []byte, n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"object":"list","url":"/v1/charges","has_more":true,"data":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(bytes.TrimSpace(charge))
	}
	b.WriteString("]}")
	return b.Bytes()
}
