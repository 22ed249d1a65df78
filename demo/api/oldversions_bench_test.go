//go:build unix

package api_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"runtime/pprof"
	"syscall"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/tidwall/gjson"

	"github.com/verso-api/verso/demo/api"
	"github.com/verso-api/verso/ratelimit"
	"github.com/verso-api/verso/storage"
	"github.com/verso-api/verso/storage/storagetest"
)

// BenchmarkOldVersions serves GET one charge and GET 100 charges over real
// HTTP on 127.0.0.1, at 2014-12-22 (which embeds each charge's refunds,
// put back by a resolver) and at the newest version (which streams through
// unwalked), on SQLite and PostgreSQL. The versions take turns in one
// loop, so they see the same machine; it reports each one's requests per
// second (one client, one request at a time) and old/newest, their ratio;
// 2022-08-01/newest and 2022-11-15/newest, just before and after the
// resolvers' change, tell the resolvers' share from the walk's. On a
// loaded machine requests wait for a core as much as they use one, so it
// also reports the process's CPU time per request at each version
// (*-cpu-µs: the client's and the server's, and SQLite's, all in this
// process; not PostgreSQL's).
//
// With VERSO_BENCH_LABELS set, each request's handling is labelled with
// its version for a CPU profile, so that the server's share can be told
// from the client's and split by version:
//
//	VERSO_BENCH_LABELS=1 go test -run '^$' -bench 'OldVersions/sqlite/seeded/list' -benchtime 6000x -cpuprofile cpu.out ./demo/api/
//	go tool pprof -top -tagfocus version=2014-12-22 -focus 'Server..list$' cpu.out
//
// "plain" is an account with the 100 charges (payment intents) alone, one
// of them refunded twice; "seeded" adds 400 payment intents and 2,998
// refunds on their charges: 500 payment intents and 3,000 refunds in all.
// An old version must not slow down as the account grows.
//
//	go test -run '^$' -bench OldVersions -benchtime 600x ./demo/api/
func BenchmarkOldVersions(b *testing.B) {
	for _, be := range storagetest.Backends() {
		b.Run(be.Name, func(b *testing.B) {
			for _, data := range []struct {
				name           string
				others, refund int // payment intents before the listed ones, refunds on their charges
			}{{"plain", 0, 0}, {"seeded", 400, 2998}} {
				b.Run(data.name, func(b *testing.B) {
					// A large burst over a long span: the PostgreSQL store
					// refuses a request delayed past its bucket's span.
					unlimited := ratelimit.Per(1_000_000, time.Hour)
					db, _ := be.Open(b)
					a := startOn(b, db, api.Config{KeyLimit: unlimited, IPLimit: unlimited})
					if os.Getenv("VERSO_BENCH_LABELS") != "" {
						a.Echo.Pre(labelVersion)
					}
					if data.others > 0 {
						seedPayments(b, a, data.others, data.others, data.refund)
					}
					charges, _ := seedPayments(b, a, 100, 0, 0)
					for range 2 {
						if r := a.do(b, a.key, "POST", "/v1/refunds", "", "amount=5&charge="+charges[0]); r.status != 200 {
							b.Fatalf("refund: %d %s", r.status, r.body)
						}
					}
					if db.Dialect == storage.Postgres {
						// Statistics, as autovacuum gathers them within a
						// minute of such a load: without them, PostgreSQL
						// guesses an account has one object of each type.
						if _, err := db.Exec(context.Background(), "ANALYZE verso_objects"); err != nil {
							b.Fatal(err)
						}
					}
					for _, req := range []struct{ name, path string }{
						{"one", "/v1/charges/" + charges[0]},
						{"list100", "/v1/charges?limit=100"},
					} {
						b.Run(req.name, func(b *testing.B) { benchVersions(b, a, req.path) })
					}
				})
			}
		})
	}
}

// benchVersions takes turns at path with 2014-12-22, 2022-08-01 (the last
// version before the resolvers' change), 2022-11-15 (the first after it:
// walked back almost as far, with no resolver) and the newest version.
// The checks before the loop make sure each serves what it should:
// refunds embedded before 2022-11-15 only.
func benchVersions(b *testing.B, a *app, path string) {
	versions := []string{oldest, "2022-08-01", "2022-11-15", newest}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2}}
	defer client.CloseIdleConnections()
	reqs := make([]*http.Request, len(versions))
	for i, v := range versions {
		req, err := http.NewRequest("GET", a.url+path, nil)
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+a.key)
		req.Header.Set("Stripe-Version", v)
		reqs[i] = req
	}
	var buf bytes.Buffer
	get := func(i int) {
		res, err := client.Do(reqs[i])
		if err != nil {
			b.Fatal(err)
		}
		buf.Reset()
		_, err = io.Copy(&buf, res.Body)
		res.Body.Close()
		if err != nil || res.StatusCode != 200 {
			b.Fatalf("%s at %s: %d %v %s", path, versions[i], res.StatusCode, err, buf.Bytes())
		}
	}
	size := make([]int, len(versions))
	total := 0
	for i := range versions {
		get(i)
		size[i] = buf.Len()
		total += size[i]
		body := buf.Bytes()
		if gjson.GetBytes(body, "object").String() == "list" {
			// The item refunded twice.
			body = []byte(gjson.GetBytes(body, `data.#(amount_refunded==10)`).Raw)
		}
		refunds := gjson.GetBytes(body, "refunds")
		embeds := i < 2
		if embeds != refunds.Exists() || embeds && refunds.Get("total_count").Int() != 2 {
			b.Fatalf("%s at %s: refunds %s in %.300s", path, versions[i], refunds.Raw, body)
		}
	}
	b.ReportAllocs()
	b.SetBytes(int64(total))
	spent := make([]time.Duration, len(versions))
	cpu := make([]time.Duration, len(versions))
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		for k := range versions {
			i := (n + k) % len(versions) // rotate which goes first
			c0 := processCPU()
			t0 := time.Now()
			get(i)
			spent[i] += time.Since(t0)
			cpu[i] += processCPU() - c0
		}
	}
	b.StopTimer()
	perReq := func(i int) float64 { return float64(cpu[i].Microseconds()) / float64(b.N) }
	b.ReportMetric(perReq(0), "old-cpu-µs")
	b.ReportMetric(perReq(len(versions)-1), "newest-cpu-µs")
	b.ReportMetric(perReq(1), "2022-08-01-cpu-µs")
	b.ReportMetric(perReq(2), "2022-11-15-cpu-µs")
	rate := func(i int) float64 { return float64(b.N) / spent[i].Seconds() }
	cur := rate(len(versions) - 1)
	b.ReportMetric(rate(0), "old-req/s")
	b.ReportMetric(cur, "newest-req/s")
	b.ReportMetric(rate(0)/cur, "old/newest")
	b.ReportMetric(rate(1)/cur, "2022-08-01/newest")
	b.ReportMetric(rate(2)/cur, "2022-11-15/newest")
	b.ReportMetric(float64(size[0])/float64(size[len(size)-1]), "old-bytes/newest")
}

// processCPU is the CPU time the process has used, user and system: the
// client's and the server's (both are in this process), the database's
// too on SQLite.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// labelVersion runs each request with a profiler label naming the version
// it asks for.
func labelVersion(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		var err error
		pprof.Do(c.Request().Context(), pprof.Labels("version", c.Request().Header.Get("Stripe-Version")), func(context.Context) { err = next(c) })
		return err
	}
}
