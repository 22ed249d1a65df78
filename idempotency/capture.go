package idempotency

import (
	"bytes"
	"net/http"
	"strconv"
)

// capture is the response writer the handler writes through while it holds
// a key: it passes everything on and keeps the status, the headers worth
// saving and, unless the handler saved in its transaction, the body.
type capture struct {
	http.ResponseWriter
	h      *Handle
	wrote  bool
	status int
	header http.Header
	buf    bytes.Buffer
}

func (w *capture) WriteHeader(code int) {
	if !w.wrote && code >= 200 {
		w.wrote = true
		w.status = code
		w.header = filterHeader(w.ResponseWriter.Header(), w.h.m.SaveHeaders, nil)
		w.adviseRetry(code)
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *capture) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	if !w.h.saved.Load() {
		w.buf.Write(b)
	}
	return w.ResponseWriter.Write(b)
}

// Flush flushes the underlying writer when it can.
func (w *capture) Flush() {
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap gives http.ResponseController the underlying writer.
func (w *capture) Unwrap() http.ResponseWriter {
	return w.ResponseWriter
}

// adviseRetry sets the should-retry header on an error the handler did not
// advise on itself. After a server error or a rate limit a retry may
// succeed: the key was freed (or, if the handler committed and saved the
// error in its transaction, the retry gets the same answer replayed). After
// any other refusal, saved or not, the same request gets the same answer.
// A handler's own 409 is left to the client.
func (w *capture) adviseRetry(code int) {
	m := w.h.m
	hdr := w.ResponseWriter.Header()
	if m.ShouldRetryHeader == "" || code < 400 || code == http.StatusConflict || hdr.Get(m.ShouldRetryHeader) != "" {
		return
	}
	hdr.Set(m.ShouldRetryHeader, strconv.FormatBool(code >= 500 || code == http.StatusTooManyRequests))
}
