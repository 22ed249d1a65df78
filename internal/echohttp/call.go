package echohttp

import (
	"net/http"
	"sync"

	"github.com/labstack/echo/v4"
	"github.com/verso-api/verso/apierror"
)

// Call is one request of echo through a net/http flow (a middleware's):
// the http.Handler that runs echo's handlers after the middleware, and the
// http.ResponseWriter the flow answers on (echo's own, recording what
// reaches it). Calls are pooled: a request through an adapter allocates
// none, and no closure.
type Call struct {
	c    echo.Context
	next echo.HandlerFunc
	err  error // what the handler or the middleware returned
	w    http.ResponseWriter
	// status and size are what reached w; sent is set once anything did.
	status int
	size   int64
	sent   bool
	// direct is set when the flow passed the response through: echo's
	// response writes to w itself, and knows its status and size.
	direct bool
	// onError is WriteError, made once per Call value: a method value
	// made per request would cost an allocation.
	onError func(http.ResponseWriter, *http.Request, error)
}

var calls = sync.Pool{New: func() any {
	k := new(Call)
	k.onError = k.WriteError
	return k
}}

// Run runs the request of c through a net/http flow: serve is given a
// pooled Call, the http.Handler that runs next (echo's handlers after
// the middleware) and the http.ResponseWriter to answer on, and r, the
// request to pass on. Errors that next returns are answered inside the
// flow with c.Error, so that the flow sees the response echo makes of
// them. Run returns the error next or the flow's error handler was given
// last, for loggers outside; after Run, echo's response says what the
// client got.
func Run(c echo.Context, next echo.HandlerFunc, r *http.Request, serve func(k *Call, r *http.Request)) error {
	res := c.Response()
	orig := res.Writer
	k := calls.Get().(*Call)
	k.c, k.next, k.w = c, next, orig
	done := false
	defer func() {
		if !done { // a panic: k is not reused
			k.restore(res, orig)
		}
	}()
	serve(k, r)
	k.restore(res, orig)
	done = true
	err := k.err
	k.reset()
	calls.Put(k)
	return err
}

// reset clears k for its next request.
func (k *Call) reset() {
	k.c, k.next, k.err, k.w = nil, nil, nil, nil
	k.status, k.size, k.sent, k.direct = 0, 0, false, false
}

// OnError is WriteError as a func value made once.
func (k *Call) OnError() func(http.ResponseWriter, *http.Request, error) { return k.onError }

// ServeHTTP runs echo's next handler with the flow's request and writer,
// and answers its error inside the flow with c.Error.
func (k *Call) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	k.enter(w, r)
	if err := k.next(k.c); err != nil {
		k.err = err
		k.c.Error(err)
	}
	if r.Pattern == "" {
		// The route that served r, for net/http code after the handler
		// (server.Config.Fired): the flow's own request.
		r.Pattern = k.c.Path()
	}
}

// WriteError answers an error of the flow with echo's HTTPErrorHandler,
// with the flow's request and writer. The error reaches it as an
// *echo.HTTPError holding the *apierror.Error, so that echo's default
// handler keeps its status too.
func (k *Call) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	k.enter(w, r)
	k.err = err
	e := apierror.From(err)
	k.c.Error(&echo.HTTPError{Code: e.Status, Message: e.Message, Internal: err})
}

// enter points c at the flow's request and writer: echo's own writer
// when the flow passes the response through untouched.
func (k *Call) enter(w http.ResponseWriter, r *http.Request) {
	if w == http.ResponseWriter(k) {
		w, k.direct = k.w, true
	}
	prev := k.c.Request()
	if r != prev {
		k.c.SetRequest(r)
		if r.URL.RawQuery != prev.URL.RawQuery {
			refreshQuery(k.c, r)
		}
	}
	k.c.Response().Writer = w
}

// restore gives echo's response its writer back and, when the flow wrote
// the response, the status and size the client got. After a panic, when
// nothing reached the client, the response is left uncommitted, so that a
// Recover middleware outside answers cleanly.
func (k *Call) restore(res *echo.Response, orig http.ResponseWriter) {
	res.Writer = orig
	if k.direct {
		return
	}
	if k.sent {
		res.Status, res.Size, res.Committed = k.status, k.size, true
	} else if res.Committed {
		res.Committed, res.Size, res.Status = false, 0, http.StatusOK
	}
}

// Header returns the header of echo's writer.
func (k *Call) Header() http.Header { return k.w.Header() }

// WriteHeader records the status the client gets.
func (k *Call) WriteHeader(code int) {
	if !k.sent && code >= 200 {
		k.status, k.sent = code, true
	}
	k.w.WriteHeader(code)
}

// Write records the bytes the client gets.
func (k *Call) Write(p []byte) (int, error) {
	if !k.sent {
		k.status, k.sent = http.StatusOK, true
	}
	n, err := k.w.Write(p)
	k.size += int64(n)
	return n, err
}

// Flush flushes echo's writer, when it can.
func (k *Call) Flush() { _ = http.NewResponseController(k.w).Flush() }

// Unwrap gives http.ResponseController echo's writer.
func (k *Call) Unwrap() http.ResponseWriter { return k.w }

// callOf returns the Call that w is or wraps (through Unwrap methods, as
// http.ResponseController finds the writers under a writer), or nil.
func callOf(w http.ResponseWriter) *Call {
	for range 64 { // a writer that unwraps to itself ends too
		switch x := w.(type) {
		case *Call:
			return x
		case interface{ Unwrap() http.ResponseWriter }:
			w = x.Unwrap()
		default:
			return nil
		}
	}
	return nil
}

// refreshQuery keeps echo's cached query parameters, if a middleware
// before this one read them, in step with the walked query string.
func refreshQuery(c echo.Context, r *http.Request) {
	cached := c.QueryParams() // parses the new query when nothing was cached
	fresh := r.URL.Query()
	for k := range cached {
		delete(cached, k)
	}
	for k, vs := range fresh {
		cached[k] = vs
	}
}
