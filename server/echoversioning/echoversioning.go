package echoversioning

import (
	"net/http"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/verso-api/verso/apierror"
	"github.com/verso-api/verso/server"
	"github.com/verso-api/verso/transform"
	"github.com/verso-api/verso/versions"
)

// Middleware returns the echo versioning middleware with the default
// config over engine. It panics when engine is nil; use New to get an
// error instead.
//
//	e.Use(echoversioning.Middleware(transform.New(timeline, nil)))
func Middleware(engine *transform.Engine) echo.MiddlewareFunc {
	mw, err := New(server.Config{Engine: engine})
	if err != nil {
		panic(err)
	}
	return mw
}

// New validates config, fills in defaults, compiles the walk back to
// every version of the timeline, and returns the middleware: the net/http
// flow of server.Versioning run inside echo. The functions of config
// take c.Request(); the handlers after the middleware get the request
// it passes on (c.Request(): its version in its context, its body in the
// newest schema). Errors, the middleware's own and those the handlers
// return, are answered by echo's HTTPErrorHandler (c.Error) inside the
// middleware, so that what it writes is walked back; config.ErrorHandler
// is not used.
func New(config server.Config) (echo.MiddlewareFunc, error) {
	m, err := server.New(config)
	if err != nil {
		return nil, err
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			res := c.Response()
			orig := res.Writer
			k := calls.Get().(*call)
			k.c, k.next, k.w = c, next, orig
			done := false
			defer func() {
				if !done { // a panic: k is not reused
					k.restore(res, orig)
				}
			}()
			m.Serve(k, c.Request(), k, k.onError)
			k.restore(res, orig)
			done = true
			err := k.err
			k.reset()
			calls.Put(k)
			return err
		}
	}, nil
}

// VersionOf returns the version the request of c is served in, or the
// zero Version when the versioning middleware did not run. Inside echo's
// HTTPErrorHandler it is the version the error is answered in.
//
//	if echoversioning.VersionOf(c).Before(versions.MustParse("2019-10-17")) { ... }
func VersionOf(c echo.Context) versions.Version { return server.VersionOf(c.Request()) }

// call is one request through the middleware: the http.Handler the flow
// runs (echo's next handler), the writer the flow answers on (echo's own,
// recording what reaches it), and the error handler of the middleware's
// own errors.
type call struct {
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
	// onError is writeError, made once per call value: a method value
	// made per request would cost an allocation.
	onError func(http.ResponseWriter, *http.Request, error)
}

var calls = sync.Pool{New: func() any {
	k := new(call)
	k.onError = k.writeError
	return k
}}

// reset clears k for its next request.
func (k *call) reset() {
	k.c, k.next, k.err, k.w = nil, nil, nil, nil
	k.status, k.size, k.sent, k.direct = 0, 0, false, false
}

// ServeHTTP runs echo's next handler with the flow's request and writer,
// and answers its error inside the flow with c.Error.
func (k *call) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	k.enter(w, r)
	if err := k.next(k.c); err != nil {
		k.err = err
		k.c.Error(err)
	}
	if r.Pattern == "" {
		// The route that served r, for server.Config.Fired: the flow's
		// own request, which it reads once this returns.
		r.Pattern = k.c.Path()
	}
}

// writeError answers the middleware's own errors with echo's
// HTTPErrorHandler, with the flow's request (its version) and writer. The
// error reaches it as an *echo.HTTPError holding the *apierror.Error, so
// that echo's default handler keeps its status too; ErrorHandler finds
// the *apierror.Error inside and writes it in the API's shape.
func (k *call) writeError(w http.ResponseWriter, r *http.Request, err error) {
	k.enter(w, r)
	k.err = err
	e := apierror.From(err)
	k.c.Error(&echo.HTTPError{Code: e.Status, Message: e.Message, Internal: err})
}

// enter points c at the flow's request and writer: echo's own writer
// when the flow passes the response through untouched.
func (k *call) enter(w http.ResponseWriter, r *http.Request) {
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
func (k *call) restore(res *echo.Response, orig http.ResponseWriter) {
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
func (k *call) Header() http.Header { return k.w.Header() }

// WriteHeader records the status the client gets.
func (k *call) WriteHeader(code int) {
	if !k.sent && code >= 200 {
		k.status, k.sent = code, true
	}
	k.w.WriteHeader(code)
}

// Write records the bytes the client gets.
func (k *call) Write(p []byte) (int, error) {
	if !k.sent {
		k.status, k.sent = http.StatusOK, true
	}
	n, err := k.w.Write(p)
	k.size += int64(n)
	return n, err
}

// Flush flushes echo's writer, when it can.
func (k *call) Flush() { _ = http.NewResponseController(k.w).Flush() }

// Unwrap gives http.ResponseController echo's writer.
func (k *call) Unwrap() http.ResponseWriter { return k.w }

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
