// Package server serves every version of an API from handlers written for
// the newest one: an echo middleware, Versioning, and Stripe-shaped errors.
//
// Handlers know only the newest schema. For each request the middleware
//
//  1. takes the account from VersioningConfig.Account, a function reading
//     what authentication (a middleware before this one) established,
//     never anything a client may simply claim;
//  2. chooses the version: the request header (Stripe-Version unless the
//     timeline names another) beats the account's pin; an account with no
//     pin is pinned, atomically through pins.Store.PinIfAbsent, to the
//     newest version on its first request that names no version (a
//     request with the header neither reads nor writes the pin); with no
//     account (or no VersioningConfig.Pins) the newest version is served;
//  3. answers a malformed or unsupported version with 400 in Stripe's
//     shape, listing the supported versions (ErrInvalidVersion);
//  4. walks the request forward to the newest schema: a JSON body
//     (application/json or application/*+json), a form body
//     (application/x-www-form-urlencoded) and the query string, in
//     Stripe's bracket syntax. The timeline's endpoint patterns are matched
//     against the request's method and URL path, for the query string as
//     for the body, so "GET /v1/customers" in a change's endpoints walks
//     that list's query parameters. Path parameters are not walked: they
//     carry identifiers, and a route that changed is better served as a
//     route of its own. Other bodies (multipart, binary) reach the handler
//     as they were sent;
//  5. puts the version in the request's context: handlers ask
//     VersionFrom(c) or gates.Active(c.Request().Context(), id);
//  6. walks the response back to the client's version in one pass, error
//     bodies included, and fixes its Content-Length. Any JSON response is
//     walked; others pass through unchanged;
//  7. sets the version header on the response to the version served.
//
// At the newest version, and at any version whose walk back changes
// nothing, the response writer is not wrapped: the body streams through
// without being buffered or copied.
//
// # Errors
//
// Errors returned by the handler are rendered by echo's HTTPErrorHandler
// inside the middleware (it calls c.Error itself), so that error bodies
// are walked back too; it then returns the error, for loggers outside it.
// The error handler must therefore do nothing on a committed response, as
// echo's default handler and ErrorHandler do. ErrorHandler answers every
// error, echo's own 404, 405 and 413 included, in Stripe's shape:
//
//	{"error":{"type":"invalid_request_error","code":"resource_missing","message":"..."}}
//
// A body that is not valid JSON or form, or holds a value that cannot be
// converted forward, gets 400 (ErrInvalidBody); a body over
// VersioningConfig.MaxBodyBytes gets 413 (ErrBodyTooLarge). A response
// that cannot be walked back (a value that cannot be converted, JSON that
// is not valid, a compressed or oversized body) is replaced by a 500
// (ErrRender) and logged; nothing half-written reaches the client.
//
// # Order of middleware
//
// Put recovery, logging, compression, authentication and rate limiting
// before (outside) Versioning, and idempotency after (inside) it, so that
// what the idempotency middleware saves is the newest-schema response,
// rendered again in each retrying client's version:
//
//	engine := transform.New(timeline, nil)
//	e := echo.New()
//	e.HTTPErrorHandler = server.ErrorHandler
//	e.Use(middleware.Recover(), auth)
//	e.Use(server.VersioningWithConfig(server.VersioningConfig{
//		Engine:  engine,
//		Account: func(c echo.Context) (string, error) { return c.Get("account").(string), nil },
//		Pins:    pins.NewMemory(pins.Options{}),
//		Metrics: server.NewMetrics(prometheus.DefaultRegisterer),
//	}))
//	e.GET("/v1/customers/:id", func(c echo.Context) error {
//		return c.JSON(200, customer) // the newest schema only
//	})
//
// # Metrics
//
// NewMetrics registers verso_requests_total{version,source,code},
// verso_invalid_version_requests_total, verso_pins_created_total,
// verso_walk_duration_seconds{direction}, verso_walked_bytes_total{direction}
// and verso_walk_errors_total{direction}: the requests still served at a
// version tell an operator whether it can be retired.
package server
