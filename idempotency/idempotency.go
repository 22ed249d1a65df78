package idempotency

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/verso-api/verso/storage"
)

// HeaderReplayed is set to "true" on a replayed response.
const HeaderReplayed = "Idempotent-Replayed"

// HeaderShouldRetry is the default Config.ShouldRetryHeader: "true" when a
// retry with the same key may get another answer (the key is in use, or the
// request failed and its key was freed), "false" when it would get the same
// one.
const HeaderShouldRetry = "Stripe-Should-Retry"

// DefaultSave is the default Config.Save: a response is saved when the
// handler succeeded (below 400) or refused a payment (402, the outcome of
// work that was done). Validation refusals (400, 404, ...), conflicts,
// rate limits and server errors are not saved, so the corrected or later
// retry runs the handler again.
func DefaultSave(status int) bool {
	return status < 400 || status == http.StatusPaymentRequired
}

// Config defines the config for the idempotency middleware.
type Config struct {
	// Skipper defines a function to skip middleware.
	// Optional. Default value middleware.DefaultSkipper.
	Skipper middleware.Skipper

	// Store keeps the keys and saved responses.
	// Required.
	Store Store

	// Account returns the authenticated account of the request; keys are
	// scoped to it, so two accounts may use the same key. An error is
	// returned to echo as it is, before anything is claimed.
	// Optional. Default value: every request shares one scope (""). Set it
	// whenever the server has accounts.
	Account func(echo.Context) (string, error)

	// Header is the request header carrying the key.
	// Optional. Default value "Idempotency-Key".
	Header string

	// TTL is how long a saved response is replayed; after it the key may be
	// used again.
	// Optional. Default value 24 hours.
	TTL time.Duration

	// Lease is how long a key stays "in progress" without a saved result.
	// A key left in progress by a process that died becomes retryable after
	// it. It must exceed the longest-running handler: a retry after the lease
	// runs the handler again (a handler that saves with Handle.SaveInTx then
	// gets ErrClaimLost in the slow request and rolls back).
	// Optional. Default value 1 minute.
	Lease time.Duration

	// Clock returns the current time.
	// Optional. Default value time.Now.
	Clock func() time.Time

	// MaxKeyLength is the longest key accepted, in characters.
	// Optional. Default value 255.
	MaxKeyLength int

	// MaxBodyBytes is the largest request body read to fingerprint a request;
	// a larger body gets 413.
	// Optional. Default value 1 MiB.
	MaxBodyBytes int64

	// Save reports whether the middleware saves a response the handler
	// wrote with status. A response that is not saved frees the key. It is
	// asked only for handlers that did not save with Handle.SaveInTx: a
	// response saved in the handler's committed transaction is the result
	// of work done, whatever its status.
	// Optional. Default value DefaultSave.
	Save func(status int) bool

	// ShouldRetryHeader is the response header telling a client whether to
	// retry with the same key (see HeaderShouldRetry); "-" sends none.
	// Optional. Default value HeaderShouldRetry.
	ShouldRetryHeader string

	// SaveHeaders lists the response headers saved and replayed with the
	// body. Hop-by-hop, length and version headers must not be in it: the
	// server recomputes them for the retrying client.
	// Optional. Default value DefaultConfig.SaveHeaders.
	SaveHeaders []string

	// Sealer encrypts saved response bodies at rest (AES-GCM), so that
	// what a response shows once, such as a webhook endpoint's signing
	// secret, is not kept in plain text for TTL.
	// Optional. Default value nil: bodies are saved as they are.
	Sealer *storage.Sealer
}

