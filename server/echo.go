package server

import (
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/pins"
	"github.com/verso-api/verso/transform"
	"github.com/verso-api/verso/versions"
)

// VersioningConfig defines the config for the echo form of the versioning
// middleware. It is Config with fields typed on echo.Context; both forms
// run the same code.
type VersioningConfig struct {
	// Skipper defines a function to skip middleware.
	// Optional. Default value middleware.DefaultSkipper.
	Skipper middleware.Skipper

	// Engine walks bodies between the versions of its timeline.
	// Required.
	Engine *transform.Engine

	// TypeField is the member that names an object's type in response
	// bodies ({"type":"user"}), by which changes scoped by resource find
	// their objects.
	// Optional. Default value the engine's (the timeline's type_field,
	// "object" unless it names another).
	TypeField string

	// Header is the request header naming the version, and the response
	// header saying the version served.
	// Optional. Default value the timeline's header (gates.DefaultHeader,
	// "Stripe-Version", unless the timeline names another).
	Header string

	// NearestVersion serves a well-formed version that the timeline does
	// not list as the nearest older version it lists, instead of refusing
	// it with 400 (a client that read the date off a changelog). A date
	// older than the base is still refused.
	// Optional. Default value false: unknown versions are refused, as
	// Stripe refuses them.
	NearestVersion bool

	// Account returns the account of the request, from its authentication
	// (an API key checked by a middleware before this one), never from
	// anything a client may simply claim. An empty account has no pin. An
	// error is returned to echo as it is, so an authentication failure
	// keeps its 401.
	// Optional. Default value nil: no accounts, so no pins; requests are
	// served in the header's version or the newest.
	Account func(echo.Context) (string, error)

	// Pins keeps each account's version. With it, a request with no header
	// is served in its account's pin, and an account without one is pinned,
	// atomically, to the newest version on its first request.
	// Optional. Default value nil: no pins.
	Pins pins.Store

	// MaxBodyBytes is the largest request body accepted: a Content-Length
	// over it, or a body read by the middleware (to walk it forward) over
	// it, gets 413. Put echo's BodyLimit middleware first to bound bodies
	// of unknown length the middleware does not read.
	// Optional. Default value 1 MiB.
	MaxBodyBytes int64

	// MaxResponseBytes is the largest JSON response buffered to be walked
	// back; a larger one is answered with 500 and logged. Responses at the
	// newest version are never buffered.
	// Optional. Default value 32 MiB.
	MaxResponseBytes int64

	// Logger gets the errors the client does not see in full: responses
	// that could not be walked back, pin store failures.
	// Optional. Default value slog.Default().
	Logger *slog.Logger

	// Metrics counts requests by version served and the cost of walking
	// bodies (prom.NewMetrics for Prometheus).
	// Optional. Default value nil: no metrics.
	Metrics Metrics

	// Shadow, when set, gets a sample of the successful responses that are
	// walked back (a *shadow.Sampler renders them in a candidate version in
	// the background and records what would change for the account if it
	// moved). It never delays or changes the response.
	// Optional. Default value nil: no shadow rendering.
	Shadow Sampler

	// ShadowCandidate picks the version a shadowed response is compared
	// with. Optional. Default value: the newest version.
	ShadowCandidate func(c echo.Context, served versions.Version) versions.Version
	// ChangelogURL is where the changelog lives: responses served in a
	// deprecated version carry Link: <ChangelogURL#vVERSION>;
	// rel="deprecation" (RFC 9745), next to the Deprecation and Sunset
	// headers they always get.
	// Optional. Default value "": no Link header.
	ChangelogURL string

	// Now returns the current time, which decides whether a version is
	// past its sunset date (refused when the timeline's after_sunset is
	// refuse).
	// Optional. Default value time.Now.
	Now func() time.Time
}

// DefaultVersioningConfig is the default echo versioning middleware config
// (it has no Engine: Versioning and the Engine field supply one).
var DefaultVersioningConfig = VersioningConfig{
	Skipper:          middleware.DefaultSkipper,
	MaxBodyBytes:     DefaultMaxBodyBytes,
	MaxResponseBytes: DefaultMaxResponseBytes,
}

// Versioning returns the echo versioning middleware with the default
// config over engine. It panics when engine is nil; use
// VersioningConfig.ToMiddleware to get an error instead.
//
//	e.Use(server.Versioning(transform.New(timeline, nil)))
func Versioning(engine *transform.Engine) echo.MiddlewareFunc {
	c := DefaultVersioningConfig
	c.Engine = engine
	return VersioningWithConfig(c)
}

// VersioningWithConfig returns the echo versioning middleware with config.
// It panics on an invalid config; use VersioningConfig.ToMiddleware to get
// an error instead.
func VersioningWithConfig(config VersioningConfig) echo.MiddlewareFunc {
	mw, err := config.ToMiddleware()
	if err != nil {
		panic(err)
	}
	return mw
}

