package api_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/demo/api"
	"github.com/verso-api/verso/ratelimit"
	"github.com/verso-api/verso/storage"
	"github.com/verso-api/verso/storage/storagetest"
)

// EnvSoak names the variable that runs TestSoakRetention: how long each
// store is soaked, such as 5m. .ci/run leaves it unset.
const EnvSoak = "VERSO_SOAK"

// TestSoakRetention puts the demo API under a steady load, writes (each
// an update of one of 100 customers, whose event is delivered to two
// webhook endpoints on 127.0.0.1) and reads,
// with a retention of 30 seconds pruned every 5, on SQLite and PostgreSQL,
// and samples the database's size and its events and deliveries. Once a
// retention window has passed, the rows stop growing and so does the
// size: SQLite reuses the pages deleted rows free at once, PostgreSQL the
// space autovacuum reclaims, a few minutes in. Without retention they
// would grow with the load for ever, as they do in the first window.
//
//	VERSO_SOAK=5m go test -run TestSoakRetention -v -timeout 15m ./demo/api/
//
// VERSO_SOAK_WRITES and VERSO_SOAK_READS set the load per second
// (default 40 and 200).
func TestSoakRetention(t *testing.T) {
	d, err := time.ParseDuration(os.Getenv(EnvSoak))
	if err != nil || d <= 0 {
		t.Skip(EnvSoak + " is unset: set it to a duration such as 5m to soak each store that long")
	}
	writes, reads := envInt(EnvSoak+"_WRITES", 40), envInt(EnvSoak+"_READS", 200)
	const window, interval, every = 30 * time.Second, 5 * time.Second, 10 * time.Second
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			var db *storage.DB
			var size func() int64
			// retained measures what retention governs: the events and
			// deliveries tables with their indexes (0 where unknown).
			retained := func() int64 { return 0 }
			if b.Name == "sqlite" {
				path := filepath.Join(t.TempDir(), "verso.db")
				var err error
				db, err = storage.Open(context.Background(), path)
				require.NoError(t, err)
				t.Cleanup(func() { db.Close() })
				size = func() int64 { return fileSize(path) + fileSize(path+"-wal") }
				retained = func() int64 {
					var n int64
					require.NoError(t, db.QueryRow(context.Background(), `SELECT COALESCE(SUM(pgsize), 0) FROM dbstat
						WHERE name LIKE '%webhook_events%' OR name LIKE '%webhook_deliveries%'`).Scan(&n))
					return n
				}
			} else {
				db, _ = b.Open(t)
				size = func() int64 {
					var n int64
					require.NoError(t, db.QueryRow(context.Background(), `SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)
						FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
						WHERE n.nspname = current_schema() AND c.relkind = 'r'`).Scan(&n))
					return n
				}
				retained = func() int64 {
					var n int64
					require.NoError(t, db.QueryRow(context.Background(),
						`SELECT pg_total_relation_size('webhook_events') + pg_total_relation_size('webhook_deliveries')`).Scan(&n))
					return n
				}
			}
			unlimited := ratelimit.Per(1_000_000, time.Hour)
			a := startOn(t, db, api.Config{WebhooksAllowPrivate: true, KeyLimit: unlimited, IPLimit: unlimited,
				Retention: api.Retention{Events: window, Interval: interval}})
			var delivered atomic.Int64
			rs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				delivered.Add(1)
			})}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			go rs.Serve(ln)
			t.Cleanup(func() { rs.Close() })
			for i := range 2 {
				r := a.do(t, a.key, "POST", "/v1/webhook_endpoints", "", url.Values{"url": {fmt.Sprintf("http://%s/%d", ln.Addr(), i)}, "enabled_events[]": {"*"}}.Encode())
				require.Equal(t, 200, r.status, r.body)
			}

			ctx, cancel := context.WithTimeout(context.Background(), d)
			defer cancel()
			var wrote, read, skipped, failed atomic.Int64
			var wg sync.WaitGroup
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			load := func(perSecond int, fn func() error, n *atomic.Int64) {
				defer wg.Done()
				slots := make(chan struct{}, 32)
				tick := time.NewTicker(time.Second / time.Duration(perSecond))
				defer tick.Stop()
				for {
					select {
					case <-ctx.Done():
						return
					case <-tick.C:
					}
					select {
					case slots <- struct{}{}:
					default:
						skipped.Add(1) // the server is behind: the load does not pile up
						continue
					}
					wg.Add(1)
					go func() {
						defer wg.Done()
						defer func() { <-slots }()
						if err := fn(); err != nil {
							failed.Add(1)
							return
						}
						n.Add(1)
					}()
				}
			}
			call := func(method, path, body string) error {
				req, err := http.NewRequest(method, a.url+path, strings.NewReader(body))
				if err != nil {
					return err
				}
				req.Header.Set("Authorization", "Bearer "+a.key)
				if body != "" {
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				}
				res, err := client.Do(req)
				if err != nil {
					return err
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != 200 {
					return fmt.Errorf("%s %s: %d", method, path, res.StatusCode)
				}
				return nil
			}
			wg.Add(2)
			// The writes update customers, so that the API's own objects
			// stay as many and what grows is what retention governs.
			var customers []string
			for range 100 {
				r := a.do(t, a.key, "POST", "/v1/customers", "", "email=soak@example.com")
				require.Equal(t, 200, r.status, r.body)
				customers = append(customers, r.get("id").String())
			}
			var n atomic.Int64
			go load(writes, func() error {
				k := n.Add(1)
				return call("POST", "/v1/customers/"+customers[k%int64(len(customers))], fmt.Sprintf("description=soak+%d", k))
			}, &wrote)
			go load(reads, func() error { return call("GET", "/v1/customers?limit=10", "") }, &read)

			type sample struct {
				at                 time.Duration
				size, retained     int64
				events, deliveries int64
			}
			var samples []sample
			t0 := time.Now()
			take := func() {
				s := sample{at: time.Since(t0).Round(time.Second), size: size(), retained: retained()}
				require.NoError(t, db.QueryRow(context.Background(), `SELECT COUNT(*) FROM webhook_events`).Scan(&s.events))
				require.NoError(t, db.QueryRow(context.Background(), `SELECT COUNT(*) FROM webhook_deliveries`).Scan(&s.deliveries))
				samples = append(samples, s)
				t.Logf("%6s  %8.2f MB (events and deliveries: %6.2f MB)  %7d events  %7d deliveries  (%d written, %d read, %d delivered, %d skipped, %d failed)",
					s.at, float64(s.size)/1e6, float64(s.retained)/1e6, s.events, s.deliveries, wrote.Load(), read.Load(), delivered.Load(), skipped.Load(), failed.Load())
			}
			take()
			tick := time.NewTicker(every)
		loop:
			for {
				select {
				case <-ctx.Done():
					break loop
				case <-tick.C:
					take()
				}
			}
			tick.Stop()
			wg.Wait()
			take()
			secs := d.Seconds()
			t.Logf("load: %.0f writes/s, %.0f reads/s, %.0f deliveries/s; retention %s, pruned every %s",
				float64(wrote.Load())/secs, float64(read.Load())/secs, float64(delivered.Load())/secs, window, interval)

			// Before the first window ends nothing is deleted: the size
			// grows as it would without retention. Over the last third of
			// the soak it must grow at under 30% of that rate, and the
			// rows must stay within what a window (and a prune interval)
			// of load holds.
			first, last := samples[0], samples[len(samples)-1]
			var atWindow sample
			for _, s := range samples {
				if s.at <= window {
					atWindow = s
				}
			}
			tail := samples[len(samples)-1-len(samples)/3]
			require.Greater(t, tail.at, 2*window, "soak for at least %s", 6*window)
			rate := func(a, b sample) float64 { return float64(b.size-a.size) / (b.at - a.at).Seconds() }
			unpruned, settled := rate(first, atWindow), rate(tail, last)
			t.Logf("growth: %.1f kB/s before any event is old enough to delete, %.1f kB/s over the last third (%s on)",
				unpruned/1e3, settled/1e3, tail.at)
			assert.Less(t, settled, 0.3*unpruned, "the database's size levels off")
			assert.LessOrEqual(t, last.events, int64(float64(wrote.Load())/secs*(window+2*interval).Seconds())+150, "events")
		})
	}
}

func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}

func envInt(name string, def int) int {
	var n int
	if _, err := fmt.Sscan(os.Getenv(name), &n); err != nil || n <= 0 {
		return def
	}
	return n
}
