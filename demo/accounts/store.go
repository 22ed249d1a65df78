package accounts

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/verso-api/verso/storage"
)

// Errors returned by a Store.
var (
	// ErrUnknownKey: the key is not one the store made, was revoked, or is
	// not a key at all.
	ErrUnknownKey = errors.New("accounts: unknown api key")
	// ErrAccountNotFound: no account has the id.
	ErrAccountNotFound = errors.New("accounts: account not found")
	// ErrKeyNotFound: no key has the id.
	ErrKeyNotFound = errors.New("accounts: key not found")
)

// maxNameLen bounds an account's name, in bytes.
const maxNameLen = 256

// Account is an account of the demo API.
type Account struct {
	ID      string // "acct_" and random characters
	Name    string
	Created time.Time
}

// Options configure a Store. The zero value is right for a server.
type Options struct {
	// Now returns the current time.
	// Optional. Default value time.Now.
	Now func() time.Time
}

// Store keeps accounts and their API keys in a SQL database. It is safe for
// concurrent use.
type Store struct {
	db  *storage.DB
	now func() time.Time
}

// migrateLock is the PostgreSQL advisory lock key that serializes the
// creation of the tables when several servers start at once.
const migrateLock = 0x7665_7273_6f61_6363 // "versoacc"

var schema = []string{
	`CREATE TABLE IF NOT EXISTS verso_accounts (
		id         TEXT PRIMARY KEY,
		name       TEXT NOT NULL,
		created_ns BIGINT NOT NULL
	)`,
	`CREATE TABLE IF NOT EXISTS verso_api_keys (
		id         TEXT PRIMARY KEY,
		account_id TEXT NOT NULL REFERENCES verso_accounts (id),
		hash       TEXT NOT NULL UNIQUE,
		prefix     TEXT NOT NULL,
		last4      TEXT NOT NULL,
		created_ns BIGINT NOT NULL,
		revoked_ns BIGINT
	)`,
	`CREATE INDEX IF NOT EXISTS verso_api_keys_account ON verso_api_keys (account_id)`,
}

