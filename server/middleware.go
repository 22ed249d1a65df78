package server

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/pins"
	"github.com/verso-api/verso/transform"
	"github.com/verso-api/verso/versions"
)

// Config defines the config for the versioning middleware in its net/http
// form, func(http.Handler) http.Handler, which any Go router takes
// (net/http's ServeMux, chi, Gin through gin.WrapH, echo through
// echo.WrapMiddleware; echo users have VersioningConfig too).
type Config struct {
	// Skipper returns true for requests the middleware leaves alone.
	// Optional. Default value nil: no request is skipped.
	Skipper func(*http.Request) bool

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
	// (a middleware before this one put it in the request's context),
	// never from anything a client may simply claim. An empty account has
	// no pin. An error is answered by ErrorHandler as it is, so an
	// authentication failure (NewError(401, ...)) keeps its status.
	// Optional. Default value nil: no accounts, so no pins; requests are
	// served in the header's version or the newest.
	Account func(*http.Request) (string, error)

	// Pins keeps each account's version. With it, a request with no header
	// is served in its account's pin, and an account without one is pinned,
	// atomically, to the newest version on its first request.
	// Optional. Default value nil: no pins.
	Pins pins.Store

	// MaxBodyBytes is the largest request body accepted: a Content-Length
	// over it, or a body read by the middleware (to walk it forward) over
	// it, gets 413. Wrap bodies of unknown length the middleware does not
	// read in http.MaxBytesReader before it.
	// Optional. Default value DefaultMaxBodyBytes (1 MiB).
	MaxBodyBytes int64

	// MaxResponseBytes is the largest JSON response buffered to be walked
	// back; a larger one is answered with 500 and logged. Responses at the
	// newest version are never buffered.
	// Optional. Default value DefaultMaxResponseBytes (32 MiB).
	MaxResponseBytes int64

	// ErrorHandler writes the middleware's own errors (an invalid version,
	// a body that cannot be walked forward, a failing pin store, an error
	// from Account).
	// Optional. Default value WriteError: the API's error shape,
	// {"error":{"type":...,"code":...,"message":...}}.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)

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
	ShadowCandidate func(r *http.Request, served versions.Version) versions.Version
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

// Middleware returns the versioning middleware with the default config over
// engine. It panics when engine is nil; use Config.ToMiddleware to get an
// error instead.
//
//	mux := http.NewServeMux()
//	mux.HandleFunc("GET /v1/customers/{id}", getCustomer)
//	http.ListenAndServe(addr, server.Middleware(engine)(mux))
func Middleware(engine *transform.Engine) func(http.Handler) http.Handler {
	return MiddlewareWithConfig(Config{Engine: engine})
}

// MiddlewareWithConfig returns the versioning middleware with config. It
// panics on an invalid config; use Config.ToMiddleware to get an error
// instead.
func MiddlewareWithConfig(config Config) func(http.Handler) http.Handler {
	mw, err := config.ToMiddleware()
	if err != nil {
		panic(err)
	}
	return mw
}

// ToMiddleware validates config, fills in defaults, compiles the walk back
// to every version of the timeline, and returns the middleware. See the
// package documentation for what the middleware does.
func (config Config) ToMiddleware() (func(http.Handler) http.Handler, error) {
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
	if config.ErrorHandler == nil {
		config.ErrorHandler = WriteError
	}
	h := &httpVersioning{core: m, config: config}
	return h.wrap, nil
}

// VersionOf returns the version r is served in, or the zero Version when
// the versioning middleware did not run.
//
//	if server.VersionOf(r).Before(versions.MustParse("2019-10-17")) { ... }
func VersionOf(r *http.Request) versions.Version {
	v, _, _ := gates.FromContext(r.Context())
	return v
}

// httpVersioning adapts the core to net/http.
type httpVersioning struct {
	*core
	config Config
}

func (m *httpVersioning) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.serve(w, r, next)
	})
}

func (m *httpVersioning) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	if m.config.Skipper != nil && m.config.Skipper(r) {
		next.ServeHTTP(w, r)
		return
	}
	account := ""
	if m.config.Account != nil {
		a, err := m.config.Account(r)
		if err != nil {
			m.config.ErrorHandler(w, r, err)
			return
		}
		account = a
	}
	vi, source, req, _, rd, err := m.begin(r, account)
	if err != nil {
		if routeRefused(err) {
			// The version is known: its headers are set, and the error is
			// walked back like the router's own 404 at that version would be.
			m.setHeaders(w.Header(), vi)
			if plan := m.plans[vi]; plan != nil {
				bw := getBackWriter(w, plan, m.MaxResponseBytes)
				m.config.ErrorHandler(bw, r, err)
				status, _ := m.finish(r, bw, m.list[vi], versions.Version{})
				if status == 0 {
					status = bw.code()
				}
				putBackWriter(bw)
				m.counted(vi, source, status)
				return
			}
		}
		m.config.ErrorHandler(w, r, err)
		return
	}
	v := m.list[vi]
	m.setHeaders(w.Header(), vi)
	if rd.AdjustsResponse() {
		w = &adjustWriter{ResponseWriter: w, rd: rd}
	}

	plan := m.responsePlan(vi, req)
	if plan == nil {
		// The newest version, or one whose responses the timeline does not
		// change: the response streams through untouched.
		if m.Metrics == nil {
			next.ServeHTTP(w, req)
			return
		}
		sw := getStatusWriter(w)
		next.ServeHTTP(sw, req)
		m.counted(vi, source, rd.Status(sw.code()))
		putStatusWriter(sw)
		return
	}
	var cand versions.Version
	if m.Shadow != nil && m.config.ShadowCandidate != nil {
		cand = m.config.ShadowCandidate(req, v)
	}
	bw := getBackWriter(w, plan, m.MaxResponseBytes)
	// A panic leaves bw unreturned to its pool and nothing buffered sent:
	// the recovery handler outside answers on w.
	next.ServeHTTP(bw, req)
	status, _ := m.finish(req, bw, v, cand)
	if status == 0 {
		status = bw.code()
	}
	putBackWriter(bw)
	m.counted(vi, source, rd.Status(status))
}
