// Package sdktest runs Stripe's official SDKs, unmodified, against the demo
// API: each test starts `verso serve` on 127.0.0.1, built from this
// repository, and drives one integration flow through one SDK at the API
// version that SDK pins.
package sdktest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// versoBin is the verso command built from this repository by TestMain.
var versoBin string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "verso-sdktest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	versoBin = filepath.Join(dir, "verso")
	// Built in the repository's own module, with its own go.sum: the
	// command under test is this checkout's, whatever it depends on.
	build := exec.Command("go", "build", "-o", versoBin, "./cmd/verso")
	build.Dir = ".."
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "sdktest: building verso:", err)
		return 1
	}
	return m.Run()
}

var (
	servingRe = regexp.MustCompile(`serving .* on (http://127\.0\.0\.1:\d+)`)
	keyRe     = regexp.MustCompile(`^\s+(sk_test_\S+)\s*$`)
)

// serve starts `verso serve` on a free port of 127.0.0.1 with a database
// of its own, and returns its URL and the API key it printed. The server
// stops when the test ends.
func serve(t *testing.T, args ...string) (url, key string) {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, versoBin, append([]string{"serve", "--addr", "127.0.0.1:0", "--db", filepath.Join(dir, "verso.db"), "--rate", "1000", "--webhooks-allow-private"}, args...)...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(dir, "serve.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("verso serve log:\n%s", tail(string(b), 4000))
		}
	})
	found := make(chan [2]string, 1)
	go func() {
		var u, k string
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if m := servingRe.FindStringSubmatch(line); m != nil {
				u = m[1]
			}
			if m := keyRe.FindStringSubmatch(line); m != nil {
				k = m[1]
			}
			if u != "" && k != "" {
				found <- [2]string{u, k}
				break
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		close(found)
	}()
	select {
	case r, ok := <-found:
		if !ok {
			t.Fatal("verso serve stopped before printing its address and key")
		}
		return r[0], r[1]
	case <-time.After(2 * time.Minute):
		t.Fatal("verso serve printed no address and key in 2 minutes")
	}
	return "", ""
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

// uniq returns a string unique to the test, for emails and idempotency
// keys.
func uniq(t *testing.T, what string) string {
	return fmt.Sprintf("%s-%s-%d", what, strings.ReplaceAll(t.Name(), "/", "-"), time.Now().UnixNano())
}

// delivery is one webhook a receiver got: its body and Stripe-Signature.
type delivery struct {
	body []byte
	sig  string
}

// receiver starts a webhook receiver on 127.0.0.1 and returns its URL and
// a function that waits for the next delivery (failing the test after 30
// seconds). The receiver stops when the test ends.
func receiver(t *testing.T) (string, func() delivery) {
	t.Helper()
	got := make(chan delivery, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		select {
		case got <- delivery{b, r.Header.Get("Stripe-Signature")}:
		default:
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL, func() delivery {
		t.Helper()
		select {
		case d := <-got:
			return d
		case <-time.After(30 * time.Second):
			t.Fatal("no webhook delivery in 30 seconds")
		}
		return delivery{}
	}
}
