// Package ratelimit limits how fast each client may call an API, with
// token buckets: a net/http middleware, func(http.Handler) http.Handler,
// answering in the API's error shape. (Package echoratelimit adapts it to
// echo.)
//
// Each identifier (an API key, an account, a client address) has a bucket
// of Limit.Burst tokens refilled at Limit.Rate per second; a request takes
// one. A request finding the bucket empty gets 429 with a Retry-After
// header (whole seconds until a token is back, at least 1) and
// ErrRateLimited, written by Config.ErrorHandler (apierror.Write: the API's
// shape, Stripe's by default):
//
//	{"error":{"type":"rate_limit_error","code":"rate_limit","message":"Too many requests..."}}
//
// Every answer also carries X-RateLimit-Limit (the burst) and
// X-RateLimit-Remaining unless Config.DisableHeaders is set. A store that
// fails is 503 with Retry-After (ErrStore).
//
// Endpoints listed in Config.Routes get buckets of their own, with their
// own limit, instead of the default one. A server usually runs two
// instances of the middleware: one per client address before
// authentication, so a flood of bad keys is cut off early, and one per
// account after it:
//
//	perIP := ratelimit.Middleware(ratelimit.Per(100, time.Second))
//	perKey, err := ratelimit.Config{
//		Scope:      "key",
//		Identifier: func(r *http.Request) (string, error) { return accountFrom(r.Context()), nil },
//		Default:    ratelimit.Per(25, time.Second),
//		Routes:     map[string]ratelimit.Limit{"POST /v1/charges": ratelimit.Per(5, time.Second)},
//	}.ToMiddleware()
//	mux.Handle("POST /v1/charges", perKey(charges)) // inside the route: Routes sees its pattern
//	http.ListenAndServe(addr, perIP(auth(mux)))
//
// # Stores
//
// Buckets live in a Store, made as every store of verso is made:
//
//	store := ratelimit.NewMemoryStore(opts)          // *MemoryStore, one process
//	store, err := ratelimit.NewSQLStore(ctx, db, opts) // *SQLStore, SQLite or PostgreSQL
//
// where opts is an *Options and nil means the defaults. MemoryStore keeps
// buckets in the process, sharded by key, and sweeps out buckets that have
// been full for a while, so its size follows the clients active recently
// rather than every client ever seen. SQLStore on PostgreSQL shares the
// limits across every server on the database; the module
// ratelimit/redisstore keeps them in Redis. Package ratelimittest holds the
// suite they all pass.
//
// The buckets are this package's own rather than golang.org/x/time/rate:
// each is one int64 (the time it is full again) in a map, taken and
// checked in one step under the shard's lock with the clock the store was
// given, which yields the remaining count, the exact wait for Retry-After
// and the idle test for eviction without a Reserve-then-Cancel dance, and
// without an allocation per request.
package ratelimit
