// Package proxy versions an HTTP API from outside, whatever its language:
// a reverse proxy (net/http/httputil) in front of an upstream that knows
// only the newest schema, wrapped by the versioning middleware of package
// server. It is what `verso proxy` runs.
//
//	engine := transform.New(timeline, nil)
//	h, err := proxy.Config{
//		Upstream: upstreamURL, // http://127.0.0.1:3000
//		Engine:   engine,
//		Pins:     pinStore,
//		Salt:     salt, // proxy.LoadSalt(ctx, db)
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
// With Config.Pins the proxy answers the pin endpoints of package pinhttp
// itself (GET and POST /v1/account/api_version, POST
// /v1/account/api_version/rollback, at Config.PinPath); they never reach
// the upstream.
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
// At a version whose responses are walked back, the proxy drops the
// client's Accept-Encoding towards the upstream: the transport then asks
// for gzip itself and decompresses the answer, so the middleware walks
// plain JSON, and the client gets it uncompressed (put compression in
// front of the proxy if it matters). At the newest version Accept-Encoding
// reaches the upstream and its compressed answer streams through.
//
// # Errors
//
// Errors are in the API's shape, {"error":{"type":...,"code":...,
// "message":...}}: an unknown version or a malformed body gets the
// middleware's 400; an upstream that cannot be reached 502
// (upstream_unavailable) after at most Config.DialTimeout; an upstream that
// sends no response headers within Config.ResponseHeaderTimeout 504
// (upstream_timeout); a JSON answer over Config.MaxResponseBytes at a
// version that walks it back the middleware's 500 (api_error), logged.
package proxy
