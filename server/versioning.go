package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/pins"
	"github.com/verso-api/verso/shadow"
	"github.com/verso-api/verso/transform"
	"github.com/verso-api/verso/versions"
)

// VersioningConfig defines the config for the versioning middleware.
type VersioningConfig struct {
	// Skipper defines a function to skip middleware.
	// Optional. Default value middleware.DefaultSkipper.
	Skipper middleware.Skipper

	// Engine walks bodies between the versions of its timeline.
	// Required.
	Engine *transform.Engine

	// Header is the request header naming the version, and the response
	// header saying the version served.
	// Optional. Default value the timeline's header (gates.DefaultHeader,
	// "Stripe-Version", unless the timeline names another).
	Header string

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
	// bodies.
	// Optional. Default value nil: no metrics.
	Metrics *Metrics

	// Shadow, when set, hands a sample of the successful responses that
	// are walked back to a shadow.Sampler, which renders them in a
	// candidate version in the background and records what would change
	// for the account if it moved. It never delays or changes the response.
	// Optional. Default value nil: no shadow rendering.
	Shadow *shadow.Sampler

	// ShadowCandidate picks the version a shadowed response is compared
	// with. Optional. Default value: the newest version.
	ShadowCandidate func(c echo.Context, served versions.Version) versions.Version
}

// DefaultVersioningConfig is the default versioning middleware config (it
// has no Engine: Versioning and the Engine field supply one).
var DefaultVersioningConfig = VersioningConfig{
	Skipper:          middleware.DefaultSkipper,
	MaxBodyBytes:     1 << 20,
	MaxResponseBytes: 32 << 20,
}

// Versioning returns the versioning middleware with the default config over
// engine. It panics when engine is nil; use VersioningConfig.ToMiddleware
// to get an error instead.
//
//	e.Use(server.Versioning(transform.New(timeline, nil)))
func Versioning(engine *transform.Engine) echo.MiddlewareFunc {
	c := DefaultVersioningConfig
	c.Engine = engine
	return VersioningWithConfig(c)
}

// VersioningWithConfig returns the versioning middleware with config. It
// panics on an invalid config; use VersioningConfig.ToMiddleware to get an
// error instead.
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
	if config.Engine == nil {
		return nil, errors.New("server: versioning config has no Engine")
	}
	tl := config.Engine.Timeline()
	if tl == nil || tl.Versions() == nil {
		return nil, errors.New("server: versioning config: the engine has no valid timeline")
	}
	if config.Skipper == nil {
		config.Skipper = DefaultVersioningConfig.Skipper
	}
	if config.Header == "" {
		config.Header = tl.Header()
	}
	if !validHeaderName(config.Header) {
		return nil, fmt.Errorf("server: versioning config: header %q is not a valid HTTP header name", config.Header)
	}
	config.Header = http.CanonicalHeaderKey(config.Header)
	switch {
	case config.MaxBodyBytes < 0:
		return nil, fmt.Errorf("server: versioning config: MaxBodyBytes %d is negative", config.MaxBodyBytes)
	case config.MaxBodyBytes == 0:
		config.MaxBodyBytes = DefaultVersioningConfig.MaxBodyBytes
	}
	switch {
	case config.MaxResponseBytes < 0:
		return nil, fmt.Errorf("server: versioning config: MaxResponseBytes %d is negative", config.MaxResponseBytes)
	case config.MaxResponseBytes == 0:
		config.MaxResponseBytes = DefaultVersioningConfig.MaxResponseBytes
	}
	if config.Logger == nil {
		config.Logger = slog.Default()
	}
	vt := tl.Versions()
	m := &versioning{
		VersioningConfig: config,
		tl:               tl,
		vt:               vt,
		newest:           vt.Newest(),
		list:             vt.List(),
	}
	m.names = make([]string, len(m.list))
	m.values = make([][]string, len(m.list))
	m.byName = make(map[string]int, len(m.list))
	m.plans = make([]*transform.Plan, len(m.list))
	for i, v := range m.list {
		m.names[i] = v.String()
		m.values[i] = []string{m.names[i]}[:1:1]
		m.byName[m.names[i]] = i
		p, err := config.Engine.Plan(m.newest, v)
		if err != nil {
			return nil, fmt.Errorf("server: versioning config: compiling the walk back to %s: %w", v, err)
		}
		if !p.Empty() {
			m.plans[i] = p
		}
	}
	m.counters = newRequestCounters(config.Metrics, m.names)
	m.renderErr = mustJSON(ErrRender.Message)
	return m.handle, nil
}

