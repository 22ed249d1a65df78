package api_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/demo/api"
	"github.com/verso-api/verso/storage"
	"github.com/verso-api/verso/storage/storagetest"
)

// TestFirstAccountOnce starts three servers at once on an empty database,
// each with its own connection pool as separate machines would have, for
// several rounds, and checks that they make one account between them
// whatever the race: one server prints a key, the others find its
// account, and that key works over HTTP on every server.
func TestFirstAccountOnce(t *testing.T) {
	const nodes, rounds = 3, 6
	eachBackend(t, func(t *testing.T, b storagetest.Backend) {
		for round := range rounds {
			u := b.URL(t)
			type node struct {
				app
				err error
			}
			ns := make([]node, nodes)
			ready := make(chan struct{})
			var made, wg sync.WaitGroup
			made.Add(nodes)
			for i := range ns {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ns[i].app, ns[i].err = startNode(t, u, &made, ready)
				}()
			}
			made.Wait() // every server is built; let them all ask for the account at once
			close(ready)
			wg.Wait()
			var keys []string
			for i, n := range ns {
				require.NoError(t, n.err, "round %d, node %d", round, i)
				assert.Equal(t, ns[0].acc, n.acc, "round %d: node %d has another account", round, i)
				if n.key != "" {
					keys = append(keys, n.key)
				}
			}
			require.Len(t, keys, 1, "round %d: one server makes the account and prints its key", round)
			all, err := ns[0].Accounts.Accounts(context.Background())
			require.NoError(t, err)
			require.Len(t, all, 1, "round %d: accounts %v", round, all)
			for i, n := range ns {
				r := n.do(t, keys[0], "GET", "/v1/customers", "", "")
				assert.Equal(t, 200, r.status, "round %d, node %d: %s", round, i, r.body)
			}
		}
	})
}

// startNode opens its own pool on the database at u, builds the API,
// signals made, waits for ready, then ensures the first account and
// serves until the test ends.
func startNode(t *testing.T, u string, made *sync.WaitGroup, ready <-chan struct{}) (app, error) {
	ctx, cancel := context.WithCancel(context.Background())
	db, err := storage.Open(ctx, u)
	if err != nil {
		made.Done()
		cancel()
		return app{}, err
	}
	s, err := api.New(ctx, api.Config{DB: db, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	made.Done()
	if err != nil {
		db.Close()
		cancel()
		return app{}, err
	}
	<-ready
	acct, key, err := s.EnsureAccount(ctx)
	if err != nil {
		db.Close()
		cancel()
		return app{}, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		db.Close()
		cancel()
		return app{}, err
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln, 5*time.Second) }()
	t.Cleanup(func() {
		cancel()
		assert.NoError(t, <-done)
		db.Close()
	})
	return app{Server: s, url: "http://" + ln.Addr().String(), key: key, acc: acct.ID}, nil
}
