// Package storage opens the SQL database that verso's stores share: an
// embedded SQLite file (modernc.org/sqlite, pure Go) by default, or
// PostgreSQL (through pgx) for servers that run on several machines.
//
// Every store of verso (pins, idempotency keys, webhooks, the demo API's
// objects) takes a *DB, so that one transaction can span them: an object
// write, its event and the saved idempotent response commit together.
//
//	db, err := storage.Open(ctx, "verso.db")                     // SQLite
//	db, err := storage.Open(ctx, "postgres://u@127.0.0.1/verso") // PostgreSQL
//
// This package registers no database/sql driver: the program that stores
// on SQL does, usually by importing storage/drivers for its side effect,
// so that a library importing verso never gets a driver it did not choose.
package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	neturl "net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Dialect names the SQL database behind a DB.
type Dialect int

// The supported dialects.
const (
	SQLite Dialect = iota
	Postgres
)

func (d Dialect) String() string {
	if d == Postgres {
		return "postgres"
	}
	return "sqlite"
}

// DB is a database handle that knows its dialect. It is safe for concurrent
// use.
//
// Every method that takes a query takes it with '?' placeholders and
// rewrites them for the dialect (Rebind). DB does not embed *sql.DB, so no
// method of the pool can be called by mistake with a query that was not
// rewritten; Pool returns the pool itself, for what DB does not offer.
type DB struct {
	Dialect Dialect
	URL     string
	pool    *sql.DB
	// writers holds one token per transaction that may run at once: one
	// for SQLite, which has a single writer (every transaction begins
	// IMMEDIATE), so that writers queue here in order instead of
	// contending for the file lock; nil for PostgreSQL.
	writers chan struct{}
}

// The SQLite connection pool: WAL lets readers run beside the one writer.
const (
	sqliteMaxConns = 16
	// writeWait bounds how long a transaction waits for its turn.
	writeWait = 30 * time.Second
)

// ErrBusy is returned by Begin and InTx when a SQLite transaction waited
// writeWait for its turn without getting it.
var ErrBusy = errors.New("storage: the database is busy; retry later")

// Open opens the database named by url: a postgres:// or postgresql:// URL
// for PostgreSQL, anything else is a SQLite file path (":memory:" for a
// private in-memory database). SQLite is opened in WAL mode with a busy
// timeout and immediate write transactions, so concurrent writers queue
// instead of failing.
func Open(ctx context.Context, url string) (*DB, error) {
	if url == "" {
		return nil, errors.New("storage: empty database URL")
	}
	var (
		db  *sql.DB
		d   Dialect
		err error
	)
	if strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://") {
		d = Postgres
		db, err = sql.Open(driverName(Postgres), url)
		if err == nil {
			db.SetMaxOpenConns(20)
		}
	} else {
		d = SQLite
		createPrivate(sqlitePath(url))
		db, err = sql.Open(driverName(SQLite), sqliteDSN(url))
		if err == nil {
			db.SetMaxOpenConns(sqliteMaxConns)
			db.SetMaxIdleConns(sqliteMaxConns)
			if url == ":memory:" {
				// Each connection would otherwise get its own empty database.
				db.SetMaxOpenConns(1)
			}
		}
	}
	if err != nil {
		if !slices.Contains(sql.Drivers(), driverName(d)) {
			return nil, fmt.Errorf("storage: open %s: no %q database/sql driver is registered: import _ \"github.com/verso-api/verso/storage/drivers\" in your program: %w", d, driverName(d), err)
		}
		return nil, fmt.Errorf("storage: open %s: %w", d, err)
	}
	if err := ping(ctx, db, d); err != nil {
		db.Close()
		return nil, fmt.Errorf("storage: connect to %s database: %w", d, err)
	}
	out := &DB{pool: db, Dialect: d, URL: url}
	if d == SQLite {
		out.writers = make(chan struct{}, 1)
	}
	return out, nil
}

// ping connects to the database. A new SQLite file that another process
// is switching to WAL at the same moment answers SQLITE_BUSY without
// waiting for the busy timeout: ping tries again, for up to writeWait,
// so that servers started together beside one database all start.
func ping(ctx context.Context, db *sql.DB, d Dialect) error {
	err := db.PingContext(ctx)
	deadline := time.Now().Add(writeWait)
	for d == SQLite && IsBusy(err) && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return err
		case <-time.After(20 * time.Millisecond):
		}
		err = db.PingContext(ctx)
	}
	return err
}

