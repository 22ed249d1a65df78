package main

import (
	"bufio"
	"io"
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

// TestProxyFilesPrivate runs `verso proxy` with a new SQLite pin
// database, pins an account through it over HTTP, and checks that the
// database and its -wal and -shm files are created mode 0600.
func TestProxyFilesPrivate(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"object":"task","id":"task_1","title":"Write docs","priority":"3","status":"open","labels":[]}`)
	}))
	defer upstream.Close()
	db := filepath.Join(t.TempDir(), "pins.db")
	pr, pw := io.Pipe()
	stop := make(chan struct{})
	done := make(chan int, 1)
	go func() {
		done <- run(&env{stdout: pw, stderr: io.Discard, interrupt: stop}, []string{"proxy",
			"--upstream", upstream.URL, "-f", "../../proxy/testdata/timeline.yaml", "--addr", "127.0.0.1:0", "--db", db})
		pw.Close()
	}()
	defer func() {
		close(stop)
		select {
		case code := <-done:
			assert.Equal(t, 0, code)
		case <-time.After(30 * time.Second):
			t.Error("proxy did not stop")
		}
	}()
	var base string
	sc := bufio.NewScanner(pr)
	reProxy := regexp.MustCompile(`proxying (http://127\.0\.0\.1:\d+)`)
	for base == "" && sc.Scan() {
		if m := reProxy.FindStringSubmatch(sc.Text()); m != nil {
			base = m[1]
		}
	}
	go io.Copy(io.Discard, pr)
	require.NotEmpty(t, base)
	req, err := http.NewRequest("GET", base+"/v1/account/api_version", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer sk_test_1") // the first request of an account pins it
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, 200, res.StatusCode)
	checkPrivate(t, db, db+"-wal", db+"-shm")
}
