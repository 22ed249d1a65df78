package ratelimit

import (
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"github.com/verso-api/verso/apierror"
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

// DefaultRate and DefaultBurst make the limit of Config.Default when it is
// zero: 25 requests per second with a burst of 25.
const (
	DefaultRate  = 25
	DefaultBurst = 25
)

// Config defines the config for the rate limit middleware. The zero value
// of every field takes its default.
type Config struct {
	// Skipper returns true for requests the middleware lets through
	// uncounted.
	// Optional. Default value: none skipped.
	Skipper func(*http.Request) bool

	// Identifier returns the key requests are counted under: the account
	// or API key for a limiter after authentication, the client's address
	// for one before it. An error is answered by ErrorHandler as it is, so
	// an *apierror.Error (a 401, say) reaches the client unchanged. An
	// empty identifier is a key like any other: every such request shares
	// it.
	// Optional. Default value ClientAddr.
	Identifier func(*http.Request) (string, error)

	// Scope tells apart limiters sharing one Store, for example "ip" and
	// "key"; it is part of every Key.
	// Optional. Default value "".
	Scope string

	// Default is the limit of every route not in Routes.
	// Optional. Default value: DefaultRate per second, burst DefaultBurst.
	Default Limit

	// Routes gives some endpoints their own limit, keyed by method and
	// route path as Route returns it: "POST /v1/charges",
	// "GET /v1/customers/{id}". A request to such a route is counted in a
	// bucket of that route, per identifier, instead of the Default bucket.
	// Optional. Default value: none.
	Routes map[string]Limit

	// Route returns the route path of a request, matched against Routes.
	// Optional. Default value RoutePath: the path of the http.ServeMux
	// pattern that matched the request when there is one (the middleware
	// wraps a route's handler), its URL path otherwise.
	Route func(*http.Request) string

	// Store keeps the buckets.
	// Optional. Default value: a new NewMemoryStore(nil).
	Store Store

	// Message is the message of the 429.
	// Optional. Default value: ErrRateLimited's.
	Message string

	// DisableHeaders turns off the X-RateLimit-Limit and
	// X-RateLimit-Remaining response headers. Retry-After is always sent
	// with a 429.
	// Optional. Default value false.
	DisableHeaders bool

	// ErrorHandler answers the 429 (ErrRateLimited), a failing store
	// (ErrStore) and the errors of Identifier.
	// Optional. Default value apierror.Write: the API's error shape, from
	// the request's context.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
}

// Middleware returns a rate limit middleware that allows limit per client
// address. It panics on an invalid limit; use Config.ToMiddleware to get
// an error instead.
func Middleware(limit Limit) func(http.Handler) http.Handler {
	mw, err := Config{Default: limit}.ToMiddleware()
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

// limiter is a validated Config.
type limiter struct {
	Config
	def    *bucket
	routes map[string]map[string]*bucket // method -> path -> bucket
	deny   *apierror.Error
}

// ToMiddleware validates config, fills in defaults and returns the
// middleware.
func (config Config) ToMiddleware() (func(http.Handler) http.Handler, error) {
	l, err := config.limiter()
	if err != nil {
		return nil, err
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if l.allow(w, r) {
				next.ServeHTTP(w, r)
			}
		})
	}, nil
}

