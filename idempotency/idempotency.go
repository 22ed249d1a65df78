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
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/verso-api/verso/apierror"
	"github.com/verso-api/verso/storage"
)

// HeaderReplayed is set to "true" on a replayed response.
const HeaderReplayed = "Idempotent-Replayed"

// HeaderShouldRetry is the default Config.ShouldRetryHeader: "true" when a
// retry with the same key may get another answer (the key is in use, or the
// request failed and its key was freed), "false" when it would get the same
// one.
const HeaderShouldRetry = "Stripe-Should-Retry"

// Default values of Config.
const (
	DefaultHeader       = "Idempotency-Key"
	DefaultTTL          = 24 * time.Hour
	DefaultLease        = time.Minute
	DefaultMaxKeyLength = 255
	DefaultMaxBodyBytes = 1 << 20
)

// DefaultSave is the default Config.Save: a response is saved when the
// handler succeeded (below 400) or refused a payment (402, the outcome of
// work that was done). Validation refusals (400, 404, ...), conflicts,
// rate limits and server errors are not saved, so the corrected or later
// retry runs the handler again.
func DefaultSave(status int) bool {
	return status < 400 || status == http.StatusPaymentRequired
}

// DefaultSaveHeaders returns the default Config.SaveHeaders: Content-Type,
// Content-Language, Location and Retry-After.
func DefaultSaveHeaders() []string {
	return []string{"Content-Type", "Content-Language", "Location", "Retry-After"}
}

// Config defines the config for the idempotency middleware. The zero value
// of every field but Store takes its default.
type Config struct {
	// Skipper returns true for requests the middleware lets through
	// untouched.
	// Optional. Default value: none skipped.
	Skipper func(*http.Request) bool

	// Store keeps the keys and saved responses.
	// Required.
	Store Store

	// Account returns the authenticated account of the request; keys are
	// scoped to it, so two accounts may use the same key. An error is
	// answered by ErrorHandler before anything is claimed.
	// Optional. Default value: every request shares one scope (""). Set it
	// whenever the server has accounts.
	Account func(*http.Request) (string, error)

	// Header is the request header carrying the key.
	// Optional. Default value DefaultHeader ("Idempotency-Key").
	Header string

	// TTL is how long a saved response is replayed; after it the key may be
	// used again.
	// Optional. Default value DefaultTTL (24 hours).
	TTL time.Duration

	// Lease is how long a key stays "in progress" without a saved result.
	// A key left in progress by a process that died becomes retryable after
	// it. It must exceed the longest-running handler: a retry after the lease
	// runs the handler again (a handler that saves with Handle.SaveInTx then
	// gets ErrClaimLost in the slow request and rolls back).
	// Optional. Default value DefaultLease (1 minute).
	Lease time.Duration

	// Clock returns the current time.
	// Optional. Default value time.Now.
	Clock func() time.Time

	// MaxKeyLength is the longest key accepted, in characters.
	// Optional. Default value DefaultMaxKeyLength (255).
	MaxKeyLength int

	// MaxBodyBytes is the largest request body read to fingerprint a request;
	// a larger body gets 413.
	// Optional. Default value DefaultMaxBodyBytes (1 MiB).
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
	// Optional. Default value DefaultSaveHeaders().
	SaveHeaders []string

	// Sealer encrypts saved response bodies at rest (AES-GCM), so that
	// what a response shows once, such as a webhook endpoint's signing
	// secret, is not kept in plain text for TTL.
	// Optional. Default value nil: bodies are saved as they are.
	Sealer *storage.Sealer

	// ErrorHandler answers the middleware's errors (an *apierror.Error,
	// see the package's Err variables) and those of Account.
	// Optional. Default value apierror.Write: the API's error shape, from
	// the request's context.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)

	// Logger gets the failures to save or free a key after the handler
	// answered, which the client does not see.
	// Optional. Default value slog.Default().
	Logger *slog.Logger
}

// Middleware returns the idempotency middleware with the default config
// over store. It panics when store is nil; use Config.ToMiddleware to get
// an error.
func Middleware(store Store) func(http.Handler) http.Handler {
	mw, err := Config{Store: store}.ToMiddleware()
	if err != nil {
		panic(err)
	}
	return mw
}

