package proxy

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/verso-api/verso/apierror"
	"github.com/verso-api/verso/pins"
	"github.com/verso-api/verso/pins/pinhttp"
	"github.com/verso-api/verso/reports"
	"github.com/verso-api/verso/reports/reporthttp"
	"github.com/verso-api/verso/server"
	"github.com/verso-api/verso/transform"
	"github.com/verso-api/verso/versions"
)

// Defaults of the proxy's timeouts.
const (
	// DefaultDialTimeout bounds connecting to the upstream: 5 seconds.
	DefaultDialTimeout = 5 * time.Second
	// DefaultUpstreamTimeout bounds how long the upstream takes to answer
	// (Config.UpstreamTimeout): 60 seconds.
	DefaultUpstreamTimeout = 60 * time.Second
)

// MaxAccountBytes is the longest account AccountHeader may carry; a longer
// one gets 400.
const MaxAccountBytes = 255

// Config defines the config of the proxy.
type Config struct {
	// Config is the versioning middleware's, which the proxy runs (see
	// server.Config): Engine is required; Header, Pins, MaxBodyBytes,
	// MaxResponseBytes, ErrorShape, ErrorHandler, Metrics, ChangelogURL,
	// Logger (which gets upstream failures too) and the rest mean what
	// they mean there. Account is the proxy's own (AccountHeader, or a
	// keyed hash of the Authorization header) unless set. When Pins is a
	// full pins.Store and AuthCheck is set, the proxy also answers the pin
	// endpoints at PinPath.
	server.Config

	// Upstream is the API behind the proxy: an http or https URL, whose
	// path, if any, prefixes every request's. Required.
	Upstream *url.URL

	// AccountHeader names the request header holding the account, set by
	// a trusted layer in front of the proxy.
	// Optional. Default value "": the account is a keyed hash of the
	// Authorization header.
	AccountHeader string

	// Salt keys the hash of the Authorization header that names an
	// account. Keep it stable (LoadSalt keeps one in the pin store's
	// database) or accounts lose their pins when it changes.
	// Optional. Default value: 32 random bytes, new on each start.
	Salt []byte

	// AuthCheck is a request, "METHOD /path", that the upstream answers
	// with a 2xx status only for valid credentials, such as "GET /v1/me".
	// With it and Pins, the proxy answers the pin endpoints at PinPath
	// (read, upgrade, rollback, history) once the upstream has accepted
	// the request's credentials (its Authorization, Cookie and account
	// headers) for that request; a 401 or 403 of the check is the
	// answer. Without it the proxy does not answer them: they reach the
	// upstream like any other request, since nothing would prove who may
	// read or move an account's pin.
	// Optional. Default value "": no pin endpoints.
	AuthCheck string

	// PinPath is where the proxy answers the pin endpoints (and PinPath +
	// "/rollback"), with AuthCheck.
	// Optional. Default value pinhttp.DefaultPath, /v1/account/api_version.
	PinPath string

	// Reports, with the pin endpoints (Pins and AuthCheck), makes the
	// proxy answer each account's upgrade report at PinPath +
	// "/upgrade_report" (package reporthttp), from the evidence that
	// Fired (a *reports.Recorder into the same store) records.
	// Optional. Default value nil: no report endpoint.
	Reports *reports.Reporter

	// RollbackWindow is the pin store's rollback window, for the pin
	// endpoints. Optional. Default value pins.DefaultRollbackWindow.
	RollbackWindow time.Duration

	// DialTimeout bounds connecting to the upstream.
	// Optional. Default value DefaultDialTimeout.
	DialTimeout time.Duration

	// UpstreamTimeout bounds how long the upstream takes to answer once
	// the request is sent. At a version whose answers are walked back
	// (buffered first), it bounds the whole answer, headers and body: a
	// body that stalls or never ends gets 504 and both connections are
	// freed. At other versions the answer streams to the client as it
	// comes; the upstream's connection may then stay silent (no response
	// headers, no byte of the body) for at most this long, after which
	// the answer is cut and both connections closed; over https, whose
	// HTTP/2 connections carry other exchanges, the response headers are
	// awaited for at most this long too.
	// Optional. Default value DefaultUpstreamTimeout.
	UpstreamTimeout time.Duration

	// Transport sends requests to the upstream; when set, DialTimeout and
	// the silence bound of UpstreamTimeout are its own business (the
	// bound on a walked answer still holds).
	// Optional. Default value an *http.Transport with those timeouts.
	Transport http.RoundTripper
}

