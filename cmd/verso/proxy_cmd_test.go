package main

import (
	"bufio"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestProxyCommand runs `verso proxy` on 127.0.0.1 in front of an upstream
// that knows only the newest version of proxy/testdata/timeline.yaml,
// talks to it at an old version, reads its metrics, and stops it as
// SIGINT would.
func TestProxyCommand(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/v1/me" {
			if r.Header.Get("Authorization") != "Bearer sk_test_1" {
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = io.WriteString(w, `{"error":{"type":"invalid_request_error","code":"invalid_api_key","message":"Invalid API key provided."}}`)
				return
			}
			_, _ = io.WriteString(w, `{"object":"account","id":"acct_1"}`)
			return
		}
		_, _ = io.WriteString(w, `{"object":"task","id":"task_1","title":"Write docs","priority":"3","status":"open","labels":[]}`)
	}))
	defer upstream.Close()

	db := filepath.Join(t.TempDir(), "pins.db")
	pr, pw := io.Pipe()
	stop := make(chan struct{})
	done := make(chan int, 1)
	var stderr strings.Builder
	go func() {
		done <- run(&env{stdin: strings.NewReader(""), stdout: pw, stderr: &stderr, interrupt: stop}, []string{"proxy",
			"--upstream", upstream.URL, "-f", "../../proxy/testdata/timeline.yaml", "--addr", "127.0.0.1:0",
			"--db", db, "--metrics-addr", "127.0.0.1:0", "--auth-check", "GET /v1/me", "--default-version", "2023-03-01"})
		pw.Close()
	}()
	var base, metrics string
	sc := bufio.NewScanner(pr)
	reProxy := regexp.MustCompile(`proxying (http://127\.0\.0\.1:\d+)`)
	reMetrics := regexp.MustCompile(`metrics on (http://127\.0\.0\.1:\d+/metrics)`)
	var pinLine, defaultLine string
	for (base == "" || metrics == "" || pinLine == "" || defaultLine == "") && sc.Scan() {
		if strings.Contains(sc.Text(), "--default-version") {
			defaultLine = sc.Text()
		}
		if strings.Contains(sc.Text(), "pin endpoints") {
			pinLine = sc.Text()
		}
		if m := reProxy.FindStringSubmatch(sc.Text()); m != nil {
			base = m[1]
		}
		if m := reMetrics.FindStringSubmatch(sc.Text()); m != nil {
			metrics = m[1]
		}
	}
	out := make(chan string)
	go func() {
		var rest strings.Builder
		for sc.Scan() {
			rest.WriteString(sc.Text() + "\n")
		}
		out <- rest.String()
	}()
	require.NotEmpty(t, base, stderr.String())
	require.NotEmpty(t, metrics)
	assert.Equal(t, "verso: pin endpoints at /v1/account/api_version, for callers the upstream accepts on GET /v1/me", pinLine)
	assert.Equal(t, "verso: a request naming no version, from an account with no pin, gets 2023-03-01 (--default-version)", defaultLine)

	get := func(url string, header map[string]string) (*http.Response, string) {
		req, err := http.NewRequest("GET", url, nil)
		require.NoError(t, err)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		return res, string(b)
	}
	res, body := get(base+"/v1/tasks/task_1", map[string]string{"Acme-Version": "2022-01-01"})
	require.Equal(t, 200, res.StatusCode, body)
	assert.JSONEq(t, `{"object":"task","id":"task_1","name":"Write docs","priority":3,"status":"todo"}`, body)

	// A request naming no version gets the default one; the account's
	// first success pins it there; the pin endpoint shows it.
	res, body = get(base+"/v1/tasks/task_1", map[string]string{"Authorization": "Bearer sk_test_1"})
	require.Equal(t, 200, res.StatusCode, body)
	assert.Equal(t, "2023-03-01", res.Header.Get("Acme-Version"))
	res, body = get(base+"/v1/account/api_version", map[string]string{"Authorization": "Bearer sk_test_1"})
	require.Equal(t, 200, res.StatusCode, body)
	assert.Contains(t, body, `"version":"2023-03-01"`)

	res, body = get(base+"/v1/account/api_version", map[string]string{"Authorization": "Bearer sk_test_2"})
	assert.Equal(t, 401, res.StatusCode, "the upstream refused the credentials: %s", body)
	assert.Contains(t, body, `"code":"invalid_api_key"`)

	res, body = get(base+"/v1/tasks/task_1", map[string]string{"Acme-Version": "2021-01-01"})
	assert.Equal(t, 400, res.StatusCode)
	assert.Contains(t, body, `"code":"api_version_invalid"`)

	res, body = get(metrics, nil)
	require.Equal(t, 200, res.StatusCode)
	assert.Contains(t, body, `verso_requests_total{code="2xx",source="header",version="2022-01-01"} 1`)
	assert.Contains(t, body, `verso_invalid_version_requests_total 1`)

	close(stop)
	assert.Equal(t, 0, <-done, stderr.String())
	assert.Contains(t, <-out, "verso: stopped")

	// What it served is in the census: counted per version and account,
	// flushed when the proxy stopped.
	code, census, errs := runCLI(t, "", "pins", "--db", db, "-f", "../../proxy/testdata/timeline.yaml")
	require.Equal(t, 0, code, errs)
	assert.Regexp(t, `(?m)^2023-03-01\s+1\s+3\s+1\s*$`, census, "one pinned account; three requests, one refused (401): one active account")
	assert.Regexp(t, `(?m)^2022-01-01\s+0\s+1\s+0\s+`, census, "one request with no account")
}

func TestProxyCommandUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no upstream", []string{"-f", "../../proxy/testdata/timeline.yaml"}, "missing --upstream"},
		{"no timeline", []string{"--upstream", "http://127.0.0.1:1"}, "missing -f TIMELINE"},
		{"bad scheme", []string{"--upstream", "ftp://127.0.0.1:1", "-f", "../../proxy/testdata/timeline.yaml"}, "--upstream must be an http://"},
		{"bad timeout", []string{"--upstream", "http://127.0.0.1:1", "-f", "x.yaml", "--dial-timeout", "0s"}, "timeouts must be positive"},
		{"bad account header", []string{"--upstream", "http://127.0.0.1:1", "-f", "../../proxy/testdata/timeline.yaml", "--account-header", "X Account"}, "not a valid HTTP header name"},
		{"default version not on the timeline", []string{"--upstream", "http://127.0.0.1:1", "-f", "../../proxy/testdata/timeline.yaml", "--default-version", "2021-01-01"}, "--default-version"},
		{"bad auth check", []string{"--upstream", "http://127.0.0.1:1", "-f", "../../proxy/testdata/timeline.yaml", "--auth-check", "/v1/me"}, "is not METHOD /path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr strings.Builder
			status := run(&env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr}, append([]string{"proxy"}, tt.args...))
			assert.NotEqual(t, 0, status)
			assert.Contains(t, stderr.String(), tt.want)
		})
	}
}
