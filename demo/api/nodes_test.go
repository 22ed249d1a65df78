package api_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/demo/api"
	"github.com/verso-api/verso/ratelimit"
	"github.com/verso-api/verso/storage"
	"github.com/verso-api/verso/storage/storagetest"
	"github.com/verso-api/verso/webhooks"
)

// TestNodesStartTogether starts several API servers at once on an empty
// PostgreSQL schema, each with its own connection pool as separate
// machines would have: every store migrates under the advisory lock, so all
// of them start.
func TestNodesStartTogether(t *testing.T) {
	u := storagetest.PostgresURL(t)
	const nodes = 6
	ctx := context.Background()
	dbs := make([]*storage.DB, nodes)
	for i := range dbs {
		db, err := storage.Open(ctx, u)
		require.NoError(t, err)
		t.Cleanup(func() { db.Close() })
		dbs[i] = db
	}
	for round := range 3 {
		if round > 0 { // the schema exists: the later rounds start on it
			t.Logf("round %d on the migrated schema", round)
		}
		errs := make([]error, nodes)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, db := range dbs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, errs[i] = api.New(ctx, api.Config{DB: db, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			}()
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			require.NoError(t, err, "round %d, node %d", round, i)
		}
	}
}

// TestTwoServers runs two API servers, each with its own connection pool,
// on one PostgreSQL database, and checks what must hold across them: the
// rate limit is shared (not twice the limit), an idempotency key used on
// one is honoured on the other, and every event reaches an endpoint once
// though both servers run a delivery worker.
func TestTwoServers(t *testing.T) {
	u := storagetest.PostgresURL(t)
	ctx := context.Background()
	open := func() *storage.DB {
		db, err := storage.Open(ctx, u)
		require.NoError(t, err)
		t.Cleanup(func() { db.Close() })
		return db
	}
	cfg := api.Config{KeyLimit: ratelimit.Per(40, time.Hour), WebhooksAllowPrivate: true}
	a := startOn(t, open(), cfg)
	b := startOn(t, open(), cfg)
	require.NotEmpty(t, a.key)
	b.key = a.key

	t.Run("idempotency across servers", func(t *testing.T) {
		first := a.do(t, a.key, "POST", "/v1/charges", newest, "amount=700&currency=usd&source=tok_visa", "Idempotency-Key", "two-servers")
		require.Equal(t, 200, first.status, first.body)
		again := b.do(t, b.key, "POST", "/v1/charges", newest, "amount=700&currency=usd&source=tok_visa", "Idempotency-Key", "two-servers")
		require.Equal(t, 200, again.status, again.body)
		assert.Equal(t, "true", again.header.Get("Idempotent-Replayed"))
		assert.Equal(t, first.get("id").String(), again.get("id").String())
		other := b.do(t, b.key, "POST", "/v1/charges", newest, "amount=800&currency=usd&source=tok_visa", "Idempotency-Key", "two-servers")
		assert.Equal(t, 400, other.status)
		assert.Equal(t, "idempotency_error", other.get("error.type").String())
	})

	t.Run("every event reaches the endpoint once", func(t *testing.T) {
		var mu sync.Mutex
		got := map[string]int{}
		rs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			got[r.Header.Get(webhooks.EventIDHeader)]++
			mu.Unlock()
		})}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		go rs.Serve(ln)
		defer rs.Close()
		r := a.do(t, a.key, "POST", "/v1/webhook_endpoints", "", url.Values{"url": {"http://" + ln.Addr().String()}, "enabled_events[]": {"customer.created"}}.Encode())
		require.Equal(t, 200, r.status, r.body)
		const n = 20
		for i := range n {
			srv := []*app{a, b}[i%2]
			c := srv.do(t, a.key, "POST", "/v1/customers", "", "balance="+strconv.Itoa(i))
			require.Equal(t, 200, c.status, c.body)
		}
		eventually(t, "every event delivered", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(got) == n
		})
		eventually(t, "every delivery recorded as delivered", func() bool {
			l := a.do(t, a.key, "GET", "/v1/webhook_endpoints/"+r.get("id").String()+"/deliveries?limit=100", "", "")
			require.Equal(t, 200, l.status, l.body)
			delivered := 0
			for _, d := range l.get("data").Array() {
				if d.Get("status").String() == "delivered" {
					delivered++
				}
			}
			return delivered == n
		})
		mu.Lock()
		defer mu.Unlock()
		for id, k := range got {
			assert.Equal(t, 1, k, "event %s arrived %d times", id, k)
		}
	})

	t.Run("the rate limit is shared", func(t *testing.T) {
		// Both servers count against one budget of 40 per hour for the key;
		// the requests above took some of it. Ask each server in turn until
		// one refuses: the total allowed is the limit, not twice it.
		allowed, refused := 0, 0
		for i := 0; i < 80 && refused == 0; i++ {
			srv := []*app{a, b}[i%2]
			r := srv.do(t, a.key, "GET", "/v1/customers?limit=1", "", "")
			switch r.status {
			case 200:
				allowed++
			case 429:
				refused++
				assert.Equal(t, "rate_limit_error", r.get("error.type").String())
			default:
				t.Fatalf("status %d: %s", r.status, r.body)
			}
		}
		require.Equal(t, 1, refused, "one server refused once the shared budget was spent")
		assert.Less(t, allowed, 40, "the two servers allowed no more than one budget")
		// Still refused on the other server: the bucket is one.
		other := []*app{a, b}[allowed%2]
		assert.Equal(t, 429, other.do(t, a.key, "GET", "/v1/customers?limit=1", "", "").status)
	})
}

// eventually polls cond until it holds; the deadline only stops a hung
// test, it asserts nothing about speed.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