// Proxy is the versioning reverse proxy. It is safe for concurrent use.
type Proxy struct {
	config   Config
	header   string
	handler  http.Handler
	rp       *httputil.ReverseProxy
	pinPaths [2]string
	pins     http.Handler
	// report answers the upgrade report at reportPath; nil without
	// Config.Reports.
	report     http.Handler
	reportPath string
	auth       *authCheck
	newest     versions.Version
	// plans holds the walk back to each version on an endpoint no change
	// scopes its ops to; nil when that walk changes nothing whatever the
	// status, so the answer streams through (as the middleware decides).
	plans map[versions.Version]*transform.Plan
	// mayWalk holds the versions whose answers may be walked back, on
	// some endpoint.
	mayWalk map[versions.Version]bool
	// upgrades holds the versions at which a connection may switch
	// protocols: no change between them and the newest touches bodies,
	// status codes or headers.
	upgrades map[versions.Version]bool
	// headerOf holds the version header's value sent to the upstream, per
	// version.
	headerOf map[versions.Version][]string
	// needs are the request headers that the Connection header may not
	// name: the proxy relies on them and forwards them end to end.
	needs []string
	// macs holds *accountHashers keyed with Config.Salt.
	macs sync.Pool
}

// Handler validates config, fills in defaults and returns the proxy.
func (config Config) Handler() (*Proxy, error) {
	u := config.Upstream
	switch {
	case u == nil:
		return nil, errors.New("proxy: config has no Upstream")
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("proxy: upstream %q: the scheme must be http or https", u.Redacted())
	case u.Host == "":
		return nil, fmt.Errorf("proxy: upstream %q has no host", u.Redacted())
	case config.Engine == nil:
		return nil, errors.New("proxy: config has no Engine")
	case config.DialTimeout < 0, config.UpstreamTimeout < 0:
		return nil, errors.New("proxy: timeouts must not be negative")
	}
	if config.AccountHeader != "" {
		if strings.ContainsFunc(config.AccountHeader, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-')
		}) {
			return nil, fmt.Errorf("proxy: account header %q is not a valid HTTP header name", config.AccountHeader)
		}
		config.AccountHeader = http.CanonicalHeaderKey(config.AccountHeader)
	}
	if len(config.Salt) == 0 {
		config.Salt = make([]byte, 32)
		_, _ = rand.Read(config.Salt)
	}
	if config.DialTimeout == 0 {
		config.DialTimeout = DefaultDialTimeout
	}
	if config.UpstreamTimeout == 0 {
		config.UpstreamTimeout = DefaultUpstreamTimeout
	}
	if config.Logger == nil {
		config.Logger = slog.Default()
	}
	if config.Transport == nil {
		config.Transport = newTransport(u.Scheme, config.DialTimeout, config.UpstreamTimeout)
	}
	p := &Proxy{config: config}
	p.macs.New = func() any { return &accountHasher{mac: hmac.New(sha256.New, p.config.Salt)} }

	tl := config.Engine.Timeline()
	if tl == nil || tl.Versions() == nil {
		return nil, errors.New("proxy: the engine has no valid timeline")
	}
	p.header = config.Header
	if p.header == "" {
		p.header = tl.Header()
	}
	p.header = http.CanonicalHeaderKey(p.header)
	vt := tl.Versions()
	p.newest = vt.Newest()
	p.plans = make(map[versions.Version]*transform.Plan)
	p.upgrades = make(map[versions.Version]bool)
	p.mayWalk = make(map[versions.Version]bool)
	p.headerOf = make(map[versions.Version][]string)
	for _, v := range vt.List() {
		plan, err := config.Engine.Plan(p.newest, v)
		if err != nil {
			return nil, fmt.Errorf("proxy: compiling the walk back to %s: %w", v, err)
		}
		if !plan.Empty() || plan.ForStatus(http.StatusNotFound) != nil {
			p.plans[v] = plan
		}
		p.mayWalk[v] = p.plans[v] != nil || v != p.newest && config.Engine.EndpointScoped()
		p.headerOf[v] = []string{v.String()}
		p.upgrades[v] = true
		for _, gv := range tl.Between(v, p.newest) {
			for _, c := range gv.Changes {
				for _, op := range c.Ops {
					if op.Kind.Body() || op.Kind.Response() {
						p.upgrades[v] = false
					}
				}
			}
		}
	}
	p.needs = []string{"Authorization", "Cookie", "Content-Type", "Content-Length", "Content-Encoding", p.header}
	if config.AccountHeader != "" {
		p.needs = append(p.needs, config.AccountHeader)
	}

	p.rp = &httputil.ReverseProxy{
		Rewrite:        p.rewrite,
		Transport:      guardTransport{config.Transport},
		ModifyResponse: p.modifyResponse,
		ErrorHandler:   p.upstreamError,
		ErrorLog:       slog.NewLogLogger(config.Logger.Handler(), slog.LevelWarn),
		BufferPool:     copyBuffers{},
	}
	if config.AuthCheck != "" {
		var err error
		if p.auth, err = parseAuthCheck(config.AuthCheck, config.Upstream); err != nil {
			return nil, err
		}
	}
	if store, ok := config.Pins.(pins.Store); ok && store != nil && p.auth != nil {
		if config.PinPath == "" {
			config.PinPath = pinhttp.DefaultPath
		}
		ph, err := pinhttp.Config{
			Store:          store,
			Versions:       vt,
			Account:        p.account,
			Path:           config.PinPath,
			RollbackWindow: config.RollbackWindow,
			Logger:         config.Logger,
			ErrorHandler:   config.ErrorHandler,
		}.Handler()
		if err != nil {
			return nil, fmt.Errorf("proxy: %w", err)
		}
		p.pins, p.pinPaths = ph, [2]string{config.PinPath, config.PinPath + "/rollback"}
		if config.Reports != nil {
			p.reportPath = config.PinPath + "/upgrade_report"
			if p.report, err = (reporthttp.Config{
				Reporter:       config.Reports,
				Account:        p.account,
				Pins:           store,
				DefaultVersion: config.DefaultVersion,
				Path:           p.reportPath,
				ChangelogURL:   config.ChangelogURL,
				ErrorHandler:   config.ErrorHandler,
				Logger:         config.Logger,
			}).Handler(); err != nil {
				return nil, fmt.Errorf("proxy: %w", err)
			}
		}
	}
	vc := config.Config
	vc.Header = p.header
	if vc.Account == nil {
		vc.Account = p.account
	}
	m, err := server.New(vc)
	if err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	// The middleware's config, its defaults filled in (the limits, the
	// error shape and handler).
	p.config.Config = m.Config()
	p.handler = m.Handler(http.HandlerFunc(p.serve))
	return p, nil
}

