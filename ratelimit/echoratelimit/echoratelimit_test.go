package echoratelimit_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/ratelimit"
	"github.com/verso-api/verso/ratelimit/echoratelimit"
)

// TestAdapter runs two limiters in an echo server over real HTTP: one per
// client address before routing (e.Pre), believing X-Forwarded-For only
// because e.IPExtractor says so, and one per API key after it, with a
// route keyed by echo's route path.
func TestAdapter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now } // never moves: no refill
	e := echo.New()
	e.HideBanner = true
	e.IPExtractor = echo.ExtractIPFromXFFHeader()
	ip, err := echoratelimit.New(ratelimit.Config{Scope: "ip", Default: ratelimit.Limit{Rate: 1, Burst: 4},
		Store: ratelimit.NewMemoryStore(&ratelimit.Options{Clock: clock})})
	require.NoError(t, err)
	e.Pre(ip)
	key, err := echoratelimit.New(ratelimit.Config{
		Scope: "key",
		Identifier: func(r *http.Request) (string, error) {
			k, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok {
				return "", echo.NewHTTPError(http.StatusUnauthorized, "no key")
			}
			return k, nil
		},
		Default: ratelimit.Limit{Rate: 1, Burst: 3},
		Routes:  map[string]ratelimit.Limit{"GET /v1/customers/:id": {Rate: 1, Burst: 1}},
		Store:   ratelimit.NewMemoryStore(&ratelimit.Options{Clock: clock}),
	})
	require.NoError(t, err)
	g := e.Group("/v1", key)
	g.GET("/customers", func(c echo.Context) error { return c.String(200, "list") })
	g.GET("/customers/:id", func(c echo.Context) error { return c.String(200, c.Param("id")) })
	srv := httptest.NewServer(e)
	defer srv.Close()

	get := func(path, key, from string) (int, http.Header, string) {
		req, err := http.NewRequest("GET", srv.URL+path, nil)
		require.NoError(t, err)
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		req.Header.Set("X-Forwarded-For", from)
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, res.Header, string(b)
	}
	tests := []struct {
		name, path, key, from string
		want                  int
	}{
		{"a route of its own", "/v1/customers/cus_1", "a", "203.0.113.1", 200},
		{"the route's pattern, not its path", "/v1/customers/cus_2", "a", "203.0.113.1", 429},
		{"the default bucket", "/v1/customers", "a", "203.0.113.1", 200},
		{"echo's 401 from the identifier", "/v1/customers", "", "203.0.113.1", 401},
		{"the address's fifth request", "/v1/customers", "b", "203.0.113.1", 429},
		{"another forwarded address", "/v1/customers", "b", "203.0.113.2", 200},
	}
	for _, tt := range tests {
		status, h, body := get(tt.path, tt.key, tt.from)
		assert.Equal(t, tt.want, status, "%s: %s", tt.name, body)
		switch status {
		case 429:
			assert.Equal(t, "1", h.Get("Retry-After"), tt.name)
			assert.Contains(t, body, `"type":"rate_limit_error"`, tt.name)
		case 401:
			assert.Contains(t, body, "no key", "echo's own error handler answered")
		}
	}
	require.Panics(t, func() { echoratelimit.Middleware(ratelimit.Limit{Rate: -1}) })
}

// TestTwoServers serves one limiter from two echo servers, one that
// believes X-Forwarded-For (its IPExtractor) and one that does not: each
// request is counted under the address its own server vouches for.
func TestTwoServers(t *testing.T) {
	limit, err := echoratelimit.New(ratelimit.Config{Default: ratelimit.Limit{Rate: 1, Burst: 1},
		Store: ratelimit.NewMemoryStore(&ratelimit.Options{Clock: func() time.Time { return time.Unix(0, 0) }})})
	require.NoError(t, err)
	newEcho := func(xff bool) *echo.Echo {
		e := echo.New()
		if xff {
			e.IPExtractor = echo.ExtractIPFromXFFHeader()
		}
		e.Use(limit)
		e.GET("/", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
		return e
	}
	trusting, plain := newEcho(true), newEcho(false)
	get := func(e *echo.Echo, from string) int {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.RemoteAddr = "10.0.0.9:1234" // a proxy echo trusts by default
		req.Header.Set("X-Forwarded-For", from)
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		return rec.Code
	}
	assert.Equal(t, 204, get(trusting, "203.0.113.1"), "first from .1")
	assert.Equal(t, 204, get(plain, "203.0.113.1"), "first from 10.0.0.9, whatever it forwards")
	assert.Equal(t, 204, get(trusting, "203.0.113.2"), "first from .2")
	assert.Equal(t, 429, get(plain, "203.0.113.3"), "10.0.0.9 again")
	assert.Equal(t, 429, get(trusting, "203.0.113.1"), ".1 again")
}