func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// versioning is the compiled middleware.
type versioning struct {
	VersioningConfig
	tl     *gates.Timeline
	vt     *versions.Timeline
	newest versions.Version
	list   []versions.Version // newest first, as the timeline
	names  []string           // list[i].String()
	// values[i] is the response header's value for list[i]; shared by
	// every response, with no room to append in place.
	values [][]string
	byName map[string]int // names[i] -> i: the header's fast path
	// plans[i] walks a response back from the newest to list[i]; nil when
	// that walk changes nothing, so the response streams through.
	plans     []*transform.Plan
	counters  *requestCounters
	renderErr []byte
}

// VersionFrom returns the version the request of c is served in, or the
// zero Version when the versioning middleware did not run.
//
//	if server.VersionFrom(c).Before(versions.MustParse("2019-10-17")) { ... }
func VersionFrom(c echo.Context) versions.Version {
	v, _, _ := gates.FromContext(c.Request().Context())
	return v
}

func (m *versioning) handle(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if m.Skipper(c) {
			return next(c)
		}
		req := c.Request()
		if req.ContentLength > m.MaxBodyBytes {
			return tooLarge(m.MaxBodyBytes)
		}
		account := ""
		if m.Account != nil {
			a, err := m.Account(c)
			if err != nil {
				return err
			}
			account = a
		}
		vi, source, err := m.version(req.Context(), req.Header.Get(m.Header), account)
		if err != nil {
			return err
		}
		v := m.list[vi]
		res := c.Response()
		res.Header()[m.Header] = m.values[vi]
		req = req.WithContext(gates.NewContext(req.Context(), m.tl, v))
		c.SetRequest(req)
		if vi != 0 {
			if err := m.upgrade(c, req, v); err != nil {
				return err
			}
		}

		plan := m.plans[vi]
		if plan == nil {
			// The newest version, or one whose responses the timeline does
			// not change: the response streams through untouched.
			err := next(c)
			if err != nil {
				c.Error(err)
			}
			m.counters.inc(vi, source, res.Status)
			return err
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
		m.finish(c, bw, v)
		done = true
		putBackWriter(bw)
		m.counters.inc(vi, source, res.Status)
		return err
	}
}

// version chooses the version of a request: the header, else the account's
// pin, else a new pin to the newest, else the newest. It returns the
// version's index in m.list and how it was chosen.
func (m *versioning) version(ctx context.Context, header, account string) (int, int, error) {
	if header != "" {
		if i, ok := m.byName[header]; ok {
			return i, sourceHeader, nil
		}
		v, err := m.vt.Resolve(header)
		if err != nil {
			m.invalidVersion()
			return 0, 0, withMessage(ErrInvalidVersion, err, fmt.Sprintf(
				"Invalid API version %q in the %s header: %s. Supported versions: %s.",
				header, m.Header, versionProblem(err), m.vt.Supported()))
		}
		return m.vt.Index(v), sourceHeader, nil
	}
	if account == "" || m.Pins == nil {
		return 0, sourceDefault, nil
	}
	source := sourcePin
	p, err := m.Pins.Get(ctx, account)
	if errors.Is(err, pins.ErrNotPinned) {
		var created bool
		p, created, err = m.Pins.PinIfAbsent(ctx, account, m.newest)
		if created {
			source = sourceNewPin
			if m.Metrics != nil {
				m.Metrics.PinsCreated.Inc()
			}
		}
	}
	if err != nil {
		m.Logger.ErrorContext(ctx, "verso: pin store failed", "account", account, "error", err)
		return 0, 0, withMessage(ErrInternal, err, ErrInternal.Message.(ErrorBody).Error.Message)
	}
	i := m.vt.Index(p.Version)
	if i < 0 {
		m.invalidVersion()
		return 0, 0, withMessage(ErrInvalidVersion, fmt.Errorf("%w %s (the account's pin)", versions.ErrUnknownVersion, p.Version), fmt.Sprintf(
			"Your account is pinned to API version %s, which this server no longer supports. Send the %s header with one of the supported versions: %s.",
			p.Version, m.Header, m.vt.Supported()))
	}
	return i, source, nil
}