// ServesPins reports whether the proxy answers the pin endpoints: it has
// Config.Pins and Config.AuthCheck.
func (p *Proxy) ServesPins() bool { return p.pins != nil }

// ServeHTTP versions r and forwards it to the upstream.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength < 0 && r.Body != nil && r.Body != http.NoBody {
		// A body of unknown length is bounded like one that declares its
		// length.
		r.Body = http.MaxBytesReader(w, r.Body, p.config.MaxBodyBytes)
	}
	if !acceptsGzip(r.Header["Accept-Encoding"]) {
		p.handler.ServeHTTP(w, r)
		return
	}
	g := getGzipWriter(w, r.Method == http.MethodHead)
	p.handler.ServeHTTP(g, r)
	g.finish()
	putGzipWriter(g)
}

// serve runs inside the versioning middleware: the request is in the
// newest schema and its version in its context.
func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	if p.pins != nil && (r.URL.Path == p.pinPaths[0] || r.URL.Path == p.pinPaths[1]) {
		if p.checkAuth(w, r) == nil {
			p.pins.ServeHTTP(w, r)
		}
		return
	}
	if p.report != nil && r.URL.Path == p.reportPath {
		if p.checkAuth(w, r) == nil {
			p.report.ServeHTTP(w, r)
		}
		return
	}
	if name := connectionNames(r.Header, p.needs); name != "" {
		apierror.Write(w, r, ErrConnectionHeader.With(fmt.Sprintf(
			"The Connection header names %s, which this proxy relies on and forwards to the API: remove it from Connection.", name)))
		return
	}
	v := server.VersionOf(r)
	if up := upgradeOf(r.Header); up != "" {
		if err := p.checkUpgrade(up, v); err != nil {
			apierror.Write(w, r, err)
			return
		}
	}
	plan := p.responsePlan(v, r)
	if plan == nil && (r.Body == nil || r.Body == http.NoBody) {
		// Nothing to walk back and no body to watch: the answer streams
		// through, and nothing needs the exchange.
		p.rp.ServeHTTP(w, r)
		return
	}
	x := &exchange{client: r.Context(), plan: plan, gz: gzipOf(w), timeout: p.config.UpstreamTimeout}
	x.Context = r.Context()
	if plan != nil {
		ctx, cancel := context.WithCancelCause(r.Context())
		defer cancel(nil)
		x.Context = ctx
		x.deadline = time.AfterFunc(p.config.UpstreamTimeout, func() { cancel(errDeadline) })
		defer x.stopDeadline()
	}
	defer x.release()
	p.rp.ServeHTTP(w, r.WithContext(x))
}

