package proxy_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/proxy"
	"github.com/verso-api/verso/server"
	"github.com/verso-api/verso/transform"
)

// TestEndpointOpsThroughProxy checks that the proxy enforces the endpoint
// ops of its timeline, as the middleware core does: a moved endpoint's old
// place reaches the upstream at the new place for an older version, an
// absent endpoint is answered 404 without reaching the upstream, and a
// changed status code is walked back.
func TestEndpointOpsThroughProxy(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.Path)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		status := http.StatusOK
		if r.URL.Path == "/v1/charges" {
			status = http.StatusCreated
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"object":"list","data":[]}`)
	}))
	defer up.Close()
	// The test timeline refuses its base version after its sunset date,
	// 2021-06-30: the proxy, on the real clock, refuses it.
	data, err := os.ReadFile("../gates/testdata/endpoints.yaml")
	require.NoError(t, err)
	tl, err := gates.Load("endpoints.yaml", data, nil)
	require.NoError(t, err)
	_, refusing := startProxy(t, proxy.Config{Config: server.Config{Engine: transform.New(tl, nil)}, Upstream: mustURL(t, up.URL)})
	tl, err = gates.Load("endpoints.yaml", bytes.Replace(data, []byte("after_sunset: refuse"), []byte("after_sunset: serve"), 1), nil)
	require.NoError(t, err)
	_, base := startProxy(t, proxy.Config{Config: server.Config{Engine: transform.New(tl, nil), ChangelogURL: "https://api.example.com/changelog"}, Upstream: mustURL(t, up.URL)})

	do := func(method, path, version string) (*http.Response, string) {
		return doAt(t, base, method, path, version)
	}
	res, body := doAt(t, refusing, "GET", "/v1/customers/cus_1/cards", "2015-01-01")
	assert.Equal(t, http.StatusGone, res.StatusCode, body)
	assert.Equal(t, "api_version_sunset", gjson.Get(body, "error.code").String())
	assert.Empty(t, res.Header.Get("Link"), "no ChangelogURL, no Link header")

	res, body = do("GET", "/v1/customers/cus_1/cards", "2020-01-01")
	assert.Equal(t, 404, res.StatusCode, body)
	assert.Equal(t, "Unrecognized request URL (GET: /v1/customers/cus_1/cards).", gjson.Get(body, "error.message").String())
	res, body = do("GET", "/v1/teams", "2020-01-01")
	assert.Equal(t, 404, res.StatusCode, body)
	res, body = do("GET", "/v1/customers/cus_1/cards", "2015-01-01")
	assert.Equal(t, 200, res.StatusCode, body)
	assert.Equal(t, "@1577836800", res.Header.Get("Deprecation"))
	assert.Equal(t, `<https://api.example.com/changelog#v2015-01-01>; rel="deprecation"`, res.Header.Get("Link"))
	res, body = do("POST", "/v1/charges", "2020-01-01")
	assert.Equal(t, 200, res.StatusCode, "201 walked back: %s", body)
	res, body = do("POST", "/v1/charges", "2024-01-01")
	assert.Equal(t, 201, res.StatusCode, body)

	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"GET /v1/customers/cus_1/sources", "POST /v1/charges", "POST /v1/charges"}, seen,
		"the upstream saw the moved request at its new place, and never the absent or refused ones")
}

func doAt(t *testing.T, base, method, path, version string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, nil)
	require.NoError(t, err)
	req.Header.Set("Stripe-Version", version)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}
