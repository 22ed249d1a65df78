package server

import (
	"net/http"

	"github.com/verso-api/verso/apierror"
	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/transform"
	"github.com/verso-api/verso/versions"
)

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
// to every version of the timeline, and returns the middleware (New's
// Handler). See the package documentation for what the middleware does.
func (config Config) ToMiddleware() (func(http.Handler) http.Handler, error) {
	m, err := New(config)
	if err != nil {
		return nil, err
	}
	return m.Handler, nil
}

// VersionOf returns the version r is served in, or the zero Version when
// the versioning middleware did not run. Inside Config.ErrorHandler it is
// the version the error is answered in (the newest for an invalid one).
//
//	if server.VersionOf(r).Before(versions.MustParse("2019-10-17")) { ... }
func VersionOf(r *http.Request) versions.Version {
	v, _, _ := gates.FromContext(r.Context())
	return v
}

// Handler returns next served through the middleware.
func (m *Versioning) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.Serve(w, r, next, nil)
	})
}

// sourceNone marks a request refused before a version was chosen.
const sourceNone Source = 255

// Serve serves one request through the middleware: next gets it in the
// newest schema, with its version and the API's error shape in its
// context, and what next writes is walked back to the client's version.
// The middleware's own errors are written by writeError (Config.ErrorHandler
// when nil) in the same context, and walked back too. Adapters to other
// frameworks call it (package echoversioning does); others use Handler.
func (m *Versioning) Serve(w http.ResponseWriter, r *http.Request, next http.Handler, writeError func(http.ResponseWriter, *http.Request, error)) {
	if writeError == nil {
		writeError = m.config.ErrorHandler
	}
	if m.config.Skipper != nil && m.config.Skipper(r) {
		next.ServeHTTP(w, r)
		return
	}
	ctx := r.Context()
	if cur := apierror.ShapeFrom(ctx); m.withShape && cur != m.shape || !m.withShape && cur.Name() != "stripe" {
		// The context lacks the API's shape (Stripe's needs none), or an
		// outer layer put another there.
		ctx = apierror.WithShape(ctx, m.shape)
	}
	account := ""
	if m.config.Account != nil {
		a, err := m.config.Account(r)
		if err != nil {
			// No version is chosen yet: the header's, if it names one.
			vi, source := m.headerVersion(r)
			m.setHeaders(w.Header(), vi)
			m.fail(w, r.WithContext(gates.NewContext(ctx, m.tl, m.list[vi])), vi, source, "", m.responsePlan(vi, r), err, writeError)
			return
		}
		account = a
	}
	vi, source, err := m.version(ctx, r.Header.Get(m.config.Header), account)
	if err != nil {
		// No version: the error is the newest version's.
		m.fail(w, r.WithContext(gates.NewContext(ctx, m.tl, m.newest)), 0, sourceNone, "", nil, err, writeError)
		return
	}
	m.setHeaders(w.Header(), vi)
	req := r.WithContext(gates.NewContext(ctx, m.tl, m.list[vi]))
	var x *Exchange
	if m.config.Fired != nil && account != "" && (vi != 0 || source == SourceHeader) && m.config.Fired.Sample() {
		x = getExchange()
		x.Account, x.Version, x.Source, x.Method, x.Path = account, m.list[vi], source, r.Method, r.URL.Path
	}
	rd, err := m.route(req, vi, x)
	if err != nil {
		// The endpoint does not exist at the version: walked back as the
		// router's own 404 would be, whatever the endpoint's changes.
		m.failRecorded(w, req, vi, source, account, m.plans[vi], err, writeError, x)
		return
	}
	if r.ContentLength > m.config.MaxBodyBytes {
		m.failRecorded(w, req, vi, source, account, m.responsePlan(vi, req), tooLarge(m.config.MaxBodyBytes), writeError, x)
		return
	}
	if rd.Moved {
		u := *req.URL
		u.Path, u.RawPath = rd.Path, ""
		req.URL, req.Method = &u, rd.Method
	}
	if vi != 0 {
		if err := m.upgrade(req, m.list[vi], x); err != nil {
			m.failRecorded(w, req, vi, source, account, m.responsePlan(vi, req), err, writeError, x)
			return
		}
	}
	if rd.AdjustsResponse() {
		w = &adjustWriter{ResponseWriter: w, rd: rd}
	}
	var cand versions.Version
	if m.config.Shadow != nil && m.config.ShadowCandidate != nil {
		cand = m.config.ShadowCandidate(req, m.list[vi])
	}
	m.respond(w, req, vi, source, account, m.responsePlan(vi, req), rd, cand, next, x)
}

