package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Defaults used for zero Config fields.
const (
	DefaultVersionHeader = "Stripe-Version"
	DefaultMaxAttempts   = 4
	DefaultMaxRetryAfter = 60 * time.Second
	DefaultTimeout       = 80 * time.Second
	DefaultUserAgent     = "verso-go-client/1"
)

// HeaderShouldRetry is the response header by which a server says whether
// the same request may get another answer: "true" or "false". It overrides
// the client's own judgement of an error answer.
const HeaderShouldRetry = "Stripe-Should-Retry"

// ErrConfig is wrapped by the errors New returns for a bad Config.
var ErrConfig = errors.New("client: invalid config")

// Config configures a Client. Only BaseURL is required; every other zero
// field takes its default.
type Config struct {
	// BaseURL is the API's root URL, for example "http://127.0.0.1:4242".
	// Required. Request paths are appended to it.
	BaseURL string

	// APIKey is sent as "Authorization: Bearer <APIKey>".
	// Optional. Default: no Authorization header.
	APIKey string

	// Version is the API version the client is pinned to, sent in
	// VersionHeader on every request.
	// Optional. Default: no header, so the server uses the account's pin.
	Version string

	// VersionHeader names the request header carrying Version.
	// Optional. Default value "Stripe-Version".
	VersionHeader string

	// HTTPClient sends the requests.
	// Optional. Default value: an http.Client with an 80 second timeout.
	HTTPClient *http.Client

	// MaxAttempts bounds the attempts of one call, the first included;
	// 1 turns retries off.
	// Optional. Default value 4.
	MaxAttempts int

	// Backoff returns the wait before retry number attempt (0 for the
	// first retry) when the server sent no Retry-After.
	// Optional. Default value: DefaultBackoff(attempt, Jitter).
	Backoff func(attempt int) time.Duration

	// Jitter returns a random duration in [0, n). The default Backoff
	// uses it.
	// Optional. Default value: uniform, from math/rand/v2.
	Jitter func(n time.Duration) time.Duration

	// Sleep waits d or until ctx is done, returning ctx.Err() then.
	// Optional. Default value: a timer.
	Sleep func(ctx context.Context, d time.Duration) error

	// MaxRetryAfter is the longest Retry-After the client waits; a longer
	// one ends the call with the server's error.
	// Optional. Default value 60s.
	MaxRetryAfter time.Duration

	// JSON sends POST parameters as a JSON body instead of a form.
	// Optional. Default value false (form, in Stripe's bracket syntax).
	JSON bool

	// UserAgent is sent as the User-Agent header.
	// Optional. Default value "verso-go-client/1".
	UserAgent string

	// NewIdempotencyKey makes the key of a POST call.
	// Optional. Default value: a random UUIDv4.
	NewIdempotencyKey func() string
}

// Client sends requests to one API. It is safe for concurrent use.
type Client struct {
	cfg  Config
	base *url.URL
}

// New returns a Client for cfg, with defaults filled in, or an error
// wrapping ErrConfig.
func New(cfg Config) (*Client, error) {
	if cfg.BaseURL == "" {
		return nil, fmt.Errorf("%w: base url is empty", ErrConfig)
	}
	base, err := url.Parse(cfg.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("%w: base url: %w", ErrConfig, err)
	}
	if base.Scheme != "http" && base.Scheme != "https" || base.Host == "" {
		return nil, fmt.Errorf("%w: base url %q: want http(s)://host", ErrConfig, cfg.BaseURL)
	}
	if cfg.MaxAttempts < 0 {
		return nil, fmt.Errorf("%w: max attempts %d is negative", ErrConfig, cfg.MaxAttempts)
	}
	if cfg.MaxRetryAfter < 0 {
		return nil, fmt.Errorf("%w: max retry-after %s is negative", ErrConfig, cfg.MaxRetryAfter)
	}
	if strings.ContainsAny(cfg.APIKey, "\r\n") {
		return nil, fmt.Errorf("%w: api key contains a line break", ErrConfig)
	}
	if cfg.VersionHeader == "" {
		cfg.VersionHeader = DefaultVersionHeader
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: DefaultTimeout}
	}
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.Jitter == nil {
		cfg.Jitter = randomJitter
	}
	if cfg.Backoff == nil {
		jitter := cfg.Jitter
		cfg.Backoff = func(attempt int) time.Duration { return DefaultBackoff(attempt, jitter) }
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleep
	}
	if cfg.MaxRetryAfter == 0 {
		cfg.MaxRetryAfter = DefaultMaxRetryAfter
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = DefaultUserAgent
	}
	if cfg.NewIdempotencyKey == nil {
		cfg.NewIdempotencyKey = uuid.NewString
	}
	base.Path = strings.TrimRight(base.Path, "/")
	base.RawPath = ""
	return &Client{cfg: cfg, base: base}, nil
}

