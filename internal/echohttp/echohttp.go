// Package echohttp runs a net/http middleware as echo middleware, for the
// echo adapters of verso's packages (echoversioning, echoidempotency,
// echoratelimit): each is this package and a few lines of defaults.
package echohttp

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"

	"github.com/labstack/echo/v4"
	"github.com/verso-api/verso/apierror"
)

type contextKey struct{}

// Adapter is a net/http middleware run as echo middleware. Unlike
// echo.WrapMiddleware, the echo handlers after it answer their errors
// (c.Error) inside the middleware, so that the middleware sees the
// response they make (the idempotency middleware saves it); they run with
// the request the middleware passed on, its context included.
//
// The middleware's handler is built once, in New, around a handler that
// finds the request's Call under the writer it is given (the middleware
// must pass on a writer that is the one it got or unwraps to it, as
// http.ResponseController requires); a request allocates nothing of the
// adapter's own. The request the middleware gets is echo's, with Pattern
// set to echo's route path ("/v1/customers/:id") once echo has routed it,
// so that net/http code reading r.Pattern (ratelimit.RoutePath) sees the
// route.
type Adapter struct {
	h     http.Handler
	serve func(k *Call, r *http.Request)
	// first is the first echo server the adapter served: the one Echo
	// returns for a request with no echo.Context in its context.
	first atomic.Pointer[echo.Echo]
}

// New returns mw as an Adapter.
func New(mw func(http.Handler) http.Handler) *Adapter {
	a := &Adapter{h: mw(http.HandlerFunc(serveNext))}
	a.serve = func(k *Call, r *http.Request) { a.h.ServeHTTP(k, r) }
	return a
}

// Wrap returns mw as echo middleware: New(mw).Middleware.
func Wrap(mw func(http.Handler) http.Handler) echo.MiddlewareFunc {
	return New(mw).Middleware
}

// Middleware is the echo middleware.
func (a *Adapter) Middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if p := c.Path(); p != "" { // "" before routing (e.Pre)
			r.Pattern = p
		}
		if e := c.Echo(); e != a.first.Load() && !a.first.CompareAndSwap(nil, e) {
			// An echo server other than the first: Echo finds it in the
			// request's context (a rare case, which allocates).
			r = r.WithContext(context.WithValue(r.Context(), contextKey{}, c))
		}
		return Run(c, next, r, a.serve)
	}
}

// serveNext is the handler the middleware wraps: it runs echo's handlers
// after the middleware, with the Call under w.
func serveNext(w http.ResponseWriter, r *http.Request) {
	k := callOf(w)
	if k == nil {
		apierror.Write(w, r, apierror.ErrInternal.Wrap(errors.New("echohttp: the middleware's writer does not unwrap to the adapter's")))
		return
	}
	k.ServeHTTP(w, r)
}

// Echo returns the echo server serving r, a request the adapter passed
// to its middleware, or nil outside the adapter.
func (a *Adapter) Echo(r *http.Request) *echo.Echo {
	if c, ok := r.Context().Value(contextKey{}).(echo.Context); ok {
		return c.Echo()
	}
	return a.first.Load()
}

// WriteError is the error handler of the adapted middlewares: an
// *echo.HTTPError (say, a 401 an Identifier or Account function made with
// echo) is answered by the echo server's error handler, as an echo
// middleware's error would be; anything else by apierror.Write, in the
// API's error shape.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	var he *echo.HTTPError
	if k := callOf(w); k != nil && errors.As(err, &he) {
		k.enter(w, r)
		k.err = err
		k.c.Error(err)
		return
	}
	apierror.Write(w, r, err)
}
