package proxy

import (
	"context"
	"net"
	"net/http"
	"net/textproto"
	"strings"
	"sync/atomic"
	"time"
)

// silentConn is a connection to the upstream that may stay silent for at
// most timeout: each read and each write moves the deadline of reads to
// timeout from now. A response that stops arriving midway (a stalled
// body, or response headers that never come) fails the read after
// timeout, which frees the connection; so does a connection idle in the
// pool for that long. The deadline is moved only when it would move by
// more than a sixteenth of timeout, so that a busy connection does not
// reset a timer on every read.
type silentConn struct {
	net.Conn
	timeout time.Duration
	// deadline is the read deadline set last, in Unix nanoseconds.
	deadline atomic.Int64
}

func (c *silentConn) touch() {
	next := time.Now().Add(c.timeout).UnixNano()
	if next-c.deadline.Load() < int64(c.timeout/16) {
		return
	}
	c.deadline.Store(next)
	_ = c.Conn.SetReadDeadline(time.Unix(0, next))
}

func (c *silentConn) Read(b []byte) (int, error) {
	c.touch()
	return c.Conn.Read(b)
}

func (c *silentConn) Write(b []byte) (int, error) {
	c.touch()
	return c.Conn.Write(b)
}

// newTransport returns the proxy's default transport to an upstream of
// scheme: connections that may stay silent for at most upstreamTimeout.
// Over plain HTTP/1.1 a connection carries one exchange at a time, so an
// upstream that sends no response headers is silent and gets cut by that
// bound; the transport's own wait for response headers, a timer made and
// stopped on every request, would only repeat it (and cost a few percent
// of the proxy's CPU per request). Over https the upstream may speak
// HTTP/2, whose connection carries other exchanges and is not silent when
// one of them gets no answer: there the wait for response headers bounds
// each request.
func newTransport(scheme string, dialTimeout, upstreamTimeout time.Duration) *http.Transport {
	dialer := &net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}
	t := &http.Transport{
		DialContext:           silentDialer(dialer, upstreamTimeout),
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          512,
		MaxIdleConnsPerHost:   512,
		IdleConnTimeout:       min(90*time.Second, upstreamTimeout),
		TLSHandshakeTimeout:   dialTimeout,
		ExpectContinueTimeout: time.Second,
	}
	if scheme == "https" {
		t.ResponseHeaderTimeout = upstreamTimeout
	}
	return t
}

// silentDialer dials connections that may stay silent for at most
// timeout.
func silentDialer(d *net.Dialer, timeout time.Duration) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		c := &silentConn{Conn: conn, timeout: timeout}
		c.touch()
		return c, nil
	}
}

// guardTransport keeps an upstream's Connection header from naming the
// response headers the middleware relies on: httputil.ReverseProxy drops
// the headers Connection names, and a JSON answer without its
// Content-Type, or a gzipped one without its Content-Encoding, would not
// be walked back as it must.
type guardTransport struct {
	http.RoundTripper
}

// responseNeeds are the response headers the middleware relies on.
var responseNeeds = []string{"Content-Type", "Content-Encoding", "Content-Length"}

func (t guardTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := t.RoundTripper.RoundTrip(req)
	if err == nil && len(res.Header["Connection"]) > 0 {
		res.Header["Connection"] = withoutTokens(res.Header["Connection"], responseNeeds)
	}
	return res, err
}

// withoutTokens returns the values of a Connection header without the
// tokens that name one of names.
func withoutTokens(values []string, names []string) []string {
	var out []string
	for _, v := range values {
		for tok := range strings.SplitSeq(v, ",") {
			tok = textproto.TrimString(tok)
			if tok == "" || nameIn(tok, names) {
				continue
			}
			out = append(out, tok)
		}
	}
	return out
}

// connectionNames returns the first header the request's Connection
// header names among names, or "".
func connectionNames(h http.Header, names []string) string {
	for _, v := range h["Connection"] {
		for tok := range strings.SplitSeq(v, ",") {
			if tok = textproto.TrimString(tok); tok != "" && nameIn(tok, names) {
				return http.CanonicalHeaderKey(tok)
			}
		}
	}
	return ""
}

func nameIn(tok string, names []string) bool {
	for _, n := range names {
		if strings.EqualFold(tok, n) {
			return true
		}
	}
	return false
}

// hasToken reports whether a comma-separated header holds token, in any
// case.
func hasToken(values []string, token string) bool {
	for _, v := range values {
		for tok := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(textproto.TrimString(tok), token) {
				return true
			}
		}
	}
	return false
}