// Response describes the final HTTP answer of a call; pass one to
// WithResponse to have it filled in.
type Response struct {
	StatusCode     int
	Header         http.Header
	Attempts       int    // attempts made, the first included
	IdempotencyKey string // the key sent, empty when none was
}

// Option changes one call.
type Option func(*callOptions)

type callOptions struct {
	key     string
	version *string
	json    *bool
	header  http.Header
	resp    *Response
}

// WithIdempotencyKey sends key as the Idempotency-Key of this call, on any
// method, instead of a generated one.
func WithIdempotencyKey(key string) Option {
	return func(o *callOptions) { o.key = key }
}

// WithVersion sends version instead of Config.Version for this call; an
// empty version sends no version header.
func WithVersion(version string) Option {
	return func(o *callOptions) { o.version = &version }
}

// WithJSON sends this call's POST parameters as JSON (on is true) or as a
// form (on is false), whatever Config.JSON says.
func WithJSON(on bool) Option {
	return func(o *callOptions) { o.json = &on }
}

// WithHeader adds a request header to this call.
func WithHeader(key, value string) Option {
	return func(o *callOptions) {
		if o.header == nil {
			o.header = http.Header{}
		}
		o.header.Add(key, value)
	}
}

// WithResponse fills r with the call's final status, headers and attempts.
func WithResponse(r *Response) Option {
	return func(o *callOptions) { o.resp = r }
}

// Get sends a GET; params go in the query string.
func (c *Client) Get(ctx context.Context, path string, params, out any, opts ...Option) error {
	return c.Do(ctx, http.MethodGet, path, params, out, opts...)
}

// Post sends a POST with an Idempotency-Key; params go in the body.
func (c *Client) Post(ctx context.Context, path string, params, out any, opts ...Option) error {
	return c.Do(ctx, http.MethodPost, path, params, out, opts...)
}

// Delete sends a DELETE; params go in the query string.
func (c *Client) Delete(ctx context.Context, path string, params, out any, opts ...Option) error {
	return c.Do(ctx, http.MethodDelete, path, params, out, opts...)
}

// Do sends one logical call, retrying it as the package doc describes.
// Parameters of a POST, PUT or PATCH go in the body, those of other methods
// in the query string; params may be nil. A 2xx body is decoded as JSON
// into out unless out is nil; a *[]byte out receives the raw body.
// Any other answer is an *Error.
func (c *Client) Do(ctx context.Context, method, path string, params, out any, opts ...Option) error {
	var o callOptions
	for _, opt := range opts {
		opt(&o)
	}
	method = strings.ToUpper(method)
	if method == "" {
		method = http.MethodGet
	}
	u, err := c.resolve(path)
	if err != nil {
		return err
	}
	var body []byte
	var contentType string
	if params != nil {
		switch method {
		case http.MethodPost, http.MethodPut, http.MethodPatch:
			asJSON := c.cfg.JSON
			if o.json != nil {
				asJSON = *o.json
			}
			if asJSON {
				if body, err = json.Marshal(params); err != nil {
					return fmt.Errorf("client: encoding json params: %w", err)
				}
				contentType = "application/json"
			} else {
				form, err := EncodeForm(params)
				if err != nil {
					return err
				}
				body = []byte(form.Encode())
				contentType = "application/x-www-form-urlencoded"
			}
		default:
			form, err := EncodeForm(params)
			if err != nil {
				return err
			}
			q := u.Query()
			for k, vs := range form {
				q[k] = append(q[k], vs...)
			}
			u.RawQuery = q.Encode()
		}
	}
	key := o.key
	if key == "" && method == http.MethodPost {
		key = c.cfg.NewIdempotencyKey()
	}
	version := c.cfg.Version
	if o.version != nil {
		version = *o.version
	}
	target := u.String()

	var lastErr error
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return stopped(err, lastErr)
		}
		req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("client: %w", err)
		}
		if body == nil {
			req.Body, req.GetBody, req.ContentLength = http.NoBody, nil, 0
		}
		for k, vs := range o.header {
			req.Header[k] = append([]string(nil), vs...)
		}
		if c.cfg.APIKey != "" {
			req.Header.Set("Authorization", "Bearer "+c.cfg.APIKey)
		}
		if version != "" {
			req.Header.Set(c.cfg.VersionHeader, version)
		}
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", c.cfg.UserAgent)

		wait, retry := time.Duration(-1), false
		resp, err := c.cfg.HTTPClient.Do(req)
		if err == nil {
			var data []byte
			data, err = io.ReadAll(resp.Body)
			resp.Body.Close()
			if err == nil {
				if o.resp != nil {
					*o.resp = Response{StatusCode: resp.StatusCode, Header: resp.Header,
						Attempts: attempt + 1, IdempotencyKey: key}
				}
				if resp.StatusCode >= 200 && resp.StatusCode < 300 {
					return decode(data, out)
				}
				e := newError(resp, data)
				lastErr, retry = e, retryable(e)
				// The server knows best whether the same request can get
				// another answer.
				switch resp.Header.Get(HeaderShouldRetry) {
				case "true":
					retry = true
				case "false":
					retry = false
				}
				if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
					wait = d
				}
			}
		}
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return stopped(ctxErr, lastErr)
			}
			lastErr = fmt.Errorf("client: %s %s: %w", method, path, err)
			retry = retryableNetError(err)
		}
		if !retry || attempt+1 >= c.cfg.MaxAttempts {
			return lastErr
		}
		if wait < 0 {
			wait = c.cfg.Backoff(attempt)
		} else if wait > c.cfg.MaxRetryAfter {
			return lastErr
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return lastErr
		}
		if wait > 0 {
			if err := c.cfg.Sleep(ctx, wait); err != nil {
				return stopped(err, lastErr)
			}
		}
	}
}

