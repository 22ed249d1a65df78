package ratelimit

import (
	"context"
	"time"
)

// Store keeps the token buckets. MemoryStore (one process, the default)
// and SQLStore (SQLite, or PostgreSQL shared by every server on the
// database) are built in, made with NewMemoryStore(opts) and
// NewSQLStore(ctx, db, opts); the module ratelimit/redisstore keeps them
// in Redis, for servers sharing high request rates.
type Store interface {
	// Take takes one token from the bucket of key, whose size and refill
	// rate are limit, and reports whether there was one. A key seen for
	// the first time starts with a full bucket. ctx bounds a store that
	// asks another server.
	Take(ctx context.Context, key Key, limit Limit) (Result, error)
}

// Options configures a store: NewMemoryStore and NewSQLStore take an
// *Options, and nil means the defaults. A field applies to both stores
// unless it says otherwise.
type Options struct {
	// Clock returns the current time. Servers sharing a database should
	// have clocks in step (NTP): a bucket is read with one server's clock
	// and written with another's.
	// Optional. Default value time.Now.
	Clock func() time.Time

	// IdleTimeout is how long a bucket must have been full before it is
	// dropped (a full bucket is the same as no bucket, so dropping it
	// never lets a request through that would have been refused; the
	// timeout only spares recreating buckets of keys that come back soon).
	// Optional. Default value 1 minute for a MemoryStore, 10 minutes for a
	// SQLStore.
	IdleTimeout time.Duration

	// SweepInterval is how often a MemoryStore's Take looks for buckets to
	// drop (MemoryStore only; a SQLStore sweeps every IdleTimeout).
	// Optional. Default value IdleTimeout.
	SweepInterval time.Duration

	// Table names the table of buckets (SQLStore only): lower-case
	// letters, digits and '_'.
	// Optional. Default value DefaultTable.
	Table string
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