// driverName is the database/sql driver storage.Open uses for d.
func driverName(d Dialect) string {
	if d == Postgres {
		return "pgx"
	}
	return "sqlite"
}

// sqlitePath returns the file a SQLite database URL names: a path, or a
// file: URI; "" for an in-memory database.
func sqlitePath(u string) string {
	p, query, _ := strings.Cut(u, "?")
	if rest, ok := strings.CutPrefix(p, "file:"); ok {
		if auth, ok := strings.CutPrefix(rest, "//"); ok { // file://host/path
			_, rest, _ = strings.Cut(auth, "/")
			rest = "/" + rest
		}
		if unescaped, err := neturl.PathUnescape(rest); err == nil {
			rest = unescaped
		}
		p = rest
	}
	if p == "" || p == ":memory:" || strings.Contains(query, "mode=memory") {
		return ""
	}
	return p
}

// createPrivate creates the SQLite file at path, empty and readable by
// its owner only (mode 0600), when it does not exist: SQLite gives the
// -wal and -shm files it makes beside it the same mode, where it would
// otherwise create all three readable by everyone (0644). An existing
// file keeps its mode. Errors are left for SQLite to report.
func createPrivate(path string) {
	if path == "" {
		return
	}
	if f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		f.Close()
	}
}

func sqliteDSN(path string) string {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	p := "_pragma=foreign_keys(1)&_txlock=immediate"
	if !strings.Contains(path, "busy_timeout") {
		// A busy timeout given in the URL is kept (tests shorten it).
		p = "_pragma=busy_timeout(10000)&" + p
	}
	if path != ":memory:" {
		p += "&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
	}
	if strings.HasPrefix(path, "file:") {
		return path + sep + p
	}
	return "file:" + path + sep + p
}

// Rebind rewrites a query written with '?' placeholders for the dialect:
// PostgreSQL gets $1, $2, ... A '?' inside a single-quoted literal is kept.
func (db *DB) Rebind(q string) string {
	if db.Dialect != Postgres || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 8)
	n, quoted := 0, false
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'':
			quoted = !quoted
			b.WriteByte(c)
		case c == '?' && !quoted:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Pool returns the connection pool behind db, for what DB does not offer
// (pool sizes, statistics, a dedicated connection). Queries run on it
// directly take the driver's own placeholders ($1, $2, ... on PostgreSQL),
// not '?': prefer db's methods, or pass the query through db.Rebind.
func (db *DB) Pool() *sql.DB { return db.pool }

// Close closes the pool. Stores built on db must not be used after.
func (db *DB) Close() error { return db.pool.Close() }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.pool.PingContext(ctx) }

// Exec runs a statement written with '?' placeholders.
func (db *DB) Exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return db.pool.ExecContext(ctx, db.Rebind(q), args...)
}

// Query runs a query written with '?' placeholders.
func (db *DB) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return db.pool.QueryContext(ctx, db.Rebind(q), args...)
}

// QueryRow runs a query written with '?' placeholders that returns one row.
func (db *DB) QueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return db.pool.QueryRowContext(ctx, db.Rebind(q), args...)
}

// Tx is a transaction on a DB, with the same '?' placeholder methods. Like
// DB it does not embed its *sql.Tx: every query it runs is rewritten for
// the dialect.
type Tx struct {
	tx   *sql.Tx
	db   *DB
	done sync.Once
}

// Begin starts a transaction. On SQLite, transactions run one at a time:
// Begin waits for the one before to commit or roll back (at most 30
// seconds, then ErrBusy), so that concurrent writers queue rather than
// fail with SQLITE_BUSY.
func (db *DB) Begin(ctx context.Context) (*Tx, error) {
	if db.writers != nil {
		t := time.NewTimer(writeWait)
		select {
		case db.writers <- struct{}{}:
			t.Stop()
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
			return nil, ErrBusy
		}
	}
	tx, err := db.pool.BeginTx(ctx, nil)
	if err != nil {
		db.release()
		return nil, err
	}
	return &Tx{tx: tx, db: db}, nil
}

func (db *DB) release() {
	if db.writers != nil {
		<-db.writers
	}
}

