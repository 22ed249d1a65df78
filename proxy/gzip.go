package proxy

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// gzipWriter compresses, for a client that accepts gzip, an answer that
// the upstream gzipped and the proxy decompressed to walk back: the
// client gets it gzipped as the upstream meant, at every version. It sits
// outside the versioning middleware, which writes the walked body to it;
// the proxy turns it on (compress) only for such an answer, else it
// passes everything through. The compressed body is sent with its
// Content-Length when the handler returns, unless the handler flushes
// first.
type gzipWriter struct {
	http.ResponseWriter
	head bool // a HEAD request: no body to compress

	on        bool // compress the answer
	zw        *gzip.Writer
	buf       bytes.Buffer
	status    int  // the status held back until the body is compressed
	streaming bool // the status went out (a Flush): compressed bytes follow as they come
}

var gzipWriters = sync.Pool{New: func() any { return new(gzipWriter) }}

func getGzipWriter(w http.ResponseWriter, head bool) *gzipWriter {
	g := gzipWriters.Get().(*gzipWriter)
	g.ResponseWriter, g.head = w, head
	return g
}

func putGzipWriter(g *gzipWriter) {
	if g.buf.Cap() > 1<<20 {
		g.buf = bytes.Buffer{}
	}
	g.buf.Reset()
	*g = gzipWriter{buf: g.buf}
	gzipWriters.Put(g)
}

var gzipEncoders = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
	return zw
}}

// compress turns compression on for the answer about to be written.
func (g *gzipWriter) compress() {
	if !g.head {
		g.on = true
	}
}

func (g *gzipWriter) WriteHeader(code int) {
	if !g.on || g.zw != nil || code < 200 || !bodyAllowed(code) {
		if g.zw == nil {
			g.ResponseWriter.WriteHeader(code)
		}
		return
	}
	h := g.Header()
	delete(h, "Content-Length")
	h.Set("Content-Encoding", "gzip")
	if !hasToken(h["Vary"], "Accept-Encoding") {
		h.Add("Vary", "Accept-Encoding")
	}
	g.status = code
	g.zw = gzipEncoders.Get().(*gzip.Writer)
	g.zw.Reset(&g.buf)
}

func (g *gzipWriter) Write(b []byte) (int, error) {
	if g.zw == nil {
		if !g.on {
			return g.ResponseWriter.Write(b)
		}
		g.WriteHeader(http.StatusOK)
		if g.zw == nil {
			return g.ResponseWriter.Write(b)
		}
	}
	n, err := g.zw.Write(b)
	if err == nil && g.streaming && g.buf.Len() >= 32<<10 {
		err = g.drain()
	}
	return n, err
}

// drain sends what is compressed so far.
func (g *gzipWriter) drain() error {
	_, err := g.ResponseWriter.Write(g.buf.Bytes())
	g.buf.Reset()
	return err
}

// Flush sends the status and what is compressed so far: the rest follows
// as it is written, without a Content-Length.
func (g *gzipWriter) Flush() {
	if g.zw != nil {
		_ = g.zw.Flush()
		if !g.streaming {
			g.streaming = true
			g.ResponseWriter.WriteHeader(g.status)
		}
		_ = g.drain()
	}
	_ = http.NewResponseController(g.ResponseWriter).Flush()
}

// finish ends the compressed stream and sends what is left of it.
func (g *gzipWriter) finish() {
	if g.zw == nil {
		return
	}
	_ = g.zw.Close()
	gzipEncoders.Put(g.zw)
	g.zw = nil
	if !g.streaming {
		g.Header()["Content-Length"] = []string{strconv.Itoa(g.buf.Len())}
		g.ResponseWriter.WriteHeader(g.status)
	}
	_ = g.drain()
}

// Unwrap gives http.ResponseController the underlying writer.
func (g *gzipWriter) Unwrap() http.ResponseWriter { return g.ResponseWriter }

// acceptsGzip reports whether an Accept-Encoding header accepts gzip: it
// names gzip (or x-gzip), or *, with a q-value other than 0.
func acceptsGzip(values []string) bool {
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			coding, params, _ := strings.Cut(part, ";")
			coding = strings.TrimSpace(coding)
			if !strings.EqualFold(coding, "gzip") && !strings.EqualFold(coding, "x-gzip") && coding != "*" {
				continue
			}
			if q, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
				if f, err := strconv.ParseFloat(strings.TrimSpace(q), 64); err == nil && f == 0 {
					continue
				}
			}
			return true
		}
	}
	return false
}

var gzipDecoders sync.Pool // of *gzip.Reader