// ToMiddleware validates config, fills in defaults, compiles the walk back
// to every version of the timeline, and returns the middleware. See the
// package documentation for what the middleware does.
func (config VersioningConfig) ToMiddleware() (echo.MiddlewareFunc, error) {
	m, err := compile(options{
		Engine:           config.Engine,
		NearestVersion:   config.NearestVersion,
		TypeField:        config.TypeField,
		Header:           config.Header,
		Pins:             config.Pins,
		MaxBodyBytes:     config.MaxBodyBytes,
		MaxResponseBytes: config.MaxResponseBytes,
		Logger:           config.Logger,
		Metrics:          config.Metrics,
		Shadow:           config.Shadow,
		ChangelogURL:     config.ChangelogURL,
		Now:              config.Now,
	})
	if err != nil {
		return nil, err
	}
	if config.Skipper == nil {
		config.Skipper = DefaultVersioningConfig.Skipper
	}
	a := &echoVersioning{core: m, skipper: config.Skipper, account: config.Account, candidate: config.ShadowCandidate}
	return a.handle, nil
}

// echoVersioning adapts the core to echo.
type echoVersioning struct {
	*core
	skipper   middleware.Skipper
	account   func(echo.Context) (string, error)
	candidate func(echo.Context, versions.Version) versions.Version
}

// VersionFrom returns the version the request of c is served in, or the
// zero Version when the versioning middleware did not run.
//
//	if server.VersionFrom(c).Before(versions.MustParse("2019-10-17")) { ... }
func VersionFrom(c echo.Context) versions.Version {
	v, _, _ := gates.FromContext(c.Request().Context())
	return v
}

func (m *echoVersioning) handle(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if m.skipper(c) {
			return next(c)
		}
		account := ""
		if m.account != nil {
			a, err := m.account(c)
			if err != nil {
				return err
			}
			account = a
		}
		vi, source, req, queryChanged, rd, err := m.begin(c.Request(), account)
		if err != nil {
			if routeRefused(err) {
				// The version is known: its headers are set, and the error
				// is walked back like a handler's error at that version.
				res := c.Response()
				m.setHeaders(res.Header(), vi)
				if plan := m.plans[vi]; plan != nil {
					orig := res.Writer
					bw := getBackWriter(orig, plan, m.MaxResponseBytes)
					res.Writer = bw
					c.Error(err)
					res.Writer = orig
					if status, n := m.finish(c.Request(), bw, m.list[vi], versions.Version{}); status != 0 {
						res.Status, res.Size = status, int64(n)
					}
					putBackWriter(bw)
					m.counted(vi, source, res.Status)
				}
			}
			return err
		}
		c.SetRequest(req)
		if queryChanged {
			refreshQuery(c, req.URL)
		}
		v := m.list[vi]
		res := c.Response()
		m.setHeaders(res.Header(), vi)
		if rd.AdjustsResponse() {
			// echo's Response records the status before its writer maps
			// it: the counted status is mapped below.
			prev := res.Writer
			res.Writer = &adjustWriter{ResponseWriter: prev, rd: rd}
			defer func() { res.Writer = prev }()
		}

		plan := m.responsePlan(vi, req)
		if plan == nil {
			// The newest version, or one whose responses the timeline does
			// not change: the response streams through untouched.
			err := next(c)
			if err != nil {
				c.Error(err)
			}
			res.Status = rd.Status(res.Status)
			m.counted(vi, source, res.Status)
			return err
		}
		var cand versions.Version
		if m.Shadow != nil && m.candidate != nil {
			cand = m.candidate(c, v)
		}

		orig := res.Writer
		bw := getBackWriter(orig, plan, m.MaxResponseBytes)
		res.Writer = bw
		done := false
		defer func() {
			if done {
				return
			}
			// A panic: nothing buffered reached the client, so let the
			// error handler (echo's Recover middleware) answer cleanly.
			res.Writer = orig
			if !bw.sent() {
				res.Committed, res.Size, res.Status = false, 0, http.StatusOK
			}
		}()
		err = next(c)
		if err != nil {
			c.Error(err)
		}
		res.Writer = orig
		if status, n := m.finish(c.Request(), bw, v, cand); status != 0 {
			res.Status, res.Size = status, int64(n)
		}
		done = true
		putBackWriter(bw)
		res.Status = rd.Status(res.Status)
		m.counted(vi, source, res.Status)
		return err
	}
}

// refreshQuery keeps echo's cached query parameters, if a middleware
// before this one read them, in step with the walked query string.
func refreshQuery(c echo.Context, u *url.URL) {
	cached := c.QueryParams() // parses the new query when nothing was cached
	fresh := u.Query()
	for k := range cached {
		delete(cached, k)
	}
	for k, vs := range fresh {
		cached[k] = vs
	}
}
