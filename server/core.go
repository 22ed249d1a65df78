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

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/pins"
	"github.com/verso-api/verso/transform"
	"github.com/verso-api/verso/versions"
)

// options are the settings the net/http and echo forms of the middleware
// share; each form fills them from its own config.
type options struct {
	Engine           *transform.Engine
	NearestVersion   bool
	TypeField        string
	Header           string
	Pins             pins.Store
	MaxBodyBytes     int64
	MaxResponseBytes int64
	Logger           *slog.Logger
	Metrics          Metrics
	Shadow           Sampler
	ChangelogURL     string
	Now              func() time.Time
}

// core is the compiled versioning middleware: one implementation of
// version choice, pins, request walking, the buffered walk back, errors and
// metrics, under both the net/http and the echo forms.
type core struct {
	options
	tl     *gates.Timeline
	vt     *versions.Timeline
	newest versions.Version
	// stable is the index in list of the newest version that is not a
	// preview: what a request with no header and no pin is served, and
	// what a new account is pinned to. Previews are served only when a
	// request names them.
	stable int
	list   []versions.Version // newest first, as the timeline
	names  []string           // list[i].String()
	// values[i] is the response header's value for list[i]; shared by
	// every response, with no room to append in place.
	values [][]string
	byName map[string]int // names[i] -> i: the header's fast path
	// plans[i] walks a response back from the newest to list[i] on an
	// endpoint no change scopes its ops to; nil when that walk changes
	// nothing whatever the status. responsePlan gives the plan of a
	// request's endpoint.
	plans     []*transform.Plan
	renderErr []byte
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

// compile validates o, fills in defaults and compiles the walk back to
// every version of the timeline.
func compile(o options) (*core, error) {
	if o.Engine == nil {
		return nil, errors.New("server: versioning config has no Engine")
	}
	tl := o.Engine.Timeline()
	if tl == nil || tl.Versions() == nil {
		return nil, errors.New("server: versioning config: the engine has no valid timeline")
	}
	if o.TypeField != "" {
		e, err := o.Engine.WithTypeField(o.TypeField)
		if err != nil {
			return nil, fmt.Errorf("server: versioning config: %w", err)
		}
		o.Engine = e
	}
	if o.Header == "" {
		o.Header = tl.Header()
	}
	if !validHeaderName(o.Header) {
		return nil, fmt.Errorf("server: versioning config: header %q is not a valid HTTP header name", o.Header)
	}
	o.Header = http.CanonicalHeaderKey(o.Header)
	switch {
	case o.MaxBodyBytes < 0:
		return nil, fmt.Errorf("server: versioning config: MaxBodyBytes %d is negative", o.MaxBodyBytes)
	case o.MaxBodyBytes == 0:
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	switch {
	case o.MaxResponseBytes < 0:
		return nil, fmt.Errorf("server: versioning config: MaxResponseBytes %d is negative", o.MaxResponseBytes)
	case o.MaxResponseBytes == 0:
		o.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	// A nil *prom.Metrics or *shadow.Sampler in the interface means none.
	if isNil(o.Metrics) {
		o.Metrics = nil
	}
	if isNil(o.Shadow) {
		o.Shadow = nil
	}
	if isNil(o.Pins) {
		o.Pins = nil
	}
	vt := tl.Versions()
	m := &core{
		options: o,
		tl:      tl,
		vt:      vt,
		newest:  vt.Newest(),
		stable:  vt.Index(vt.NewestStable()),
		list:    vt.List(),
	}
	m.names = make([]string, len(m.list))
	m.values = make([][]string, len(m.list))
	m.byName = make(map[string]int, len(m.list))
	m.plans = make([]*transform.Plan, len(m.list))
	for i, v := range m.list {
		m.names[i] = v.String()
		m.values[i] = []string{m.names[i]}[:1:1]
		m.byName[m.names[i]] = i
		p, err := o.Engine.Plan(m.newest, v)
		if err != nil {
			return nil, fmt.Errorf("server: versioning config: compiling the walk back to %s: %w", v, err)
		}
		if !p.Empty() || p.ForStatus(http.StatusNotFound) != nil {
			m.plans[i] = p
		}
	}
	m.renderErr = mustJSON(ErrRender.Message)
	if m.Now == nil {
		m.Now = time.Now
	}
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
		if o.ChangelogURL != "" {
			l.link = []string{"<" + o.ChangelogURL + "#v" + v.String() + `>; rel="deprecation"`}[:1:1]
		}
		l.successor = lc.Successor
	}
	return m, nil
}

// setHeaders sets the response headers that say which version is served
// and, for a deprecated one, since when and until when (RFC 9745, RFC
// 8594). The values are shared, compiled once.
func (m *core) setHeaders(h http.Header, vi int) {
	h[m.Header] = m.values[vi]
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

// routeRefused reports whether err is route's: the version was chosen, so
// the answer says which.
func routeRefused(err error) bool {
	return errors.Is(err, ErrNoRoute) || errors.Is(err, ErrVersionSunset)
}

// route checks that the request's endpoint exists at list[vi] and that the
// version is not past a sunset that refuses it, and returns what the
// timeline says about the request.
func (m *core) route(req *http.Request, vi int) (gates.RouteDecision, error) {
	l := &m.life[vi]
	if !l.refuseFrom.IsZero() && !m.Now().Before(l.refuseFrom) {
		return gates.RouteDecision{}, withMessage(ErrVersionSunset, nil, fmt.Sprintf(
			"API version %s was retired on %s. Upgrade to %s or newer: send the %s header with it, or upgrade your account's version.",
			m.names[vi], l.sunsetDate.Format(time.DateOnly), l.successor, m.Header))
	}
	rd := m.tl.Route(m.list[vi], req.Method, req.URL.Path)
	if rd.Absent {
		return rd, withMessage(ErrNoRoute, nil, fmt.Sprintf("Unrecognized request URL (%s: %s).", req.Method, req.URL.Path))
	}
	return rd, nil
}

// Defaults of the middleware's limits.
const (
	// DefaultMaxBodyBytes is the default limit of a request body: 1 MiB.
	DefaultMaxBodyBytes = 1 << 20
	// DefaultMaxResponseBytes is the default limit of a response buffered
	// to be walked back: 32 MiB.
	DefaultMaxResponseBytes = 32 << 20
)

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

// begin runs everything before the handler: the body limit, the choice of
// version, the version in the request's context and the request walked
// forward. It returns the index of the version served, how it was chosen,
// and the request the handler gets (req itself when nothing changed but
// the context), with queryChanged set when its query string was rewritten.
//
// An endpoint absent at the version is answered 404 (ErrNoRoute), a
// version past a sunset that refuses it 410 (ErrVersionSunset); an
// endpoint that moved since the version is sent on to its new place (out's
// method and path), and rd walks the status and headers of its response
// back.
func (m *core) begin(req *http.Request, account string) (vi int, source Source, out *http.Request, queryChanged bool, rd gates.RouteDecision, err error) {
	if req.ContentLength > m.MaxBodyBytes {
		return 0, 0, nil, false, rd, tooLarge(m.MaxBodyBytes)
	}
	vi, source, err = m.version(req.Context(), req.Header.Get(m.Header), account)
	if err != nil {
		return 0, 0, nil, false, rd, err
	}
	if rd, err = m.route(req, vi); err != nil {
		return vi, source, nil, false, rd, err
	}
	out = req.WithContext(gates.NewContext(req.Context(), m.tl, m.list[vi]))
	if rd.Moved {
		u := *out.URL
		u.Path, u.RawPath = rd.Path, ""
		out.URL, out.Method = &u, rd.Method
	}
	if vi != 0 {
		if queryChanged, err = m.upgrade(out, m.list[vi]); err != nil {
			return 0, 0, nil, false, rd, err
		}
	}
	return vi, source, out, queryChanged, rd, nil
}

// responsePlan returns the plan that walks the response to req back to
// list[vi]: nil when nothing changes it whatever its status, so that it
// streams through. Plans are compiled once per version and endpoint
// template and cached by the engine; once cached this does not allocate.
func (m *core) responsePlan(vi int, req *http.Request) *transform.Plan {
	if vi == 0 || !m.Engine.EndpointScoped() {
		return m.plans[vi]
	}
	p, err := m.Engine.ResponsePlan(m.newest, m.list[vi], req.Method, req.URL.Path)
	if err != nil {
		// The pair's plan compiled at startup; only an endpoint's could
		// fail, and the timeline was validated when it was loaded.
		m.Logger.ErrorContext(req.Context(), "verso: compiling the response plan of an endpoint",
			"method", req.Method, "path", req.URL.Path, "version", m.names[vi], "error", err)
		return m.plans[vi]
	}
	return p
}

// version chooses the version of a request: the header, else the account's
// pin, else a new pin to the newest stable version, else the newest stable
// version. With NearestVersion, a well-formed header naming a version the
// timeline does not list is served as the nearest older one. It returns
// the version's index in m.list and how it was chosen.
func (m *core) version(ctx context.Context, header, account string) (int, Source, error) {
	if header != "" {
		if i, ok := m.byName[header]; ok {
			return i, SourceHeader, nil
		}
		v, err := m.vt.Resolve(header)
		if err != nil && m.NearestVersion && errors.Is(err, versions.ErrUnknownVersion) {
			v, err = m.vt.ResolveNearest(header)
		}
		if err != nil {
			m.invalidVersion()
			return 0, 0, withMessage(ErrInvalidVersion, err, fmt.Sprintf(
				"Invalid API version %q in the %s header: %s. Supported versions: %s.",
				header, m.Header, versionProblem(err), m.vt.Supported()))
		}
		return m.vt.Index(v), SourceHeader, nil
	}
	if account == "" || m.Pins == nil {
		return m.stable, SourceDefault, nil
	}
	source := SourcePin
	p, err := m.Pins.Get(ctx, account)
	if errors.Is(err, pins.ErrNotPinned) {
		var created bool
		p, created, err = m.Pins.PinIfAbsent(ctx, account, m.list[m.stable])
		if created {
			source = SourceNewPin
			if m.Metrics != nil {
				m.Metrics.PinCreated()
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

func (m *core) invalidVersion() {
	if m.Metrics != nil {
		m.Metrics.InvalidVersion()
	}
}

// counted reports a request served at list[vi] to the metrics.
func (m *core) counted(vi int, source Source, status int) {
	if m.Metrics != nil {
		m.Metrics.Request(m.list[vi], source, status)
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
func (m *core) finish(req *http.Request, bw *backWriter, v, cand versions.Version) (status int, size int) {
	if !bw.wroteHeader || bw.passthrough {
		return 0, 0
	}
	if bw.overflow {
		return m.renderFailed(req, bw.w, v, fmt.Errorf("%w: more than %d bytes", errResponseTooLarge, m.MaxResponseBytes))
	}
	body := bw.buf.Bytes()
	h := bw.w.Header()
	if len(body) == 0 {
		bw.w.WriteHeader(bw.status)
		return bw.status, 0
	}
	if enc := h.Get("Content-Encoding"); enc != "" && enc != "identity" {
		return m.renderFailed(req, bw.w, v, fmt.Errorf("server: a JSON response encoded as %q cannot be walked back: put compression outside the versioning middleware", enc))
	}
	var start time.Time
	if m.Metrics != nil {
		start = time.Now()
	}
	out, err := bw.plan.AppendApplyContext(req.Context(), bw.out[:0], body)
	bw.out = out
	if m.Metrics != nil {
		m.Metrics.Walk(DirectionResponse, len(body), time.Since(start), err)
	}
	if err != nil {
		return m.renderFailed(req, bw.w, v, err)
	}
	h["Content-Length"] = []string{strconv.Itoa(len(out))}
	bw.w.WriteHeader(bw.status)
	n, _ := bw.w.Write(out)
	if m.Shadow != nil && bw.status < 300 {
		if cand.IsZero() {
			cand = m.newest
		}
		m.Shadow.Submit(body, v, cand, slog.String("method", req.Method), slog.String("path", req.URL.Path))
	}
	return bw.status, n
}

// renderFailed answers 500 in the API's error shape instead of a response
// that could not be walked back, and logs why.
func (m *core) renderFailed(req *http.Request, w http.ResponseWriter, v versions.Version, cause error) (int, int) {
	m.Logger.ErrorContext(req.Context(), "verso: response could not be rendered in the client's version",
		"method", req.Method, "path", req.URL.Path, "version", v.String(), "error", cause)
	h := w.Header()
	h.Del("Content-Encoding")
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(m.renderErr)))
	w.WriteHeader(http.StatusInternalServerError)
	n, _ := w.Write(m.renderErr)
	return http.StatusInternalServerError, n
}
