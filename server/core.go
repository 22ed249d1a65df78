package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"strconv"
	"time"

	"github.com/verso-api/verso/apierror"
	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/transform"
	"github.com/verso-api/verso/versions"
)

// Versioning is the versioning middleware compiled from a Config: one
// implementation of version choice, pins, request walking, the buffered
// walk back, errors and metrics, under every form of the middleware
// (Handler for net/http, package echoversioning for echo, package proxy).
// It is safe for concurrent use.
type Versioning struct {
	config Config // with its defaults filled in
	tl     *gates.Timeline
	vt     *versions.Timeline
	newest versions.Version
	// deflt is the index in list of Config.DefaultVersion, by default the
	// newest version that is not a preview: what a request with no header
	// and no pin is served, and what a new account is pinned to. Previews
	// are served only when a request names them.
	deflt int
	list  []versions.Version // newest first, as the timeline
	names []string           // list[i].String()
	// values[i] is the response header's value for list[i]; shared by
	// every response, with no room to append in place.
	values [][]string
	byName map[string]int // names[i] -> i: the header's fast path
	// plans[i] walks a response back from the newest to list[i] on an
	// endpoint no change scopes its ops to; nil when that walk changes
	// nothing whatever the status. responsePlan gives the plan of a
	// request's endpoint.
	plans []*transform.Plan
	// shape is the API's error shape; withShape is set when it is not
	// Stripe's, which a context without one means.
	shape     apierror.Shape
	withShape bool
	renderErr []byte // the body of ErrRender in shape
	// life[i] is the deprecation of list[i] and its response headers.
	life []lifecycle
}

// lifecycle is one version's deprecation, compiled: the values of the
// Deprecation, Sunset and Link headers (nil when none), and when requests
// stop being served.
type lifecycle struct {
	deprecation, sunset, link []string
	refuseFrom                time.Time // zero: never refused
	successor                 versions.Version
	sunsetDate                time.Time
}

