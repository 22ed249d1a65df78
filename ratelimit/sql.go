package ratelimit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/verso-api/verso/storage"
)

// DefaultTable is the table NewSQLStore keeps buckets in.
const DefaultTable = "ratelimit_buckets"

// SQLStore is a Store in a SQLite or PostgreSQL database (a *storage.DB).
// On PostgreSQL every server using the database shares the buckets, so a
// limit holds across all of them rather than per server. Each Take is one
// statement: an upsert that moves the bucket only when it has a token, so
// concurrent requests on any number of servers never take more than the
// bucket holds.
//
// A bucket is kept as the time it will be full again, in microseconds
// since the Unix epoch, as MemoryStore keeps it in nanoseconds.
type SQLStore struct {
	db        *storage.DB
	clock     func() time.Time
	idle      time.Duration
	nextSweep atomic.Int64
	take, get string
	sweep     string
}

// NewSQLStore creates the table of buckets if it does not exist and returns
// a store over it.
func NewSQLStore(ctx context.Context, db *storage.DB, opts *Options) (*SQLStore, error) {
	if db == nil {
		return nil, errors.New("ratelimit: nil database")
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Table == "" {
		o.Table = DefaultTable
	}
	if !storage.ValidTable(o.Table) {
		return nil, fmt.Errorf("ratelimit: invalid table name %q", o.Table)
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 10 * time.Minute
	}
	t := o.Table
	if err := db.Migrate(ctx,
		`CREATE TABLE IF NOT EXISTS `+t+` (
			scope   TEXT   NOT NULL,
			route   TEXT   NOT NULL,
			id      TEXT   NOT NULL,
			full_at BIGINT NOT NULL,
			PRIMARY KEY (scope, route, id))`,
		`CREATE INDEX IF NOT EXISTS `+t+`_full_at ON `+t+` (full_at)`,
	); err != nil {
		return nil, fmt.Errorf("ratelimit: %w", err)
	}
	greatest := "MAX"
	if db.Dialect == storage.Postgres {
		greatest = "GREATEST"
	}
	s := &SQLStore{db: db, clock: o.Clock, idle: o.IdleTimeout}
	// Arguments: scope, route, id, now+iv (a new bucket), then now, iv,
	// now, iv, iv*burst, now.
	s.take = `INSERT INTO ` + t + ` (scope, route, id, full_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (scope, route, id) DO UPDATE SET full_at = ` + greatest + `(` + t + `.full_at, ?) + ?
		WHERE ` + greatest + `(` + t + `.full_at, ?) + ? - ? <= ?
		RETURNING full_at`
	s.get = `SELECT full_at FROM ` + t + ` WHERE scope = ? AND route = ? AND id = ?`
	s.sweep = `DELETE FROM ` + t + ` WHERE full_at <= ?`
	s.nextSweep.Store(o.Clock().Add(o.IdleTimeout).UnixMicro())
	return s, nil
}

// Take implements Store.
func (s *SQLStore) Take(ctx context.Context, key Key, limit Limit) (Result, error) {
	ivNS, err := limit.interval()
	if err != nil {
		return Result{}, err
	}
	iv := max(ivNS/1000, 1)
	burst := int64(limit.Burst)
	now := s.clock().UnixMicro()
	if next := s.nextSweep.Load(); now >= next && s.nextSweep.CompareAndSwap(next, now+s.idle.Microseconds()) {
		if _, err := s.Sweep(ctx); err != nil {
			return Result{}, err
		}
	}
	var full int64
	err = s.db.QueryRow(ctx, s.take, key.Scope, key.Route, key.ID, now+iv, now, iv, now, iv, iv*burst, now).Scan(&full)
	switch {
	case err == nil:
		allowAt := full - iv*burst
		return Result{Allowed: true, Limit: limit.Burst, Remaining: int(min((now-allowAt)/iv, burst-1))}, nil
	case !errors.Is(err, sql.ErrNoRows):
		return Result{}, fmt.Errorf("ratelimit: take: %w", err)
	}
	// No token: the row was left alone. Read when the next one is back.
	if err := s.db.QueryRow(ctx, s.get, key.Scope, key.Route, key.ID).Scan(&full); err != nil {
		return Result{}, fmt.Errorf("ratelimit: take: %w", err)
	}
	wait := max(full+iv-iv*burst-now, 1)
	return Result{Limit: limit.Burst, RetryAfter: time.Duration(wait) * time.Microsecond}, nil
}

// Sweep deletes the buckets that have been full for IdleTimeout and returns
// how many it deleted. Take calls it every IdleTimeout.
func (s *SQLStore) Sweep(ctx context.Context) (int, error) {
	r, err := s.db.Exec(ctx, s.sweep, s.clock().Add(-s.idle).UnixMicro())
	if err != nil {
		return 0, fmt.Errorf("ratelimit: sweep: %w", err)
	}
	n, _ := r.RowsAffected()
	return int(n), nil
}
