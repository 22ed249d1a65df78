package pins

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/verso-api/verso/storage"
	"github.com/verso-api/verso/versions"
)

// SQLStore is a Store in a SQL database: a SQLite file (the embedded
// default) or PostgreSQL (for servers on several machines). Pins live in
// the table verso_pins and their history in verso_pin_history; times are
// stored as Unix nanoseconds.
type SQLStore struct {
	db   *storage.DB
	opts Options
}

var _ Store = (*SQLStore)(nil)

// NewSQLStore returns a Store in db, SQLite or PostgreSQL, creating its
// tables if needed; nil opts means the defaults. The caller owns db and
// closes it.
func NewSQLStore(ctx context.Context, db *storage.DB, opts *Options) (*SQLStore, error) {
	if db == nil {
		return nil, errors.New("pins: nil database")
	}
	stmts := schema
	if db.Dialect == storage.Postgres {
		stmts = append([]string{fmt.Sprintf("SELECT pg_advisory_xact_lock(%d)", migrateLock)}, schema...)
	}
	if err := db.Migrate(ctx, stmts...); err != nil {
		return nil, fmt.Errorf("pins: %w", err)
	}
	return &SQLStore{db: db, opts: withDefaults(opts)}, nil
}

// migrateLock is the PostgreSQL advisory lock key that serializes the
// creation of the pin tables when several servers start at once
// (concurrent CREATE TABLE IF NOT EXISTS can otherwise fail).
const migrateLock = 0x7665_7273_6f70_696e // "versopin"

var schema = []string{
	`CREATE TABLE IF NOT EXISTS verso_pins (
		account      TEXT PRIMARY KEY,
		version      TEXT NOT NULL,
		previous     TEXT,
		pinned_at_ns BIGINT NOT NULL,
		moved_at_ns  BIGINT,
		seq          BIGINT NOT NULL
	)`,
	`CREATE TABLE IF NOT EXISTS verso_pin_history (
		account      TEXT NOT NULL,
		seq          BIGINT NOT NULL,
		kind         TEXT NOT NULL,
		from_version TEXT,
		to_version   TEXT NOT NULL,
		at_ns        BIGINT NOT NULL,
		PRIMARY KEY (account, seq)
	)`,
	`CREATE TABLE IF NOT EXISTS verso_pin_requests (
		version  TEXT NOT NULL,
		hour_s   BIGINT NOT NULL,
		requests BIGINT NOT NULL,
		PRIMARY KEY (version, hour_s)
	)`,
	`CREATE INDEX IF NOT EXISTS verso_pins_version ON verso_pins (version)`,
	`CREATE TABLE IF NOT EXISTS verso_pin_usage (
		version  TEXT NOT NULL,
		day_s    BIGINT NOT NULL,
		account  TEXT NOT NULL,
		requests BIGINT NOT NULL,
		PRIMARY KEY (version, day_s, account)
	)`,
	`CREATE INDEX IF NOT EXISTS verso_pin_usage_day ON verso_pin_usage (day_s)`,
}

// DB returns the database the store uses.
func (s *SQLStore) DB() *storage.DB { return s.db }

const selectPin = `SELECT account, version, previous, pinned_at_ns, moved_at_ns, seq FROM verso_pins WHERE account = ?`

type querier interface {
	QueryRow(ctx context.Context, q string, args ...any) *sql.Row
}

// getPin reads a pin and its change count.
func getPin(ctx context.Context, q querier, query, account string) (Pin, int64, error) {
	var (
		p      Pin
		pinned int64
		moved  sql.NullInt64
		seq    int64
	)
	err := q.QueryRow(ctx, query, account).Scan(&p.Account, &p.Version, &p.Previous, &pinned, &moved, &seq)
	if errors.Is(err, sql.ErrNoRows) {
		return Pin{}, 0, ErrNotPinned
	}
	if err != nil {
		return Pin{}, 0, fmt.Errorf("pins: get %q: %w", account, err)
	}
	p.PinnedAt = fromNanos(pinned)
	if moved.Valid {
		p.MovedAt = fromNanos(moved.Int64)
	}
	return p, seq, nil
}

func fromNanos(ns int64) time.Time { return time.Unix(0, ns).UTC() }

func nanos(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixNano()
}

// Get implements Store.
func (s *SQLStore) Get(ctx context.Context, account string) (Pin, error) {
	if err := checkAccount(account); err != nil {
		return Pin{}, err
	}
	p, _, err := getPin(ctx, s.db, selectPin, account)
	return p, err
}

