package server_test

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
	"github.com/tidwall/gjson"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/server"
	"github.com/verso-api/verso/server/echoversioning"
	"github.com/verso-api/verso/transform"
)

// lifecycleHandlers serve the newest version of gates/testdata/endpoints.yaml:
// teams, charges answered 201 with a Request-Id and an X-Rate-Limit
// header, customer sources (which were cards), and recipients (removed in
// 2020-01-01 but still served to older versions).
func lifecycleHandlers() *http.ServeMux {
	mux := http.NewServeMux()
	json := func(w http.ResponseWriter, status int, body string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
	mux.HandleFunc("GET /v1/teams", func(w http.ResponseWriter, r *http.Request) {
		json(w, 200, `{"object":"list","data":[]}`)
	})
	mux.HandleFunc("POST /v1/charges", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Request-Id", "req_1")
		w.Header().Set("X-Rate-Limit", "100")
		json(w, 201, `{"object":"charge","id":"ch_1"}`)
	})
	sources := func(w http.ResponseWriter, r *http.Request) {
		json(w, 200, `{"object":"list","method":"`+r.Method+`","path":"`+r.URL.Path+`","customer":"`+r.PathValue("customer")+`"}`)
	}
	mux.HandleFunc("GET /v1/customers/{customer}/sources", sources)
	mux.HandleFunc("POST /v1/customers/{customer}/sources", sources)
	mux.HandleFunc("GET /v1/recipients/{id}", func(w http.ResponseWriter, r *http.Request) {
		json(w, 200, `{"object":"recipient","id":"`+r.PathValue("id")+`"}`)
	})
	return mux
}

// lifecycleServers serves the handlers behind the net/http middleware and
// behind the echo one (echo hands every path to the same handlers, so a
// moved endpoint's new path reaches its handler there too), at the clock's
// time.
func lifecycleServers(t *testing.T, now *time.Time) map[string]string {
	t.Helper()
	tl, err := gates.LoadFile("../gates/testdata/endpoints.yaml", nil)
	require.NoError(t, err)
	engine := transform.New(tl, nil)
	clock := func() time.Time { return *now }
	mw, err := server.Config{Engine: engine, ChangelogURL: "/changelog", Now: clock}.ToMiddleware()
	require.NoError(t, err)
	std := httptest.NewServer(mw(lifecycleHandlers()))
	t.Cleanup(std.Close)

	e := echo.New()
	e.HTTPErrorHandler = echoversioning.ErrorHandler
	e.Use(echoMW(t, server.Config{Engine: engine, ChangelogURL: "/changelog", Now: clock}))
	e.Any("/*", echo.WrapHandler(lifecycleHandlers()))
	ec := httptest.NewServer(e)
	t.Cleanup(ec.Close)
	return map[string]string{"net/http": std.URL, "echo": ec.URL}
}

func lifecycleDo(t *testing.T, base, method, path, version string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, nil)
	require.NoError(t, err)
	req.Header.Set("Stripe-Version", version)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res, string(b)
}

// TestEndpointOps checks each endpoint op through both forms of the
// middleware, at a version before the op and at the op's version.
func TestEndpointOps(t *testing.T) {
	now := time.Date(2021, 6, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name, version, method, path string
		status                      int
		// body: a gjson path and the value it must have.
		field, value string
	}{
		{"added: 404 before", "2020-01-01", "GET", "/v1/teams", 404, "error.message", "Unrecognized request URL (GET: /v1/teams)."},
		{"added: served from it", "2024-01-01", "GET", "/v1/teams", 200, "object", "list"},
		{"removed: served before", "2015-01-01", "GET", "/v1/recipients/rp_1", 200, "id", "rp_1"},
		{"removed: 404 from it", "2020-01-01", "GET", "/v1/recipients/rp_1", 404, "error.code", "resource_missing"},
		{"removed: 404 after", "2024-01-01", "GET", "/v1/recipients/rp_1", 404, "error.type", "invalid_request_error"},
		{"moved: old place served before", "2015-01-01", "GET", "/v1/customers/cus_1/cards", 200, "path", "/v1/customers/cus_1/sources"},
		{"moved: parameters carried", "2015-01-01", "POST", "/v1/customers/cus_9/cards", 200, "customer", "cus_9"},
		{"moved: new place 404 before", "2015-01-01", "GET", "/v1/customers/cus_1/sources", 404, "error.message", "Unrecognized request URL (GET: /v1/customers/cus_1/sources)."},
		{"moved: old place 404 from it", "2020-01-01", "GET", "/v1/customers/cus_1/cards", 404, "error.message", "Unrecognized request URL (GET: /v1/customers/cus_1/cards)."},
		{"moved: new place served from it", "2020-01-01", "POST", "/v1/customers/cus_1/sources", 200, "method", "POST"},
	}
	servers := lifecycleServers(t, &now)
	for form, base := range servers {
		for _, tt := range tests {
			t.Run(form+"/"+tt.name, func(t *testing.T) {
				res, body := lifecycleDo(t, base, tt.method, tt.path, tt.version)
				assert.Equal(t, tt.status, res.StatusCode, body)
				assert.Equal(t, tt.value, gjson.Get(body, tt.field).String(), body)
				assert.Equal(t, tt.version, res.Header.Get("Stripe-Version"), "the version is named on 404s too")
				if tt.status == 404 {
					assert.Equal(t, "application/json", strings.Split(res.Header.Get("Content-Type"), ";")[0])
				}
			})
		}
	}
}