// Commit commits the transaction and lets the next one begin.
func (tx *Tx) Commit() error {
	err := tx.tx.Commit()
	tx.done.Do(tx.db.release)
	return err
}

// Rollback rolls the transaction back (after Commit it does nothing and
// returns sql.ErrTxDone) and lets the next one begin.
func (tx *Tx) Rollback() error {
	err := tx.tx.Rollback()
	tx.done.Do(tx.db.release)
	return err
}

// InTx runs fn in a transaction, committing when fn returns nil and rolling
// back otherwise.
func (db *DB) InTx(ctx context.Context, fn func(*Tx) error) error {
	tx, err := db.Begin(ctx)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// Dialect returns the dialect of the transaction's database.
func (tx *Tx) Dialect() Dialect { return tx.db.Dialect }

// DB returns the database the transaction runs on.
func (tx *Tx) DB() *DB { return tx.db }

// Exec runs a statement written with '?' placeholders.
func (tx *Tx) Exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return tx.tx.ExecContext(ctx, tx.db.Rebind(q), args...)
}

// Query runs a query written with '?' placeholders.
func (tx *Tx) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return tx.tx.QueryContext(ctx, tx.db.Rebind(q), args...)
}

// QueryRow runs a query written with '?' placeholders that returns one row.
func (tx *Tx) QueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return tx.tx.QueryRowContext(ctx, tx.db.Rebind(q), args...)
}

// MigrateLock is the PostgreSQL advisory lock key that Migrate and
// MigrateFunc hold for the length of their transaction ("versomig").
const MigrateLock = 0x7665_7273_6f6d_6967

// Migrate runs schema statements (CREATE TABLE IF NOT EXISTS ...) in one
// transaction. Stores call it when they are constructed.
//
// On PostgreSQL the transaction first takes the advisory lock MigrateLock,
// so that servers started together on an empty database migrate one after
// the other: two concurrent CREATE TABLE IF NOT EXISTS of one table would
// otherwise both try to create it, and one would fail with a duplicate key.
func (db *DB) Migrate(ctx context.Context, stmts ...string) error {
	return db.MigrateFunc(ctx, func(tx *Tx) error {
		for _, s := range stmts {
			if _, err := tx.Exec(ctx, s); err != nil {
				return fmt.Errorf("storage: migrate: %w", err)
			}
		}
		return nil
	})
}

// MigrateFunc runs fn in one transaction holding the migration lock (see
// Migrate), for a migration that must look before it changes the schema,
// such as adding a column to a table an older version created.
func (db *DB) MigrateFunc(ctx context.Context, fn func(tx *Tx) error) error {
	return db.InTx(ctx, func(tx *Tx) error {
		if db.Dialect == Postgres {
			if _, err := tx.Exec(ctx, fmt.Sprintf("SELECT pg_advisory_xact_lock(%d)", MigrateLock)); err != nil {
				return fmt.Errorf("storage: migrate: lock: %w", err)
			}
		}
		return fn(tx)
	})
}

// HasColumn reports whether table has column, in the transaction's view of
// the schema (on PostgreSQL, the current search_path).
func (tx *Tx) HasColumn(ctx context.Context, table, column string) (bool, error) {
	var n int
	var err error
	if tx.db.Dialect == Postgres {
		err = tx.QueryRow(ctx, `SELECT COUNT(*) FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = ? AND column_name = ?`, table, column).Scan(&n)
	} else {
		err = tx.QueryRow(ctx, `SELECT COUNT(*) FROM pragma_table_info(?) WHERE name = ?`, table, column).Scan(&n)
	}
	if err != nil {
		return false, fmt.Errorf("storage: column %s.%s: %w", table, column, err)
	}
	return n > 0, nil
}

// AddColumns adds each column, given as "name TYPE ...", to table when it
// is missing. Call it inside MigrateFunc.
func (tx *Tx) AddColumns(ctx context.Context, table string, columns ...string) error {
	for _, def := range columns {
		name, _, _ := strings.Cut(def, " ")
		ok, err := tx.HasColumn(ctx, table, name)
		if err != nil {
			return err
		}
		if ok {
			continue
		}
		if _, err := tx.Exec(ctx, `ALTER TABLE `+table+` ADD COLUMN `+def); err != nil {
			return fmt.Errorf("storage: add column %s.%s: %w", table, name, err)
		}
	}
	return nil
}