// DefaultConfig is the default idempotency middleware config (it has no
// Store: New and the Store field supply one).
var DefaultConfig = Config{
	Skipper:           middleware.DefaultSkipper,
	Header:            "Idempotency-Key",
	TTL:               24 * time.Hour,
	Lease:             time.Minute,
	Clock:             time.Now,
	MaxKeyLength:      255,
	MaxBodyBytes:      1 << 20,
	Save:              DefaultSave,
	ShouldRetryHeader: HeaderShouldRetry,
	SaveHeaders:       []string{echo.HeaderContentType, "Content-Language", echo.HeaderLocation, echo.HeaderRetryAfter},
}

// New returns an idempotency middleware with the default config over store.
// It panics when store is nil; use Config.ToMiddleware to get an error.
func New(store Store) echo.MiddlewareFunc {
	c := DefaultConfig
	c.Store = store
	return WithConfig(c)
}

// WithConfig returns an idempotency middleware with config. It panics on an
// invalid config; use Config.ToMiddleware to get an error instead.
func WithConfig(config Config) echo.MiddlewareFunc {
	mw, err := config.ToMiddleware()
	if err != nil {
		panic(err)
	}
	return mw
}

// ToMiddleware validates config, fills in defaults and returns the
// middleware. See the package documentation for what it does.
func (config Config) ToMiddleware() (echo.MiddlewareFunc, error) {
	if config.Store == nil {
		return nil, errors.New("idempotency: config has no Store")
	}
	if config.Skipper == nil {
		config.Skipper = DefaultConfig.Skipper
	}
	if config.Account == nil {
		config.Account = func(echo.Context) (string, error) { return "", nil }
	}
	if config.Header == "" {
		config.Header = DefaultConfig.Header
	}
	config.Header = http.CanonicalHeaderKey(config.Header)
	if config.Clock == nil {
		config.Clock = DefaultConfig.Clock
	}
	if config.TTL == 0 {
		config.TTL = DefaultConfig.TTL
	}
	if config.Lease == 0 {
		config.Lease = DefaultConfig.Lease
	}
	if config.MaxKeyLength == 0 {
		config.MaxKeyLength = DefaultConfig.MaxKeyLength
	}
	if config.MaxBodyBytes == 0 {
		config.MaxBodyBytes = DefaultConfig.MaxBodyBytes
	}
	if config.SaveHeaders == nil {
		config.SaveHeaders = DefaultConfig.SaveHeaders
	}
	if config.Save == nil {
		config.Save = DefaultSave
	}
	switch config.ShouldRetryHeader {
	case "":
		config.ShouldRetryHeader = HeaderShouldRetry
	case "-":
		config.ShouldRetryHeader = ""
	default:
		config.ShouldRetryHeader = http.CanonicalHeaderKey(config.ShouldRetryHeader)
	}
	switch {
	case config.TTL < 0:
		return nil, fmt.Errorf("idempotency: negative TTL %v", config.TTL)
	case config.Lease < 0:
		return nil, fmt.Errorf("idempotency: negative Lease %v", config.Lease)
	case config.Lease > config.TTL:
		return nil, fmt.Errorf("idempotency: Lease %v is longer than TTL %v", config.Lease, config.TTL)
	case config.MaxKeyLength < 0:
		return nil, fmt.Errorf("idempotency: negative MaxKeyLength %d", config.MaxKeyLength)
	case config.MaxBodyBytes < 0:
		return nil, fmt.Errorf("idempotency: negative MaxBodyBytes %d", config.MaxBodyBytes)
	}
	save := make([]string, len(config.SaveHeaders))
	for i, h := range config.SaveHeaders {
		save[i] = http.CanonicalHeaderKey(h)
		switch save[i] {
		case "", "Content-Length", "Transfer-Encoding", "Connection", HeaderReplayed, config.ShouldRetryHeader:
			return nil, fmt.Errorf("idempotency: SaveHeaders: cannot save %q", h)
		}
	}
	config.SaveHeaders = save
	m := &mw{Config: config}
	return m.handle, nil
}

type mw struct{ Config }

