package api

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/tidwall/gjson"

	"github.com/verso-api/verso/apierror"
	"github.com/verso-api/verso/demo/accounts"
	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/idempotency"
	"github.com/verso-api/verso/idempotency/echoidempotency"
	"github.com/verso-api/verso/pins"
	"github.com/verso-api/verso/prom"
	"github.com/verso-api/verso/ratelimit"
	"github.com/verso-api/verso/ratelimit/echoratelimit"
	"github.com/verso-api/verso/reports"
	"github.com/verso-api/verso/server"
	"github.com/verso-api/verso/server/echoversioning"
	"github.com/verso-api/verso/shadow"
	"github.com/verso-api/verso/storage"
	"github.com/verso-api/verso/transform"
	"github.com/verso-api/verso/versions"
	"github.com/verso-api/verso/webhooks"
)

// DefaultTimeline is the built-in timeline of the demo API: Stripe's
// history on the demo's resources through the versions the current Stripe
// SDKs pin, and a preview version on top.
//
//go:embed timeline.yaml
var DefaultTimeline []byte

// LoadDefaultTimeline parses DefaultTimeline, with the resolvers it names
// (Funcs).
func LoadDefaultTimeline() (*gates.Timeline, error) {
	return gates.Load("timeline.yaml", DefaultTimeline, &gates.Options{Funcs: Funcs()})
}

// Config configures the demo API. Zero fields take their defaults.
type Config struct {
	// DB holds every store. Required.
	DB *storage.DB
	// Timeline is the API's timeline; load one that names the demo's
	// resolvers with gates.Options{Funcs: Funcs()}. Optional. Default
	// value: DefaultTimeline.
	Timeline *gates.Timeline
	// Logger. Optional. Default value slog.Default().
	Logger *slog.Logger
	// Registry receives the metrics served at /metrics. Optional.
	// Default value: a new registry.
	Registry *prometheus.Registry
	// Clock. Optional. Default value time.Now.
	Clock func() time.Time
	// KeyLimit is the rate limit per API key. Optional. Default value 100 per second, burst 100.
	KeyLimit ratelimit.Limit
	// RouteLimits override KeyLimit on some routes ("POST /v1/charges").
	// Optional.
	RouteLimits map[string]ratelimit.Limit
	// IPLimit is the rate limit per client IP before authentication.
	// Optional. Default value 200 per second, burst 200.
	IPLimit ratelimit.Limit
	// RateLimits keeps the rate-limit buckets (a Redis store from
	// ratelimit/redisstore, say). Optional. Default value: on PostgreSQL a
	// ratelimit.SQLStore on DB, so that every server on the database
	// shares the limits; on SQLite (one server) a memory store.
	RateLimits ratelimit.Store
	// MaxBodyBytes bounds request bodies. Optional. Default value 1 MiB.
	MaxBodyBytes int64
	// Webhooks configures the delivery worker; Store, Renderer,
	// Logger and Metrics are filled in, and Clock when nil. Optional.
	Webhooks webhooks.Config
	// ShadowRate, when above zero, is the share of responses served in an
	// old version that are also rendered in the newest in the background,
	// their differences counted in verso_shadow_differences_total: what
	// would change for each account if it upgraded. Optional. Default 0.
	ShadowRate float64
	// NearestVersion serves a well-formed version the timeline does not
	// list (Stripe-Version: 2024-01-01) as the nearest older version that
	// is not a preview (gates.Timeline.ResolveNearest), instead of
	// refusing it; the response's version header says which was served.
	// A version older than the base is still refused. Optional. Default
	// value false: unknown versions are refused, as Stripe does.
	NearestVersion bool
	// DefaultVersion is the version served to a request that names none
	// from an account with no pin, which is then pinned to it
	// (server.Config.DefaultVersion): the version existing clients
	// integrated against. Optional. Default value the zero Version: the
	// newest stable version.
	DefaultVersion versions.Version
	// ReportSampleRate is the share of each account's requests whose
	// changes are recorded for its upgrade report
	// (reports.RecorderOptions.SampleRate). Optional. Default value 1:
	// every request.
	ReportSampleRate float64
	// WebhooksAllowPrivate lets webhook endpoints name, and deliveries
	// reach, loopback, private and link-local addresses: for local
	// development only. Optional. Default value false.
	WebhooksAllowPrivate bool
	// Sealer encrypts webhook signing secrets and saved idempotent
	// responses at rest. Optional. Default value nil: plain text.
	Sealer *storage.Sealer
	// ClientIPHeader names a header, such as X-Forwarded-For or
	// X-Real-IP, that a reverse proxy sets to the client's address; the
	// per-IP limit then counts that address, but only for requests whose
	// connection comes from TrustedProxies. Optional. Default value "":
	// the connection's address, whatever headers say.
	ClientIPHeader string
	// TrustedProxies are the addresses of the proxies whose
	// ClientIPHeader is believed. Optional. Default value: loopback only.
	TrustedProxies []netip.Prefix
	// SeparateMetrics leaves /metrics off the API's address; serve
	// MetricsHandler on an address of its own. Optional. Default false.
	SeparateMetrics bool
	// HTTP bounds the connections Serve accepts. Zero fields take the
	// values of DefaultHTTPLimits.
	HTTP HTTPLimits
	// IdempotencyTTL and IdempotencyLease configure saved responses.
	// Optional. Default values 24 hours and 1 minute.
	IdempotencyTTL, IdempotencyLease time.Duration
	// Retention says how long events, webhook deliveries and the census's
	// counts are kept. Zero fields take their defaults (30 days for events
	// and deliveries, 90 for the census).
	Retention Retention
}