// New returns a Store in db (SQLite or PostgreSQL), creating its tables if
// needed. The caller owns db and closes it.
func New(ctx context.Context, db *storage.DB, opts Options) (*Store, error) {
	if db == nil {
		return nil, errors.New("accounts: nil database")
	}
	stmts := schema
	if db.Dialect == storage.Postgres {
		stmts = append([]string{fmt.Sprintf("SELECT pg_advisory_xact_lock(%d)", migrateLock)}, schema...)
	}
	if err := db.Migrate(ctx, stmts...); err != nil {
		return nil, fmt.Errorf("accounts: %w", err)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Store{db: db, now: opts.Now}, nil
}

// DB returns the database the store uses.
func (s *Store) DB() *storage.DB { return s.db }

func fromNanos(ns int64) time.Time { return time.Unix(0, ns).UTC() }

// CreateAccount makes an account with a new id.
func (s *Store) CreateAccount(ctx context.Context, name string) (Account, error) {
	if len(name) > maxNameLen {
		return Account{}, fmt.Errorf("accounts: name longer than %d bytes", maxNameLen)
	}
	a := Account{ID: "acct_" + randomString(16), Name: name, Created: s.now().UTC().Round(0)}
	if _, err := s.db.Exec(ctx, `INSERT INTO verso_accounts (id, name, created_ns) VALUES (?, ?, ?)`,
		a.ID, a.Name, a.Created.UnixNano()); err != nil {
		return Account{}, fmt.Errorf("accounts: create account: %w", err)
	}
	return a, nil
}

// Account returns the account with the id, or ErrAccountNotFound.
func (s *Store) Account(ctx context.Context, id string) (Account, error) {
	a := Account{ID: id}
	var created int64
	err := s.db.QueryRow(ctx, `SELECT name, created_ns FROM verso_accounts WHERE id = ?`, id).Scan(&a.Name, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return Account{}, ErrAccountNotFound
	}
	if err != nil {
		return Account{}, fmt.Errorf("accounts: get account: %w", err)
	}
	a.Created = fromNanos(created)
	return a, nil
}

// Accounts returns every account, oldest first.
func (s *Store) Accounts(ctx context.Context) ([]Account, error) {
	rows, err := s.db.Query(ctx, `SELECT id, name, created_ns FROM verso_accounts ORDER BY created_ns, id`)
	if err != nil {
		return nil, fmt.Errorf("accounts: list accounts: %w", err)
	}
	defer rows.Close()
	var out []Account
	for rows.Next() {
		var (
			a       Account
			created int64
		)
		if err := rows.Scan(&a.ID, &a.Name, &created); err != nil {
			return nil, fmt.Errorf("accounts: list accounts: %w", err)
		}
		a.Created = fromNanos(created)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("accounts: list accounts: %w", err)
	}
	return out, nil
}

// CountAccounts returns the number of accounts.
func (s *Store) CountAccounts(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM verso_accounts`).Scan(&n); err != nil {
		return 0, fmt.Errorf("accounts: count accounts: %w", err)
	}
	return n, nil
}

// firstLock is the PostgreSQL advisory lock key that EnsureFirst holds for
// the length of its transaction ("versofst").
const firstLock = 0x7665_7273_6f66_7374

// EnsureFirst returns the oldest account. When there is none, it creates
// one named name and its first key, and returns the key's secret too
// (shown once); secret is "" when the account existed.
//
// Servers started at once on one empty database make one account between
// them: the look and the creation are one transaction that holds, on
// PostgreSQL, an advisory lock, and on SQLite the write lock (its
// transactions begin IMMEDIATE), so a second server waits for the first
// to commit and then finds its account.
func (s *Store) EnsureFirst(ctx context.Context, name string) (acct Account, secret string, err error) {
	if len(name) > maxNameLen {
		return Account{}, "", fmt.Errorf("accounts: name longer than %d bytes", maxNameLen)
	}
	err = s.db.InTx(ctx, func(tx *storage.Tx) error {
		if s.db.Dialect == storage.Postgres {
			if _, err := tx.Exec(ctx, fmt.Sprintf("SELECT pg_advisory_xact_lock(%d)", firstLock)); err != nil {
				return err
			}
		}
		var created int64
		err := tx.QueryRow(ctx, `SELECT id, name, created_ns FROM verso_accounts ORDER BY created_ns, id LIMIT 1`).
			Scan(&acct.ID, &acct.Name, &created)
		if err == nil {
			acct.Created = fromNanos(created)
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		acct = Account{ID: "acct_" + randomString(16), Name: name, Created: s.now().UTC().Round(0)}
		if _, err := tx.Exec(ctx, `INSERT INTO verso_accounts (id, name, created_ns) VALUES (?, ?, ?)`,
			acct.ID, acct.Name, acct.Created.UnixNano()); err != nil {
			return err
		}
		var k Key
		secret, k = s.newKey(acct.ID)
		_, err = tx.Exec(ctx, `INSERT INTO verso_api_keys (id, account_id, hash, prefix, last4, created_ns)
			VALUES (?, ?, ?, ?, ?, ?)`, k.ID, k.AccountID, hashKey(secret), k.Prefix, k.Last4, k.Created.UnixNano())
		return err
	})
	if err != nil {
		return Account{}, "", fmt.Errorf("accounts: ensure the first account: %w", err)
	}
	return acct, secret, nil
}

// newKey makes a new secret and its Key for the account.
func (s *Store) newKey(accountID string) (string, Key) {
	secret := newSecret()
	return secret, Key{
		ID:        "key_" + randomString(16),
		AccountID: accountID,
		Prefix:    secret[:shownPrefix],
		Last4:     secret[len(secret)-shownLast:],
		Created:   s.now().UTC().Round(0),
	}
}

// CreateKey makes a secret key for the account. The secret is returned
// here and never again: the store keeps only its hash.
func (s *Store) CreateKey(ctx context.Context, accountID string) (secret string, k Key, err error) {
	secret, k = s.newKey(accountID)
	err = s.db.InTx(ctx, func(tx *storage.Tx) error {
		var one int
		err := tx.QueryRow(ctx, `SELECT 1 FROM verso_accounts WHERE id = ?`, accountID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrAccountNotFound
		}
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO verso_api_keys (id, account_id, hash, prefix, last4, created_ns)
			VALUES (?, ?, ?, ?, ?, ?)`, k.ID, k.AccountID, hashKey(secret), k.Prefix, k.Last4, k.Created.UnixNano())
		return err
	})
	if errors.Is(err, ErrAccountNotFound) {
		return "", Key{}, err
	}
	if err != nil {
		return "", Key{}, fmt.Errorf("accounts: create key: %w", err)
	}
	return secret, k, nil
}