// PinIfAbsent implements Store. The database's primary key on the account
// decides which of several racing callers pins: INSERT ... ON CONFLICT DO
// NOTHING stores at most one row, and the losers read the winner's.
func (s *SQLStore) PinIfAbsent(ctx context.Context, account string, v versions.Version) (Pin, bool, error) {
	if err := checkArgs(account, v); err != nil {
		return Pin{}, false, err
	}
	now := s.opts.now()
	created := false
	err := s.db.InTx(ctx, func(tx *storage.Tx) error {
		res, err := tx.Exec(ctx, `INSERT INTO verso_pins (account, version, pinned_at_ns, seq) VALUES (?, ?, ?, 1)
			ON CONFLICT (account) DO NOTHING`, account, v, now.UnixNano())
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		created = true
		return insertChange(ctx, tx, 1, Change{Account: account, Kind: Pinned, To: v, At: now})
	})
	if err != nil {
		return Pin{}, false, fmt.Errorf("pins: pin %q: %w", account, err)
	}
	if created {
		return Pin{Account: account, Version: v, PinnedAt: now}, true, nil
	}
	p, err := s.Get(ctx, account)
	return p, false, err
}

func insertChange(ctx context.Context, tx *storage.Tx, seq int64, c Change) error {
	_, err := tx.Exec(ctx, `INSERT INTO verso_pin_history (account, seq, kind, from_version, to_version, at_ns)
		VALUES (?, ?, ?, ?, ?, ?)`, c.Account, seq, string(c.Kind), c.From, c.To, c.At.UnixNano())
	return err
}

// Upgrade implements Store.
func (s *SQLStore) Upgrade(ctx context.Context, account string, to versions.Version) (Pin, error) {
	if err := checkArgs(account, to); err != nil {
		return Pin{}, err
	}
	return s.move(ctx, account, func(p Pin) (Pin, Change, error) { return upgrade(p, to, s.opts.now()) })
}

// Rollback implements Store.
func (s *SQLStore) Rollback(ctx context.Context, account string) (Pin, error) {
	if err := checkAccount(account); err != nil {
		return Pin{}, err
	}
	return s.move(ctx, account, func(p Pin) (Pin, Change, error) { return rollback(p, s.opts.RollbackWindow, s.opts.now()) })
}

