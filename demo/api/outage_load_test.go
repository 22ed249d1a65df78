package api_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/verso-api/verso/demo/api"
	"github.com/verso-api/verso/ratelimit"
	"github.com/verso-api/verso/storage"
	"github.com/verso-api/verso/storage/storagetest"
)

// outcome is one response under load.
type outcome struct {
	op, body   string
	status     int
	retryAfter string
	cut        bool // sent after the database was cut
}

// TestDatabaseCutUnderLoad takes the database away while clients send
// every kind of request (reads, writes with and without idempotency
// keys, the account's version, webhook endpoints, events, accounts whose
// first request pins them), so that requests are caught on connections
// dying in every layer: the rate limiter, authentication, the pin store,
// the idempotency store and the handlers' stores. No response may be a
// 500: every 5xx is a 503 with Retry-After in the error shape.
//
// On PostgreSQL the connections first die while the database stays
// reachable (as when it restarts, or a pooler between drops them: a new
// connection would succeed, so the requests caught are the only sign),
// five times; then the database goes away; then it comes back, and so
// does the API. On SQLite the database is closed under the server.
func TestDatabaseCutUnderLoad(t *testing.T) {
	lim := ratelimit.Per(1_000_000, time.Minute)
	t.Run("postgres", func(t *testing.T) {
		u, err := url.Parse(storagetest.PostgresURL(t))
		require.NoError(t, err)
		p := &tcpProxy{target: u.Host}
		p.listen(t, "127.0.0.1:0")
		proxyAddr := p.ln.Addr().String()
		t.Cleanup(p.cut)
		u.Host = proxyAddr
		db, err := storage.Open(t.Context(), u.String())
		require.NoError(t, err)
		t.Cleanup(func() { db.Close() })
		a := startOn(t, db, api.Config{KeyLimit: lim, IPLimit: lim})
		underLoad(t, a, func(l *load) {
			for range 5 {
				p.drop()
				l.waitAfter(40)
			}
			p.cut()
			l.waitAfter(200)
			p.listen(t, proxyAddr)
			l.waitRecovered(50)
		})
	})
	t.Run("sqlite", func(t *testing.T) {
		db, _ := storagetest.Backends()[0].Open(t)
		a := startOn(t, db, api.Config{KeyLimit: lim, IPLimit: lim})
		underLoad(t, a, func(l *load) {
			db.Close()
			l.waitAfter(200)
		})
	})
}

// load is the state of underLoad's clients, for its script.
type load struct {
	t         *testing.T
	cut       atomic.Bool
	afterCut  atomic.Int64
	recovered atomic.Int64
	restored  atomic.Bool
	stop      func()
}

// waitAfter waits until n more requests were answered after the cut.
func (l *load) waitAfter(n int64) {
	l.cut.Store(true)
	before := l.afterCut.Load()
	l.waitFor("requests after the cut", func() bool { return l.afterCut.Load() >= before+n })
}

// waitRecovered says the database is back and waits for n successes.
func (l *load) waitRecovered(n int64) {
	l.restored.Store(true)
	l.waitFor("the API back", func() bool { return l.recovered.Load() >= n })
}

// waitFor polls cond; the deadline only stops a hung test.
func (l *load) waitFor(what string, cond func() bool) {
	deadline := time.Now().Add(90 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			l.stop()
			l.t.Fatalf("gave up waiting: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// underLoad runs clients against a until script returns, and checks
// every response: 200, or 503 with Retry-After in the error shape.
func underLoad(t *testing.T, a *app, script func(*load)) {
	var fresh []string // accounts whose first request pins them
	for range 60 {
		fresh = append(fresh, a.newAccount(t))
	}
	client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	send := func(op, key, method, path, body string, header ...string) outcome {
		req, err := http.NewRequest(method, a.url+path, strings.NewReader(body))
		if err != nil {
			return outcome{op: op, body: err.Error()}
		}
		req.Header.Set("Authorization", "Bearer "+key)
		if body != "" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		res, err := client.Do(req)
		if err != nil {
			return outcome{op: op, body: err.Error()}
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		return outcome{op: op, status: res.StatusCode, body: string(b), retryAfter: res.Header.Get("Retry-After")}
	}
	var (
		seq, freshNext atomic.Int64
		mu             sync.Mutex
		outcomes       []outcome
	)
	ops := []func() outcome{
		func() outcome { return send("list", a.key, "GET", "/v1/customers?limit=3", "") },
		func() outcome {
			return send("create", a.key, "POST", "/v1/customers", fmt.Sprintf("email=l%d@example.com", seq.Add(1)))
		},
		func() outcome {
			n := seq.Add(1)
			return send("create idempotent", a.key, "POST", "/v1/customers", fmt.Sprintf("email=i%d@example.com", n), "Idempotency-Key", fmt.Sprintf("load-%d", n))
		},
		func() outcome { return send("version", a.key, "GET", "/v1/account/api_version", "") },
		func() outcome { return send("webhook endpoints", a.key, "GET", "/v1/webhook_endpoints", "") },
		func() outcome {
			i := int(freshNext.Add(1)-1) % len(fresh)
			return send("first request", fresh[i], "GET", "/v1/customers", "")
		},
		func() outcome { return send("events", a.key, "GET", "/v1/events?limit=2", "") },
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	l := &load{t: t}
	l.stop = func() { cancel(); wg.Wait() }
	const workers = 8
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; ctx.Err() == nil; i++ {
				wasCut := l.cut.Load()
				o := ops[i%len(ops)]()
				o.cut = wasCut
				mu.Lock()
				outcomes = append(outcomes, o)
				mu.Unlock()
				if wasCut {
					l.afterCut.Add(1)
				}
				if l.restored.Load() && o.status == 200 {
					l.recovered.Add(1)
				}
			}
		}()
	}
	l.waitFor("requests before the cut", func() bool { mu.Lock(); defer mu.Unlock(); return len(outcomes) >= 100 })
	script(l)
	l.stop()
	// A connection the client dialled for a request it then cancelled is
	// new to the server, which waits for it at shutdown: close them.
	client.CloseIdleConnections()

	byStatus := map[string]int{}
	unavailable := 0
	for _, o := range outcomes {
		byStatus[fmt.Sprintf("%s %d", o.op, o.status)]++
		switch {
		case o.status == 0:
			t.Errorf("%s: no response: %s", o.op, o.body)
		case o.status == 503:
			if o.retryAfter == "" || !gjson.Valid(o.body) || gjson.Get(o.body, "error.type").String() != "api_error" {
				t.Errorf("%s: a 503 without Retry-After or not in the shape: %q %.300s", o.op, o.retryAfter, o.body)
			}
			if o.cut {
				unavailable++
			}
		case o.status != 200:
			t.Errorf("%s: %d: %.300s", o.op, o.status, o.body)
		}
	}
	t.Logf("%d requests: %v", len(outcomes), byStatus)
	assert.Positive(t, unavailable, "the outage was not seen")
}

// drop closes every connection through the proxy, leaving it listening:
// the database is still there for new connections.
func (p *tcpProxy) drop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}
