package proxy_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/verso-api/verso/apierror"
	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/proxy"
	"github.com/verso-api/verso/server"
	"github.com/verso-api/verso/transform"
)

// TestErrorsWalkedBack checks, through the proxy over real HTTP, that the
// middleware's errors, the proxy's own (an upstream that cannot be
// reached) and the upstream's are written in the API's error shape and
// walked back to the client's version alike (before 2024-06-01 the error
// code is kind), in Stripe's shape and in RFC 9457's.
func TestErrorsWalkedBack(t *testing.T) {
	tl, err := gates.LoadFile("testdata/errors.yaml", nil)
	require.NoError(t, err)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/v1/users/") {
			// The upstream writes its errors in the API's shape, newest version.
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"error":{"type":"invalid_request_error","code":"resource_missing","message":"No such user."}}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"data":[]}`)
	}))
	defer up.Close()
	down, err := url.Parse("http://" + freeAddr(t))
	require.NoError(t, err)

	tests := []struct {
		name, method, path, version, body string
		upstreamDown                      bool
		status                            int
		code                              string
	}{
		{name: "unsupported version", method: "GET", path: "/v1/teams", version: "1999-01-01", status: 400, code: "api_version_invalid"},
		{name: "endpoint absent at the version", method: "GET", path: "/v1/teams", version: "2023-01-01", status: 404, code: "resource_missing"},
		{name: "value of the wrong type", method: "POST", path: "/v1/users", version: "2024-01-01", body: `{"age":"x"}`, status: 400, code: "parameter_invalid_integer"},
		{name: "upstream unavailable", method: "GET", path: "/v1/teams", version: "2024-01-01", upstreamDown: true, status: 502, code: "upstream_unavailable"},
		{name: "the upstream's own error", method: "GET", path: "/v1/users/u_9", version: "2023-01-01", status: 404, code: "resource_missing"},
	}
	for _, sh := range []struct {
		name   string
		shape  apierror.Shape
		prefix string
	}{
		{"stripe", apierror.Shape{}, "error."},
		{"problem", apierror.Problem(""), ""},
	} {
		bases := map[bool]string{}
		for isDown, u := range map[bool]*url.URL{false: mustURL(t, up.URL), true: down} {
			_, base := startProxy(t, proxy.Config{Config: server.Config{Engine: transform.New(tl, nil), ErrorShape: sh.shape}, Upstream: u})
			bases[isDown] = base
		}
		for _, tt := range tests {
			if sh.name == "problem" && tt.name == "the upstream's own error" {
				continue // the upstream answers in Stripe's shape
			}
			t.Run(sh.name+"/"+tt.name, func(t *testing.T) {
				req, err := http.NewRequest(tt.method, bases[tt.upstreamDown]+tt.path, strings.NewReader(tt.body))
				require.NoError(t, err)
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Api-Version", tt.version)
				res, err := http.DefaultClient.Do(req)
				require.NoError(t, err)
				b, err := io.ReadAll(res.Body)
				res.Body.Close()
				require.NoError(t, err)
				body := string(b)
				require.Equal(t, tt.status, res.StatusCode, body)
				member := "code"
				if tt.status != 400 || tt.code != "api_version_invalid" {
					if tt.version < "2024-06-01" {
						member = "kind"
						assert.False(t, gjson.Get(body, sh.prefix+"code").Exists(), body)
					}
				}
				assert.Equal(t, tt.code, gjson.Get(body, sh.prefix+member).String(), "%s in %s", member, body)
			})
		}
	}
}
