package main

import (
	"bufio"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"
)

// TestServeKeysAndWebhooks runs `verso serve` on 127.0.0.1, talks to it over
// HTTP, stops it as SIGINT would, then uses `keys` and `webhooks send` on
// the same database.
func TestServeKeysAndWebhooks(t *testing.T) {
	db := filepath.Join(t.TempDir(), "verso.db")
	pr, pw := io.Pipe()
	stop := make(chan struct{})
	done := make(chan int, 1)
	go func() {
		done <- run(&env{stdin: strings.NewReader(""), stdout: pw, stderr: io.Discard, interrupt: stop}, []string{"serve", "--db", db, "--addr", "127.0.0.1:0"})
		pw.Close()
	}()
	var base, key string
	sc := bufio.NewScanner(pr)
	reURL := regexp.MustCompile(`on (http://127\.0\.0\.1:\d+)`)
	reKey := regexp.MustCompile(`^\s+(sk_test_\w+)$`)
	for sc.Scan() && (base == "" || key == "") {
		if m := reURL.FindStringSubmatch(sc.Text()); m != nil {
			base = m[1]
		}
		if m := reKey.FindStringSubmatch(sc.Text()); m != nil {
			key = m[1]
		}
	}
	go io.Copy(io.Discard, pr)
	require.NotEmpty(t, base)
	require.NotEmpty(t, key)

	// A receiver for the webhook test send.
	got := make(chan string, 4)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- string(b)
	}))
	defer recv.Close()

	post := func(path, version string, form url.Values) gjson.Result {
		req, _ := http.NewRequest("POST", base+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Stripe-Version", version)
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		require.Equal(t, 200, res.StatusCode, string(b))
		assert.Equal(t, version, res.Header.Get("Stripe-Version"))
		return gjson.ParseBytes(b)
	}
	cus := post("/v1/customers", "2014-12-22", url.Values{"account_balance": {"12"}})
	assert.Equal(t, int64(12), cus.Get("account_balance").Int())
	ep := post("/v1/webhook_endpoints", "2024-09-30.acacia", url.Values{"url": {recv.URL}, "enabled_events[]": {"*"}})
	epID := ep.Get("id").String()
	require.NotEmpty(t, epID)
	// The customer was created before the endpoint: nothing is queued for it.
	close(stop)
	select {
	case code := <-done:
		assert.Equal(t, 0, code)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}

	code, out, errs := runCLI(t, "", "keys", "create", "--db", db)
	require.Equal(t, 0, code, errs)
	assert.Regexp(t, `^sk_test_\w+\n$`, out)
	code, out, _ = runCLI(t, "", "keys", "list", "--db", db)
	require.Equal(t, 0, code)
	assert.Equal(t, 2, strings.Count(out, "active"), out)
	assert.NotContains(t, out, key, "listings never show a key")

	code, out, errs = runCLI(t, "", "webhooks", "send", "--db", db, "--endpoint", epID, "--version", "2014-12-22", "--type", "customer.created")
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, "HTTP 200")
	select {
	case body := <-got:
		ev := gjson.Parse(body)
		assert.Equal(t, "2014-12-22", ev.Get("api_version").String())
		assert.True(t, ev.Get("data.object.account_balance").Exists(), body)
		assert.True(t, ev.Get("data.object.default_card").Exists(), body)
	case <-time.After(10 * time.Second):
		t.Fatal("no test delivery")
	}
	code, _, errs = runCLI(t, "", "webhooks", "send", "--db", db, "--endpoint", "we_nope", "--version", "2014-12-22", "--type", "customer.created")
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, "we_nope")
	code, _, _ = runCLI(t, "", "webhooks", "send", "--db", db, "--endpoint", epID, "--version", "2014-12-22")
	assert.Equal(t, 2, code, "needs --event or --type")
}
