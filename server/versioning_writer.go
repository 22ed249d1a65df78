package server

import (
	"bytes"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/transform"
)

// errResponseTooLarge is what a handler's Write gets once the buffered
// response is over Config.MaxResponseBytes.
var errResponseTooLarge = errors.New("server: response too large to render in the client's version")

// backWriter is the response writer of a request served at an older
// version. It holds a JSON response back until the handler (and the error
// handler) are done, so that the middleware can walk it back in one pass
// and fix its Content-Length. A response that is not JSON, has no body, or
// has a status whose plan changes nothing (a success where only error
// bodies changed, an error where no change touches them) is passed
// through as it is written.
//
// Most handlers write a JSON body in one Write. When the first Write holds
// a whole JSON value, it is walked there and then into out, which finish
// sends: the handler's bytes are read once and copied nowhere but into
// the body the client gets. What a handler writes after a whole value may
// only be white space (an encoder's newline), else the body is not JSON
// and finish refuses it as it would have. Any other body is buffered and
// walked by finish.
type backWriter struct {
	w    http.ResponseWriter // the writer the middleware replaced
	plan *transform.Plan
	max  int64
	req  *http.Request // for the context of resolvers
	// raw tells that finish needs the body as the handler wrote it (for
	// the shadow sampler), so it is buffered, never walked in Write.
	raw bool
	// fired, when not nil, gets the changes the walk back fires
	// (Config.Fired).
	fired *gates.Fired

	wroteHeader bool
	passthrough bool
	overflow    bool
	status      int
	n           int64 // body bytes the handler wrote
	buf         bytes.Buffer
	out         []byte // the walked body, reused between responses
	// walked tells that out holds the walk of the body written so far;
	// trailing, that something other than white space followed it.
	walked, trailing bool
	walkTime         time.Duration // how long it took, when timed
	timed            bool
}

var backWriters = sync.Pool{New: func() any { return new(backWriter) }}

func getBackWriter(w http.ResponseWriter, req *http.Request, plan *transform.Plan, max int64, raw, timed bool, x *Exchange) *backWriter {
	bw := backWriters.Get().(*backWriter)
	bw.w, bw.req, bw.plan, bw.max, bw.raw, bw.timed = w, req, plan, max, raw, timed
	if x != nil {
		bw.fired = &x.Response
	}
	return bw
}

func putBackWriter(bw *backWriter) {
	if bw.buf.Cap() > 1<<20 {
		bw.buf = bytes.Buffer{}
	}
	bw.buf.Reset()
	out := bw.out[:0]
	if cap(out) > 1<<20 {
		out = nil
	}
	*bw = backWriter{buf: bw.buf, out: out}
	backWriters.Put(bw)
}

// Header returns the header of the underlying writer.
func (bw *backWriter) Header() http.Header { return bw.w.Header() }

// WriteHeader decides, from the Content-Type set by now, whether the
// response is buffered to be walked back or passed through.
func (bw *backWriter) WriteHeader(code int) {
	if bw.wroteHeader {
		return
	}
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		bw.w.WriteHeader(code) // informational: not the final status
		return
	}
	bw.wroteHeader, bw.status = true, code
	bw.plan = bw.plan.ForStatus(code)
	if bw.plan == nil || !bodyAllowed(code) || !isJSON(bw.w.Header().Get("Content-Type")) {
		bw.passthrough = true
		bw.w.WriteHeader(code)
	}
}

// Write walks or buffers a JSON body, or passes any other through.
func (bw *backWriter) Write(p []byte) (int, error) {
	if !bw.wroteHeader {
		bw.WriteHeader(http.StatusOK)
	}
	if bw.passthrough {
		return bw.w.Write(p)
	}
	if bw.overflow || bw.n+int64(len(p)) > bw.max {
		bw.overflow = true
		return 0, errResponseTooLarge
	}
	bw.n += int64(len(p))
	switch {
	case bw.walked:
		if !bw.trailing && isSpace(p) {
			bw.out = append(bw.out, p...)
		} else {
			bw.trailing = true
		}
		return len(p), nil
	case bw.n == int64(len(p)) && !bw.raw && bw.whole(p):
		var start time.Time
		if bw.timed {
			start = time.Now()
		}
		out, err := bw.plan.AppendApplyContextFired(bw.req.Context(), bw.out[:0], p, bw.fired)
		if err == nil {
			if bw.timed {
				bw.walkTime = time.Since(start)
			}
			bw.out, bw.walked = out, true
			return len(p), nil
		}
		// Not a whole value after all, or one the walk refuses: finish
		// walks the whole body and says why.
	}
	return bw.buf.Write(p)
}

