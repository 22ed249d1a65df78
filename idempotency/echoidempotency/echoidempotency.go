// Package echoidempotency runs the idempotency middleware in an echo
// server. The middleware itself is net/http (package idempotency); this
// package only adapts it, so that a net/http program never imports echo:
//
//	e.Use(echoidempotency.Middleware(store))
//
// The echo handlers after it answer their errors inside it, so that what
// the client receives is what is saved and replayed; a handler reaches the
// claim with idempotency.FromContext(c.Request().Context()).
package echoidempotency

import (
	"github.com/labstack/echo/v4"

	"github.com/verso-api/verso/idempotency"
	"github.com/verso-api/verso/internal/echohttp"
)

// Middleware returns the idempotency middleware with the default config
// over store, for echo. It panics when store is nil.
func Middleware(store idempotency.Store) echo.MiddlewareFunc {
	mw, err := New(idempotency.Config{Store: store})
	if err != nil {
		panic(err)
	}
	return mw
}

// New returns the idempotency middleware with config, for echo, or
// the error of config.ToMiddleware. A nil ErrorHandler answers an
// *echo.HTTPError of Account with echo's error handler, and the
// middleware's own errors in the API's shape (apierror.Write).
func New(config idempotency.Config) (echo.MiddlewareFunc, error) {
	if config.ErrorHandler == nil {
		config.ErrorHandler = echohttp.WriteError
	}
	mw, err := config.ToMiddleware()
	if err != nil {
		return nil, err
	}
	return echohttp.Wrap(mw), nil
}