// ToMiddleware validates config, fills in defaults and returns the
// middleware. See the package documentation for what it does.
func (config Config) ToMiddleware() (func(http.Handler) http.Handler, error) {
	if config.Store == nil {
		return nil, errors.New("idempotency: config has no Store")
	}
	if config.Skipper == nil {
		config.Skipper = func(*http.Request) bool { return false }
	}
	if config.Account == nil {
		config.Account = func(*http.Request) (string, error) { return "", nil }
	}
	if config.Header == "" {
		config.Header = DefaultHeader
	}
	config.Header = http.CanonicalHeaderKey(config.Header)
	if config.Clock == nil {
		config.Clock = time.Now
	}
	if config.TTL == 0 {
		config.TTL = DefaultTTL
	}
	if config.Lease == 0 {
		config.Lease = DefaultLease
	}
	if config.MaxKeyLength == 0 {
		config.MaxKeyLength = DefaultMaxKeyLength
	}
	if config.MaxBodyBytes == 0 {
		config.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if config.SaveHeaders == nil {
		config.SaveHeaders = DefaultSaveHeaders()
	}
	if config.Save == nil {
		config.Save = DefaultSave
	}
	if config.ErrorHandler == nil {
		config.ErrorHandler = apierror.Write
	}
	if config.Logger == nil {
		config.Logger = slog.Default()
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
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { m.serve(w, r, next) })
	}, nil
}

type mw struct{ Config }

func (m *mw) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	if r.Method != http.MethodPost || m.Skipper(r) {
		next.ServeHTTP(w, r)
		return
	}
	values, ok := r.Header[m.Header]
	if !ok {
		next.ServeHTTP(w, r)
		return
	}
	if err := m.checkKey(values); err != nil {
		m.fail(w, r, err, false)
		return
	}
	key := values[0]
	account, err := m.Account(r)
	if err != nil {
		m.ErrorHandler(w, r, err)
		return
	}
	params, err := m.params(r)
	if err != nil {
		m.fail(w, r, err, false)
		return
	}
	k := Key{Account: account, Key: key}
	fp := Fingerprint{Method: r.Method, Path: r.URL.EscapedPath(), Params: params}
	now := m.Clock()
	token := rand.Text()
	rec, err := m.Store.Claim(r.Context(), Claim{
		Key: k, Fingerprint: fp, Token: token, Now: now,
		LockedUntil: now.Add(m.Lease), ExpiresAt: now.Add(m.TTL),
	})
	if err != nil {
		m.fail(w, r, ErrStore.Wrap(err), true)
		return
	}
	if rec.State != Claimed && rec.Fingerprint != fp {
		m.fail(w, r, errReused(m.Header, key, rec.Fingerprint, fp), false)
		return
	}
	switch rec.State {
	case InProgress:
		m.fail(w, r, ErrKeyInUse.With(fmt.Sprintf(
			"There is currently another in-progress request using this %s (%q). Retry the request later.",
			m.Header, apierror.Bound(key))), true)
		return
	case Completed:
		body, err := m.Sealer.Open(rec.Response.Body, sealedFor(k))
		if err != nil {
			m.fail(w, r, ErrUnreadable.Wrap(err), false)
			return
		}
		rec.Response.Body = body
		replay(w, r, rec.Response)
		return
	}
	m.run(w, r, next, &Handle{m: m, key: k, token: token})
}

// checkKey checks the values of the key header.
func (m *mw) checkKey(values []string) error {
	if len(values) != 1 {
		return ErrInvalidKey.With(fmt.Sprintf("Send one %s header, not %d.", m.Header, len(values)))
	}
	key := values[0]
	switch {
	case key == "":
		return ErrInvalidKey.With(fmt.Sprintf("The %s header is empty; send a unique key of up to %d characters.", m.Header, m.MaxKeyLength))
	case !utf8.ValidString(key):
		return ErrInvalidKey.With(fmt.Sprintf("The %s header is not valid UTF-8.", m.Header))
	}
	if n := utf8.RuneCountInString(key); n > m.MaxKeyLength {
		return ErrInvalidKey.With(fmt.Sprintf("The %s header is %d characters long; keys may be at most %d characters.", m.Header, n, m.MaxKeyLength))
	}
	return nil
}

