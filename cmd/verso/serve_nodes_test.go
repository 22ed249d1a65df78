package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/storage/storagetest"
)

// served is a `verso serve` running in the test: its address and what it
// said about the account.
type served struct {
	base, account, key string
}

var (
	reServing = regexp.MustCompile(`serving .* on (http://127\.0\.0\.1:\d+)`)
	reCreated = regexp.MustCompile(`created account (acct_\w+); its test API key`)
	reFound   = regexp.MustCompile(`: account (acct_\w+); make a key`)
	reSecret  = regexp.MustCompile(`^\s+(sk_test_\w+)$`)
)

// startServe runs `verso serve` with args until the test ends, and
// returns once it has said where it serves and which account it has.
func startServe(t *testing.T, args ...string) (served, error) {
	pr, pw := io.Pipe()
	stop := make(chan struct{})
	done := make(chan int, 1)
	stderr := &lockedBuffer{}
	go func() {
		done <- run(&env{stdout: pw, stderr: stderr, interrupt: stop}, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...))
		pw.Close()
	}()
	t.Cleanup(func() {
		close(stop)
		select {
		case code := <-done:
			assert.Equal(t, 0, code, stderr.String())
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop")
		}
	})
	var s served
	sc := bufio.NewScanner(pr)
	created := false
	for sc.Scan() {
		line := sc.Text()
		if m := reServing.FindStringSubmatch(line); m != nil {
			s.base = m[1]
		}
		if m := reCreated.FindStringSubmatch(line); m != nil {
			s.account, created = m[1], true
		}
		if m := reFound.FindStringSubmatch(line); m != nil {
			s.account = m[1]
		}
		if m := reSecret.FindStringSubmatch(line); m != nil {
			s.key = m[1]
		}
		if s.base != "" && s.account != "" && (!created || s.key != "") {
			break
		}
	}
	go io.Copy(io.Discard, pr)
	if s.base == "" || s.account == "" {
		return s, fmt.Errorf("serve stopped before it served: %s", stderr.String())
	}
	return s, nil
}

// lockedBuffer is an io.Writer safe for concurrent use.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestServeNodesOneAccount starts three `verso serve` at once on an empty
// database, for several rounds on each store, and checks that one of them
// creates the account and prints its key, the others serve that account,
// and the key works over HTTP on all three.
func TestServeNodesOneAccount(t *testing.T) {
	const nodes, rounds = 3, 3
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			for round := range rounds {
				args := []string{"--db", b.URL(t), "--secrets-key-file", filepath.Join(t.TempDir(), "secrets.key")}
				ss := make([]served, nodes)
				errs := make([]error, nodes)
				var wg sync.WaitGroup
				for i := range ss {
					wg.Add(1)
					go func() {
						defer wg.Done()
						ss[i], errs[i] = startServe(t, args...)
					}()
				}
				wg.Wait()
				var keys []string
				for i, s := range ss {
					require.NoError(t, errs[i], "round %d, node %d", round, i)
					assert.Equal(t, ss[0].account, s.account, "round %d: node %d serves another account", round, i)
					if s.key != "" {
						keys = append(keys, s.key)
					}
				}
				require.Len(t, keys, 1, "round %d: one node creates the account and prints its key", round)
				for i, s := range ss {
					req, err := http.NewRequest("GET", s.base+"/v1/customers", nil)
					require.NoError(t, err)
					req.Header.Set("Authorization", "Bearer "+keys[0])
					res, err := http.DefaultClient.Do(req)
					require.NoError(t, err)
					res.Body.Close()
					assert.Equal(t, 200, res.StatusCode, "round %d, node %d", round, i)
				}
			}
		})
	}
}
