package proxy

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"

	"github.com/verso-api/verso/apierror"
	"github.com/verso-api/verso/server"
)

// The error codes the proxy answers with, besides the middleware's.
const (
	CodeUpstreamUnavailable = "upstream_unavailable"
	CodeUpstreamTimeout     = "upstream_timeout"
	CodeAccountInvalid      = "account_invalid"
	CodeUpgradeRefused      = "upgrade_refused"
	CodeHeaderInvalid       = "header_invalid"
)

// The errors the proxy answers with, in the API's error shape (the
// middleware's, through apierror.Write), walked back to the client's
// version like the upstream's own errors.
var (
	// ErrUpstreamUnavailable: the upstream could not be reached, or broke
	// the connection before answering (502).
	ErrUpstreamUnavailable = apierror.New(http.StatusBadGateway, apierror.TypeAPI, CodeUpstreamUnavailable,
		"The API server behind this proxy could not be reached. Please retry the request.")
	// ErrUpstreamTimeout: the upstream did not answer within
	// Config.UpstreamTimeout (504).
	ErrUpstreamTimeout = apierror.New(http.StatusGatewayTimeout, apierror.TypeAPI, CodeUpstreamTimeout,
		"The API server behind this proxy did not answer in time. Please retry the request.")
	// ErrUpgradeRefused: a request to switch protocols (Upgrade:
	// websocket, h2c) at a version whose walk changes bodies, or any h2c
	// upgrade: what passes over the new protocol is not walked (400).
	ErrUpgradeRefused = apierror.New(http.StatusBadRequest, apierror.TypeInvalidRequest, CodeUpgradeRefused,
		"This connection cannot be upgraded.")
	// ErrConnectionHeader: the Connection header names a header the proxy
	// relies on and forwards end to end, such as Authorization or
	// Content-Type (400).
	ErrConnectionHeader = apierror.New(http.StatusBadRequest, apierror.TypeInvalidRequest, CodeHeaderInvalid,
		"The Connection header names a header this proxy forwards to the API.")
	// ErrAccountInvalid: the account header is longer than
	// MaxAccountBytes (400).
	ErrAccountInvalid = apierror.New(http.StatusBadRequest, apierror.TypeInvalidRequest, CodeAccountInvalid,
		"The account header is invalid.")
)

// errTooLarge is the upstream's JSON answer over MaxResponseBytes.
var errTooLarge = errors.New("proxy: the upstream's answer is too large to walk back")

// errCorrupt is an upstream answer whose gzip stream could not be read
// (502, the upstream's fault).
var errCorrupt = errors.New("proxy: the upstream's gzipped answer is corrupt")

// upstreamError answers a request the upstream did not answer in full.
// outreq is the request sent upstream; its context holds the exchange.
func (p *Proxy) upstreamError(w http.ResponseWriter, outreq *http.Request, err error) {
	x := exchangeOf(outreq.Context())
	log := p.config.Logger
	ctx := outreq.Context()
	var e *apierror.Error
	switch {
	case x != nil && x.clientErr() != nil:
		// The client's fault, never blamed on the upstream: 400
		// (apierror.ErrBodyUnreadable: a malformed chunked encoding, a body
		// shorter than its length), 413 over MaxBodyBytes, 408 too slow.
		e = apierror.FromBodyRead(x.clientErr())
	case errors.Is(err, errTooLarge):
		log.ErrorContext(ctx, "verso: response could not be rendered in the client's version",
			"method", outreq.Method, "path", outreq.URL.Path, "version", server.VersionOf(outreq).String(), "error", err)
		e = server.ErrRender.Wrap(err) // as the middleware answers a response it cannot walk back
	case x != nil && x.client.Err() != nil:
		// The client went away: nobody reads the answer.
		e = ErrUpstreamUnavailable.Wrap(err)
	case isTimeout(err) || errors.Is(err, errDeadline) || x != nil && x.timedOut():
		log.WarnContext(ctx, "verso: upstream timed out", "method", outreq.Method, "path", outreq.URL.Path, "error", err)
		e = ErrUpstreamTimeout.Wrap(err)
	case errors.Is(err, errCorrupt):
		log.WarnContext(ctx, "verso: upstream answer corrupt", "method", outreq.Method, "path", outreq.URL.Path, "error", err)
		e = ErrUpstreamUnavailable.Wrap(err)
	default:
		log.WarnContext(ctx, "verso: upstream unavailable", "method", outreq.Method, "path", outreq.URL.Path, "error", err)
		e = ErrUpstreamUnavailable.Wrap(err)
	}
	// Whatever the proxy set for the answer it did not send goes.
	h := w.Header()
	for _, k := range [...]string{"Content-Encoding", "Content-Length", "Transfer-Encoding", "Trailer", "Vary", "Etag", "Last-Modified"} {
		delete(h, k)
	}
	apierror.Write(w, outreq, e)
}

// isTimeout reports whether err is a timeout: a deadline of the context or
// of the connection, or the transport's wait for response headers.
func isTimeout(err error) bool {
	var nerr net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) ||
		errors.As(err, &nerr) && nerr.Timeout()
}
