package api

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	"slices"

	"github.com/tidwall/gjson"

	"github.com/verso-api/verso/storage"
)

// errNotFound is returned for an object the account does not have.
var errNotFound = errors.New("no such object")

// objects stores the demo API's objects as JSON documents in the newest
// schema, one table for every type.
type objects struct {
	db *storage.DB
}

func newObjects(ctx context.Context, db *storage.DB) (*objects, error) {
	err := db.Migrate(ctx,
		`CREATE TABLE IF NOT EXISTS verso_objects (
			id      TEXT PRIMARY KEY,
			account TEXT NOT NULL,
			type    TEXT NOT NULL,
			created BIGINT NOT NULL,
			seq     BIGINT NOT NULL,
			body    TEXT NOT NULL
		)`,
		`CREATE INDEX IF NOT EXISTS verso_objects_list ON verso_objects (account, type, seq)`,
	)
	if err != nil {
		return nil, err
	}
	if err := migrateParent(ctx, db); err != nil {
		return nil, err
	}
	return &objects{db: db}, nil
}

type querier interface {
	QueryRow(ctx context.Context, q string, args ...any) *sql.Row
}

// get returns the body of the account's object id of type typ ("" for any).
func (o *objects) get(ctx context.Context, q querier, account, typ, id string) ([]byte, error) {
	var body string
	var err error
	if typ == "" {
		err = q.QueryRow(ctx, `SELECT body FROM verso_objects WHERE id = ? AND account = ?`, id, account).Scan(&body)
	} else {
		err = q.QueryRow(ctx, `SELECT body FROM verso_objects WHERE id = ? AND account = ? AND type = ?`, id, account, typ).Scan(&body)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNotFound
	}
	if err != nil {
		return nil, err
	}
	return []byte(body), nil
}

// getForUpdate reads an object inside a transaction that will write it.
func (o *objects) getForUpdate(ctx context.Context, tx *storage.Tx, account, typ, id string) ([]byte, error) {
	q := `SELECT body FROM verso_objects WHERE id = ? AND account = ? AND type = ?`
	if tx.Dialect() == storage.Postgres {
		q += ` FOR UPDATE`
	}
	var body string
	err := tx.QueryRow(ctx, q, id, account, typ).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNotFound
	}
	if err != nil {
		return nil, err
	}
	return []byte(body), nil
}

// insert stores a new object; seq orders lists (ties broken by id).
func (o *objects) insert(ctx context.Context, tx *storage.Tx, account, typ, id string, created, seq int64, body []byte) error {
	_, err := tx.Exec(ctx, `INSERT INTO verso_objects (id, account, type, created, seq, body, parent) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		id, account, typ, created, seq, string(body), parentOf(typ, body))
	return err
}

func (o *objects) update(ctx context.Context, tx *storage.Tx, account, id string, body []byte) error {
	res, err := tx.Exec(ctx, `UPDATE verso_objects SET body = ?, parent = ? WHERE id = ? AND account = ?`,
		string(body), parentOf(gjson.GetBytes(body, "object").String(), body), id, account)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errNotFound
	}
	return nil
}

// list returns up to limit objects, newest first, and whether there are
// more: after the object startingAfter when it is set (more: older ones),
// or before the object endingBefore (more: newer ones), at most one of
// them. filter, when not nil, keeps the objects it returns true for.
func (o *objects) list(ctx context.Context, account, typ string, limit int, startingAfter, endingBefore string, filter func([]byte) bool) ([][]byte, bool, error) {
	args := []any{account, typ}
	q := `SELECT body FROM verso_objects WHERE account = ? AND type = ?`
	order := ` ORDER BY seq DESC, id DESC`
	if cursor := startingAfter + endingBefore; cursor != "" {
		var seq int64
		err := o.db.QueryRow(ctx, `SELECT seq FROM verso_objects WHERE id = ? AND account = ? AND type = ?`, cursor, account, typ).Scan(&seq)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, false, errNotFound
		}
		if err != nil {
			return nil, false, err
		}
		if startingAfter != "" {
			q += ` AND (seq < ? OR (seq = ? AND id < ?))`
		} else {
			q += ` AND (seq > ? OR (seq = ? AND id > ?))`
			order = ` ORDER BY seq ASC, id ASC`
		}
		args = append(args, seq, seq, cursor)
	}
	q += order
	if filter == nil {
		q += fmt.Sprintf(` LIMIT %d`, limit+1)
	}
	rows, err := o.db.Query(ctx, q, args...)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	var out [][]byte
	more := false
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return nil, false, err
		}
		b := []byte(body)
		if filter != nil && !filter(b) {
			continue
		}
		if len(out) == limit {
			more = true
			break
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	if endingBefore != "" {
		slices.Reverse(out)
	}
	return out, more, nil
}

const idAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// newID returns prefix and 24 random base62 characters.
func newID(prefix string) string {
	b := make([]byte, 0, len(prefix)+24)
	b = append(b, prefix...)
	max := big.NewInt(int64(len(idAlphabet)))
	for i := 0; i < 24; i++ {
		n, err := rand.Int(rand.Reader, max)
		if err != nil {
			panic(fmt.Sprintf("crypto/rand: %v", err))
		}
		b = append(b, idAlphabet[n.Int64()])
	}
	return string(b)
}
