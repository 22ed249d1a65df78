package server_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/server"
	"github.com/verso-api/verso/server/echoversioning"

	"github.com/verso-api/verso/prom"
	"github.com/verso-api/verso/shadow"
)

// TestShadowMode: with a Sampler, a response walked back to an old version
// is also compared with the newest in the background, and the differences
// are counted; the response itself is unchanged.
func TestShadowMode(t *testing.T) {
	eng := stripe(t)
	reg := prometheus.NewRegistry()
	sampler, err := shadow.NewSampler(shadow.SamplerConfig{Engine: eng, Rate: 1, Metrics: prom.NewShadow(reg), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	defer sampler.Close()
	e := echo.New()
	e.HTTPErrorHandler = echoversioning.ErrorHandler
	e.Use(echoMW(t, server.Config{Engine: eng, Shadow: sampler}))
	e.GET("/v1/customers/:id", func(c echo.Context) error {
		return c.JSONBlob(200, []byte(`{"id":"cus_1","object":"customer","balance":5}`))
	})
	req := httptest.NewRequest(http.MethodGet, "/v1/customers/cus_1", nil)
	req.Header.Set("Stripe-Version", "2017-01-27")
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	require.Equal(t, 200, rec.Code)
	assert.Contains(t, rec.Body.String(), `"account_balance":5`)
	require.Eventually(t, func() bool { return sampler.Stats().Compared >= 1 }, 5*time.Second, 10*time.Millisecond)
	n := testutil.CollectAndCount(reg, "verso_shadow_differences_total")
	assert.Greater(t, n, 0, "differences recorded as metrics")
}
