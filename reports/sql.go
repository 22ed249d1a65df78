package reports

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/verso-api/verso/storage"
	"github.com/verso-api/verso/versions"
)

// SQLStore is a Store in a SQL database: a SQLite file (the embedded
// default) or PostgreSQL (servers on several machines sharing one
// account's evidence). Evidence lives in four tables, one row per
// account, change (or version) and day: verso_report_changes (the
// counts), verso_report_names (endpoints, fields and event types per
// change), verso_report_traffic and verso_report_endpoints (requests per
// version served, and their endpoints). Times are Unix nanoseconds; days
// are days since the Unix epoch, in UTC.
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
		return nil, errors.New("reports: nil database")
	}
	stmts := schema
	if db.Dialect == storage.Postgres {
		stmts = append([]string{fmt.Sprintf("SELECT pg_advisory_xact_lock(%d)", migrateLock)}, schema...)
	}
	if err := db.Migrate(ctx, stmts...); err != nil {
		return nil, fmt.Errorf("reports: %w", err)
	}
	return &SQLStore{db: db, opts: withDefaults(opts)}, nil
}

// migrateLock is the PostgreSQL advisory lock key that serializes the
// creation of the tables when several servers start at once.
const migrateLock = 0x7665_7273_6f72_6570 // "versorep"

var schema = []string{
	`CREATE TABLE IF NOT EXISTS verso_report_changes (
		account    TEXT NOT NULL,
		change_id  TEXT NOT NULL,
		day        BIGINT NOT NULL,
		requests   BIGINT NOT NULL,
		responses  BIGINT NOT NULL,
		deliveries BIGINT NOT NULL,
		first_ns   BIGINT NOT NULL,
		last_ns    BIGINT NOT NULL,
		PRIMARY KEY (account, change_id, day)
	)`,
	`CREATE TABLE IF NOT EXISTS verso_report_names (
		account   TEXT NOT NULL,
		change_id TEXT NOT NULL,
		day       BIGINT NOT NULL,
		kind      TEXT NOT NULL,
		name      TEXT NOT NULL,
		n         BIGINT NOT NULL,
		PRIMARY KEY (account, change_id, day, kind, name)
	)`,
	`CREATE TABLE IF NOT EXISTS verso_report_traffic (
		account  TEXT NOT NULL,
		version  TEXT NOT NULL,
		day      BIGINT NOT NULL,
		requests BIGINT NOT NULL,
		header   BIGINT NOT NULL,
		first_ns BIGINT NOT NULL,
		last_ns  BIGINT NOT NULL,
		PRIMARY KEY (account, version, day)
	)`,
	`CREATE TABLE IF NOT EXISTS verso_report_endpoints (
		account  TEXT NOT NULL,
		version  TEXT NOT NULL,
		day      BIGINT NOT NULL,
		endpoint TEXT NOT NULL,
		n        BIGINT NOT NULL,
		PRIMARY KEY (account, version, day, endpoint)
	)`,
	`CREATE INDEX IF NOT EXISTS verso_report_changes_day ON verso_report_changes (day)`,
	`CREATE INDEX IF NOT EXISTS verso_report_names_day ON verso_report_names (day)`,
	`CREATE INDEX IF NOT EXISTS verso_report_traffic_day ON verso_report_traffic (day)`,
	`CREATE INDEX IF NOT EXISTS verso_report_endpoints_day ON verso_report_endpoints (day)`,
}

// DB returns the database the store uses.
func (s *SQLStore) DB() *storage.DB { return s.db }