// HTTPLimits are the http.Server limits of Serve; slow or idle clients
// are shed when they run out.
type HTTPLimits struct {
	// ReadHeaderTimeout bounds reading a request's header.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request, body included.
	ReadTimeout time.Duration
	// WriteTimeout bounds a request from the end of its header to the
	// end of the response.
	WriteTimeout time.Duration
	// IdleTimeout closes a keep-alive connection left idle that long.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds a request's header; a larger one gets 431.
	MaxHeaderBytes int
}

// DefaultHTTPLimits are the limits of a zero HTTPLimits field.
var DefaultHTTPLimits = HTTPLimits{
	ReadHeaderTimeout: 10 * time.Second,
	ReadTimeout:       30 * time.Second,
	WriteTimeout:      60 * time.Second,
	IdleTimeout:       120 * time.Second,
	MaxHeaderBytes:    64 << 10,
}

func (l HTTPLimits) withDefaults() HTTPLimits {
	d := DefaultHTTPLimits
	if l.ReadHeaderTimeout <= 0 {
		l.ReadHeaderTimeout = d.ReadHeaderTimeout
	}
	if l.ReadTimeout <= 0 {
		l.ReadTimeout = d.ReadTimeout
	}
	if l.WriteTimeout <= 0 {
		l.WriteTimeout = d.WriteTimeout
	}
	if l.IdleTimeout <= 0 {
		l.IdleTimeout = d.IdleTimeout
	}
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = d.MaxHeaderBytes
	}
	return l
}

// Server is the demo API.
type Server struct {
	Echo     *echo.Echo
	Accounts *accounts.Store
	Pins     pins.Store
	// Counter counts the requests served per version and account, for the
	// census (verso pins): the versioning middleware's Usage; Serve flushes
	// it to Pins every minute.
	Counter *pins.Counter
	// Recorder records which changes fired on each account's requests,
	// responses and webhook deliveries, for its upgrade report; Serve
	// flushes it to Evidence every minute.
	Recorder *reports.Recorder
	Evidence *reports.SQLStore
	Webhooks *webhooks.SQLStore
	Worker   *webhooks.Worker
	Engine   *transform.Engine
	Registry *prometheus.Registry

	db       *storage.DB
	timeline *gates.Timeline
	objects  *objects
	hooks    *webhooks.SQLStore
	worker   *webhooks.Worker
	idem     *idempotency.SQLStore
	log      *slog.Logger
	now      func() time.Time
	byType   map[string]*resource
	expands  map[string]expandRoot
	sampler  *shadow.Sampler
	reporter *reports.Reporter
	limits   HTTPLimits
	metrics  http.Handler

	// retention is Config.Retention with its defaults.
	retention Retention
}

