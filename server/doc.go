// Package server serves every version of an API from handlers written for
// the newest one: a net/http middleware (Middleware, MiddlewareWithConfig,
// Config.ToMiddleware: a func(http.Handler) http.Handler that any Go
// router takes), compiled from one Config (New returns it as a
// *Versioning). Package server/echoversioning runs the same flow in echo,
// and package proxy in front of an API written in any language; neither
// is a second implementation.
//
//	mux := http.NewServeMux()
//	mux.HandleFunc("GET /v1/users/{id}", getUser) // the newest schema only
//	handler := server.MiddlewareWithConfig(server.Config{
//		Engine:  transform.New(timeline, nil),
//		Account: func(r *http.Request) (string, error) { return accountFrom(r.Context()), nil },
//		Pins:    pins.NewMemoryStore(nil),
//	})(mux)
//
// The package imports the standard library and yaml only (no web
// framework): metrics plug in through the Metrics interface (package prom
// for Prometheus), shadow sampling through Sampler (package shadow), pin
// stores through PinStore, the two methods the middleware calls (every
// pins.Store is one: memory built in; SQL stores take a *storage.DB whose
// driver the program registers).
//
// Handlers know only the newest schema. For each request the middleware
//
//  1. takes the account from Config.Account, a function reading what
//     authentication (a middleware before this one) established, never
//     anything a client may simply claim;
//  2. chooses the version: the request header (Stripe-Version unless the
//     timeline names another) beats the account's pin; a request naming no
//     version from an account with no pin, or with no account (or no
//     Config.Pins), is served the default version (Config.DefaultVersion,
//     else the newest that is not a preview), and the account is pinned to
//     it, atomically through PinStore.PinIfAbsent, once such a request has
//     been answered with a success: an error (credentials the handler
//     refused with 401 or 403 among them) makes no pin. A request with the
//     header neither reads nor writes the pin;
//  3. answers a malformed or unsupported version with 400 in the API's
//     error shape, listing the supported versions (ErrInvalidVersion); a
//     version past its sunset date, when the timeline's after_sunset is
//     refuse, with 410 naming the version to move to (ErrVersionSunset);
//     an endpoint that does not exist at the version (endpoint_added
//     later, endpoint_removed or endpoint_moved away before) with 404, as
//     the router answers an unknown URL (ErrNoRoute); and sends an
//     endpoint that moved since the version on to its new place (the
//     request's method and URL path are rewritten before the router of a
//     net/http form sees them; echo routes before its middleware, so an
//     echo application registers the old path too, on the same handler);
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
//  5. puts the version and the API's error shape in the request's
//     context: handlers ask VersionOf(r) (echoversioning.VersionOf(c)
//     with echo) or gates.Active(ctx, id), and apierror.Write answers in
//     the shape;
//  6. walks the response back to the client's version in one pass, error
//     bodies included, and fixes its Content-Length. Any JSON response is
//     walked; others pass through unchanged;
//  7. sets the version header on the response to the version served and,
//     when the version is deprecated, Deprecation: @<unix time> (RFC 9745),
//     Sunset: <HTTP-date> (RFC 8594) and, with Config.ChangelogURL,
//     Link: <ChangelogURL#vVERSION>; rel="deprecation"; status and
//     header ops walk the response's status code and headers back.
//
// At the newest version, and at any version whose walk back changes
// nothing, the response writer is not wrapped: the body streams through
// without being buffered or copied.
//
// # Errors
//
// Every error is an *apierror.Error (package apierror, standard library
// only), written in the API's error shape: the timeline's errors key
// (gates.Timeline.ErrorShape: Stripe's {"error":{...}} unless it names
// problem, flat or a template), or Config.ErrorShape. The middleware's
// own errors (ErrInvalidVersion, ErrInvalidParam, ErrParamConflict,
// ErrInvalidBody, ErrBodyTooLarge, ErrNoRoute, ErrVersionSunset,
// ErrPinStore, an error from Config.Account) are written by
// Config.ErrorHandler (apierror.NewWriter(Logger) by default) at the
// newest version, then walked back to the client's version like any
// error body a handler writes; the error handler runs with the version
// in the context (VersionOf(r), gates.Active), the newest one for an
// invalid version. Handlers write theirs with apierror.Write.
//
// A body that is not valid JSON or form, is nested too deeply, or holds a
// value that cannot be converted forward gets 400 (ErrInvalidBody,
// ErrInvalidParam naming the parameter); a field sent under both its old
// and its new name 400 parameters_exclusive (ErrParamConflict); a body
// over Config.MaxBodyBytes 413 (ErrBodyTooLarge); a body the client sends
// slower than the server's read timeout 408 (apierror.ErrTimeout), and one
// that breaks off 400 (apierror.ErrBodyUnreadable), as
// apierror.FromBodyRead tells them apart. A response that cannot
// be walked back (a value that cannot be converted, JSON that is not
// valid, a compressed or oversized body) is replaced by a 500 (ErrRender)
// and logged; nothing half-written reaches the client.
//
// # Order of middleware
//
// Put recovery, logging, compression, authentication and rate limiting
// before (outside) the versioning middleware, and idempotency after
// (inside) it, so that what the idempotency middleware saves is the
// newest-schema response, rendered again in each retrying client's
// version:
//
//	engine := transform.New(timeline, nil)
//	versioning, err := server.Config{
//		Engine:  engine,
//		Account: func(r *http.Request) (string, error) { return accountFrom(r.Context()), nil },
//		Pins:    pins.NewMemoryStore(nil),
//		Metrics: prom.NewMetrics(prometheus.DefaultRegisterer),
//	}.ToMiddleware()
//	if err != nil { ... }
//	mux := http.NewServeMux()
//	mux.HandleFunc("GET /v1/customers/{id}", getCustomer) // the newest schema only
//	handler := recoverer(logger(auth(versioning(idempotent(mux)))))
//
// # Usage and metrics
//
// Config.Usage counts every request served, per version and account
// (without the account when it was refused 401 or 403): a *pins.Counter
// batches the counts into a pins.Store, where verso pins and verso retire
// find which versions, and whose integrations, are still in use, in every
// form of the middleware. Config.Metrics receives every request served
// (version, how it was chosen, status), refused versions, new pins and the
// cost of each walk; prom.NewMetrics reports them to Prometheus.
//
//	store, _ := pins.NewSQLStore(ctx, db, nil)
//	counter := pins.NewCounter(store)
//	go counter.Run(ctx, time.Minute, nil)
//	mw, err := server.Config{Engine: engine, Account: account, Pins: store, Usage: counter}.ToMiddleware()
package server
