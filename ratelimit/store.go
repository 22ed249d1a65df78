package ratelimit

import "time"

// Store keeps the token buckets. The memory store is built in; a store
// shared by several servers (Redis, SQL) implements the same method.
type Store interface {
	// Take takes one token from the bucket of key, whose size and refill
	// rate are limit, and reports whether there was one. A key seen for
	// the first time starts with a full bucket.
	Take(key Key, limit Limit) (Result, error)
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