const accountKey = "verso.account"

func accountOf(c echo.Context) string {
	a, _ := c.Get(accountKey).(string)
	return a
}

// accountKeyCtx is the request-context key of the account, for the
// net/http middlewares and handlers the demo mounts (idempotency keys,
// rate limits, the pin endpoints).
type accountKeyCtx struct{}

// accountFrom returns the account authenticate put in a request's
// context.
func accountFrom(ctx context.Context) string {
	a, _ := ctx.Value(accountKeyCtx{}).(string)
	return a
}

// New builds the API on cfg.DB, creating its tables when missing.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.DB == nil {
		return nil, errors.New("api: Config.DB is required")
	}
	s := &Server{db: cfg.DB, timeline: cfg.Timeline, log: cfg.Logger, now: cfg.Clock, Registry: cfg.Registry, limits: cfg.HTTP.withDefaults(),
		retention: cfg.Retention.withDefaults()}
	var err error
	if s.timeline == nil {
		if s.timeline, err = LoadDefaultTimeline(); err != nil {
			return nil, err
		}
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.Registry == nil {
		s.Registry = prometheus.NewRegistry()
		s.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	if cfg.KeyLimit == (ratelimit.Limit{}) {
		cfg.KeyLimit = ratelimit.Per(100, time.Second)
	}
	if cfg.IPLimit == (ratelimit.Limit{}) {
		cfg.IPLimit = ratelimit.Per(200, time.Second)
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	s.Engine = transform.New(s.timeline, nil)
	s.byType = map[string]*resource{}
	for _, r := range s.resources() {
		s.byType[r.typ] = r
	}
	s.expands = s.expandRoots()
	if s.objects, err = newObjects(ctx, cfg.DB); err != nil {
		return nil, err
	}
	if s.Accounts, err = accounts.New(ctx, cfg.DB, accounts.Options{Now: s.now}); err != nil {
		return nil, err
	}
	if s.Pins, err = pins.NewSQLStore(ctx, cfg.DB, &pins.Options{Now: s.now, Retention: s.retention.Census}); err != nil {
		return nil, err
	}
	s.Counter = pins.NewCounter(s.Pins)
	if s.Evidence, err = reports.NewSQLStore(ctx, cfg.DB, &reports.Options{Now: s.now}); err != nil {
		return nil, err
	}
	if s.Recorder, err = reports.NewRecorder(s.timeline, s.Evidence, &reports.RecorderOptions{SampleRate: cfg.ReportSampleRate, Now: s.now}); err != nil {
		return nil, err
	}
	if s.reporter, err = reports.NewReporter(s.timeline, s.Evidence, &reports.ReporterOptions{Engine: s.Engine}); err != nil {
		return nil, err
	}
	if s.hooks, err = webhooks.NewSQLStore(ctx, cfg.DB, &webhooks.Options{Clock: s.now, AllowPrivate: cfg.WebhooksAllowPrivate, Sealer: cfg.Sealer}); err != nil {
		return nil, err
	}
	s.Webhooks = s.hooks
	if s.idem, err = idempotency.NewSQLStore(ctx, cfg.DB, nil); err != nil {
		return nil, err
	}
	wc := cfg.Webhooks
	wc.Store, wc.Logger = s.hooks, s.log
	wc.Metrics = prom.NewWebhooks(s.Registry, func(ctx context.Context) (int, time.Time, error) {
		st, err := s.hooks.Stats(ctx)
		return st.Pending, st.Oldest, err
	})
	wc.Renderer = s.renderEvent
	if wc.Clock == nil {
		wc.Clock = s.now
	}
	if s.worker, err = webhooks.NewWorker(wc); err != nil {
		return nil, err
	}
	s.Worker = s.worker

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	answer := echoversioning.NewErrorHandler(s.log)
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		if busy(err) {
			// SQLite's writer stayed busy, in whichever layer answers:
			// handlers inside the idempotency middleware answer there.
			err = errDatabaseBusy.Wrap(err)
		}
		answer(err, c)
	}
	e.Use(requestID)
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{DisableStackAll: true, LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
		s.log.Error("panic", "path", c.Request().URL.Path, "err", err, "stack", string(stack))
		return apierror.ErrInternal
	}}))
	e.Use(s.logRequests)
	e.Use(s.unavailable)
	if cfg.ClientIPHeader != "" {
		if e.IPExtractor, err = clientIP(cfg.ClientIPHeader, cfg.TrustedProxies); err != nil {
			return nil, err
		}
	}
	if cfg.RateLimits == nil {
		if cfg.DB.Dialect == storage.Postgres {
			if cfg.RateLimits, err = ratelimit.NewSQLStore(ctx, cfg.DB, nil); err != nil {
				return nil, err
			}
		} else {
			cfg.RateLimits = ratelimit.NewMemoryStore(nil)
		}
	}
	ipLimit, err := echoratelimit.New(ratelimit.Config{Scope: "ip", Default: cfg.IPLimit, Store: cfg.RateLimits})
	if err != nil {
		return nil, err
	}
	s.metrics = promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{})
	if !cfg.SeparateMetrics {
		e.GET("/metrics", echo.WrapHandler(s.metrics))
	}
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	keyLimit, err := echoratelimit.New(ratelimit.Config{Scope: "key", Default: cfg.KeyLimit, Routes: cfg.RouteLimits, Store: cfg.RateLimits,
		Identifier: func(r *http.Request) (string, error) { return accountFrom(r.Context()), nil }})
	if err != nil {
		return nil, err
	}
	if cfg.ShadowRate > 0 {
		if s.sampler, err = shadow.NewSampler(shadow.SamplerConfig{Engine: s.Engine, Rate: min(cfg.ShadowRate, 1), Metrics: prom.NewShadow(s.Registry), Logger: s.log}); err != nil {
			return nil, err
		}
	}
	versioning, err := echoversioning.New(server.Config{
		Shadow:         s.sampler,
		Engine:         s.Engine,
		Account:        func(r *http.Request) (string, error) { return accountFrom(r.Context()), nil },
		Pins:           s.Pins,
		NearestVersion: cfg.NearestVersion,
		DefaultVersion: cfg.DefaultVersion,
		Usage:          s.Counter,
		Fired:          s.Recorder,
		MaxBodyBytes:   cfg.MaxBodyBytes,
		Logger:         s.log,
		Metrics:        prom.NewMetrics(s.Registry),
		ChangelogURL:   "/changelog",
		Now:            s.now,
	})
	if err != nil {
		return nil, err
	}
	idem, err := echoidempotency.New(idempotency.Config{
		Store:   s.idem,
		Account: func(r *http.Request) (string, error) { return accountFrom(r.Context()), nil },
		TTL:     cfg.IdempotencyTTL,
		Lease:   cfg.IdempotencyLease,
		Clock:   s.now,
		Sealer:  cfg.Sealer,
		Logger:  s.log,
	})
	if err != nil {
		return nil, err
	}
	mws := []echo.MiddlewareFunc{strictInput(cfg.MaxBodyBytes), ipLimit, s.authenticate, keyLimit}
	v1 := e.Group("/v1", append(mws, versioning, s.expandRule, idem)...)
	s.routes(v1)
	s.sourceRoutes(v1)
	if err := s.pinRoutes(v1); err != nil {
		return nil, err
	}
	if err := s.reportRoutes(v1, cfg.DefaultVersion); err != nil {
		return nil, err
	}
	s.docsRoutes(e)
	hh, err := webhooks.NewHandlers(webhooks.HandlersConfig{
		Store:   s.hooks,
		Account: func(r *http.Request) string { return accountFrom(r.Context()) },
		Version: func(r *http.Request) (versions.Version, error) {
			return server.VersionOf(r), nil
		},
		Timeline:       s.timeline.Versions(),
		NearestVersion: cfg.NearestVersion,
		Worker:         s.worker,
		SampleEvent:    s.sampleEvent,
		Logger:         s.log,
	})
	if err != nil {
		return nil, err
	}
	serveHooks := echo.WrapHandler(hh)
	for _, p := range hh.Patterns() {
		// "POST /v1/webhook_endpoints/{id}" as echo writes routes.
		method, path, _ := strings.Cut(p, " ")
		path = strings.ReplaceAll(strings.TrimPrefix(path, "/v1"), "{id}", ":id")
		v1.Add(method, path, serveHooks)
	}
	s.Echo = e
	return s, nil
}

