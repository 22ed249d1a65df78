//go:build unix

package proxy_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"testing"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/pins"
	"github.com/verso-api/verso/proxy"
	"github.com/verso-api/verso/server"
	"github.com/verso-api/verso/transform"
)

// cannedTransport answers every request with body, from memory.
type cannedTransport struct{ body []byte }

func (c cannedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
	}
	return &http.Response{StatusCode: 200, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"application/json"}, "Content-Length": {strconv.Itoa(len(c.body))}},
		Body:          io.NopCloser(bytes.NewReader(c.body)),
		ContentLength: int64(len(c.body)), Request: r}, nil
}

// discardWriter is a ResponseWriter that keeps nothing.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) WriteHeader(int)             {}
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }

// BenchmarkHandler measures the proxy's handler alone, in front of an
// upstream answered from memory (no network, no client): a plain
// httputil.ReverseProxy and verso's at the versions of BenchmarkProxyCPU.
// It counts the allocations each adds and the CPU of the process per
// request (cpu-ns/op: the handler and the garbage collector), for
// profiling what verso adds to a reverse proxy; BenchmarkProxyCPU is the
// figure to quote.
func BenchmarkHandler(b *testing.B) {
	body, err := benchBody()
	if err != nil {
		b.Fatal(err)
	}
	up, _ := url.Parse("http://127.0.0.1:1")
	plain := &httputil.ReverseProxy{
		Rewrite:    func(pr *httputil.ProxyRequest) { pr.SetURL(up); pr.SetXForwarded() },
		Transport:  cannedTransport{body},
		BufferPool: plainBuffers{},
	}
	tl, err := gates.LoadFile("testdata/bench.yaml", nil)
	if err != nil {
		b.Fatal(err)
	}
	store := pins.NewMemoryStore(nil)
	p, err := proxy.Config{
		Config:    server.Config{Engine: transform.New(tl, nil), Pins: store, Usage: pins.NewCounter(store), Logger: slog.New(slog.DiscardHandler)},
		Upstream:  up,
		Transport: cannedTransport{body},
	}.Handler()
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		h    http.Handler
		hdr  http.Header
	}{
		{"via=plain", plain, http.Header{"Acme-Version": {benchNewest}}},
		{"at=newest", p, http.Header{"Acme-Version": {benchNewest}}},
		{"at=newest-pinned", p, http.Header{"Authorization": {"Bearer sk_test_bench"}}},
		{"at=oldest-8-ops", p, http.Header{"Acme-Version": {benchOldest}}},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			c0 := cpuTime()
			for b.Loop() {
				r := httptest.NewRequest("GET", "/v1/tasks", nil)
				r.Header = c.hdr.Clone()
				c.h.ServeHTTP(&discardWriter{h: http.Header{}}, r)
			}
			b.ReportMetric(float64((cpuTime()-c0).Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
	}
}
