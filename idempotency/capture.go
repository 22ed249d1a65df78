package idempotency

import (
	"bytes"
	"net/http"
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