// fail answers err, telling the client whether a retry with the key may
// get another answer.
func (m *mw) fail(w http.ResponseWriter, r *http.Request, err error, retry bool) {
	m.shouldRetry(w.Header(), retry)
	m.ErrorHandler(w, r, err)
}

// shouldRetry sets the should-retry header, unless it is switched off.
func (m *mw) shouldRetry(h http.Header, retry bool) {
	if m.ShouldRetryHeader != "" {
		h.Set(m.ShouldRetryHeader, strconv.FormatBool(retry))
	}
}

// params reads the body (leaving it for the handler) and returns the hex
// SHA-256 of the canonical body and query.
func (m *mw) params(r *http.Request) (string, error) {
	h := sha256.New()
	switch {
	case r.PostForm != nil && formBody(r.Header.Get("Content-Type")):
		// An outer middleware parsed the form and consumed the body. (A
		// multipart form's files are not part of the fingerprint.)
		canon, err := canonicalValues(r.PostForm)
		if err != nil {
			return "", err
		}
		h.Write(canon)
	case r.Body != nil && r.Body != http.NoBody:
		body, err := io.ReadAll(io.LimitReader(r.Body, m.MaxBodyBytes+1))
		r.Body.Close()
		if err != nil {
			return "", apierror.FromBodyRead(err)
		}
		if int64(len(body)) > m.MaxBodyBytes {
			return "", ErrBodyTooLarge.With(fmt.Sprintf("The request body is larger than %d bytes.", m.MaxBodyBytes))
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		if canon, err := CanonicalParams(r.Header.Get("Content-Type"), body); err == nil {
			h.Write(canon)
		} else {
			h.Write([]byte("raw:"))
			h.Write(body)
		}
	}
	if q := r.URL.RawQuery; q != "" {
		h.Write([]byte("\x00query:"))
		if canon, err := CanonicalParams("application/x-www-form-urlencoded", []byte(q)); err == nil {
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
	return mt == "application/x-www-form-urlencoded" || mt == "multipart/form-data"
}

// run runs the handler holding the claim, then saves what it answered or
// releases the key.
func (m *mw) run(w http.ResponseWriter, r *http.Request, next http.Handler, h *Handle) {
	cw := &capture{ResponseWriter: w, h: h, status: http.StatusOK}
	// The request's own context may be cancelled (the client went away)
	// while the result must still be saved.
	ctx := context.WithoutCancel(r.Context())
	finished := false
	defer func() {
		if !finished { // the handler panicked: let a retry run it again
			m.release(ctx, h)
		}
	}()
	next.ServeHTTP(cw, r.WithContext(context.WithValue(r.Context(), handleKey{}, h)))
	finished = true
	if h.saved.Load() {
		// Saved in the handler's transaction; if that transaction rolled
		// back, the key is still in progress and a retry should run again.
		m.release(ctx, h)
		return
	}
	if !cw.wrote {
		cw.header = filterHeader(w.Header(), m.SaveHeaders, nil)
	}
	if !saveable(cw.status) || !m.Save(cw.status) {
		m.release(ctx, h)
		return
	}
	saved := Response{Status: cw.status, Header: cw.header, Body: m.Sealer.Seal(cw.buf.Bytes(), sealedFor(h.key))}
	if err := m.Store.Complete(ctx, nil, h.key, h.token, saved, m.Clock().Add(m.TTL)); err != nil {
		m.Logger.ErrorContext(ctx, "idempotency: saving the response", "path", r.URL.Path, "error", err)
	}
}

// release frees the key of h if it is still in progress under h's claim.
func (m *mw) release(ctx context.Context, h *Handle) {
	if err := m.Store.Release(ctx, h.key, h.token); err != nil {
		m.Logger.ErrorContext(ctx, "idempotency: freeing a key", "error", err)
	}
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

func replay(w http.ResponseWriter, r *http.Request, saved Response) {
	hdr := w.Header()
	for k, v := range saved.Header {
		hdr[k] = append([]string(nil), v...)
	}
	hdr.Set(HeaderReplayed, "true")
	w.WriteHeader(saved.Status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(saved.Body)
	}
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