// MetricsHandler serves the Prometheus metrics, for an address of its own
// when Config.SeparateMetrics is set.
func (s *Server) MetricsHandler() http.Handler { return s.metrics }

// requestID gives every response a Request-Id header, as Stripe's API
// does (SDKs report it with errors). It is always made here: a Request-Id
// a client sends is not echoed.
func requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Request-Id", newID("req_")[:18])
		return next(c)
	}
}

// renderEvent renders a stored event in an endpoint's version, or, for a
// version the timeline does not list (accepted under NearestVersion), in
// the nearest older one: the shapes are the same by definition, and the
// worker then sets the event's api_version to the endpoint's. The
// resolvers read the endpoint's account, as they read a request's: an
// old version's webhook shows a charge's refunds, as of the event.
func (s *Server) renderEvent(ctx context.Context, account string, event []byte, to versions.Version) ([]byte, error) {
	if n, ok := s.timeline.Versions().Nearest(to); ok {
		to = n
	}
	p, err := s.Engine.Plan(s.timeline.Newest(), to)
	if err != nil {
		return nil, err
	}
	sctx := withScope(ctx, &scope{objects: s.objects, db: s.db, account: account})
	if !webhooks.FirstAttempt(ctx) {
		return p.ApplyContext(sctx, event)
	}
	// A delivery's first attempt: the changes that shaped it go into the
	// account's upgrade report.
	var fired, fields gates.Fired
	fired.TrackFields(&fields)
	out, err := p.AppendApplyContextFired(sctx, nil, event, &fired)
	if err == nil {
		s.Recorder.RecordDelivery(account, gjson.GetBytes(event, "type").Str, &fired, &fields)
	}
	return out, err
}

