package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/verso-api/verso/storage"
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
		done <- run(&env{stdin: strings.NewReader(""), stdout: pw, stderr: io.Discard, interrupt: stop}, []string{"serve", "--db", db, "--addr", "127.0.0.1:0", "--webhooks-allow-private", "--metrics-addr", "127.0.0.1:0"})
		pw.Close()
	}()
	var base, key, metrics string
	sc := bufio.NewScanner(pr)
	reMetrics := regexp.MustCompile(`metrics on (http://127\.0\.0\.1:\d+/metrics)`)
	reURL := regexp.MustCompile(`serving .* on (http://127\.0\.0\.1:\d+)`)
	reKey := regexp.MustCompile(`^\s+(sk_test_\w+)$`)
	for sc.Scan() && (base == "" || key == "") {
		if m := reMetrics.FindStringSubmatch(sc.Text()); m != nil {
			metrics = m[1]
		}
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
	require.NotEmpty(t, metrics)
	// /metrics is on its own address only.
	for u, want := range map[string]int{metrics: 200, base + "/metrics": 404, base + "/healthz": 200, base + "/readyz": 200} {
		res, err := http.Get(u)
		require.NoError(t, err)
		res.Body.Close()
		assert.Equal(t, want, res.StatusCode, u)
	}

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

	code, out, errs = runCLI(t, "", "webhooks", "send", "--db", db, "--endpoint", epID, "--version", "2014-12-22", "--type", "customer.created", "--webhooks-allow-private")
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
	// Without --webhooks-allow-private the receiver on 127.0.0.1 is not reached.
	code, _, errs = runCLI(t, "", "webhooks", "send", "--db", db, "--endpoint", epID, "--version", "2014-12-22", "--type", "customer.created")
	require.Equal(t, 1, code, errs)
	assert.Contains(t, errs, "address not allowed")
	select {
	case body := <-got:
		t.Fatalf("the receiver on 127.0.0.1 got %s", body)
	default:
	}

	// The key sealing the secrets sits beside the database, readable by
	// its owner only, and the stored secret is sealed.
	fi, err := os.Stat(db + ".key")
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	sdb, err := storage.Open(context.Background(), db)
	require.NoError(t, err)
	defer sdb.Close()
	var secret string
	require.NoError(t, sdb.QueryRow(context.Background(), `SELECT secret FROM webhook_endpoints WHERE id = ?`, epID).Scan(&secret))
	assert.True(t, storage.IsSealed([]byte(secret)), secret)
	assert.Equal(t, ep.Get("secret").String()[:6], "whsec_")
	assert.NotContains(t, secret, ep.Get("secret").String())
}

// TestAccountsCreate makes two accounts with `verso accounts create` and
// checks each key reaches its own account only.
func TestAccountsCreate(t *testing.T) {
	db := filepath.Join(t.TempDir(), "verso.db")
	var ids, keys []string
	for i := 0; i < 2; i++ {
		code, out, errs := runCLI(t, "", "accounts", "create", "--db", db, "--name", "Shop "+strconv.Itoa(i))
		require.Equal(t, 0, code, errs)
		f := strings.Split(strings.TrimSpace(out), "\t")
		require.Len(t, f, 2, out)
		assert.Regexp(t, `^acct_\w+$`, f[0])
		assert.Regexp(t, `^sk_test_\w+$`, f[1])
		ids, keys = append(ids, f[0]), append(keys, f[1])
	}
	assert.NotEqual(t, ids[0], ids[1])
	code, out, _ := runCLI(t, "", "accounts", "list", "--db", db)
	require.Equal(t, 0, code)
	assert.Contains(t, out, ids[0]+"\tShop 0")
	assert.Contains(t, out, ids[1]+"\tShop 1")
	assert.NotContains(t, out, "sk_test_")
	code, out, _ = runCLI(t, "", "keys", "list", "--db", db, "--account", ids[1])
	require.Equal(t, 0, code)
	assert.Equal(t, 1, strings.Count(out, "active"), out)
	assert.Contains(t, out, keys[1][len(keys[1])-4:], "the second account's key is not listed under it")
	assert.NotContains(t, out, keys[1], "listings never show a key")
	code, _, errs := runCLI(t, "", "accounts", "delete", "--db", db)
	assert.Equal(t, 2, code, errs)
}

// TestServeFlags checks that bad hardening flags are usage errors, and that
// PostgreSQL without a sealing key is refused before anything starts.
func TestServeFlags(t *testing.T) {
	t.Setenv("VERSO_SECRETS_KEY", "")
	badKey := filepath.Join(t.TempDir(), "bad.key")
	require.NoError(t, os.WriteFile(badKey, []byte("not a key\n"), 0o600))
	tests := []struct {
		name string
		args []string
		code int
		err  string
	}{
		{"zero timeout", []string{"--read-timeout", "0s"}, 2, "timeouts"},
		{"bad timeout", []string{"--idle-timeout", "soon"}, 2, "idle-timeout"},
		{"tiny header limit", []string{"--max-header-bytes", "10"}, 2, "max-header-bytes"},
		{"zero ip rate", []string{"--ip-rate", "0"}, 2, "ip-rate"},
		{"unknown ip header", []string{"--client-ip-header", "X-Client"}, 2, "client-ip-header"},
		{"proxies without a header", []string{"--trusted-proxies", "10.0.0.0/8"}, 2, "needs --client-ip-header"},
		{"bad proxies", []string{"--client-ip-header", "X-Real-IP", "--trusted-proxies", "10.0.0.0"}, 2, "trusted-proxies"},
		{"postgres without a key", []string{"--db", "postgres://verso@127.0.0.1:1/none"}, 1, "VERSO_SECRETS_KEY"},
		{"bad key file", []string{"--secrets-key-file", badKey}, 1, "64 hex digits"},
		{"malformed default version", []string{"--default-version", "yesterday"}, 2, "--default-version"},
		{"default version not on the timeline", []string{"--default-version", "2001-01-01"}, 1, "DefaultVersion 2001-01-01 is not a version of the timeline"},
		{"zero retention", []string{"--retain-events", "0s"}, 2, "retain-events"},
		{"negative retention", []string{"--retain-events", "-1h"}, 2, "want a positive duration, such as 720h, or forever"},
		{"census kept forever", []string{"--retain-census", "forever"}, 2, "retain-census"},
		{"retention not a duration", []string{"--retain-events", "30d"}, 2, "retain-events"},
		{"zero retention interval", []string{"--retention-interval", "0s"}, 2, "retention-interval"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"serve", "--addr", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "v.db")}, tt.args...)
			code, _, errs := runCLI(t, "", args...)
			assert.Equal(t, tt.code, code, errs)
			assert.Contains(t, errs, tt.err)
		})
	}
}
