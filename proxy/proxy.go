package proxy

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/verso-api/verso/pins"
	"github.com/verso-api/verso/pins/pinhttp"
	"github.com/verso-api/verso/server"
	"github.com/verso-api/verso/transform"
	"github.com/verso-api/verso/versions"
)

// Defaults of the proxy's timeouts.
const (
	// DefaultDialTimeout bounds connecting to the upstream: 5 seconds.
	DefaultDialTimeout = 5 * time.Second
	// DefaultResponseHeaderTimeout bounds the wait for the upstream's
	// response headers once the request is sent: 60 seconds.
	DefaultResponseHeaderTimeout = 60 * time.Second
)

// MaxAccountBytes is the longest account AccountHeader may carry; a longer
// one gets 400.
const MaxAccountBytes = 255

// The error codes the proxy answers with, besides the middleware's.
const (
	CodeUpstreamUnavailable = "upstream_unavailable"
	CodeUpstreamTimeout     = "upstream_timeout"
	CodeAccountInvalid      = "account_invalid"
)

// Config defines the config of the proxy.
type Config struct {
	// Upstream is the API behind the proxy: an http or https URL, whose
	// path, if any, prefixes every request's. Required.
	Upstream *url.URL

	// Engine walks bodies between the versions of its timeline. Required.
	Engine *transform.Engine

	// Header is the version header.
	// Optional. Default value the timeline's header.
	Header string

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

	// Pins keeps each account's version; the proxy then answers the pin
	// endpoints at PinPath.
	// Optional. Default value nil: no pins; requests are served in their
	// header's version or the newest.
	Pins pins.Store

	// PinPath is where the proxy answers the pin endpoints (and PinPath +
	// "/rollback").
	// Optional. Default value pinhttp.DefaultPath, /v1/account/api_version.
	PinPath string

	// RollbackWindow is the pin store's rollback window, for the pin
	// endpoints. Optional. Default value pins.DefaultRollbackWindow.
	RollbackWindow time.Duration

	// MaxBodyBytes and MaxResponseBytes are the middleware's limits
	// (server.Config). Optional. Default values server.DefaultMaxBodyBytes
	// and server.DefaultMaxResponseBytes.
	MaxBodyBytes, MaxResponseBytes int64

	// DialTimeout bounds connecting to the upstream.
	// Optional. Default value DefaultDialTimeout.
	DialTimeout time.Duration

	// ResponseHeaderTimeout bounds the wait for the upstream's response
	// headers. Optional. Default value DefaultResponseHeaderTimeout.
	ResponseHeaderTimeout time.Duration

	// Transport sends requests to the upstream; when set, DialTimeout and
	// ResponseHeaderTimeout are its own business.
	// Optional. Default value an *http.Transport with those timeouts.
	Transport http.RoundTripper

	// Metrics receives the middleware's metrics (prom.NewMetrics).
	// Optional. Default value nil: no metrics.
	Metrics server.Metrics

	// ChangelogURL is where the API's changelog lives: responses served in
	// a deprecated version carry Link: <ChangelogURL#vVERSION>;
	// rel="deprecation" next to their Deprecation and Sunset headers.
	// Optional. Default value "": no Link header.
	ChangelogURL string

	// Logger gets upstream failures and responses that could not be
	// walked back. Optional. Default value slog.Default().
	Logger *slog.Logger
}