func (m *mw) handle(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if req.Method != http.MethodPost || m.Skipper(c) {
			return next(c)
		}
		values, ok := req.Header[m.Header]
		if !ok {
			return next(c)
		}
		if len(values) != 1 {
			m.shouldRetry(c.Response().Header(), false)
			return errInvalidKey("Send one %s header, not %d.", m.Header, len(values))
		}
		key := values[0]
		if bad := key == "" || !utf8.ValidString(key) || utf8.RuneCountInString(key) > m.MaxKeyLength; bad {
			m.shouldRetry(c.Response().Header(), false)
		}
		if key == "" {
			return errInvalidKey("The %s header is empty; send a unique key of up to %d characters.", m.Header, m.MaxKeyLength)
		}
		if !utf8.ValidString(key) {
			return errInvalidKey("The %s header is not valid UTF-8.", m.Header)
		}
		if n := utf8.RuneCountInString(key); n > m.MaxKeyLength {
			return errInvalidKey("The %s header is %d characters long; keys may be at most %d characters.", m.Header, n, m.MaxKeyLength)
		}
		account, err := m.Account(c)
		if err != nil {
			return err
		}
		params, err := m.params(req)
		if err != nil {
			return err
		}
		k := Key{Account: account, Key: key}
		fp := Fingerprint{Method: req.Method, Path: req.URL.EscapedPath(), Params: params}
		now := m.Clock()
		token := rand.Text()
		rec, err := m.Store.Claim(req.Context(), Claim{
			Key: k, Fingerprint: fp, Token: token, Now: now,
			LockedUntil: now.Add(m.Lease), ExpiresAt: now.Add(m.TTL),
		})
		if err != nil {
			m.shouldRetry(c.Response().Header(), true)
			return httpError(http.StatusInternalServerError, "api_error", "idempotency_store_error", err,
				"The idempotency key could not be checked; retry the request.")
		}
		if rec.State != Claimed && rec.Fingerprint != fp {
			m.shouldRetry(c.Response().Header(), false)
			return errReused(m.Header, key, rec.Fingerprint, fp)
		}
		switch rec.State {
		case InProgress:
			c.Response().Header().Set(echo.HeaderRetryAfter, "1")
			m.shouldRetry(c.Response().Header(), true)
			return errInUse(m.Header, key)
		case Completed:
			body, err := m.Sealer.Open(rec.Response.Body, sealedFor(k))
			if err != nil {
				m.shouldRetry(c.Response().Header(), false)
				return httpError(http.StatusInternalServerError, "api_error", "idempotency_store_error", err,
					"The saved response of this idempotency key could not be read.")
			}
			rec.Response.Body = body
			return replay(c, rec.Response)
		}
		return m.run(c, next, &Handle{m: m, key: k, token: token})
	}
}

// shouldRetry sets the should-retry header, unless it is switched off.
func (m *mw) shouldRetry(h http.Header, retry bool) {
	if m.ShouldRetryHeader != "" {
		h.Set(m.ShouldRetryHeader, strconv.FormatBool(retry))
	}
}