// authenticate reads "Authorization: Bearer sk_test_..." and puts the
// account in the context; anything else is a 401 in Stripe's shape.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header.Get(echo.HeaderAuthorization)
		key, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			if u, _, basic := c.Request().BasicAuth(); basic {
				key, ok = u, true
			}
		}
		if !ok || key == "" {
			// WWW-Authenticate, as Stripe sends it: a browser opening a
			// page of the API (the upgrade report) asks for the key.
			return apierror.New(http.StatusUnauthorized, apierror.TypeInvalidRequest, "api_key_required",
				"You did not provide an API key. Send it as 'Authorization: Bearer sk_test_...'.").WithHeader("WWW-Authenticate", `Basic realm="Stripe-like Payments"`)
		}
		if !cleanText(key) {
			return apierror.New(http.StatusUnauthorized, apierror.TypeInvalidRequest, "api_key_invalid",
				"Invalid API Key provided: it is not valid UTF-8 text.")
		}
		acct, err := s.Accounts.Authenticate(c.Request().Context(), key)
		if errors.Is(err, accounts.ErrUnknownKey) {
			return apierror.New(http.StatusUnauthorized, apierror.TypeInvalidRequest, "api_key_invalid",
				"Invalid API Key provided: "+redact(key))
		}
		if err != nil {
			if storage.IsUnavailable(err) || storage.IsBusy(err) {
				s.log.Warn("authenticate: database unavailable", "err", err)
				return errDatabaseDown.Wrap(err)
			}
			s.log.Error("authenticate", "err", err)
			return apierror.ErrInternal
		}
		c.Set(accountKey, acct.ID)
		r := c.Request()
		ctx := context.WithValue(r.Context(), accountKeyCtx{}, acct.ID)
		c.SetRequest(r.WithContext(withScope(ctx, &scope{objects: s.objects, db: s.db, account: acct.ID})))
		return next(c)
	}
}