// responsePlan returns the plan that walks the answer to r back to v, as
// the middleware chooses it: nil when nothing changes the answer whatever
// its status, so that it streams through.
func (p *Proxy) responsePlan(v versions.Version, r *http.Request) *transform.Plan {
	if v == p.newest || !p.config.Engine.EndpointScoped() {
		return p.plans[v]
	}
	plan, err := p.config.Engine.ResponsePlan(p.newest, v, r.Method, r.URL.Path)
	if err != nil {
		return p.plans[v]
	}
	return plan
}

// gzipOf returns the proxy's gzip writer under w, if any.
func gzipOf(w http.ResponseWriter) *gzipWriter {
	for range 8 {
		switch t := w.(type) {
		case *gzipWriter:
			return t
		case interface{ Unwrap() http.ResponseWriter }:
			w = t.Unwrap()
		default:
			return nil
		}
	}
	return nil
}

// account returns the account of r: AccountHeader, or a keyed hash of the
// Authorization header, or "".
func (p *Proxy) account(r *http.Request) (string, error) {
	if p.config.AccountHeader != "" {
		a := strings.TrimSpace(r.Header.Get(p.config.AccountHeader))
		if len(a) > MaxAccountBytes {
			return "", ErrAccountInvalid.With(fmt.Sprintf("The %s header is longer than %d bytes.", p.config.AccountHeader, MaxAccountBytes))
		}
		return a, nil
	}
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return "", nil
	}
	return p.accountOf(auth), nil
}

// accountOf returns the account named by an Authorization header's value:
// "auth_" and the first 128 bits of its HMAC-SHA-256, in hex.
func (p *Proxy) accountOf(auth string) string {
	h := p.macs.Get().(*accountHasher)
	s := h.account(auth)
	if cap(h.in) > maxHasherInput {
		h.in = nil
	}
	p.macs.Put(h)
	return s
}

// maxHasherInput is the largest input buffer an accountHasher keeps for
// the next request.
const maxHasherInput = 1 << 10

// accountHasher names accounts from Authorization headers, reusing its
// buffers: the header's bytes and the sum, which would escape through the
// hash.Hash interface, are allocated once per hasher, not per request.
type accountHasher struct {
	mac hash.Hash
	in  []byte
	sum [sha256.Size]byte
}

