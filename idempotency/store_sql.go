package idempotency

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/verso-api/verso/storage"
)

// DefaultTable is the table NewSQLStore keeps keys in.
const DefaultTable = "idempotency_keys"

// SQLStore is a Store in a SQLite or PostgreSQL database (a *storage.DB).
// Keys survive a restart and, on PostgreSQL, are shared by every server using
// the database. Complete can join the handler's own transaction, so the
// handler's writes and the saved response commit together.
type SQLStore struct {
	db *storage.DB
	q  sqlQueries
}

type sqlQueries struct {
	insert, takeover, get, complete, release, sweep string
}

// NewSQLStore creates the table of keys if it does not exist and returns a
// store over it.
func NewSQLStore(ctx context.Context, db *storage.DB, opts *Options) (*SQLStore, error) {
	if db == nil {
		return nil, errors.New("idempotency: nil database")
	}
	table := DefaultTable
	if opts != nil && opts.Table != "" {
		table = opts.Table
	}
	if !storage.ValidTable(table) {
		return nil, fmt.Errorf("idempotency: invalid table name %q", table)
	}
	blob := "BLOB"
	if db.Dialect == storage.Postgres {
		blob = "BYTEA"
	}
	// Times are Unix microseconds. state: 0 in progress, 1 completed.
	err := db.Migrate(ctx,
		`CREATE TABLE IF NOT EXISTS `+table+` (
			account      TEXT    NOT NULL,
			idem_key     TEXT    NOT NULL,
			method       TEXT    NOT NULL,
			path         TEXT    NOT NULL,
			params       TEXT    NOT NULL,
			token        TEXT    NOT NULL,
			state        INTEGER NOT NULL DEFAULT 0,
			locked_until BIGINT  NOT NULL,
			expires_at   BIGINT  NOT NULL,
			status       INTEGER NOT NULL DEFAULT 0,
			header       TEXT    NOT NULL DEFAULT '',
			body         `+blob+`,
			PRIMARY KEY (account, idem_key)
		)`,
		`CREATE INDEX IF NOT EXISTS `+table+`_expires_at ON `+table+` (expires_at)`,
	)
	if err != nil {
		return nil, fmt.Errorf("idempotency: %w", err)
	}
	s := &SQLStore{db: db}
	s.q = sqlQueries{
		insert: `INSERT INTO ` + table + ` (account, idem_key, method, path, params, token, state, locked_until, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?) ON CONFLICT (account, idem_key) DO NOTHING`,
		takeover: `UPDATE ` + table + ` SET method = ?, path = ?, params = ?, token = ?, state = 0,
				locked_until = ?, expires_at = ?, status = 0, header = '', body = NULL
			WHERE account = ? AND idem_key = ? AND (expires_at <= ?
				OR (state = 0 AND locked_until <= ? AND method = ? AND path = ? AND params = ?))`,
		get: `SELECT method, path, params, state, locked_until, expires_at, status, header, body FROM ` + table + `
			WHERE account = ? AND idem_key = ?`,
		complete: `UPDATE ` + table + ` SET state = 1, status = ?, header = ?, body = ?, expires_at = ?
			WHERE account = ? AND idem_key = ? AND token = ? AND state = 0`,
		release: `DELETE FROM ` + table + ` WHERE account = ? AND idem_key = ? AND token = ? AND state = 0`,
		sweep:   `DELETE FROM ` + table + ` WHERE expires_at <= ?`,
	}
	return s, nil
}