// redact shows the start and end of a key that did not authenticate, in
// a message of bounded size whatever the key's length.
func redact(key string) string {
	if len(key) <= 12 {
		return strings.Repeat("*", len(key))
	}
	return key[:8] + strings.Repeat("*", min(len(key)-12, 24)) + key[len(key)-4:]
}

// logRequests logs each request with the version it was served in.
func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err) // write the error now, so the log has its status
		}
		req, res := c.Request(), c.Response()
		s.log.Info("request", "method", req.Method, "path", req.URL.Path, "status", res.Status,
			"version", res.Header().Get(s.timeline.Header()), "account", accountOf(c),
			"bytes", res.Size, "duration", time.Since(start))
		return nil
	}
}

// EnsureAccount returns the first account, creating one and its first key
// when the database has none; secret is "" when the account existed.
// Servers started at once on one database create one account between
// them (accounts.Store.EnsureFirst).
func (s *Server) EnsureAccount(ctx context.Context) (acct accounts.Account, secret string, err error) {
	return s.Accounts.EnsureFirst(ctx, "Demo account")
}

// Serve serves on ln until ctx is cancelled, then shuts down gracefully:
// requests in flight finish (up to grace), the webhook worker, the
// idempotency sweeper and the retention of old data stop.
func (s *Server) Serve(ctx context.Context, ln net.Listener, grace time.Duration) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var bg sync.WaitGroup
	start := func(f func()) {
		bg.Add(1)
		go func() { defer bg.Done(); f() }()
	}
	start(func() { s.worker.Run(ctx) })
	start(func() { idempotency.Sweeper{Store: s.idem}.Run(ctx) })
	start(func() {
		s.Counter.Run(ctx, time.Minute, func(err error) { s.log.Warn("census: count requests", "err", err) })
	})
	start(func() {
		s.Recorder.Run(ctx, time.Minute, func(err error) { s.log.Warn("upgrade reports: record", "err", err) })
	})
	s.retain(ctx, start)
	srv := &http.Server{Handler: s.Echo, ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		ReadHeaderTimeout: s.limits.ReadHeaderTimeout, ReadTimeout: s.limits.ReadTimeout, WriteTimeout: s.limits.WriteTimeout,
		IdleTimeout: s.limits.IdleTimeout, MaxHeaderBytes: s.limits.MaxHeaderBytes}
	errc := make(chan error, 1)
	// net/http answers a few requests before any handler runs (headers
	// over the limit, a NUL or CR in a header): in the API's shape too.
	go func() { errc <- srv.Serve(apierror.Listener(ln, s.timeline.ErrorShape())) }()
	select {
	case err := <-errc:
		cancel()
		bg.Wait()
		return err
	case <-ctx.Done():
	}
	if s.sampler != nil {
		defer s.sampler.Close()
	}
	sctx, scancel := context.WithTimeout(context.Background(), grace)
	defer scancel()
	err := srv.Shutdown(sctx)
	if err != nil {
		srv.Close() // the grace period is over: cut what is left
	}
	bg.Wait()
	// Requests that finished during the shutdown are counted too.
	if ferr := s.Counter.Flush(context.Background()); ferr != nil {
		s.log.Warn("census: count requests", "err", ferr)
	}
	if ferr := s.Recorder.Flush(context.Background()); ferr != nil {
		s.log.Warn("upgrade reports: record", "err", ferr)
	}
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}
