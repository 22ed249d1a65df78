package ratelimit

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// Response headers the middleware sets.
const (
	HeaderLimit     = "X-RateLimit-Limit"
	HeaderRemaining = "X-RateLimit-Remaining"
)

var (
	canonicalLimit     = http.CanonicalHeaderKey(HeaderLimit)
	canonicalRemaining = http.CanonicalHeaderKey(HeaderRemaining)
)

// Config defines the config for the rate limit middleware.
type Config struct {
	// Skipper defines a function to skip middleware.
	// Optional. Default value middleware.DefaultSkipper.
	Skipper middleware.Skipper

	// Identifier returns the key requests are counted under: the account
	// or API key for a limiter after authentication, the client's address
	// for one before it. An error is returned to echo as it is, so an
	// *echo.HTTPError (a 401, say) reaches the client unchanged. An empty
	// identifier is a key like any other: every such request shares it.
	// Optional. Default value RealIP.
	Identifier func(c echo.Context) (string, error)

	// Scope tells apart limiters sharing one Store, for example "ip" and
	// "key"; it is part of every Key.
	// Optional. Default value "".
	Scope string

	// Default is the limit of every route not in Routes.
	// Optional. Default value DefaultConfig.Default (25 per second, burst 25).
	Default Limit

	// Routes gives some endpoints their own limit, keyed by method and
	// echo route path: "POST /v1/charges", "GET /v1/customers/:id". A
	// request to such a route is counted in a bucket of that route, per
	// identifier, instead of the Default bucket. Before routing (e.Pre)
	// the request's URL path is matched instead of the route.
	// Optional. Default value: none.
	Routes map[string]Limit

	// Store keeps the buckets.
	// Optional. Default value: a new NewMemoryStore(MemoryStoreConfig{}).
	Store Store

	// Message is the message of the 429's error body.
	// Optional. Default value DefaultMessage.
	Message string

	// DisableHeaders turns off the X-RateLimit-Limit and
	// X-RateLimit-Remaining response headers. Retry-After is always sent
	// with a 429.
	// Optional. Default value false.
	DisableHeaders bool
}

// DefaultConfig is the default rate limit middleware config: 25 requests
// per second with a burst of 25 per client address.
var DefaultConfig = Config{
	Skipper:    middleware.DefaultSkipper,
	Identifier: RealIP,
	Default:    Limit{Rate: 25, Burst: 25},
	Message:    DefaultMessage,
}

// New returns a rate limit middleware that allows limit per client
// address. It panics on an invalid limit; use Config.ToMiddleware to get
// an error instead.
func New(limit Limit) echo.MiddlewareFunc {
	c := DefaultConfig
	c.Default = limit
	return WithConfig(c)
}

// WithConfig returns a rate limit middleware with config. It panics on an
// invalid config; use Config.ToMiddleware to get an error instead.
func WithConfig(config Config) echo.MiddlewareFunc {
	mw, err := config.ToMiddleware()
	if err != nil {
		panic(err)
	}
	return mw
}

// bucket is a limit ready to use: its route name and header value made once.
type bucket struct {
	route  string
	limit  Limit
	header string // strconv.Itoa(limit.Burst)
}

// ToMiddleware validates config, fills in defaults and returns the
// middleware.
func (config Config) ToMiddleware() (echo.MiddlewareFunc, error) {
	if config.Skipper == nil {
		config.Skipper = DefaultConfig.Skipper
	}
	if config.Identifier == nil {
		config.Identifier = DefaultConfig.Identifier
	}
	if config.Default == (Limit{}) {
		config.Default = DefaultConfig.Default
	}
	if config.Store == nil {
		config.Store = NewMemoryStore(MemoryStoreConfig{})
	}
	if config.Message == "" {
		config.Message = DefaultMessage
	}
	def, err := config.Default.normalize()
	if err != nil {
		return nil, fmt.Errorf("ratelimit: default limit: %w", err)
	}
	defBucket := &bucket{limit: def, header: strconv.Itoa(def.Burst)}
	routes := map[string]map[string]*bucket{} // method -> path -> bucket
	for name, l := range config.Routes {
		method, path, ok := strings.Cut(name, " ")
		if !ok || method == "" || method != strings.ToUpper(method) || strings.ContainsAny(method, " \t") ||
			!strings.HasPrefix(path, "/") || strings.ContainsAny(path, " \t") {
			return nil, fmt.Errorf("ratelimit: route %q: want \"METHOD /path\", like \"POST /v1/charges\"", name)
		}
		l, err := l.normalize()
		if err != nil {
			return nil, fmt.Errorf("ratelimit: route %q: %w", name, err)
		}
		if routes[method] == nil {
			routes[method] = map[string]*bucket{}
		}
		routes[method][path] = &bucket{route: name, limit: l, header: strconv.Itoa(l.Burst)}
	}
	var denyBody any = ErrorBody{Error: ErrorDetail{Type: "rate_limit_error", Code: "rate_limit", Message: config.Message}}

	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if config.Skipper(c) {
				return next(c)
			}
			id, err := config.Identifier(c)
			if err != nil {
				return err
			}
			b := defBucket
			if len(routes) > 0 {
				path := c.Path()
				if path == "" {
					path = c.Request().URL.Path
				}
				if rb, ok := routes[c.Request().Method][path]; ok {
					b = rb
				}
			}
			res, err := config.Store.Take(c.Request().Context(), Key{Scope: config.Scope, Route: b.route, ID: id}, b.limit)
			if err != nil {
				return storeError(err)
			}
			h := c.Response().Header()
			if !config.DisableHeaders {
				// One allocation for both values; keys already canonical.
				v := &[2]string{b.header, strconv.Itoa(res.Remaining)}
				h[canonicalLimit] = v[0:1:1]
				h[canonicalRemaining] = v[1:2:2]
			}
			if !res.Allowed {
				h.Set(echo.HeaderRetryAfter, strconv.FormatInt(retryAfterSeconds(res.RetryAfter), 10))
				return &echo.HTTPError{Code: http.StatusTooManyRequests, Message: denyBody, Internal: ErrRateLimited}
			}
			return next(c)
		}
	}, nil
}

// retryAfterSeconds rounds d up to whole seconds, at least 1.
func retryAfterSeconds(d time.Duration) int64 {
	s := int64((d + time.Second - 1) / time.Second)
	return max(s, 1)
}

// RealIP identifies a request by its client's address: echo's IPExtractor
// when the server set one (behind a proxy, set e.IPExtractor to
// echo.ExtractIPFromXFFHeader with the proxies it trusts), and otherwise
// the connection's remote address, never a header the client could forge.
// IPv6 addresses count per /64, the block one host usually holds.
func RealIP(c echo.Context) (string, error) {
	var ip string
	if c.Echo() != nil && c.Echo().IPExtractor != nil {
		ip = c.Echo().IPExtractor(c.Request())
	} else {
		ip = echo.ExtractIPDirect()(c.Request())
	}
	if ip == "" {
		return "", errNoIP
	}
	if strings.IndexByte(ip, ':') < 0 {
		return ip, nil // IPv4: as it is, without parsing or allocating
	}
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return ip, nil
	}
	if addr.Is4In6() {
		return addr.Unmap().String(), nil
	}
	p, err := addr.WithZone("").Prefix(64)
	if err != nil {
		return ip, nil
	}
	return p.String(), nil
}

var errNoIP = &echo.HTTPError{Code: http.StatusBadRequest,
	Message:  ErrorBody{Error: ErrorDetail{Type: "invalid_request_error", Message: "The client address could not be determined."}},
	Internal: errors.New("ratelimit: no client address")}