// New validates config, fills in defaults and compiles the walk back to
// every version of the timeline. Handler is the middleware it returns;
// adapters to other frameworks call Serve.
func New(config Config) (*Versioning, error) {
	if config.Engine == nil {
		return nil, errors.New("server: versioning config has no Engine")
	}
	tl := config.Engine.Timeline()
	if tl == nil || tl.Versions() == nil {
		return nil, errors.New("server: versioning config: the engine has no valid timeline")
	}
	if config.TypeField != "" {
		e, err := config.Engine.WithTypeField(config.TypeField)
		if err != nil {
			return nil, fmt.Errorf("server: versioning config: %w", err)
		}
		config.Engine = e
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
		config.MaxBodyBytes = DefaultMaxBodyBytes
	}
	switch {
	case config.MaxResponseBytes < 0:
		return nil, fmt.Errorf("server: versioning config: MaxResponseBytes %d is negative", config.MaxResponseBytes)
	case config.MaxResponseBytes == 0:
		config.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if config.Logger == nil {
		config.Logger = slog.Default()
	}
	if config.ErrorHandler == nil {
		config.ErrorHandler = apierror.NewWriter(config.Logger)
	}
	if config.ErrorShape.IsZero() {
		config.ErrorShape = tl.ErrorShape()
	}
	if config.Now == nil {
		config.Now = time.Now
	}
	// A nil *prom.Metrics, *shadow.Sampler or *pins.SQLStore in the interface
	// means none.
	if isNil(config.Metrics) {
		config.Metrics = nil
	}
	if isNil(config.Shadow) {
		config.Shadow = nil
	}
	if isNil(config.Pins) {
		config.Pins = nil
	}
	if isNil(config.Usage) {
		config.Usage = nil
	}
	if isNil(config.Fired) {
		config.Fired = nil
	}
	vt := tl.Versions()
	m := &Versioning{
		config:    config,
		tl:        tl,
		vt:        vt,
		newest:    vt.Newest(),
		deflt:     vt.Index(vt.NewestStable()),
		list:      vt.List(),
		shape:     config.ErrorShape,
		withShape: config.ErrorShape.Name() != "stripe",
	}
	if !config.DefaultVersion.IsZero() {
		if m.deflt = vt.Index(config.DefaultVersion); m.deflt < 0 {
			return nil, fmt.Errorf("server: versioning config: DefaultVersion %s is not a version of the timeline (%s)", config.DefaultVersion, vt.Supported())
		}
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
		if !p.Empty() || p.ForStatus(http.StatusNotFound) != nil {
			m.plans[i] = p
		}
	}
	m.renderErr = m.shape.Marshal(ErrRender)
	m.life = make([]lifecycle, len(m.list))
	for i, v := range m.list {
		lc := tl.Lifecycle(v)
		if !lc.IsDeprecated() {
			continue
		}
		l := &m.life[i]
		l.deprecation = []string{"@" + strconv.FormatInt(lc.Deprecated.Unix(), 10)}[:1:1]
		if !lc.Sunset.IsZero() {
			l.sunset = []string{lc.Sunset.UTC().Format(http.TimeFormat)}[:1:1]
			l.sunsetDate = lc.Sunset
			if lc.Policy == gates.SunsetRefuse {
				l.refuseFrom = lc.Sunset
			}
		}
		if config.ChangelogURL != "" {
			l.link = []string{"<" + config.ChangelogURL + "#v" + v.String() + `>; rel="deprecation"`}[:1:1]
		}
		l.successor = lc.Successor
	}
	return m, nil
}

// Config returns the config the middleware runs with, its defaults filled
// in: the header, the limits, the error shape.
func (m *Versioning) Config() Config { return m.config }

// setHeaders sets the response headers that say which version is served
// and, for a deprecated one, since when and until when (RFC 9745, RFC
// 8594). The values are shared, compiled once.
func (m *Versioning) setHeaders(h http.Header, vi int) {
	h[m.config.Header] = m.values[vi]
	l := &m.life[vi]
	if l.deprecation == nil {
		return
	}
	h["Deprecation"] = l.deprecation
	if l.sunset != nil {
		h["Sunset"] = l.sunset
	}
	if l.link != nil {
		h["Link"] = l.link
	}
}

// route checks that the request's endpoint exists at list[vi] and that the
// version is not past a sunset that refuses it, and returns what the
// timeline says about the request. With x, the endpoint, status and
// header ops that apply are reported in x.Route.
func (m *Versioning) route(req *http.Request, vi int, x *Exchange) (gates.RouteDecision, error) {
	l := &m.life[vi]
	if !l.refuseFrom.IsZero() && !m.config.Now().Before(l.refuseFrom) {
		return gates.RouteDecision{}, ErrVersionSunset.With(fmt.Sprintf(
			"API version %s was retired on %s. Upgrade to %s or newer: send the %s header with it, or upgrade your account's version.",
			m.names[vi], l.sunsetDate.Format(time.DateOnly), l.successor, m.config.Header))
	}
	var fired *gates.Fired
	if x != nil {
		fired = &x.Route
	}
	rd := m.tl.RouteFired(m.list[vi], req.Method, req.URL.Path, fired)
	if rd.Absent {
		return rd, ErrNoRoute.With(fmt.Sprintf("Unrecognized request URL (%s: %s).",
			apierror.Bound(req.Method), apierror.Bound(req.URL.Path)))
	}
	return rd, nil
}

// isNil reports whether x is nil or an interface holding a nil pointer.
func isNil(x any) bool {
	if x == nil {
		return true
	}
	v := reflect.ValueOf(x)
	return v.Kind() == reflect.Pointer && v.IsNil()
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

// responsePlan returns the plan that walks the response to req back to
// list[vi]: nil when nothing changes it whatever its status, so that it
// streams through. Plans are compiled once per version and endpoint
// template and cached by the engine; once cached this does not allocate.
func (m *Versioning) responsePlan(vi int, req *http.Request) *transform.Plan {
	if vi == 0 || !m.config.Engine.EndpointScoped() {
		return m.plans[vi]
	}
	p, err := m.config.Engine.ResponsePlan(m.newest, m.list[vi], req.Method, req.URL.Path)
	if err != nil {
		// The pair's plan compiled at startup; only an endpoint's could
		// fail, and the timeline was validated when it was loaded.
		m.config.Logger.ErrorContext(req.Context(), "verso: compiling the response plan of an endpoint",
			"method", req.Method, "path", req.URL.Path, "version", m.names[vi], "error", err)
		return m.plans[vi]
	}
	return p
}

// headerVersion returns the version the request's header names when it
// is one the timeline lists, else the default version: the version of an
// error raised before the version is chosen (Account's).
func (m *Versioning) headerVersion(r *http.Request) (int, Source) {
	if h := r.Header.Get(m.config.Header); h != "" {
		if v, err := m.vt.Resolve(h); err == nil {
			return m.vt.Index(v), SourceHeader
		}
	}
	return m.deflt, SourceDefault
}

// version chooses the version of a request: the header, else the account's
// pin, else the default version (DefaultVersion, else the newest stable
// one). An account with no pin gets SourceNewPin: served pins it, once the
// answer shows its credentials were accepted. With NearestVersion, a
// well-formed header naming a version the timeline does not list is
// served as the nearest older one. It returns the version's index in
// m.list and how it was chosen.
func (m *Versioning) version(ctx context.Context, header, account string) (int, Source, error) {
	if header != "" {
		if i, ok := m.byName[header]; ok {
			return i, SourceHeader, nil
		}
		v, err := m.vt.Resolve(header)
		if err != nil && m.config.NearestVersion && errors.Is(err, versions.ErrUnknownVersion) {
			v, err = m.vt.ResolveNearest(header)
		}
		if err != nil {
			m.invalidVersion()
			return 0, 0, ErrInvalidVersion.Wrap(err).With(fmt.Sprintf(
				"Invalid API version %q in the %s header: %s. Supported versions: %s.",
				apierror.Bound(header), m.config.Header, versionProblem(err), m.vt.Supported()))
		}
		return m.vt.Index(v), SourceHeader, nil
	}
	if account == "" || m.config.Pins == nil {
		return m.deflt, SourceDefault, nil
	}
	p, err := m.config.Pins.Get(ctx, account)
	if errors.Is(err, versions.ErrNotPinned) {
		return m.deflt, SourceNewPin, nil
	}
	if err != nil {
		m.config.Logger.WarnContext(ctx, "verso: pin store failed", "account", account, "error", err)
		return 0, 0, ErrPinStore.Wrap(err)
	}
	i := m.vt.Index(p.Version)
	if i < 0 {
		m.invalidVersion()
		return 0, 0, ErrInvalidVersion.Wrap(fmt.Errorf("%w %s (the account's pin)", versions.ErrUnknownVersion, p.Version)).With(fmt.Sprintf(
			"Your account is pinned to API version %s, which this server no longer supports. Send the %s header with one of the supported versions: %s.",
			p.Version, m.config.Header, m.vt.Supported()))
	}
	return i, SourcePin, nil
}

// pinTimeout bounds the pin made once a request was answered.
const pinTimeout = 5 * time.Second

// served ends a request answered with status at list[vi]: it pins an
// account that had none when the answer was a success (credentials the
// handler refused, or a failure, make no pin), counts the request's usage
// without the account when its credentials were refused (401, 403), and
// its metrics.
func (m *Versioning) served(ctx context.Context, vi int, source Source, account string, status int) {
	if source == sourceNone {
		return
	}
	if source == SourceNewPin {
		source = SourceDefault
		if status < 400 {
			// The answer is written: the client going away now must not
			// cancel the pin, but a store that does not answer must not
			// hold the request either.
			pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), pinTimeout)
			_, created, err := m.config.Pins.PinIfAbsent(pctx, account, m.list[vi])
			cancel()
			switch {
			case err != nil:
				m.config.Logger.ErrorContext(ctx, "verso: pin store failed", "account", account, "error", err)
			case created:
				source = SourceNewPin
				if m.config.Metrics != nil {
					m.config.Metrics.PinCreated()
				}
			}
		}
	}
	if m.config.Usage != nil {
		if status == http.StatusUnauthorized || status == http.StatusForbidden {
			account = ""
		}
		m.config.Usage.Count(m.list[vi], account)
	}
	m.counted(vi, source, status)
}