func (config Config) limiter() (*limiter, error) {
	if config.Skipper == nil {
		config.Skipper = func(*http.Request) bool { return false }
	}
	if config.Identifier == nil {
		config.Identifier = ClientAddr
	}
	if config.Route == nil {
		config.Route = RoutePath
	}
	if config.Default == (Limit{}) {
		config.Default = Limit{Rate: DefaultRate, Burst: DefaultBurst}
	}
	if config.Store == nil {
		config.Store = NewMemoryStore(nil)
	}
	if config.ErrorHandler == nil {
		config.ErrorHandler = apierror.Write
	}
	def, err := config.Default.normalize()
	if err != nil {
		return nil, errorf("default limit: %w", err)
	}
	l := &limiter{Config: config, def: &bucket{limit: def, header: strconv.Itoa(def.Burst)},
		routes: map[string]map[string]*bucket{}, deny: ErrRateLimited}
	if config.Message != "" {
		l.deny = ErrRateLimited.With(config.Message)
	}
	for name, lim := range config.Routes {
		method, path, ok := strings.Cut(name, " ")
		if !ok || method == "" || method != strings.ToUpper(method) || strings.ContainsAny(method, " \t") ||
			!strings.HasPrefix(path, "/") || strings.ContainsAny(path, " \t") {
			return nil, errorf("route %q: want \"METHOD /path\", like \"POST /v1/charges\"", name)
		}
		lim, err := lim.normalize()
		if err != nil {
			return nil, errorf("route %q: %w", name, err)
		}
		if l.routes[method] == nil {
			l.routes[method] = map[string]*bucket{}
		}
		l.routes[method][path] = &bucket{route: name, limit: lim, header: strconv.Itoa(lim.Burst)}
	}
	return l, nil
}

// allow takes a token for r, and answers the request itself (429, an
// error) when it does not pass.
func (l *limiter) allow(w http.ResponseWriter, r *http.Request) bool {
	if l.Skipper(r) {
		return true
	}
	id, err := l.Identifier(r)
	if err != nil {
		l.ErrorHandler(w, r, err)
		return false
	}
	b := l.def
	if len(l.routes) > 0 {
		if rb, ok := l.routes[r.Method][l.Route(r)]; ok {
			b = rb
		}
	}
	res, err := l.Store.Take(r.Context(), Key{Scope: l.Scope, Route: b.route, ID: id}, b.limit)
	if err != nil {
		l.ErrorHandler(w, r, ErrStore.Wrap(err))
		return false
	}
	h := w.Header()
	if !l.DisableHeaders {
		// One allocation for both values; keys already canonical.
		v := &[2]string{b.header, strconv.Itoa(res.Remaining)}
		h[canonicalLimit] = v[0:1:1]
		h[canonicalRemaining] = v[1:2:2]
	}
	if !res.Allowed {
		l.ErrorHandler(w, r, l.deny.WithRetryAfter(res.RetryAfter))
		return false
	}
	return true
}

// RoutePath returns the route path of r: the path of the http.ServeMux
// pattern that matched it ("/v1/customers/{id}" for the pattern
// "GET /v1/customers/{id}") when the middleware runs inside the mux's
// route, and the URL path otherwise.
func RoutePath(r *http.Request) string {
	p := r.Pattern
	if p == "" {
		return r.URL.Path
	}
	if i := strings.IndexAny(p, " \t"); i >= 0 { // "METHOD [HOST]/PATH"
		p = strings.TrimLeft(p[i:], " \t")
	}
	if i := strings.IndexByte(p, '/'); i > 0 { // a host before the path
		p = p[i:]
	}
	return p
}

// ClientAddr identifies a request by its client's address: the
// connection's remote address (r.RemoteAddr), never a header the client
// could forge; behind a proxy, set Config.Identifier to read the address
// the proxy vouches for and pass it through ClientKey.
func ClientAddr(r *http.Request) (string, error) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if host == "" {
		return "", ErrNoAddress
	}
	return ClientKey(host), nil
}

// ClientKey returns the key a client address counts under: an IPv4
// address as it is, an IPv6 address per /64 (the block one host usually
// holds), and anything else unchanged.
func ClientKey(ip string) string {
	if strings.IndexByte(ip, ':') < 0 {
		return ip // IPv4: as it is, without parsing or allocating
	}
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	if addr.Is4In6() {
		return addr.Unmap().String()
	}
	p, err := addr.WithZone("").Prefix(64)
	if err != nil {
		return ip
	}
	return p.String()
}