// Add implements Store: one upsert per row, in one transaction. The
// bound on names is checked against the names stored for the key and day
// in that transaction; servers adding at once on PostgreSQL may pass it
// by a name or two each.
func (s *SQLStore) Add(ctx context.Context, b *Batch) error {
	if err := checkBatch(b); err != nil {
		return err
	}
	if b.Empty() {
		return nil
	}
	d := day(s.opts.now())
	err := s.db.InTx(ctx, func(tx *storage.Tx) error {
		for i := range b.Changes {
			c := &b.Changes[i]
			id := bound(c.Change)
			if _, err := tx.Exec(ctx, `INSERT INTO verso_report_changes
				(account, change_id, day, requests, responses, deliveries, first_ns, last_ns) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (account, change_id, day) DO UPDATE SET
					requests = verso_report_changes.requests + excluded.requests,
					responses = verso_report_changes.responses + excluded.responses,
					deliveries = verso_report_changes.deliveries + excluded.deliveries,
					first_ns = CASE WHEN excluded.first_ns < verso_report_changes.first_ns THEN excluded.first_ns ELSE verso_report_changes.first_ns END,
					last_ns = CASE WHEN excluded.last_ns > verso_report_changes.last_ns THEN excluded.last_ns ELSE verso_report_changes.last_ns END`,
				c.Account, id, d, c.Requests, c.Responses, c.Deliveries, c.First.UnixNano(), c.Last.UnixNano()); err != nil {
				return err
			}
			for kind, counts := range map[string]map[string]int64{kindEndpoint: c.Endpoints, kindField: c.Fields, kindEvent: c.EventTypes} {
				if len(counts) == 0 {
					continue
				}
				err := s.addNames(ctx, tx, counts,
					`SELECT name FROM verso_report_names WHERE account = ? AND change_id = ? AND day = ? AND kind = ?`,
					`INSERT INTO verso_report_names (account, change_id, day, kind, name, n) VALUES (?, ?, ?, ?, ?, ?)
					ON CONFLICT (account, change_id, day, kind, name) DO UPDATE SET n = verso_report_names.n + excluded.n`,
					c.Account, id, d, kind)
				if err != nil {
					return err
				}
			}
		}
		for i := range b.Traffic {
			t := &b.Traffic[i]
			if _, err := tx.Exec(ctx, `INSERT INTO verso_report_traffic
				(account, version, day, requests, header, first_ns, last_ns) VALUES (?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (account, version, day) DO UPDATE SET
					requests = verso_report_traffic.requests + excluded.requests,
					header = verso_report_traffic.header + excluded.header,
					first_ns = CASE WHEN excluded.first_ns < verso_report_traffic.first_ns THEN excluded.first_ns ELSE verso_report_traffic.first_ns END,
					last_ns = CASE WHEN excluded.last_ns > verso_report_traffic.last_ns THEN excluded.last_ns ELSE verso_report_traffic.last_ns END`,
				t.Account, t.Version, d, t.Requests, t.Header, t.First.UnixNano(), t.Last.UnixNano()); err != nil {
				return err
			}
			err := s.addNames(ctx, tx, map[string]int64{t.Endpoint: t.Requests},
				`SELECT endpoint FROM verso_report_endpoints WHERE account = ? AND version = ? AND day = ?`,
				`INSERT INTO verso_report_endpoints (account, version, day, endpoint, n) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (account, version, day, endpoint) DO UPDATE SET n = verso_report_endpoints.n + excluded.n`,
				t.Account, t.Version, d)
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("reports: add: %w", err)
	}
	return nil
}

// addNames upserts counts under the key (the leading arguments of both
// queries), keeping at most MaxNames names besides other: list selects
// the names the key has, upsert adds one name (the key's arguments, then
// the name and its count).
func (s *SQLStore) addNames(ctx context.Context, tx *storage.Tx, counts map[string]int64, list, upsert string, key ...any) error {
	rows, err := tx.Query(ctx, list, key...)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return err
		}
		have[name] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	kept := len(have)
	if have[other] {
		kept--
	}
	for _, name := range sortedKeys(counts) {
		n := counts[name]
		name = bound(name)
		if !have[name] && name != other {
			if kept >= s.opts.MaxNames {
				name = other
			} else {
				have[name] = true
				kept++
			}
		}
		if _, err := tx.Exec(ctx, upsert, append(append([]any{}, key...), name, n)...); err != nil {
			return err
		}
	}
	return nil
}

// Evidence implements Store: four queries over the account's rows in the
// window, summed per change and per version.
func (s *SQLStore) Evidence(ctx context.Context, account string) (*Evidence, error) {
	if account == "" {
		return nil, ErrEmptyAccount
	}
	first := s.opts.firstDay(s.opts.now())
	ev := newEvidence(account, first, s.opts.MaxNames)
	err := s.scan(ctx, `SELECT change_id, CAST(SUM(requests) AS BIGINT), CAST(SUM(responses) AS BIGINT), CAST(SUM(deliveries) AS BIGINT), MIN(first_ns), MAX(last_ns)
		FROM verso_report_changes WHERE account = ? AND day >= ? GROUP BY change_id`, []any{account, first},
		func(scan func(...any) error) error {
			var (
				id                              string
				requests, responses, deliveries int64
				firstNS, lastNS                 int64
			)
			if err := scan(&id, &requests, &responses, &deliveries, &firstNS, &lastNS); err != nil {
				return err
			}
			ev.addChange(id, requests, responses, deliveries, fromNanos(firstNS), fromNanos(lastNS))
			return nil
		})
	if err == nil {
		err = s.scan(ctx, `SELECT change_id, kind, name, CAST(SUM(n) AS BIGINT) FROM verso_report_names
			WHERE account = ? AND day >= ? GROUP BY change_id, kind, name`, []any{account, first},
			func(scan func(...any) error) error {
				var (
					id, kind, name string
					n              int64
				)
				if err := scan(&id, &kind, &name, &n); err != nil {
					return err
				}
				ev.addName(id, kind, name, n)
				return nil
			})
	}
	if err == nil {
		err = s.scan(ctx, `SELECT version, CAST(SUM(requests) AS BIGINT), CAST(SUM(header) AS BIGINT), MIN(first_ns), MAX(last_ns)
			FROM verso_report_traffic WHERE account = ? AND day >= ? GROUP BY version`, []any{account, first},
			func(scan func(...any) error) error {
				var (
					v                versions.Version
					requests, header int64
					firstNS, lastNS  int64
				)
				if err := scan(&v, &requests, &header, &firstNS, &lastNS); err != nil {
					return err
				}
				ev.addTraffic(v, requests, header, fromNanos(firstNS), fromNanos(lastNS))
				return nil
			})
	}
	if err == nil {
		err = s.scan(ctx, `SELECT version, endpoint, CAST(SUM(n) AS BIGINT) FROM verso_report_endpoints
			WHERE account = ? AND day >= ? GROUP BY version, endpoint`, []any{account, first},
			func(scan func(...any) error) error {
				var (
					v    versions.Version
					name string
					n    int64
				)
				if err := scan(&v, &name, &n); err != nil {
					return err
				}
				ev.addTrafficEndpoint(v, name, n)
				return nil
			})
	}
	if err != nil {
		return nil, fmt.Errorf("reports: evidence of %q: %w", account, err)
	}
	return ev.done(), nil
}

// scan runs q and calls row for each row it returns.
func (s *SQLStore) scan(ctx context.Context, q string, args []any, row func(scan func(...any) error) error) error {
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := row(rows.Scan); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Prune implements Store: it deletes the rows of the days before the
// window, in one transaction.
func (s *SQLStore) Prune(ctx context.Context) (int64, error) {
	first := s.opts.firstDay(s.opts.now())
	var total int64
	err := s.db.InTx(ctx, func(tx *storage.Tx) error {
		for _, table := range []string{"verso_report_changes", "verso_report_names", "verso_report_traffic", "verso_report_endpoints"} {
			res, err := tx.Exec(ctx, `DELETE FROM `+table+` WHERE day < ?`, first)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			total += n
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("reports: prune: %w", err)
	}
	return total, nil
}

func fromNanos(ns int64) time.Time { return time.Unix(0, ns).UTC() }