// resolve joins path to the base URL, refusing a path that names another
// host so the API key never leaves for it.
func (c *Client) resolve(path string) (*url.URL, error) {
	ref, err := url.Parse(path)
	if err != nil {
		return nil, fmt.Errorf("client: path %q: %w", path, err)
	}
	if ref.Scheme != "" || ref.Host != "" {
		return nil, fmt.Errorf("client: path %q: want a path, not a url", path)
	}
	u := *c.base
	u.Path = c.base.Path + "/" + strings.TrimLeft(ref.Path, "/")
	// Keep the caller's escaping, so "cus%2F1" stays one path segment.
	u.RawPath = c.base.EscapedPath() + "/" + strings.TrimLeft(ref.EscapedPath(), "/")
	u.RawQuery = ref.RawQuery
	u.Fragment = ""
	return &u, nil
}

func decode(data []byte, out any) error {
	switch out := out.(type) {
	case nil:
		return nil
	case *[]byte:
		*out = data
		return nil
	case *json.RawMessage:
		*out = data
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("client: decoding response: %w", err)
	}
	return nil
}

// retryable reports whether an error answer may change on a retry.
func retryable(e *Error) bool {
	switch {
	case e.StatusCode == http.StatusConflict:
		return e.Code == "idempotency_key_in_use"
	case e.StatusCode == http.StatusTooManyRequests:
		return true
	case e.StatusCode >= 500:
		return true
	}
	return false
}

// retryableNetError reports whether a transport error may go away: all do
// except those about the request itself or the server's certificate.
func retryableNetError(err error) bool {
	var (
		unknownAuthority x509.UnknownAuthorityError
		hostname         x509.HostnameError
		invalid          x509.CertificateInvalidError
		verify           *tls.CertificateVerificationError
	)
	switch {
	case errors.As(err, &unknownAuthority), errors.As(err, &hostname),
		errors.As(err, &invalid), errors.As(err, &verify):
		return false
	case errors.Is(err, http.ErrSchemeMismatch):
		return false
	}
	var ue *url.Error
	if errors.As(err, &ue) && strings.Contains(ue.Err.Error(), "unsupported protocol scheme") {
		return false
	}
	return true
}

// stopped is the error of a call ended by its context.
func stopped(ctxErr, lastErr error) error {
	if lastErr == nil {
		return fmt.Errorf("client: %w", ctxErr)
	}
	return fmt.Errorf("client: %w (last error: %w)", ctxErr, lastErr)
}

func randomJitter(n time.Duration) time.Duration {
	if n <= 0 {
		return 0
	}
	return rand.N(n)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
