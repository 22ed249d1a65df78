package ratelimit

import (
	"context"
	"time"
)

// Store keeps the token buckets. MemoryStore (one process, the default)
// and SQLStore (SQLite, or PostgreSQL shared by every server on the
// database) are built in; the module ratelimit/redisstore keeps them in
// Redis, for servers sharing high request rates.
type Store interface {
	// Take takes one token from the bucket of key, whose size and refill
	// rate are limit, and reports whether there was one. A key seen for
	// the first time starts with a full bucket. ctx bounds a store that
	// asks another server.
	Take(ctx context.Context, key Key, limit Limit) (Result, error)
}

// Key names one bucket.
type Key struct {
	Scope string // Config.Scope: tells apart limiters sharing a Store
	Route string // "POST /v1/charges" for a route of Config.Routes, else ""
	ID    string // what Config.Identifier returned
}

// Result is the outcome of Store.Take.
type Result struct {
	Allowed    bool
	Limit      int           // the bucket's size (Limit.Burst)
	Remaining  int           // tokens left after this request
	RetryAfter time.Duration // if !Allowed, until the next token is back
}
