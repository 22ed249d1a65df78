package echohttp_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/verso-api/verso/internal/echohttp"
)

// header is a net/http middleware that sets a response header and passes
// on the writer it got, or, with hide, one that does not unwrap to it.
func header(hide bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Seen", r.Pattern)
			if hide {
				w = struct{ http.ResponseWriter }{w}
			}
			next.ServeHTTP(w, r)
		})
	}
}

func newEcho(mw echo.MiddlewareFunc) *echo.Echo {
	e := echo.New()
	if mw != nil {
		e.Use(mw)
	}
	e.GET("/v1/customers/:id", func(c echo.Context) error {
		if c.Param("id") == "cus_bad" {
			return echo.NewHTTPError(http.StatusTeapot, "no tea")
		}
		return c.String(http.StatusOK, c.Param("id"))
	})
	return e
}

func TestAdapter(t *testing.T) {
	tests := []struct {
		name, path string
		hide       bool
		status     int
		body, seen string
	}{
		{"handler", "/v1/customers/cus_1", false, 200, "cus_1", "/v1/customers/:id"},
		{"handler's error, answered inside", "/v1/customers/cus_bad", false, 418, "no tea", "/v1/customers/:id"},
		{"a writer that does not unwrap", "/v1/customers/cus_1", true, 500, `"type":"api_error"`, "/v1/customers/:id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEcho(echohttp.Wrap(header(tt.hide)))
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tt.path, nil))
			if rec.Code != tt.status || !strings.Contains(rec.Body.String(), tt.body) {
				t.Errorf("%d %s, want %d with %s", rec.Code, rec.Body, tt.status, tt.body)
			}
			if got := rec.Header().Get("X-Seen"); got != tt.seen {
				t.Errorf("the middleware saw the pattern %q, want %q", got, tt.seen)
			}
		})
	}
}

// TestAdapterAllocs checks the adapter costs a request one allocation
// over echo without it: the closure echo makes applying any middleware
// per request. Its handler is built once; it adds no context value.
func TestAdapterAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items at random")
	}
	allocs := func(e *echo.Echo) float64 {
		req := httptest.NewRequest(http.MethodGet, "/v1/customers/cus_1", nil)
		rec := httptest.NewRecorder()
		return testing.AllocsPerRun(200, func() {
			clear(rec.Header())
			rec.Body.Reset()
			e.ServeHTTP(rec, req)
		})
	}
	plain := allocs(newEcho(nil))
	nop := allocs(newEcho(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error { return next(c) }
	}))
	adapted := allocs(newEcho(echohttp.Wrap(func(next http.Handler) http.Handler { return next })))
	t.Logf("plain %v, nop %v, adapted %v", plain, nop, adapted)
	if adapted > nop || nop > plain+1 {
		t.Errorf("allocations per request: plain echo %v, an echo middleware %v, the adapter %v", plain, nop, adapted)
	}
}

// TestAdapterEcho checks Echo finds the echo server of a request, for an
// adapter that serves two.
func TestAdapterEcho(t *testing.T) {
	var a *echohttp.Adapter
	a = echohttp.New(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Echo", a.Echo(r).Server.Addr)
			next.ServeHTTP(w, r)
		})
	})
	servers := []*echo.Echo{newEcho(a.Middleware), newEcho(a.Middleware)}
	servers[0].Server.Addr, servers[1].Server.Addr = "one", "two"
	for range 2 {
		for _, e := range servers {
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/customers/cus_1", nil))
			if got := rec.Header().Get("X-Echo"); got != e.Server.Addr {
				t.Errorf("Echo is the server at %q, want %q", got, e.Server.Addr)
			}
		}
	}
}
