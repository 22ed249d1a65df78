// Package proxy versions an HTTP API from outside, whatever its language:
// a reverse proxy (net/http/httputil) in front of an upstream that knows
// only the newest schema, wrapped by the versioning middleware of package
// server. It is what `verso proxy` runs.
//
//	engine := transform.New(timeline, nil)
//	h, err := proxy.Config{
//		Upstream:  upstreamURL, // http://127.0.0.1:3000
//		Engine:    engine,
//		Pins:      pinStore,
//		Salt:      salt,        // proxy.LoadSalt(ctx, db)
//		AuthCheck: "GET /v1/me", // the pin endpoints, for accepted credentials
//	}.Handler()
//	http.ListenAndServe("127.0.0.1:4243", h)
//
// For each request the middleware chooses the version (the version header,
// else the account's pin, pinned to the newest on the account's first
// request), walks the request forward to the newest schema, and walks the
// upstream's response back to the client's version; deprecation headers,
// endpoint ops and metrics are the middleware's own. At the newest version,
// and at any version whose walk back changes nothing, the response streams
// from the upstream untouched.
//
// # Accounts
//
// Pins need an account. With Config.AccountHeader the account is that
// request header, which a trusted layer in front of the proxy (an API
// gateway that authenticated the caller) must set: a client could claim
// any account through it otherwise. Without it the account is derived
// from the Authorization header: HMAC-SHA-256 of the header's value keyed
// with Config.Salt, so the credentials are never stored, only a keyed hash
// ("auth_" and 32 hex digits). A request with neither has no account and
// is served in its header's version, or the newest.
//
// # Pins
//
// With Config.Pins and Config.AuthCheck, a request ("GET /v1/me") the
// upstream answers 2xx only for valid credentials, the proxy answers the
// pin endpoints of package pinhttp itself (GET and POST
// /v1/account/api_version, POST /v1/account/api_version/rollback, at
// Config.PinPath), once the upstream has accepted the caller's
// credentials for the check; the upstream's 401 or 403 is the answer
// otherwise. Without an auth check nothing proves who may read or move a
// pin: the proxy does not answer them, and they reach the upstream like
// any other request.
//
// # What the upstream sees
//
// The request in the newest schema, with the version header naming the
// version the client is served in (for the behaviour changes only the
// upstream can make), the hop-by-hop headers removed and X-Forwarded-For,
// X-Forwarded-Host and X-Forwarded-Proto set as httputil.ProxyRequest's
// SetXForwarded sets them: X-Forwarded-For is the client's address alone;
// what the client sent in these headers is dropped.
//
// # Compression
//
// An answer the upstream gzipped reaches a client that accepts gzip
// gzipped, at every version. At a version whose answers are walked back,
// the proxy asks the upstream for gzip only (a coding it can read),
// decompresses the answer (at most Config.MaxResponseBytes once
// decompressed), lets the middleware walk it, and compresses the walked
// body again; a client that does not accept gzip gets it in the clear.
// At the newest version the answer streams through as the upstream sent
// it.
//
// # Faults
//
// Config.UpstreamTimeout bounds the upstream. At a version whose answers
// are walked back (they are read in full first), the whole answer must
// arrive within it: a body that stalls midway or never ends gets 504 and
// both connections are freed. At other versions the answer streams; the
// upstream's connection may stay silent for at most that long, then the
// answer is cut and the connections closed. A client body that cannot be
// read (a malformed chunked encoding) is the client's fault: 400
// (apierror.ErrBodyUnreadable), never a 502 blaming the upstream; one of
// unknown length is bounded by Config.MaxBodyBytes like one that declares
// it (413). A Connection
// header may not name the headers the proxy relies on and forwards end to
// end (Authorization, Cookie, Content-Type, Content-Length,
// Content-Encoding, the version and account headers): 400; an upstream's
// Connection header cannot strip Content-Type, Content-Encoding or
// Content-Length from its answer. A connection may switch protocols
// (Upgrade: websocket) only at a version at which no change touches
// bodies, status codes or headers, since what passes over it is not
// walked; elsewhere, and for h2c at every version (the requests that
// followed on it would bypass versioning), it is refused with 400
// (upgrade_refused).
//
// # Errors
//
// Errors are in the API's shape, {"error":{"type":...,"code":...,
// "message":...}}, and walked back like the upstream's own: an unknown
// version or a malformed body gets the middleware's 400; an upstream that
// cannot be reached, or whose gzip is corrupt, 502 (upstream_unavailable,
// ErrUpstreamUnavailable) after at most Config.DialTimeout; an upstream
// too slow 504 (upstream_timeout, ErrUpstreamTimeout); a JSON answer over
// Config.MaxResponseBytes at a version that walks it back 500
// (api_error), logged.
package proxy
