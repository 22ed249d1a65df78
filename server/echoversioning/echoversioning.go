package echoversioning

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/verso-api/verso/internal/echohttp"
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
	// The flow runs echo's handlers (the Call) and answers on echo's
	// writer (the Call too); its own errors go to echo's HTTPErrorHandler.
	serve := func(k *echohttp.Call, r *http.Request) { m.Serve(k, r, k, k.OnError()) }
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			return echohttp.Run(c, next, c.Request(), serve)
		}
	}, nil
}

// VersionOf returns the version the request of c is served in, or the
// zero Version when the versioning middleware did not run. Inside echo's
// HTTPErrorHandler it is the version the error is answered in.
//
//	if echoversioning.VersionOf(c).Before(versions.MustParse("2019-10-17")) { ... }
func VersionOf(c echo.Context) versions.Version { return server.VersionOf(c.Request()) }