// Authenticate returns the account a secret key belongs to, or
// ErrUnknownKey when the key is revoked, unknown, malformed or empty.
func (s *Store) Authenticate(ctx context.Context, secret string) (Account, error) {
	a, _, err := s.AuthenticateKey(ctx, secret)
	return a, err
}

// AuthenticateKey is Authenticate that also returns the key, for limits
// and logs that work per key.
func (s *Store) AuthenticateKey(ctx context.Context, secret string) (Account, Key, error) {
	if !wellFormed(secret) {
		return Account{}, Key{}, ErrUnknownKey
	}
	var (
		a                 Account
		k                 Key
		aCreated, created int64
	)
	err := s.db.QueryRow(ctx, `SELECT a.id, a.name, a.created_ns, k.id, k.prefix, k.last4, k.created_ns
		FROM verso_api_keys k JOIN verso_accounts a ON a.id = k.account_id
		WHERE k.hash = ? AND k.revoked_ns IS NULL`, hashKey(secret)).
		Scan(&a.ID, &a.Name, &aCreated, &k.ID, &k.Prefix, &k.Last4, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return Account{}, Key{}, ErrUnknownKey
	}
	if err != nil {
		return Account{}, Key{}, fmt.Errorf("accounts: authenticate: %w", err)
	}
	a.Created, k.Created, k.AccountID = fromNanos(aCreated), fromNanos(created), a.ID
	return a, k, nil
}

// ListKeys returns the account's keys, revoked ones included, oldest first.
func (s *Store) ListKeys(ctx context.Context, accountID string) ([]Key, error) {
	if _, err := s.Account(ctx, accountID); err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT id, prefix, last4, created_ns, revoked_ns FROM verso_api_keys
		WHERE account_id = ? ORDER BY created_ns, id`, accountID)
	if err != nil {
		return nil, fmt.Errorf("accounts: list keys: %w", err)
	}
	defer rows.Close()
	var out []Key
	for rows.Next() {
		var (
			k       = Key{AccountID: accountID}
			created int64
			revoked sql.NullInt64
		)
		if err := rows.Scan(&k.ID, &k.Prefix, &k.Last4, &created, &revoked); err != nil {
			return nil, fmt.Errorf("accounts: list keys: %w", err)
		}
		k.Created = fromNanos(created)
		if revoked.Valid {
			k.Revoked = fromNanos(revoked.Int64)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("accounts: list keys: %w", err)
	}
	return out, nil
}

// RevokeKey stops the key with the id from authenticating. Revoking a
// revoked key changes nothing; an unknown id gives ErrKeyNotFound.
func (s *Store) RevokeKey(ctx context.Context, keyID string) error {
	now := s.now().UTC().Round(0)
	res, err := s.db.Exec(ctx, `UPDATE verso_api_keys SET revoked_ns = COALESCE(revoked_ns, ?) WHERE id = ?`,
		now.UnixNano(), keyID)
	if err != nil {
		return fmt.Errorf("accounts: revoke key: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("accounts: revoke key: %w", err)
	}
	if n == 0 {
		return ErrKeyNotFound
	}
	return nil
}