func (m *versioning) invalidVersion() {
	if m.Metrics != nil {
		m.Metrics.InvalidVersions.Inc()
	}
}

// versionProblem says briefly why a version was refused.
func versionProblem(err error) string {
	if errors.Is(err, versions.ErrUnknownVersion) {
		return "this version is not supported"
	}
	return "a version is a date, YYYY-MM-DD, with an optional .name"
}

// finish walks a buffered response back and writes it, with its
// Content-Length, to the underlying writer.
func (m *versioning) finish(c echo.Context, bw *backWriter, v versions.Version) {
	if !bw.wroteHeader || bw.passthrough {
		return
	}
	res := c.Response()
	if bw.overflow {
		m.renderFailed(c, bw.w, v, fmt.Errorf("%w: more than %d bytes", errResponseTooLarge, m.MaxResponseBytes))
		return
	}
	body := bw.buf.Bytes()
	h := bw.w.Header()
	if len(body) == 0 {
		bw.w.WriteHeader(bw.status)
		return
	}
	if enc := h.Get("Content-Encoding"); enc != "" && enc != "identity" {
		m.renderFailed(c, bw.w, v, fmt.Errorf("server: a JSON response encoded as %q cannot be walked back: put compression outside the versioning middleware", enc))
		return
	}
	var start time.Time
	if m.Metrics != nil {
		start = time.Now()
	}
	out, err := bw.plan.AppendApply(bw.out[:0], body)
	bw.out = out
	if m.Metrics != nil {
		m.Metrics.walked(dirResponse, len(body), time.Since(start), err)
	}
	if err != nil {
		m.renderFailed(c, bw.w, v, err)
		return
	}
	h.Set(echo.HeaderContentLength, strconv.Itoa(len(out)))
	bw.w.WriteHeader(bw.status)
	n, _ := bw.w.Write(out)
	res.Size = int64(n)
	if m.Shadow != nil && bw.status < 300 {
		cand := m.Engine.Timeline().Newest()
		if m.ShadowCandidate != nil {
			cand = m.ShadowCandidate(c, v)
		}
		m.Shadow.Submit(body, v, cand, slog.String("method", c.Request().Method), slog.String("path", c.Request().URL.Path))
	}
}

// renderFailed answers 500 in Stripe's shape instead of a response that
// could not be walked back, and logs why.
func (m *versioning) renderFailed(c echo.Context, w http.ResponseWriter, v versions.Version, cause error) {
	req := c.Request()
	m.Logger.ErrorContext(req.Context(), "verso: response could not be rendered in the client's version",
		"method", req.Method, "path", req.URL.Path, "version", v.String(), "error", cause)
	h := w.Header()
	h.Del("Content-Encoding")
	h.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	h.Set(echo.HeaderContentLength, strconv.Itoa(len(m.renderErr)))
	w.WriteHeader(http.StatusInternalServerError)
	n, _ := w.Write(m.renderErr)
	res := c.Response()
	res.Status, res.Size = http.StatusInternalServerError, int64(n)
}