// TestStatusAndHeaderOps checks the status and header ops through both
// forms: walked back for an older version, left alone at theirs.
func TestStatusAndHeaderOps(t *testing.T) {
	now := time.Date(2021, 6, 1, 0, 0, 0, 0, time.UTC)
	for form, base := range lifecycleServers(t, &now) {
		t.Run(form, func(t *testing.T) {
			res, body := lifecycleDo(t, base, "POST", "/v1/charges", "2024-01-01")
			assert.Equal(t, 201, res.StatusCode, body)
			assert.Equal(t, "req_1", res.Header.Get("Request-Id"))
			assert.Equal(t, "100", res.Header.Get("X-Rate-Limit"))
			assert.Empty(t, res.Header.Values("X-Request-Id"))

			for _, v := range []string{"2020-01-01", "2015-01-01"} {
				res, body = lifecycleDo(t, base, "POST", "/v1/charges", v)
				assert.Equal(t, 200, res.StatusCode, body)
				assert.Equal(t, "ch_1", gjson.Get(body, "id").String())
				assert.Equal(t, "req_1", res.Header.Get("X-Request-Id"), "renamed back")
				assert.Empty(t, res.Header.Values("Request-Id"))
				assert.Empty(t, res.Header.Values("X-Rate-Limit"), "added later: dropped")
			}
		})
	}
}

// TestDeprecationHeaders checks the Deprecation, Sunset and Link headers
// and the refusal after the sunset date.
func TestDeprecationHeaders(t *testing.T) {
	now := time.Date(2021, 6, 29, 23, 59, 59, 0, time.UTC)
	for form, base := range lifecycleServers(t, &now) {
		t.Run(form, func(t *testing.T) {
			now = time.Date(2021, 6, 29, 23, 59, 59, 0, time.UTC)
			res, body := lifecycleDo(t, base, "GET", "/v1/recipients/rp_1", "2015-01-01")
			require.Equal(t, 200, res.StatusCode, body)
			assert.Equal(t, "@1577836800", res.Header.Get("Deprecation"), "2020-01-01, RFC 9745")
			assert.Equal(t, "Wed, 30 Jun 2021 00:00:00 GMT", res.Header.Get("Sunset"), "RFC 8594")
			assert.Equal(t, `</changelog#v2015-01-01>; rel="deprecation"`, res.Header.Get("Link"))

			res, body = lifecycleDo(t, base, "GET", "/v1/customers/cus_1/sources", "2020-01-01")
			require.Equal(t, 200, res.StatusCode, body)
			assert.Equal(t, "@1704067200", res.Header.Get("Deprecation"), "deprecated from 2024-01-01, in the future here")
			assert.Empty(t, res.Header.Values("Sunset"), "no sunset date")
			assert.Equal(t, `</changelog#v2020-01-01>; rel="deprecation"`, res.Header.Get("Link"))

			res, body = lifecycleDo(t, base, "GET", "/v1/teams", "2024-01-01")
			require.Equal(t, 200, res.StatusCode, body)
			for _, h := range []string{"Deprecation", "Sunset", "Link"} {
				assert.Empty(t, res.Header.Values(h), h)
			}

			now = time.Date(2021, 6, 30, 0, 0, 0, 0, time.UTC)
			res, body = lifecycleDo(t, base, "GET", "/v1/recipients/rp_1", "2015-01-01")
			assert.Equal(t, http.StatusGone, res.StatusCode, body)
			assert.Equal(t, "api_version_sunset", gjson.Get(body, "error.code").String())
			assert.Equal(t, "API version 2015-01-01 was retired on 2021-06-30. Upgrade to 2024-01-01 or newer: send the Stripe-Version header with it, or upgrade your account's version.", gjson.Get(body, "error.message").String())
			assert.Equal(t, "2015-01-01", res.Header.Get("Stripe-Version"))
			assert.Equal(t, "Wed, 30 Jun 2021 00:00:00 GMT", res.Header.Get("Sunset"))
		})
	}
}

// TestSunsetServePolicy: with the default after_sunset policy a version
// past its sunset is still served, with its headers.
func TestSunsetServePolicy(t *testing.T) {
	tl, err := gates.Load("t.yaml", []byte("versions:\n  - version: 2024-01-01\n  - version: 2015-01-01\n    deprecated: 2020-01-01\n    sunset: 2021-06-30\n"), nil)
	require.NoError(t, err)
	h := server.MiddlewareWithConfig(server.Config{Engine: transform.New(tl, nil)})(lifecycleHandlers())
	srv := httptest.NewServer(h)
	defer srv.Close()
	res, body := lifecycleDo(t, srv.URL, "GET", "/v1/teams", "2015-01-01")
	assert.Equal(t, 200, res.StatusCode, "after_sunset defaults to serve: %s", body)
	assert.Equal(t, "Wed, 30 Jun 2021 00:00:00 GMT", res.Header.Get("Sunset"))
	assert.Empty(t, res.Header.Values("Link"), "no ChangelogURL, no Link")
}