// Claim implements Store. It reads the key first; every decision that hands
// the key to the caller is then one atomic statement: an INSERT that does
// nothing on conflict for a new key, a conditional UPDATE for an expired or
// abandoned one. When that statement loses a race, Claim reads again.
func (s *SQLStore) Claim(ctx context.Context, c Claim) (Record, error) {
	now := c.Now.UnixMicro()
	for range 5 {
		var (
			rec                    Record
			state                  int
			lockedUntil, expiresAt int64
			header                 string
			body                   []byte
		)
		err := s.db.QueryRow(ctx, s.q.get, c.Account, c.Key.Key).Scan(
			&rec.Fingerprint.Method, &rec.Fingerprint.Path, &rec.Fingerprint.Params,
			&state, &lockedUntil, &expiresAt, &rec.Response.Status, &header, &body)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			r, err := s.db.Exec(ctx, s.q.insert, c.Account, c.Key.Key, c.Method, c.Path, c.Params, c.Token,
				c.LockedUntil.UnixMicro(), c.ExpiresAt.UnixMicro())
			if err != nil {
				return Record{}, fmt.Errorf("idempotency: claim: %w", err)
			}
			if n, _ := r.RowsAffected(); n == 1 {
				return Record{State: Claimed, Fingerprint: c.Fingerprint}, nil
			}
			continue // another request inserted it first
		case err != nil:
			return Record{}, fmt.Errorf("idempotency: claim: %w", err)
		}
		expired := expiresAt <= now
		abandoned := state == 0 && lockedUntil <= now && rec.Fingerprint == c.Fingerprint
		if expired || abandoned {
			r, err := s.db.Exec(ctx, s.q.takeover, c.Method, c.Path, c.Params, c.Token,
				c.LockedUntil.UnixMicro(), c.ExpiresAt.UnixMicro(),
				c.Account, c.Key.Key, now, now, c.Method, c.Path, c.Params)
			if err != nil {
				return Record{}, fmt.Errorf("idempotency: claim: %w", err)
			}
			if n, _ := r.RowsAffected(); n == 1 {
				return Record{State: Claimed, Fingerprint: c.Fingerprint}, nil
			}
			continue // another request took it over first
		}
		if state == 0 {
			return Record{State: InProgress, Fingerprint: rec.Fingerprint}, nil
		}
		rec.State = Completed
		rec.Response.Body = body
		if header != "" {
			if err := json.Unmarshal([]byte(header), &rec.Response.Header); err != nil {
				return Record{}, fmt.Errorf("idempotency: claim: saved header: %w", err)
			}
		}
		return rec, nil
	}
	return Record{}, errors.New("idempotency: claim: key keeps changing hands")
}

// Complete implements Store. tx, when not nil, must be a transaction on the
// store's database.
func (s *SQLStore) Complete(ctx context.Context, tx *storage.Tx, k Key, token string, res Response, expiresAt time.Time) error {
	header := ""
	if len(res.Header) > 0 {
		b, err := json.Marshal(res.Header)
		if err != nil {
			return fmt.Errorf("idempotency: complete: %w", err)
		}
		header = string(b)
	}
	body := res.Body
	if body == nil {
		body = []byte{}
	}
	args := []any{res.Status, header, body, expiresAt.UnixMicro(), k.Account, k.Key, token}
	var (
		r   sql.Result
		err error
	)
	if tx != nil {
		if tx.DB() != s.db {
			return errors.New("idempotency: complete: transaction is on another database")
		}
		r, err = tx.Exec(ctx, s.q.complete, args...)
	} else {
		r, err = s.db.Exec(ctx, s.q.complete, args...)
	}
	if err != nil {
		return fmt.Errorf("idempotency: complete: %w", err)
	}
	if n, _ := r.RowsAffected(); n != 1 {
		return ErrClaimLost
	}
	return nil
}

// Release implements Store.
func (s *SQLStore) Release(ctx context.Context, k Key, token string) error {
	if _, err := s.db.Exec(ctx, s.q.release, k.Account, k.Key, token); err != nil {
		return fmt.Errorf("idempotency: release: %w", err)
	}
	return nil
}

// Sweep implements Store.
func (s *SQLStore) Sweep(ctx context.Context, now time.Time) (int, error) {
	r, err := s.db.Exec(ctx, s.q.sweep, now.UnixMicro())
	if err != nil {
		return 0, fmt.Errorf("idempotency: sweep: %w", err)
	}
	n, _ := r.RowsAffected()
	return int(n), nil
}