// params reads the body (leaving it for the handler) and returns the hex
// SHA-256 of the canonical body and query.
func (m *mw) params(req *http.Request) (string, error) {
	h := sha256.New()
	switch {
	case req.PostForm != nil && formBody(req.Header.Get(echo.HeaderContentType)):
		// An outer middleware parsed the form and consumed the body. (A
		// multipart form's files are not part of the fingerprint.)
		canon, err := canonicalValues(req.PostForm)
		if err != nil {
			return "", err
		}
		h.Write(canon)
	case req.Body != nil && req.Body != http.NoBody:
		body, err := io.ReadAll(io.LimitReader(req.Body, m.MaxBodyBytes+1))
		req.Body.Close()
		if err != nil {
			return "", &echo.HTTPError{Code: http.StatusBadRequest, Message: http.StatusText(http.StatusBadRequest), Internal: err}
		}
		if int64(len(body)) > m.MaxBodyBytes {
			return "", httpError(http.StatusRequestEntityTooLarge, "invalid_request_error", CodeTooLarge, ErrBodyTooLarge,
				"The request body is larger than %d bytes.", m.MaxBodyBytes)
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		if canon, err := CanonicalParams(req.Header.Get(echo.HeaderContentType), body); err == nil {
			h.Write(canon)
		} else {
			h.Write([]byte("raw:"))
			h.Write(body)
		}
	}
	if q := req.URL.RawQuery; q != "" {
		h.Write([]byte("\x00query:"))
		if canon, err := CanonicalParams(echo.MIMEApplicationForm, []byte(q)); err == nil {
			h.Write(canon)
		} else {
			h.Write([]byte(q))
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// formBody reports whether a request of content type ct has a body that
// http.Request.ParseForm or ParseMultipartForm consumes.
func formBody(ct string) bool {
	mt, _, _ := mime.ParseMediaType(ct)
	return mt == echo.MIMEApplicationForm || mt == echo.MIMEMultipartForm
}

// run runs the handler holding the claim, then saves what it answered or
// releases the key.
func (m *mw) run(c echo.Context, next echo.HandlerFunc, h *Handle) error {
	c.Set(contextKey, h)
	res := c.Response()
	orig := res.Writer
	w := &capture{ResponseWriter: orig, h: h, status: http.StatusOK}
	res.Writer = w
	// The request's own context may be cancelled (the client went away)
	// while the result must still be saved.
	ctx := context.WithoutCancel(c.Request().Context())
	finished := false
	defer func() {
		res.Writer = orig
		if !finished { // the handler panicked: let a retry run it again
			m.Store.Release(ctx, h.key, h.token)
		}
	}()
	if err := next(c); err != nil {
		c.Error(err)
	}
	finished = true
	if h.saved.Load() {
		// Saved in the handler's transaction; if that transaction rolled
		// back, the key is still in progress and a retry should run again.
		if err := m.Store.Release(ctx, h.key, h.token); err != nil {
			c.Logger().Error(err)
		}
		return nil
	}
	if !w.wrote {
		w.header = filterHeader(orig.Header(), m.SaveHeaders, nil)
	}
	if !saveable(w.status) || !m.Save(w.status) {
		if err := m.Store.Release(ctx, h.key, h.token); err != nil {
			c.Logger().Error(err)
		}
		return nil
	}
	saved := Response{Status: w.status, Header: w.header, Body: m.Sealer.Seal(w.buf.Bytes(), sealedFor(h.key))}
	if err := m.Store.Complete(ctx, nil, h.key, h.token, saved, m.Clock().Add(m.TTL)); err != nil {
		c.Logger().Error(err)
	}
	return nil
}

// sealedFor is the additional data a saved body is sealed with: its key,
// so that a sealed body copied onto another key does not open.
func sealedFor(k Key) []byte { return []byte(k.Account + "\x00" + k.Key) }

// saveable reports whether a response with status is saved: everything the
// handler answered except a conflict or a rate limit, which a retry should
// not see again.
func saveable(status int) bool {
	return status != http.StatusConflict && status != http.StatusTooManyRequests
}

func replay(c echo.Context, saved Response) error {
	res := c.Response()
	hdr := res.Header()
	for k, v := range saved.Header {
		hdr[k] = append([]string(nil), v...)
	}
	hdr.Set(HeaderReplayed, "true")
	res.WriteHeader(saved.Status)
	_, err := res.Write(saved.Body)
	return err
}

// filterHeader copies the headers named in keep from h into dst (a new
// header when dst is nil).
func filterHeader(h http.Header, keep []string, dst http.Header) http.Header {
	for _, k := range keep {
		if v, ok := h[k]; ok {
			if dst == nil {
				dst = http.Header{}
			}
			dst[k] = append([]string(nil), v...)
		}
	}
	return dst
}
