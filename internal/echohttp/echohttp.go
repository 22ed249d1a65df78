// Package echohttp runs a net/http middleware as echo middleware, for the
// echo adapters of verso's platform packages (echoidempotency,
// echoratelimit): each is this function and a few lines of defaults.
package echohttp

import (
	"context"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/verso-api/verso/apierror"
)

type contextKey struct{}

// Wrap returns mw as echo middleware. Unlike echo.WrapMiddleware, the
// echo handlers after it answer their errors (c.Error) inside mw, so that
// mw sees the response they make (the idempotency middleware saves it);
// they run with the request mw passed on, its context included, and the
// echo.Context is reachable from that request's context (Context).
func Wrap(mw func(http.Handler) http.Handler) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			outer := c.Response()
			defer c.SetResponse(outer)
			inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				c.SetRequest(r)
				c.SetResponse(echo.NewResponse(w, c.Echo()))
				if err := next(c); err != nil {
					c.Error(err)
				}
			})
			r := c.Request()
			mw(inner).ServeHTTP(outer, r.WithContext(context.WithValue(r.Context(), contextKey{}, c)))
			return nil
		}
	}
}

// Context returns the echo.Context of a request that Wrap passed to its
// middleware, or nil.
func Context(r *http.Request) echo.Context {
	c, _ := r.Context().Value(contextKey{}).(echo.Context)
	return c
}

// WriteError is the error handler of the adapted middlewares: an
// *echo.HTTPError (say, a 401 an Identifier or Account function made with
// echo) is answered by the echo server's error handler, as an echo
// middleware's error would be; anything else by apierror.Write, in the
// API's error shape.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	var he *echo.HTTPError
	if c := Context(r); c != nil && errors.As(err, &he) {
		c.Error(err)
		return
	}
	apierror.Write(w, r, err)
}