func (m *Versioning) invalidVersion() {
	if m.config.Metrics != nil {
		m.config.Metrics.InvalidVersion()
	}
}

// counted reports a request served at list[vi] to the metrics; a request
// refused for its version (sourceNone) was counted by InvalidVersion.
func (m *Versioning) counted(vi int, source Source, status int) {
	if m.config.Metrics != nil && source != sourceNone {
		m.config.Metrics.Request(m.list[vi], source, status)
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
// Content-Length, to the writer bw replaced. A successful response is
// then handed to the shadow sampler, if any, to be compared with its
// rendering in cand (the newest version when cand is the zero Version).
// It returns the status and the number of body bytes written by it (0, 0
// when the response had passed through or was never written).
func (m *Versioning) finish(req *http.Request, bw *backWriter, v, cand versions.Version) (status int, size int) {
	if !bw.wroteHeader || bw.passthrough {
		return 0, 0
	}
	if bw.overflow {
		return m.renderFailed(req, bw.w, v, fmt.Errorf("%w: more than %d bytes", errResponseTooLarge, m.config.MaxResponseBytes))
	}
	body := bw.buf.Bytes()
	h := bw.w.Header()
	if bw.n == 0 {
		bw.w.WriteHeader(bw.status)
		return bw.status, 0
	}
	if enc := h.Get("Content-Encoding"); enc != "" && enc != "identity" {
		return m.renderFailed(req, bw.w, v, fmt.Errorf("server: a JSON response encoded as %q cannot be walked back: put compression outside the versioning middleware", enc))
	}
	if bw.trailing {
		return m.renderFailed(req, bw.w, v, fmt.Errorf("%w: data after the top-level value", transform.ErrSyntax))
	}
	metrics := m.config.Metrics
	out := bw.out
	if bw.walked {
		// Walked as the handler wrote it (see backWriter).
		if metrics != nil {
			metrics.Walk(DirectionResponse, int(bw.n), bw.walkTime, nil)
		}
	} else {
		var start time.Time
		if metrics != nil {
			start = time.Now()
		}
		var err error
		out, err = bw.plan.AppendApplyContextFired(req.Context(), bw.out[:0], body, bw.fired)
		bw.out = out
		if metrics != nil {
			metrics.Walk(DirectionResponse, len(body), time.Since(start), err)
		}
		if err != nil {
			return m.renderFailed(req, bw.w, v, err)
		}
	}
	h["Content-Length"] = []string{strconv.Itoa(len(out))}
	bw.w.WriteHeader(bw.status)
	n, _ := bw.w.Write(out)
	if m.config.Shadow != nil && bw.status < 300 {
		if cand.IsZero() {
			cand = m.newest
		}
		m.config.Shadow.Submit(body, v, cand, slog.String("method", req.Method), slog.String("path", req.URL.Path))
	}
	return bw.status, n
}

// renderFailed answers 500 in the API's error shape (ErrRender) instead
// of a response that could not be walked back, and logs why.
func (m *Versioning) renderFailed(req *http.Request, w http.ResponseWriter, v versions.Version, cause error) (int, int) {
	m.config.Logger.ErrorContext(req.Context(), "verso: response could not be rendered in the client's version",
		"method", req.Method, "path", req.URL.Path, "version", v.String(), "error", cause)
	h := w.Header()
	h.Del("Content-Encoding")
	h.Set("Content-Type", m.shape.ContentType())
	h.Set("Content-Length", strconv.Itoa(len(m.renderErr)))
	w.WriteHeader(http.StatusInternalServerError)
	n, _ := w.Write(m.renderErr)
	return http.StatusInternalServerError, n
}