// Proxy is the versioning reverse proxy. It is safe for concurrent use.
type Proxy struct {
	config   Config
	header   string
	handler  http.Handler
	rp       *httputil.ReverseProxy
	pinPaths [2]string
	pins     http.Handler
	// walked holds the versions whose responses are walked back (and so
	// buffered); at the others the response streams through.
	walked map[versions.Version]bool
	// headerOf holds the version header's value sent to the upstream, per
	// version.
	headerOf map[versions.Version][]string
	macs     sync.Pool
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
	case config.DialTimeout < 0, config.ResponseHeaderTimeout < 0:
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
	if config.ResponseHeaderTimeout == 0 {
		config.ResponseHeaderTimeout = DefaultResponseHeaderTimeout
	}
	if config.Logger == nil {
		config.Logger = slog.Default()
	}
	if config.Transport == nil {
		config.Transport = &http.Transport{
			DialContext:           (&net.Dialer{Timeout: config.DialTimeout, KeepAlive: 30 * time.Second}).DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          512,
			MaxIdleConnsPerHost:   512,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   config.DialTimeout,
			ResponseHeaderTimeout: config.ResponseHeaderTimeout,
			ExpectContinueTimeout: time.Second,
		}
	}
	p := &Proxy{config: config}
	p.macs.New = func() any { return hmac.New(sha256.New, p.config.Salt) }

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
	p.walked = make(map[versions.Version]bool)
	p.headerOf = make(map[versions.Version][]string)
	for _, v := range vt.List() {
		plan, err := config.Engine.Plan(vt.Newest(), v)
		if err != nil {
			return nil, fmt.Errorf("proxy: compiling the walk back to %s: %w", v, err)
		}
		p.walked[v] = !plan.Empty()
		p.headerOf[v] = []string{v.String()}
	}

	p.rp = &httputil.ReverseProxy{
		Rewrite:        p.rewrite,
		Transport:      config.Transport,
		ModifyResponse: p.modifyResponse,
		ErrorHandler:   p.upstreamError,
		ErrorLog:       slog.NewLogLogger(config.Logger.Handler(), slog.LevelWarn),
	}
	if config.Pins != nil {
		if config.PinPath == "" {
			config.PinPath = pinhttp.DefaultPath
		}
		ph, err := pinhttp.Config{
			Store:          config.Pins,
			Versions:       vt,
			Account:        p.account,
			Path:           config.PinPath,
			RollbackWindow: config.RollbackWindow,
			Logger:         config.Logger,
		}.Handler()
		if err != nil {
			return nil, fmt.Errorf("proxy: %w", err)
		}
		p.pins, p.pinPaths = ph, [2]string{config.PinPath, config.PinPath + "/rollback"}
	}
	mw, err := server.Config{
		Engine:           config.Engine,
		Header:           p.header,
		Account:          p.account,
		Pins:             config.Pins,
		MaxBodyBytes:     config.MaxBodyBytes,
		MaxResponseBytes: config.MaxResponseBytes,
		Logger:           config.Logger,
		Metrics:          config.Metrics,
		ChangelogURL:     config.ChangelogURL,
	}.ToMiddleware()
	if err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	if config.MaxResponseBytes == 0 {
		p.config.MaxResponseBytes = server.DefaultMaxResponseBytes
	}
	p.handler = mw(http.HandlerFunc(p.serve))
	return p, nil
}

// ServeHTTP versions r and forwards it to the upstream.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) { p.handler.ServeHTTP(w, r) }

// serve runs inside the versioning middleware: the request is in the
// newest schema and its version in its context.
func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	if p.pins != nil && (r.URL.Path == p.pinPaths[0] || r.URL.Path == p.pinPaths[1]) {
		p.pins.ServeHTTP(w, r)
		return
	}
	if !p.walked[server.VersionOf(r)] {
		// The response streams through untouched.
		p.rp.ServeHTTP(w, r)
		return
	}
	p.forwardWalked(w, r)
}

// forwardWalked forwards a request whose response the middleware buffers
// to walk back. When that response is over MaxResponseBytes, the copy of
// its body fails, and httputil.ReverseProxy aborts the handler with
// http.ErrAbortHandler; nothing has reached the client then (the
// middleware buffers JSON), so the abort is stopped here and the
// middleware answers 500 in the API's shape.
func (p *Proxy) forwardWalked(w http.ResponseWriter, r *http.Request) {
	st := &walkState{}
	r = r.WithContext(context.WithValue(r.Context(), walkStateKey{}, st))
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler && st.tooLarge {
				return
			}
			panic(v)
		}
	}()
	p.rp.ServeHTTP(w, r)
}

// walkState is what the forwarding of one walked response learnt.
type walkState struct {
	tooLarge bool
}

type walkStateKey struct{}

// errTooLarge is the upstream's JSON answer over MaxResponseBytes.
var errTooLarge = errors.New("proxy: the upstream's answer is too large to walk back")