// move reads the pin with a write lock (SQLite write transactions are
// immediate; PostgreSQL takes the row with FOR UPDATE), applies f, and
// writes the pin and the change in the same transaction.
func (s *SQLStore) move(ctx context.Context, account string, f func(Pin) (Pin, Change, error)) (Pin, error) {
	query := selectPin
	if s.db.Dialect == storage.Postgres {
		query += ` FOR UPDATE`
	}
	var out Pin
	err := s.db.InTx(ctx, func(tx *storage.Tx) error {
		p, seq, err := getPin(ctx, tx, query, account)
		if err != nil {
			return err
		}
		p, c, err := f(p)
		out = p
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE verso_pins SET version = ?, previous = ?, moved_at_ns = ?, seq = ? WHERE account = ?`,
			p.Version, p.Previous, nanos(p.MovedAt), seq+1, account); err != nil {
			return fmt.Errorf("pins: update %q: %w", account, err)
		}
		if err := insertChange(ctx, tx, seq+1, c); err != nil {
			return fmt.Errorf("pins: record change of %q: %w", account, err)
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, ErrNotPinned) {
			return Pin{}, err
		}
		return out, err
	}
	return out, nil
}

// History implements Store.
func (s *SQLStore) History(ctx context.Context, account string) ([]Change, error) {
	if err := checkAccount(account); err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT kind, from_version, to_version, at_ns FROM verso_pin_history
		WHERE account = ? ORDER BY seq`, account)
	if err != nil {
		return nil, fmt.Errorf("pins: history of %q: %w", account, err)
	}
	defer rows.Close()
	var out []Change
	for rows.Next() {
		var (
			c    = Change{Account: account}
			kind string
			at   int64
		)
		if err := rows.Scan(&kind, &c.From, &c.To, &at); err != nil {
			return nil, fmt.Errorf("pins: history of %q: %w", account, err)
		}
		c.Kind, c.At = Kind(kind), fromNanos(at)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pins: history of %q: %w", account, err)
	}
	return out, nil
}

// usageBatch is how many rows one upsert of CountRequests writes.
const usageBatch = 200

// CountRequests implements Store: in one transaction, one upsert per
// version into verso_pin_requests, upserts of the accounts' counts into
// verso_pin_usage, usageBatch rows a statement, and the deletion of the
// counts older than the retention.
func (s *SQLStore) CountRequests(ctx context.Context, served []Served) error {
	perVersion, perAccount, err := sumServed(served)
	if err != nil {
		return err
	}
	if len(perVersion) == 0 {
		return nil
	}
	now := s.opts.now()
	h, d := hour(now).Unix(), day(now).Unix()
	cut := now.Add(-s.opts.Retention)
	keys := make([]servedKey, 0, len(perAccount))
	for k := range perAccount {
		keys = append(keys, k)
	}
	// A stable order: concurrent flushes lock rows in the same order.
	slices.SortFunc(keys, func(a, b servedKey) int {
		if c := versions.Compare(a.v, b.v); c != 0 {
			return c
		}
		return strings.Compare(a.account, b.account)
	})
	err = s.db.InTx(ctx, func(tx *storage.Tx) error {
		for _, v := range slices.SortedFunc(maps.Keys(perVersion), versions.Compare) {
			if _, err := tx.Exec(ctx, `INSERT INTO verso_pin_requests (version, hour_s, requests) VALUES (?, ?, ?)
				ON CONFLICT (version, hour_s) DO UPDATE SET requests = verso_pin_requests.requests + excluded.requests`, v, h, perVersion[v]); err != nil {
				return err
			}
		}
		for batch := range slices.Chunk(keys, usageBatch) {
			var q strings.Builder
			q.WriteString(`INSERT INTO verso_pin_usage (version, day_s, account, requests) VALUES `)
			args := make([]any, 0, 4*len(batch))
			for i, k := range batch {
				if i > 0 {
					q.WriteString(", ")
				}
				q.WriteString("(?, ?, ?, ?)")
				args = append(args, k.v, d, k.account, perAccount[k])
			}
			q.WriteString(` ON CONFLICT (version, day_s, account) DO UPDATE SET requests = verso_pin_usage.requests + excluded.requests`)
			if _, err := tx.Exec(ctx, q.String(), args...); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM verso_pin_usage WHERE day_s < ?`, day(cut).Unix()); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM verso_pin_requests WHERE hour_s < ?`, hour(cut).Unix())
		return err
	})
	if err != nil {
		return fmt.Errorf("pins: count requests: %w", err)
	}
	return nil
}

// Users implements Store.
func (s *SQLStore) Users(ctx context.Context, v versions.Version, since time.Time, limit int) ([]Served, error) {
	if v.IsZero() {
		return nil, ErrZeroVersion
	}
	q := `SELECT account, SUM(requests) AS n FROM verso_pin_usage WHERE version = ? AND day_s >= ?
		GROUP BY account ORDER BY n DESC, account`
	args := []any{v, day(since).Unix()}
	if limit > 0 {
		q += ` LIMIT ?`
		args = append(args, limit)
	}
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("pins: users of %s: %w", v, err)
	}
	defer rows.Close()
	var out []Served
	for rows.Next() {
		u := Served{Version: v}
		if err := rows.Scan(&u.Account, &u.Requests); err != nil {
			return nil, fmt.Errorf("pins: users of %s: %w", v, err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pins: users of %s: %w", v, err)
	}
	return out, nil
}

// Census implements Store.
func (s *SQLStore) Census(ctx context.Context, since time.Time) ([]Count, error) {
	by := map[versions.Version]*Count{}
	get := func(v versions.Version) *Count {
		c := by[v]
		if c == nil {
			c = &Count{Version: v}
			by[v] = c
		}
		return c
	}
	scan := func(q string, add func(c *Count, n int64), args ...any) error {
		rows, err := s.db.Query(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				v versions.Version
				n int64
			)
			if err := rows.Scan(&v, &n); err != nil {
				return err
			}
			add(get(v), n)
		}
		return rows.Err()
	}
	if err := scan(`SELECT version, COUNT(*) FROM verso_pins GROUP BY version`, func(c *Count, n int64) { c.Accounts = n }); err != nil {
		return nil, fmt.Errorf("pins: census: %w", err)
	}
	if err := scan(`SELECT version, SUM(requests) FROM verso_pin_requests WHERE hour_s >= ? GROUP BY version`,
		func(c *Count, n int64) { c.Requests = n }, hour(since).Unix()); err != nil {
		return nil, fmt.Errorf("pins: census: %w", err)
	}
	if err := scan(`SELECT version, COUNT(DISTINCT account) FROM verso_pin_usage WHERE day_s >= ? GROUP BY version`,
		func(c *Count, n int64) { c.Active = n }, day(since).Unix()); err != nil {
		return nil, fmt.Errorf("pins: census: %w", err)
	}
	out := make([]Count, 0, len(by))
	for _, c := range by {
		out = append(out, *c)
	}
	sortCensus(out)
	return out, nil
}

// MoveAll implements Store: it locks the pins of from (SQLite write
// transactions are immediate; PostgreSQL takes the rows FOR UPDATE), records
// each move in the history and moves the pins, all in one transaction.
func (s *SQLStore) MoveAll(ctx context.Context, from, to versions.Version) (int, error) {
	if from.IsZero() || to.IsZero() {
		return 0, ErrZeroVersion
	}
	if from == to {
		return 0, ErrSameVersion
	}
	now := s.opts.now().UnixNano()
	var n int64
	err := s.db.InTx(ctx, func(tx *storage.Tx) error {
		if s.db.Dialect == storage.Postgres {
			rows, err := tx.Query(ctx, `SELECT account FROM verso_pins WHERE version = ? FOR UPDATE`, from)
			if err != nil {
				return err
			}
			for rows.Next() {
			}
			if err := rows.Err(); err != nil {
				return err
			}
			rows.Close()
		}
		if _, err := tx.Exec(ctx, `INSERT INTO verso_pin_history (account, seq, kind, from_version, to_version, at_ns)
			SELECT account, seq + 1, ?, version, ?, ? FROM verso_pins WHERE version = ?`, string(Retired), to, now, from); err != nil {
			return err
		}
		res, err := tx.Exec(ctx, `UPDATE verso_pins SET version = ?, previous = NULL, moved_at_ns = ?, seq = seq + 1 WHERE version = ?`, to, now, from)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("pins: move %s to %s: %w", from, to, err)
	}
	return int(n), nil
}

// Set implements Store.
func (s *SQLStore) Set(ctx context.Context, account string, v versions.Version) (Pin, error) {
	if err := checkArgs(account, v); err != nil {
		return Pin{}, err
	}
	var out Pin
	err := s.db.InTx(ctx, func(tx *storage.Tx) error {
		var err error
		out, _, err = s.setTx(ctx, tx, account, v, s.opts.now())
		return err
	})
	if err != nil {
		return Pin{}, fmt.Errorf("pins: set %q: %w", account, err)
	}
	return out, nil
}

// SetMany implements Store.
func (s *SQLStore) SetMany(ctx context.Context, as []Assignment) (int, error) {
	as, err := lastAssignments(as)
	if err != nil {
		return 0, err
	}
	now := s.opts.now()
	n := 0
	err = s.db.InTx(ctx, func(tx *storage.Tx) error {
		n = 0
		for _, a := range as {
			_, changed, err := s.setTx(ctx, tx, a.Account, a.Version, now)
			if err != nil {
				return fmt.Errorf("account %q: %w", a.Account, err)
			}
			if changed {
				n++
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("pins: set many: %w", err)
	}
	return n, nil
}

// setTx sets a pin in tx: it creates the pin if absent (a racing first
// request's PinIfAbsent either comes first, and the pin is then moved, or
// finds the set pin), else moves it with the row locked.
func (s *SQLStore) setTx(ctx context.Context, tx *storage.Tx, account string, v versions.Version, now time.Time) (Pin, bool, error) {
	res, err := tx.Exec(ctx, `INSERT INTO verso_pins (account, version, pinned_at_ns, seq) VALUES (?, ?, ?, 1)
		ON CONFLICT (account) DO NOTHING`, account, v, now.UnixNano())
	if err != nil {
		return Pin{}, false, err
	}
	if n, err := res.RowsAffected(); err != nil {
		return Pin{}, false, err
	} else if n == 1 {
		p, c, _ := set(Pin{Account: account}, false, v, now)
		return p, true, insertChange(ctx, tx, 1, c)
	}
	query := selectPin
	if s.db.Dialect == storage.Postgres {
		query += ` FOR UPDATE`
	}
	p, seq, err := getPin(ctx, tx, query, account)
	if err != nil {
		return Pin{}, false, err
	}
	p, c, ok := set(p, true, v, now)
	if !ok {
		return p, false, nil
	}
	if _, err := tx.Exec(ctx, `UPDATE verso_pins SET version = ?, previous = NULL, moved_at_ns = ?, seq = ? WHERE account = ?`,
		p.Version, nanos(p.MovedAt), seq+1, account); err != nil {
		return Pin{}, false, err
	}
	return p, true, insertChange(ctx, tx, seq+1, c)
}
