//go:build unix

package proxy_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/verso-api/verso/pins"
	"github.com/verso-api/verso/proxy"
)

// benchBody is what the benchmark's upstream answers: a list of ten tasks
// in the newest schema (1.2 KB).
func benchBody() []byte {
	var b strings.Builder
	b.WriteString(`{"object":"list","url":"/v1/tasks","has_more":false,"data":[`)
	for i := range 10 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"object":"task","id":"task_%d","title":"Write the docs of release %d","priority":"%d","status":"open","labels":["docs","release"]}`, i, i, i%5)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

// BenchmarkProxy measures requests through a plain httputil.ReverseProxy
// and through the versioning proxy, both in front of the same in-process
// Go upstream on 127.0.0.1, with the client in the same process: at the
// newest version (version header, or the account's pin in memory), where
// the answer streams through, and at the oldest, where it is walked back.
// It reports requests per second, the 50th and 99th percentile latency,
// and the CPU time of the whole process per request (cpu-µs/op: less
// sensitive than wall time to other programs sharing the machine);
// allocations and CPU count the client, the proxy and the upstream.
func BenchmarkProxy(b *testing.B) {
	body := benchBody()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	defer up.Close()
	upURL, _ := url.Parse(up.URL)
	transport := func() *http.Transport {
		return &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: 90 * time.Second}
	}

	plain := httptest.NewServer(&httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(upURL)
			pr.SetXForwarded()
		},
		Transport: transport(),
	})
	defer plain.Close()

	store := pins.NewMemory(pins.Options{})
	p, err := proxy.Config{
		Upstream:  upURL,
		Engine:    loadEngine(b),
		Pins:      store,
		Transport: transport(),
		Logger:    slog.New(slog.DiscardHandler),
	}.Handler()
	if err != nil {
		b.Fatal(err)
	}
	versioned := httptest.NewServer(p)
	defer versioned.Close()

	cases := []struct {
		name   string
		base   string
		header http.Header
	}{
		{"via=plain", plain.URL, http.Header{"Acme-Version": {v2024}}},
		{"via=newest", versioned.URL, http.Header{"Acme-Version": {v2024}}},
		{"via=newest-pinned", versioned.URL, http.Header{"Authorization": {"Bearer sk_test_bench"}}},
		{"via=oldest", versioned.URL, http.Header{"Acme-Version": {v2022}}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			client := &http.Client{Transport: transport()}
			defer client.CloseIdleConnections()
			get := func() (time.Duration, error) {
				req, err := http.NewRequest("GET", c.base+"/v1/tasks", nil)
				if err != nil {
					return 0, err
				}
				req.Header = c.header.Clone()
				start := time.Now()
				res, err := client.Do(req)
				if err != nil {
					return 0, err
				}
				_, err = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != 200 {
					return 0, fmt.Errorf("status %d", res.StatusCode)
				}
				return time.Since(start), err
			}
			if _, err := get(); err != nil { // pins the account, warms the connections
				b.Fatal(err)
			}
			var (
				mu  sync.Mutex
				all []time.Duration
			)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			b.SetParallelism(4)
			b.ResetTimer()
			cpu0 := cpuTime()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				lat := make([]time.Duration, 0, 1024)
				for pb.Next() {
					d, err := get()
					if err != nil {
						b.Error(err)
						return
					}
					lat = append(lat, d)
				}
				mu.Lock()
				all = append(all, lat...)
				mu.Unlock()
			})
			elapsed := time.Since(start)
			cpu := cpuTime() - cpu0
			b.StopTimer()
			if len(all) == 0 {
				return
			}
			slices.Sort(all)
			b.ReportMetric(float64(len(all))/elapsed.Seconds(), "req/s")
			b.ReportMetric(float64(all[len(all)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-µs")
			b.ReportMetric(float64(cpu.Microseconds())/float64(len(all)), "cpu-µs/op")
		})
	}
}

// cpuTime returns the user and system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkAccount measures the keyed hash that names the account of an
// Authorization header.
func BenchmarkAccount(b *testing.B) {
	p, err := proxy.Config{Upstream: &url.URL{Scheme: "http", Host: "127.0.0.1:1"}, Engine: loadEngine(b)}.Handler()
	if err != nil {
		b.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/v1/tasks", nil)
	r.Header.Set("Authorization", "Bearer sk_test_0123456789abcdefghijklmnop")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Account(r); err != nil {
			b.Fatal(err)
		}
	}
}
