package apierror

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"strconv"
)

// The errors net/http's server answers itself, before any handler runs.
var (
	// ErrHeadersTooLarge: the request line and headers are over
	// http.Server's MaxHeaderBytes (431).
	ErrHeadersTooLarge = New(http.StatusRequestHeaderFieldsTooLarge, TypeInvalidRequest, "request_headers_too_large",
		"The request's headers are larger than this server accepts.")
	// ErrMalformedRequest: the request line or a header cannot be read as
	// HTTP, such as a header holding a NUL byte or a lone CR (400).
	ErrMalformedRequest = New(http.StatusBadRequest, TypeInvalidRequest, "request_malformed",
		"The request could not be read as HTTP: its request line or a header is malformed.")
	// ErrTransferEncoding: a Transfer-Encoding the server does not
	// implement (501).
	ErrTransferEncoding = New(http.StatusNotImplemented, TypeInvalidRequest, "transfer_encoding_unsupported",
		"The request's Transfer-Encoding is not supported.")
)

// Listener returns ln whose connections answer in shape the errors that
// net/http's server writes as plain text before any handler runs, where
// no middleware can: headers over MaxHeaderBytes (431,
// ErrHeadersTooLarge), a malformed request line or header, such as a NUL
// byte or a lone CR in a header (400, ErrMalformedRequest, with
// net/http's reason when it gives one), an unsupported Transfer-Encoding
// (501) or HTTP version (505). Everything else a connection writes passes
// through unchanged.
//
//	srv.Serve(apierror.Listener(ln, apierror.Stripe()))
//
// Those errors are recognised by their form, which no handler's response
// has: a status line, then exactly "Content-Type: text/plain;
// charset=utf-8" and "Connection: close", no Date, written in one Write.
// Should a release of net/http write them otherwise, they pass through as
// plain text. Serve TLS from tls.NewListener(Listener(ln, shape), config)
// when http.Server does not terminate TLS itself; with ServeTLS the
// errors are written encrypted, out of reach, and stay plain text.
func Listener(ln net.Listener, shape Shape) net.Listener {
	return &listener{Listener: ln, shape: shape}
}

type listener struct {
	net.Listener
	shape Shape
}

func (l *listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &conn{Conn: c, shape: l.shape}, nil
}

// conn rewrites net/http's plain-text errors (see Listener).
type conn struct {
	net.Conn
	shape Shape
}

func (c *conn) Write(p []byte) (int, error) {
	if e, ok := plainError(p); ok {
		body := c.shape.Marshal(e)
		out := make([]byte, 0, 160+len(body))
		out = append(out, "HTTP/1.1 "...)
		out = strconv.AppendInt(out, int64(e.Status), 10)
		out = append(out, ' ')
		out = append(out, http.StatusText(e.Status)...)
		out = append(out, "\r\nContent-Type: "...)
		out = append(out, c.shape.ContentType()...)
		out = append(out, "\r\nContent-Length: "...)
		out = strconv.AppendInt(out, int64(len(body)), 10)
		out = append(out, "\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n"...)
		out = append(out, body...)
		if _, err := c.Conn.Write(out); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	return c.Conn.Write(p)
}

// CloseWrite half-closes the connection when it can, as net/http does
// after a 431 so that the client reads it before the connection ends.
func (c *conn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// ReadFrom lets net/http send files and copied bodies the way the
// connection it wraps does (sendfile, splice).
func (c *conn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{c.Conn}, r)
}

// plainHeaders are the headers, and only those, of net/http's own error
// answers.
const plainHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

// plainError reports whether p is one of net/http's own plain-text error
// answers, whole, and returns the Error to answer in its place.
func plainError(p []byte) (*Error, bool) {
	rest, ok := bytes.CutPrefix(p, []byte("HTTP/1.1 "))
	if !ok || len(p) > 1024 {
		return nil, false
	}
	line, body, ok := bytes.Cut(rest, []byte(plainHeaders))
	if !ok || len(line) < 4 || line[3] != ' ' || bytes.ContainsAny(line, "\r\n") || bytes.ContainsAny(body, "\r\n") {
		return nil, false
	}
	status, err := strconv.Atoi(string(line[:3]))
	if err != nil || status < 400 || status > 599 {
		return nil, false
	}
	reason, _ := bytes.CutPrefix(line[4:], []byte(http.StatusText(status)))
	reason, _ = bytes.CutPrefix(reason, []byte(": "))
	switch status {
	case http.StatusRequestHeaderFieldsTooLarge:
		return ErrHeadersTooLarge, true
	case http.StatusBadRequest:
		if len(reason) > 0 {
			return ErrMalformedRequest.With("The request could not be read as HTTP: " + Bound(string(reason)) + "."), true
		}
		return ErrMalformedRequest, true
	case http.StatusNotImplemented:
		return ErrTransferEncoding, true
	}
	msg := http.StatusText(status)
	if len(reason) > 0 {
		msg += ": " + Bound(string(reason))
	}
	return New(status, TypeInvalidRequest, "", msg+"."), true
}
