// Package echoversioning runs verso's versioning middleware (package
// server) in echo: the same net/http flow, with one config, server.Config,
// whose functions read c.Request(). It is a package of its own so that a
// net/http program never imports echo.
//
//	e := echo.New()
//	e.HTTPErrorHandler = echoversioning.ErrorHandler
//	mw, err := echoversioning.New(server.Config{
//		Engine:  transform.New(timeline, nil),
//		Account: func(r *http.Request) (string, error) { return accountFrom(r.Context()), nil },
//		Pins:    pins.NewMemoryStore(nil),
//	})
//	if err != nil { ... }
//	e.Use(mw)
//	e.GET("/v1/customers/:id", func(c echo.Context) error {
//		if echoversioning.VersionOf(c).Before(versions.MustParse("2019-10-17")) { ... }
//		return c.JSON(200, customer) // the newest schema only
//	})
//
// Errors, the middleware's own (an invalid version, an endpoint absent at
// the version, a value of the wrong type) and those the handlers return,
// are answered by echo's HTTPErrorHandler inside the middleware, so that
// they are walked back to the client's version like any response, and the
// error handler knows the version it answers (VersionOf(c),
// gates.Active(c.Request().Context(), id)). ErrorHandler writes them in
// the API's error shape, echo's own 404, 405 and 413 included. The
// middleware then returns the error, for loggers outside it; an error
// handler must do nothing on a committed response, as echo's default
// handler and ErrorHandler do.
//
// echo routes before its middleware runs: an endpoint that moved since a
// version is registered at its old path too, on the same handler.
package echoversioning