// respond runs h, walking what it writes back to list[vi] with plan
// (passing it through when plan is nil), and ends the request (served:
// the account's first pin, usage, metrics; with x, the changes that
// fired).
func (m *Versioning) respond(w http.ResponseWriter, req *http.Request, vi int, source Source, account string, plan *transform.Plan, rd gates.RouteDecision, cand versions.Version, h http.Handler, x *Exchange) {
	if plan == nil {
		// The newest version, or one whose responses the timeline does not
		// change: the response streams through untouched.
		if m.config.Metrics == nil && m.config.Usage == nil && source != SourceNewPin && x == nil {
			h.ServeHTTP(w, req)
			return
		}
		sw := getStatusWriter(w)
		h.ServeHTTP(sw, req)
		status := rd.Status(sw.code())
		putStatusWriter(sw)
		m.served(req.Context(), vi, source, account, status)
		m.record(x, req, status)
		return
	}
	bw := getBackWriter(w, req, plan, m.config.MaxResponseBytes, m.config.Shadow != nil, m.config.Metrics != nil, x)
	// A panic leaves bw unreturned to its pool and nothing buffered sent:
	// the recovery handler outside answers on w.
	h.ServeHTTP(bw, req)
	status, _ := m.finish(req, bw, m.list[vi], cand)
	if status == 0 {
		status = bw.code()
	}
	putBackWriter(bw)
	status = rd.Status(status)
	m.served(req.Context(), vi, source, account, status)
	m.record(x, req, status)
}

// record hands x, when not nil, to Config.Fired with the route that
// served req (a ServeMux's pattern, echo's route path) and the status,
// and returns x to its pool. A request answered 401 or 403 is not
// recorded: its account may be one its credentials only claimed.
func (m *Versioning) record(x *Exchange, req *http.Request, status int) {
	if x == nil {
		return
	}
	if status != http.StatusUnauthorized && status != http.StatusForbidden {
		x.Pattern, x.Status = req.Pattern, status
		m.config.Fired.Record(x)
	}
	putExchange(x)
}

// fail answers err with writeError at list[vi] (req carries the version
// and the shape), walking the error body back with plan.
func (m *Versioning) fail(w http.ResponseWriter, req *http.Request, vi int, source Source, account string, plan *transform.Plan, err error, writeError func(http.ResponseWriter, *http.Request, error)) {
	m.failRecorded(w, req, vi, source, account, plan, err, writeError, nil)
}

// failRecorded is fail recording, with x, the changes that fired: the
// endpoint op that made the endpoint absent, the changes to error bodies.
func (m *Versioning) failRecorded(w http.ResponseWriter, req *http.Request, vi int, source Source, account string, plan *transform.Plan, err error, writeError func(http.ResponseWriter, *http.Request, error), x *Exchange) {
	m.respond(w, req, vi, source, account, plan, gates.RouteDecision{}, versions.Version{}, &errorResponse{err: err, write: writeError}, x)
}

// errorResponse is an http.Handler that writes an error.
type errorResponse struct {
	err   error
	write func(http.ResponseWriter, *http.Request, error)
}

func (e *errorResponse) ServeHTTP(w http.ResponseWriter, r *http.Request) { e.write(w, r, e.err) }
