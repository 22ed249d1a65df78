// Package echoratelimit runs the rate limit middleware in an echo server.
// The middleware itself is net/http (package ratelimit); this package only
// adapts it, so that a net/http program never imports echo:
//
//	e.Pre(echoratelimit.Middleware(ratelimit.Per(100, time.Second))) // per client address
//	limit, err := echoratelimit.New(ratelimit.Config{
//		Scope:      "key",
//		Identifier: func(r *http.Request) (string, error) { return accountFrom(r.Context()), nil },
//		Routes:     map[string]ratelimit.Limit{"POST /v1/charges": ratelimit.Per(5, time.Second)},
//	})
//
// Two defaults follow echo rather than net/http: Routes are keyed by echo
// route paths ("GET /v1/customers/:id"; before routing, in e.Pre, the URL
// path), and a client's address is what echo's IPExtractor says (set
// e.IPExtractor to trust the proxies in front; without one, the
// connection's address, never a header the client could forge).
package echoratelimit

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/verso-api/verso/internal/echohttp"
	"github.com/verso-api/verso/ratelimit"
)

// Middleware returns a rate limit middleware that allows limit per client
// address, for echo. It panics on an invalid limit.
func Middleware(limit ratelimit.Limit) echo.MiddlewareFunc {
	mw, err := New(ratelimit.Config{Default: limit})
	if err != nil {
		panic(err)
	}
	return mw
}

// New returns the rate limit middleware with config, for echo, or
// the error of config.ToMiddleware. A nil Identifier counts per client
// address as echo's IPExtractor gives it; a nil Route matches Routes
// against echo's route path; a nil ErrorHandler answers an
// *echo.HTTPError of Identifier with echo's error handler, and the
// middleware's own errors in the API's shape (apierror.Write).
func New(config ratelimit.Config) (echo.MiddlewareFunc, error) {
	var a *echohttp.Adapter // the adapter, made once the middleware is
	if config.Identifier == nil {
		config.Identifier = func(r *http.Request) (string, error) { return clientAddr(a.Echo(r), r) }
	}
	if config.ErrorHandler == nil {
		config.ErrorHandler = echohttp.WriteError
	}
	// A nil Route stays nil: ratelimit.RoutePath reads r.Pattern, which
	// the adapter sets to echo's route path.
	mw, err := config.ToMiddleware()
	if err != nil {
		return nil, err
	}
	a = echohttp.New(mw)
	return a.Middleware, nil
}

// clientAddr is the request's client address as the IPExtractor of e,
// the echo server serving r, gives it.
func clientAddr(e *echo.Echo, r *http.Request) (string, error) {
	if e == nil || e.IPExtractor == nil {
		return ratelimit.ClientAddr(r)
	}
	ip := e.IPExtractor(r)
	if ip == "" {
		return "", ratelimit.ErrNoAddress
	}
	return ratelimit.ClientKey(ip), nil
}
