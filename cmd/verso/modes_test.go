package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// checkPrivate checks that each file is readable and writable by its
// owner only.
func checkPrivate(t *testing.T, files ...string) {
	t.Helper()
	for _, f := range files {
		fi, err := os.Stat(f)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "%s is %v", filepath.Base(f), fi.Mode().Perm())
	}
}

// TestServeFilesPrivate runs `verso serve` on a new SQLite database,
// writes through its API over HTTP, and checks that the database, its
// -wal and -shm files and the sealing key are created mode 0600.
func TestServeFilesPrivate(t *testing.T) {
	db := filepath.Join(t.TempDir(), "verso.db")
	s, err := startServe(t, "--db", db)
	require.NoError(t, err)
	require.NotEmpty(t, s.key)
	req, err := http.NewRequest("POST", s.base+"/v1/customers", strings.NewReader("email=a@example.com"))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+s.key)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, 200, res.StatusCode)
	checkPrivate(t, db, db+"-wal", db+"-shm", db+".key")
}

// startProxy runs `verso proxy` in front of a small upstream until the
// test ends, and returns its address.
func startProxy(t *testing.T, args ...string) string {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"object":"task","id":"task_1","title":"Write docs","priority":"3","status":"open","labels":[]}`)
	}))
	t.Cleanup(upstream.Close)
	pr, pw := io.Pipe()
	stop := make(chan struct{})
	done := make(chan int, 1)
	go func() {
		done <- run(&env{stdout: pw, stderr: io.Discard, interrupt: stop}, append([]string{"proxy",
			"--upstream", upstream.URL, "-f", "../../proxy/testdata/timeline.yaml", "--addr", "127.0.0.1:0"}, args...))
		pw.Close()
	}()
	t.Cleanup(func() {
		close(stop)
		select {
		case code := <-done:
			assert.Equal(t, 0, code)
		case <-time.After(30 * time.Second):
			t.Error("proxy did not stop")
		}
	})
	var base string
	sc := bufio.NewScanner(pr)
	reProxy := regexp.MustCompile(`proxying http://(127\.0\.0\.1:\d+)`)
	for base == "" && sc.Scan() {
		if m := reProxy.FindStringSubmatch(sc.Text()); m != nil {
			base = m[1]
		}
	}
	go io.Copy(io.Discard, pr)
	require.NotEmpty(t, base)
	return base
}

// TestProxyFilesPrivate runs `verso proxy` with a new SQLite pin
// database, pins an account through it over HTTP, and checks that the
// database and its -wal and -shm files are created mode 0600.
func TestProxyFilesPrivate(t *testing.T) {
	db := filepath.Join(t.TempDir(), "pins.db")
	addr := startProxy(t, "--db", db)
	req, err := http.NewRequest("GET", "http://"+addr+"/v1/account/api_version", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer sk_test_1") // the first request of an account pins it
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, 200, res.StatusCode)
	checkPrivate(t, db, db+"-wal", db+"-shm")
}

// TestProxyMalformedInShape sends `verso proxy` requests net/http refuses
// before any handler runs, and checks they are answered in the timeline's
// error shape, not in plain text.
func TestProxyMalformedInShape(t *testing.T) {
	addr := startProxy(t)
	for _, head := range []string{
		"GET /v1/tasks/task_1 HTTP/1.1\r\nHost: a\r\nAcme-Version: 2022-01-01\x00",
		"GET /v1/tasks/task_1 HTTP/1.1\r\nHost: a\r\nX-Big: " + strings.Repeat("x", 80<<10),
	} {
		c, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		require.NoError(t, c.SetDeadline(time.Now().Add(30*time.Second)))
		_, err = io.WriteString(c, head+"\r\n\r\n")
		require.NoError(t, err)
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		require.NoError(t, err)
		b, _ := io.ReadAll(res.Body)
		c.Close()
		assert.Contains(t, []int{400, 431}, res.StatusCode, string(b))
		assert.True(t, json.Valid(b), "not JSON: %q", b)
		assert.Contains(t, res.Header.Get("Content-Type"), "json")
	}
}
