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
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestServeWebhookRetryBase runs `verso serve --webhook-retry-base 50ms`
// with a receiver that fails the first attempt: the retry comes within
// the test's patience, as attempt 2, instead of a minute later.
func TestServeWebhookRetryBase(t *testing.T) {
	db := filepath.Join(t.TempDir(), "verso.db")
	pr, pw := io.Pipe()
	stop := make(chan struct{})
	done := make(chan int, 1)
	go func() {
		done <- run(&env{stdin: strings.NewReader(""), stdout: pw, stderr: io.Discard, interrupt: stop},
			[]string{"serve", "--db", db, "--addr", "127.0.0.1:0", "--webhooks-allow-private", "--webhook-retry-base", "50ms"})
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
	defer func() {
		close(stop)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop")
		}
	}()

	var mu sync.Mutex
	var attempts []string
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		attempts = append(attempts, r.Header.Get("Verso-Delivery-Attempt"))
		if len(attempts) == 1 {
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	defer recv.Close()
	post := func(path string, form url.Values) {
		req, _ := http.NewRequest("POST", base+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Bearer "+key)
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		require.Equal(t, 200, res.StatusCode, string(b))
	}
	post("/v1/webhook_endpoints", url.Values{"url": {recv.URL}, "enabled_events[]": {"customer.created"}})
	post("/v1/customers", url.Values{"email": {"a@example.com"}})
	deadline := time.Now().Add(30 * time.Second) // stops a hung test; the default base would take a minute
	for {
		mu.Lock()
		n := len(attempts)
		mu.Unlock()
		if n >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no retry: attempts %v", attempts)
		}
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"1", "2"}, attempts)
}

func TestServeWebhookFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--webhook-retry-base", "0s"},
		{"--webhook-retry-base", "-1m"},
		{"--webhook-retry-base", "7h"},
		{"--webhook-concurrency", "0"},
	} {
		code, _, errs := runCLI(t, "", append([]string{"serve", "--db", filepath.Join(t.TempDir(), "v.db")}, args...)...)
		assert.Equal(t, 2, code, "%v: %s", args, errs)
		assert.Contains(t, errs, args[0])
	}
}
