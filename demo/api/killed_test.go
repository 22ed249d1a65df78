package api_test

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/demo/api"
	"github.com/verso-api/verso/idempotency"
	"github.com/verso-api/verso/storage"
	"github.com/verso-api/verso/storage/storagetest"
)

// TestKilledMidRequest: a process claims an Idempotency-Key for a charge and
// dies before finishing (here: its handler never returns and it is cut
// off). Until the lease ends a retry gets 409 in use; after it, the retry
// on a live server takes the key over and creates the charge exactly once.
func TestKilledMidRequest(t *testing.T) {
	eachBackend(t, func(t *testing.T, b storagetest.Backend) {
		const lease = 300 * time.Millisecond
		db, u := b.Open(t)
		a := startOn(t, db, api.Config{IdempotencyLease: lease})

		// The dying process: same database, same middleware, a handler that
		// hangs as a process killed mid-request would.
		ctx := context.Background()
		store, err := idempotency.NewSQLStore(ctx, db2(t, u), nil)
		require.NoError(t, err)
		idem, err := idempotency.Config{Store: store, Lease: lease,
			Account: func(*http.Request) (string, error) { return a.acc, nil }}.ToMiddleware()
		require.NoError(t, err)
		hang := make(chan struct{})
		claimed := make(chan struct{})
		dying := http.NewServeMux()
		dying.Handle("POST /v1/charges", idem(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			close(claimed)
			<-hang
		})))
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		srv := &http.Server{Handler: dying}
		go srv.Serve(ln)
		body := "amount=777&currency=usd&source=tok_visa"
		go func() {
			req, _ := http.NewRequest("POST", "http://"+ln.Addr().String()+"/v1/charges", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Idempotency-Key", "order-9")
			if res, err := http.DefaultClient.Do(req); err == nil {
				res.Body.Close()
			}
		}()
		select {
		case <-claimed:
		case <-time.After(10 * time.Second):
			t.Fatal("the dying process never claimed the key")
		}
		srv.Close() // killed: the key stays in progress in the database
		defer close(hang)

		r := a.do(t, a.key, "POST", "/v1/charges", newest, body, "Idempotency-Key", "order-9")
		assert.Equal(t, 409, r.status, r.body)
		assert.Equal(t, "idempotency_key_in_use", r.get("error.code").String())

		time.Sleep(lease + 100*time.Millisecond)
		r = a.do(t, a.key, "POST", "/v1/charges", newest, body, "Idempotency-Key", "order-9")
		require.Equal(t, 200, r.status, r.body)
		id := r.get("id").String()
		again := a.do(t, a.key, "POST", "/v1/charges", newest, body, "Idempotency-Key", "order-9")
		assert.Equal(t, "true", again.header.Get("Idempotent-Replayed"))
		assert.Equal(t, id, again.get("id").String())
		l := a.do(t, a.key, "GET", "/v1/charges", "", "")
		assert.Len(t, l.get("data").Array(), 1, "exactly one charge")
	})
}

// db2 opens a second handle on the same database, as another process would.
func db2(t *testing.T, url string) *storage.DB {
	d, err := storage.Open(context.Background(), url)
	require.NoError(t, err)
	t.Cleanup(func() { d.Close() })
	return d
}
