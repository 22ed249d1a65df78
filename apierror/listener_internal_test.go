package apierror

import (
	"bytes"
	"testing"
)

// FuzzPlainError checks that plainError never panics, recognises only a
// whole status line followed by net/http's two plain-text headers, and
// answers with an error status.
func FuzzPlainError(f *testing.F) {
	for _, s := range []string{
		"HTTP/1.1 431 Request Header Fields Too Large" + plainHeaders + "431 Request Header Fields Too Large",
		"HTTP/1.1 400 Bad Request: missing required Host header" + plainHeaders + "400 Bad Request: missing required Host header",
		"HTTP/1.1 400 Bad Request" + plainHeaders + "400 Bad Request",
		"HTTP/1.1 501 Not Implemented" + plainHeaders + "Unsupported transfer encoding",
		"HTTP/1.1 200 OK\r\nDate: x\r\nContent-Length: 2\r\n\r\nok",
		"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\nDate: x\r\n\r\nBad Request\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		e, ok := plainError(p)
		if !ok {
			return
		}
		if e == nil || e.Status < 400 || e.Status > 599 || e.Message == "" {
			t.Fatalf("%q: %+v", p, e)
		}
		if !bytes.HasPrefix(p, []byte("HTTP/1.1 ")) || !bytes.Contains(p, []byte(plainHeaders)) {
			t.Fatalf("%q recognised", p)
		}
		if len(e.Message) > 200 {
			t.Fatalf("%q: a message of %d bytes", p, len(e.Message))
		}
	})
}
