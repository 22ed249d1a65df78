// Package ratelimit provides echo middleware that limits how fast each
// client may call an API, with token buckets, answering in Stripe's shape.
//
// Each identifier (an API key, an account, a client address) has a bucket
// of Limit.Burst tokens refilled at Limit.Rate per second; a request takes
// one. A request finding the bucket empty gets 429 with a Retry-After
// header (whole seconds until a token is back, at least 1) and the body
//
//	{"error":{"type":"rate_limit_error","code":"rate_limit","message":"Too many requests..."}}
//
// Every answer also carries X-RateLimit-Limit (the burst) and
// X-RateLimit-Remaining unless Config.DisableHeaders is set.
//
// Endpoints listed in Config.Routes get buckets of their own, with their
// own limit, instead of the default one. A server usually runs two
// instances of the middleware: one per client address before
// authentication, so a flood of bad keys is cut off early, and one per
// account after it:
//
//	e.Pre(ratelimit.WithConfig(ratelimit.Config{
//		Scope:   "ip",
//		Default: ratelimit.Per(100, time.Second),
//	}))
//	e.Use(auth)
//	e.Use(ratelimit.WithConfig(ratelimit.Config{
//		Scope:      "key",
//		Identifier: func(c echo.Context) (string, error) { return accountOf(c), nil },
//		Default:    ratelimit.Per(25, time.Second),
//		Routes:     map[string]ratelimit.Limit{"POST /v1/charges": ratelimit.Per(5, time.Second)},
//	}))
//
// Buckets live in a Store. MemoryStore keeps them in the process, sharded
// by key, and sweeps out buckets that have been full for a while, so its
// size follows the clients active recently rather than every client ever
// seen. Servers sharing limits implement Store over a shared database.
//
// The buckets are this package's own rather than golang.org/x/time/rate:
// each is one int64 (the time it is full again) in a map, taken and
// checked in one step under the shard's lock with the clock the store was
// given, which yields the remaining count, the exact wait for Retry-After
// and the idle test for eviction without a Reserve-then-Cancel dance, and
// without an allocation per request.
package ratelimit