// whole reports whether p, the first bytes a handler writes, looks like a
// whole JSON object or array: the length the handler declared, else an
// opening and a closing bracket. A reverse proxy copies a long body in
// chunks: a chunk that only looks whole costs one scan of it.
func (bw *backWriter) whole(p []byte) bool {
	if cl := bw.w.Header().Get("Content-Length"); cl != "" {
		return cl == strconv.Itoa(len(p))
	}
	i, j := 0, len(p)-1
	for i < j && p[i] <= ' ' {
		i++
	}
	for j > i && p[j] <= ' ' {
		j--
	}
	return i < j && (p[i] == '{' && p[j] == '}' || p[i] == '[' && p[j] == ']')
}

// isSpace reports whether p is only JSON white space.
func isSpace(p []byte) bool {
	for _, c := range p {
		if c != ' ' && c != '\n' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}

// Flush flushes a response passed through; a buffered one is sent when the
// handler returns.
func (bw *backWriter) Flush() {
	if bw.passthrough {
		_ = http.NewResponseController(bw.w).Flush()
	}
}

// Unwrap gives http.ResponseController the underlying writer.
func (bw *backWriter) Unwrap() http.ResponseWriter { return bw.w }

// code is the status the response went out with: 200 when the handler
// wrote nothing, as net/http answers then.
func (bw *backWriter) code() int {
	if bw.status == 0 {
		return http.StatusOK
	}
	return bw.status
}

func bodyAllowed(status int) bool {
	return status != http.StatusNoContent && status != http.StatusNotModified && status >= 200
}

// isJSON reports whether a Content-Type is JSON: application/json or any
// application/*+json, with or without parameters, in any case.
func isJSON(ct string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	mt = strings.TrimSpace(mt)
	if strings.EqualFold(mt, "application/json") {
		return true
	}
	if len(mt) > len("application/") && strings.EqualFold(mt[:len("application/")], "application/") {
		return len(mt) >= 5 && strings.EqualFold(mt[len(mt)-5:], "+json")
	}
	return false
}

// isForm reports whether a Content-Type is application/x-www-form-urlencoded.
func isForm(ct string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	return strings.EqualFold(strings.TrimSpace(mt), "application/x-www-form-urlencoded")
}

// statusWriter remembers the status of a response that streams through,
// for the metrics; it is used only when there are metrics.
type statusWriter struct {
	http.ResponseWriter
	status int
}

var statusWriters = sync.Pool{New: func() any { return new(statusWriter) }}

func getStatusWriter(w http.ResponseWriter) *statusWriter {
	sw := statusWriters.Get().(*statusWriter)
	sw.ResponseWriter, sw.status = w, 0
	return sw
}

func putStatusWriter(sw *statusWriter) {
	sw.ResponseWriter = nil
	statusWriters.Put(sw)
}

// WriteHeader records the first final status.
func (sw *statusWriter) WriteHeader(code int) {
	if sw.status == 0 && code >= 200 {
		sw.status = code
	}
	sw.ResponseWriter.WriteHeader(code)
}

// Write records an implicit 200.
func (sw *statusWriter) Write(p []byte) (int, error) {
	if sw.status == 0 {
		sw.status = http.StatusOK
	}
	return sw.ResponseWriter.Write(p)
}

// Flush flushes the underlying writer, when it can.
func (sw *statusWriter) Flush() { _ = http.NewResponseController(sw.ResponseWriter).Flush() }

// Unwrap gives http.ResponseController the underlying writer.
func (sw *statusWriter) Unwrap() http.ResponseWriter { return sw.ResponseWriter }

func (sw *statusWriter) code() int {
	if sw.status == 0 {
		return http.StatusOK
	}
	return sw.status
}
