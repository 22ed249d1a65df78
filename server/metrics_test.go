package server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/verso-api/verso/pins"
	"github.com/verso-api/verso/prom"
	"github.com/verso-api/verso/server"
	"github.com/verso-api/verso/versions"
)

func counterValue(t testing.TB, c prometheus.Counter) float64 {
	t.Helper()
	return testutil.ToFloat64(c)
}

func histogramCount(t testing.TB, o prometheus.Observer) uint64 {
	t.Helper()
	var m dto.Metric
	if err := o.(prometheus.Metric).Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetHistogram().GetSampleCount()
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := prom.NewMetrics(reg)
	if again := prom.NewMetrics(reg); again.Requests != m.Requests {
		t.Error("a second NewMetrics on one registry did not reuse the registered collectors")
	}
	store := pins.NewMemoryStore(nil)
	if _, _, err := store.PinIfAbsent(context.Background(), "acct_old", versions.MustParse("2017-01-27")); err != nil {
		t.Fatal(err)
	}
	e := newEcho(t, server.Config{Engine: stripe(t), Account: authAccount, Pins: store, Metrics: m})
	customerRoute(e)
	e.POST("/v1/customers", func(c echo.Context) error { return echo.NewHTTPError(402, "declined") })

	do(e, "GET", "/v1/customers/cus_1", "", "")                                                                 // default, newest
	do(e, "GET", "/v1/customers/cus_1", "", "", "Authorization", "Bearer key_acct_new")                         // new pin
	do(e, "GET", "/v1/customers/cus_1", "", "", "Authorization", "Bearer key_acct_new")                         // pin
	do(e, "GET", "/v1/customers/cus_1", "", "", "Authorization", "Bearer key_acct_old")                         // pin, old
	do(e, "GET", "/v1/customers/cus_1", "", "", "Stripe-Version", "2014-12-22")                                 // header, old
	do(e, "GET", "/v1/customers/cus_1", "", "", "Stripe-Version", "1999-01-01")                                 // invalid
	do(e, "POST", "/v1/customers", "application/json", `{"account_balance":1}`, "Stripe-Version", "2017-01-27") // 4xx, body walked

	for _, tt := range []struct {
		version, source, code string
		want                  float64
	}{
		{newest, "default", "2xx", 1},
		{newest, "new_pin", "2xx", 1},
		{newest, "pin", "2xx", 1},
		{"2017-01-27", "pin", "2xx", 1},
		{"2014-12-22", "header", "2xx", 1},
		{"2017-01-27", "header", "4xx", 1},
		{"2017-01-27", "header", "2xx", 0},
	} {
		if got := counterValue(t, m.Requests.WithLabelValues(tt.version, tt.source, tt.code)); got != tt.want {
			t.Errorf("requests{%s,%s,%s} = %v, want %v", tt.version, tt.source, tt.code, got, tt.want)
		}
	}
	if got := counterValue(t, m.InvalidVersions); got != 1 {
		t.Errorf("invalid versions = %v", got)
	}
	if got := counterValue(t, m.PinsCreated); got != 1 {
		t.Errorf("pins created = %v", got)
	}
	// Responses walked: the two old customer responses and the 402 error.
	if got := histogramCount(t, m.WalkSeconds.WithLabelValues("response")); got != 3 {
		t.Errorf("response walks = %d, want 3", got)
	}
	if got := histogramCount(t, m.WalkSeconds.WithLabelValues("request")); got != 1 {
		t.Errorf("request walks = %d, want 1", got)
	}
	if got := counterValue(t, m.WalkedBytes.WithLabelValues("request")); got != float64(len(`{"account_balance":1}`)) {
		t.Errorf("request bytes = %v", got)
	}
	if got := counterValue(t, m.WalkedBytes.WithLabelValues("response")); got < 2*float64(len(customerJSON)) {
		t.Errorf("response bytes = %v", got)
	}
	n, err := testutil.GatherAndCount(reg)
	if err != nil || n == 0 {
		t.Errorf("gather: %d, %v", n, err)
	}
	lint, err := testutil.GatherAndLint(reg)
	if err != nil || len(lint) > 0 {
		t.Errorf("lint: %v %v", lint, err)
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP verso_invalid_version_requests_total Requests refused because they named a malformed or unsupported API version.
# TYPE verso_invalid_version_requests_total counter
verso_invalid_version_requests_total 1
`), "verso_invalid_version_requests_total"); err != nil {
		t.Error(err)
	}
}

// countingMetrics records the statuses the middleware reports.
type countingMetrics struct {
	mu       sync.Mutex
	statuses []int
}

func (c *countingMetrics) Request(_ versions.Version, _ server.Source, status int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.statuses = append(c.statuses, status)
}
func (c *countingMetrics) InvalidVersion()                                  {}
func (c *countingMetrics) PinCreated()                                      {}
func (c *countingMetrics) Walk(server.Direction, int, time.Duration, error) {}

// TestMetricsSilentHandler: a handler that writes nothing answers 200, and
// the net/http middleware counts it as 200 at every version, buffered or
// not.
func TestMetricsSilentHandler(t *testing.T) {
	m := &countingMetrics{}
	h := server.MiddlewareWithConfig(server.Config{Engine: stripe(t), Metrics: m})(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for _, v := range []string{newest, "2014-12-22"} {
		req := httptest.NewRequest("GET", "/v1/customers/cus_1", nil)
		req.Header.Set("Stripe-Version", v)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			t.Fatalf("%s: status %d", v, rec.Code)
		}
	}
	if len(m.statuses) != 2 || m.statuses[0] != 200 || m.statuses[1] != 200 {
		t.Fatalf("counted %v, want [200 200]", m.statuses)
	}
}
