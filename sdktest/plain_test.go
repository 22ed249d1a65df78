package sdktest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNoVersionAndNearest plays a client that sends no version (as
// stripe-python does) and one that sends a date the timeline does not list,
// against `verso serve --nearest-version`.
func TestNoVersionAndNearest(t *testing.T) {
	base, key := serve(t, "--nearest-version")
	post := func(version string) (*http.Response, map[string]any) {
		t.Helper()
		req, err := http.NewRequest("POST", base+"/v1/charges", strings.NewReader(url.Values{"amount": {"2000"}, "currency": {"usd"}, "source": {"tok_visa"}}.Encode()))
		require.NoError(t, err)
		req.SetBasicAuth(key, "")
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if version != "" {
			req.Header.Set("Stripe-Version", version)
		}
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		var body map[string]any
		require.NoError(t, json.NewDecoder(res.Body).Decode(&body))
		return res, body
	}
	// No version: the account is pinned to the newest version that is not a
	// preview, where amounts are integers.
	res, body := post("")
	require.Equal(t, 200, res.StatusCode, body)
	assert.Equal(t, "2026-11-18.endive", res.Header.Get("Stripe-Version"))
	assert.Equal(t, float64(2000), body["amount"])
	// A date between two versions is served as the older one.
	res, body = post("2024-01-01")
	require.Equal(t, 200, res.StatusCode, body)
	assert.Equal(t, "2023-10-16", res.Header.Get("Stripe-Version"))
}