func (h *accountHasher) account(auth string) string {
	h.mac.Reset()
	h.in = append(h.in[:0], auth...)
	_, _ = h.mac.Write(h.in)
	return accountName(h.mac.Sum(h.sum[:0]))
}

// AccountOf returns the account the proxy names a request by when its
// Authorization header is authorization and its Config.Salt is salt:
// "auth_" and the first 128 bits of the HMAC-SHA-256 of the header's whole
// value, in hex. It is what `verso pins set --authorization` and `verso
// pins import --authorization` store, so that an operator pins existing
// clients by their credentials without storing them.
//
//	salt, _ := proxy.LoadSalt(ctx, db)
//	account := proxy.AccountOf(salt, "Bearer sk_live_123")
func AccountOf(salt []byte, authorization string) string {
	return (&accountHasher{mac: hmac.New(sha256.New, salt)}).account(authorization)
}

// accountName returns "auth_" and the first 128 bits of sum, in hex.
func accountName(sum []byte) string {
	var out [5 + 32]byte
	copy(out[:], "auth_")
	hex.Encode(out[5:], sum[:16])
	return string(out[:])
}

// gzipOnly is the Accept-Encoding sent upstream for an answer the proxy
// walks back, when the client accepts gzip: one coding the proxy can
// decompress to walk and compress again.
var gzipOnly = []string{"gzip"}

// rewrite builds the upstream's request.
func (p *Proxy) rewrite(pr *httputil.ProxyRequest) {
	pr.SetURL(p.config.Upstream)
	pr.SetXForwarded()
	v := server.VersionOf(pr.In)
	if h, ok := p.headerOf[v]; ok {
		pr.Out.Header[p.header] = h
	}
	if pr.Out.Body == nil && !p.mayWalk[v] {
		return // no exchange: see serve
	}
	x := exchangeOf(pr.Out.Context())
	if x == nil {
		return
	}
	if pr.Out.Body != nil && pr.Out.Body != http.NoBody {
		left := pr.Out.ContentLength
		if left <= 0 {
			left = -1
		}
		pr.Out.Body = &clientBody{rc: pr.Out.Body, left: left, x: x}
	}
	if x.plan != nil {
		if x.gz != nil {
			pr.Out.Header["Accept-Encoding"] = gzipOnly
		} else {
			// The transport asks for gzip itself and decompresses it.
			delete(pr.Out.Header, "Accept-Encoding")
		}
	}
}

// modifyResponse drops the upstream's version header (the middleware's
// says the version served) and reads in full an answer that will be
// walked back.
func (p *Proxy) modifyResponse(res *http.Response) error {
	delete(res.Header, p.header)
	x := exchangeOf(res.Request.Context())
	if x == nil || x.plan == nil {
		return nil
	}
	if x.plan.ForStatus(res.StatusCode) == nil || !bodyAllowed(res.StatusCode) ||
		res.Request.Method == http.MethodHead || !isJSON(res.Header.Get("Content-Type")) {
		// Passed through by the middleware: it streams, as long as the
		// connection is not silent for longer than the timeout.
		x.stopDeadline()
		return nil
	}
	err := x.readAnswer(res, p.config.MaxResponseBytes)
	x.stopDeadline()
	return err
}

// isJSON reports whether a Content-Type is JSON, as the middleware tells:
// application/json or application/*+json.
func isJSON(ct string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	return mt == "application/json" || strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")
}

func bodyAllowed(status int) bool {
	return status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified
}

// copyBuffers lends httputil.ReverseProxy the buffers it copies answers
// through, instead of one new 32 KiB buffer per request.
type copyBuffers struct{}

var copyPool = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

func (copyBuffers) Get() []byte  { return *copyPool.Get().(*[]byte) }
func (copyBuffers) Put(b []byte) { copyPool.Put(&b) }

// Account returns the account of r as the proxy sees it: the account
// header, or the keyed hash of the Authorization header ("" when r has
// neither).
func (p *Proxy) Account(r *http.Request) (string, error) { return p.account(r) }