// account returns the account of r: AccountHeader, or a keyed hash of the
// Authorization header, or "".
func (p *Proxy) account(r *http.Request) (string, error) {
	if p.config.AccountHeader != "" {
		a := strings.TrimSpace(r.Header.Get(p.config.AccountHeader))
		if len(a) > MaxAccountBytes {
			return "", server.NewError(http.StatusBadRequest, server.TypeInvalidRequest, CodeAccountInvalid,
				fmt.Sprintf("The %s header is longer than %d bytes.", p.config.AccountHeader, MaxAccountBytes))
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
	mac := p.macs.Get().(interface {
		io.Writer
		Sum([]byte) []byte
		Reset()
	})
	mac.Reset()
	_, _ = io.WriteString(mac, auth)
	var sum [sha256.Size]byte
	mac.Sum(sum[:0])
	p.macs.Put(mac)
	var out [5 + 32]byte
	copy(out[:], "auth_")
	hex.Encode(out[5:], sum[:16])
	return string(out[:])
}

// rewrite builds the upstream's request.
func (p *Proxy) rewrite(pr *httputil.ProxyRequest) {
	pr.SetURL(p.config.Upstream)
	pr.SetXForwarded()
	v := server.VersionOf(pr.In)
	if h, ok := p.headerOf[v]; ok {
		pr.Out.Header[p.header] = h
	}
	if n := pr.Out.ContentLength; n > 0 && pr.Out.Body != nil {
		pr.Out.Body = &sizedBody{rc: pr.Out.Body, left: n}
	}
	if p.walked[v] {
		// The transport asks for gzip itself and decompresses it, so the
		// middleware gets JSON it can walk.
		pr.Out.Header.Del("Accept-Encoding")
	}
}

// sizedBody is a request body of known length that answers EOF once it
// is read, without reading the client's body again. After the last byte
// the transport reads once more to check the length; by then the upstream
// may have answered and the server closed the client's body (an HTTP/1
// server does when the response starts), and that read would fail and
// kill the upstream's answer midway.
type sizedBody struct {
	rc   io.ReadCloser
	left int64
}

func (b *sizedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	if err == io.EOF && b.left > 0 {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

func (b *sizedBody) Close() error { return b.rc.Close() }

// modifyResponse drops the upstream's version header (the middleware's
// says the version served) and bounds a JSON answer that will be walked
// back.
func (p *Proxy) modifyResponse(res *http.Response) error {
	res.Header.Del(p.header)
	st, _ := res.Request.Context().Value(walkStateKey{}).(*walkState)
	if st == nil || !isJSON(res.Header.Get("Content-Type")) || !bodyAllowed(res.StatusCode) {
		return nil
	}
	max := p.config.MaxResponseBytes
	if res.ContentLength > max {
		st.tooLarge = true
		return fmt.Errorf("%w: Content-Length %d is over %d bytes", errTooLarge, res.ContentLength, max)
	}
	res.Body = &limitedBody{rc: res.Body, left: max + 1, st: st}
	return nil
}

// limitedBody lets through one byte more than the limit, so that the
// middleware sees the answer overflow (and fails the copy), then fails
// itself.
type limitedBody struct {
	rc   io.ReadCloser
	left int64
	st   *walkState
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errTooLarge
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	if b.left <= 0 {
		b.st.tooLarge = true
	}
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }

// upstreamError answers a request the upstream did not answer.
func (p *Proxy) upstreamError(w http.ResponseWriter, r *http.Request, err error) {
	var (
		status  = http.StatusBadGateway
		code    = CodeUpstreamUnavailable
		message = "The API server behind this proxy could not be reached. Please retry the request."
		nerr    net.Error
	)
	switch {
	case errors.Is(err, errTooLarge):
		p.config.Logger.ErrorContext(r.Context(), "verso: response could not be rendered in the client's version",
			"method", r.Method, "path", r.URL.Path, "version", server.VersionOf(r).String(), "error", err)
		writeError(w, r, server.ErrRender.Code, server.ErrRender.Message)
		return
	case r.Context().Err() != nil:
		// The client went away: nobody reads the answer.
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &nerr) && nerr.Timeout():
		status, code = http.StatusGatewayTimeout, CodeUpstreamTimeout
		message = "The API server behind this proxy did not answer in time. Please retry the request."
		p.config.Logger.WarnContext(r.Context(), "verso: upstream timed out", "method", r.Method, "path", r.URL.Path, "error", err)
	default:
		p.config.Logger.WarnContext(r.Context(), "verso: upstream unavailable", "method", r.Method, "path", r.URL.Path, "error", err)
	}
	writeError(w, r, status, server.ErrorBody{Error: server.ErrorDetail{Type: server.TypeAPI, Code: code, Message: message}})
}

// writeError writes a body in the API's error shape.
func writeError(w http.ResponseWriter, r *http.Request, status int, body any) {
	raw, err := json.Marshal(body)
	if err != nil {
		raw = []byte(`{"error":{"type":"api_error","code":"api_error","message":"internal error"}}`)
	}
	h := w.Header()
	h.Del("Content-Encoding")
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(raw)))
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(raw)
	}
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

// Account returns the account of r as the proxy sees it: the account
// header, or the keyed hash of the Authorization header ("" when r has
// neither).
func (p *Proxy) Account(r *http.Request) (string, error) { return p.account(r) }
