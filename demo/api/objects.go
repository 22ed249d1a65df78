package api

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"

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

// getKidsPostgres reads an object (kind 0) and its children (kind 1):
// its id, account and type, then the account, the children's type and the
// id again.
const getKidsPostgres = `SELECT 0 AS kind, id, has_children, '' AS parent, seq, created, body FROM verso_objects
	WHERE id = ? AND account = ? AND type = ?
	UNION ALL
	SELECT 1, id, has_children, parent, seq, created, body FROM verso_objects
	WHERE account = ? AND type = ? AND parent = ?
	ORDER BY kind`

// listKidsPostgres turns page, list's query of a page of objects (their
// id, has_children and body, in the order order), into one that reads
// them (kind 0) and the children of those that have some (kind 1), for
// page's arguments, then the account and the children's type. The
// children are looked up by the parent index, all at once.
func listKidsPostgres(page, order string) string {
	return `WITH p AS (SELECT seq, ` + strings.TrimPrefix(page, `SELECT `) + `)
	SELECT 0 AS kind, id, has_children, '' AS parent, seq, 0 AS created, body FROM p
	UNION ALL
	SELECT 1, c.id, c.has_children, c.parent, c.seq, c.created, c.body FROM verso_objects AS c
	WHERE c.account = ? AND c.type = ? AND c.parent = ANY(ARRAY(SELECT id FROM p WHERE has_children <> 0))
	ORDER BY kind,` + strings.TrimPrefix(order, ` ORDER BY`)
}

// getKids is get for an object of a type others belong to (childType),
// with them: on PostgreSQL in the same statement, on SQLite in a second
// one when it has some.
func (o *objects) getKids(ctx context.Context, account, typ, id string) ([]byte, known, error) {
	var items []page
	var k known
	if o.db.Dialect == storage.Postgres {
		rows, err := o.db.Query(ctx, getKidsPostgres, id, account, typ, account, childType[typ], id)
		if err != nil {
			return nil, nil, err
		}
		if items, k, err = pageChildren(rows, typ); err != nil {
			return nil, nil, err
		}
	} else {
		var it page
		var has int64
		var body string
		err := o.db.QueryRow(ctx, `SELECT id, has_children, body FROM verso_objects WHERE id = ? AND account = ? AND type = ?`,
			id, account, typ).Scan(&it.id, &has, &body)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, nil, err
		}
		if err == nil {
			it.body, it.hasChildren = []byte(body), has != 0
			items = append(items, it)
		}
		if k, err = o.withChildren(ctx, o.db, account, typ, items); err != nil {
			return nil, nil, err
		}
	}
	if len(items) == 0 {
		return nil, nil, errNotFound
	}
	return items[0].body, k, nil
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

// insert stores a new object; seq orders lists (ties broken by id). An
// object of a type others belong to is stored knowing whether some
// already name it (stored first in the same transaction); its parent, if
// any, is marked as having children.
func (o *objects) insert(ctx context.Context, tx *storage.Tx, account, typ, id string, created, seq int64, body []byte) error {
	parent := parentOf(typ, body)
	args := []any{id, account, typ, created, seq, string(body), parent}
	q := `INSERT INTO verso_objects (id, account, type, created, seq, body, parent, has_children) VALUES (?, ?, ?, ?, ?, ?, ?, 0)`
	if kid := childType[typ]; kid != "" {
		q = `INSERT INTO verso_objects (id, account, type, created, seq, body, parent, has_children) VALUES (?, ?, ?, ?, ?, ?, ?,
			CASE WHEN EXISTS (SELECT 1 FROM verso_objects WHERE account = ? AND type = ? AND parent = ?) THEN 1 ELSE 0 END)`
		args = append(args, account, kid, id)
	}
	if _, err := tx.Exec(ctx, q, args...); err != nil {
		return err
	}
	return markParent(ctx, tx, account, parent)
}

// markParent sets has_children on the object parent (none when ""). It is
// never cleared: at worst, an object whose children all went costs a
// lookup that finds none.
func markParent(ctx context.Context, tx *storage.Tx, account, parent string) error {
	if parent == "" {
		return nil
	}
	_, err := tx.Exec(ctx, `UPDATE verso_objects SET has_children = 1 WHERE id = ? AND account = ? AND has_children = 0`, parent, account)
	return err
}

func (o *objects) update(ctx context.Context, tx *storage.Tx, account, id string, body []byte) error {
	parent := parentOf(gjson.GetBytes(body, "object").String(), body)
	res, err := tx.Exec(ctx, `UPDATE verso_objects SET body = ?, parent = ? WHERE id = ? AND account = ?`,
		string(body), parent, id, account)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errNotFound
	}
	return markParent(ctx, tx, account, parent)
}

// list returns up to limit objects, newest first, and whether there are
// more: after the object startingAfter when it is set (more: older ones),
// or before the object endingBefore (more: newer ones), at most one of
// them. filter, when not nil, keeps the objects it returns true for.
// With kids, and no filter (a page of a bounded size), it also returns
// the children of the objects (see known), fetched in the same statement
// on PostgreSQL.
func (o *objects) list(ctx context.Context, account, typ string, limit int, startingAfter, endingBefore string, filter func([]byte) bool, kids bool) ([][]byte, bool, known, error) {
	kids = kids && filter == nil && childType[typ] != ""
	args := []any{account, typ}
	cols := `body`
	switch {
	case kids && o.db.Dialect == storage.Postgres:
		cols = `id, has_children, body`
	case kids:
		// Each id is read from its body (see idOf): a text column
		// costs SQLite's driver about half a microsecond a row.
		cols = `has_children, body`
	}
	q := `SELECT ` + cols + ` FROM verso_objects WHERE account = ? AND type = ?`
	order := ` ORDER BY seq DESC, id DESC`
	if cursor := startingAfter + endingBefore; cursor != "" {
		var seq int64
		err := o.db.QueryRow(ctx, `SELECT seq FROM verso_objects WHERE id = ? AND account = ? AND type = ?`, cursor, account, typ).Scan(&seq)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, false, nil, errNotFound
		}
		if err != nil {
			return nil, false, nil, err
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
	if kids {
		return o.listKids(ctx, account, typ, limit, q, order, args, endingBefore != "")
	}
	rows, err := o.db.Query(ctx, q, args...)
	if err != nil {
		return nil, false, nil, err
	}
	defer rows.Close()
	var out [][]byte
	more := false
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return nil, false, nil, err
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
		return nil, false, nil, err
	}
	if endingBefore != "" {
		slices.Reverse(out)
	}
	return out, more, nil, nil
}

// listKids runs list's query q (its ORDER BY order, its arguments args),
// which selects the id (on PostgreSQL), has_children and body of a page of
// objects, with their children: on PostgreSQL in the same statement, on
// SQLite in a second one for the objects that have some.
func (o *objects) listKids(ctx context.Context, account, typ string, limit int, q, order string, args []any, reverse bool) ([][]byte, bool, known, error) {
	items := make([]page, 0, limit+1)
	var k known
	if o.db.Dialect == storage.Postgres {
		rows, err := o.db.Query(ctx, listKidsPostgres(q, order), append(args, account, childType[typ])...)
		if err != nil {
			return nil, false, nil, err
		}
		if items, k, err = pageChildren(rows, typ); err != nil {
			return nil, false, nil, err
		}
	} else {
		rows, err := o.db.Query(ctx, q, args...)
		if err != nil {
			return nil, false, nil, err
		}
		defer rows.Close()
		for rows.Next() {
			var it page
			var has int64
			var body string
			if err := rows.Scan(&has, &body); err != nil {
				return nil, false, nil, err
			}
			it.id, it.body, it.hasChildren = idOf(body), []byte(body), has != 0
			items = append(items, it)
		}
		if err := rows.Err(); err != nil {
			return nil, false, nil, err
		}
		rows.Close()
		// Not the children of the object past the page, read to tell
		// whether there are more.
		if k, err = o.withChildren(ctx, o.db, account, typ, items[:min(limit, len(items))]); err != nil {
			return nil, false, nil, err
		}
	}
	more := len(items) > limit
	if more {
		items = items[:limit]
	}
	out := make([][]byte, len(items))
	for i, it := range items {
		out[i] = it.body
	}
	if reverse {
		slices.Reverse(out)
	}
	return out, more, k, nil
}

// idOf returns the id of an object from its body, which the demo writes
// with the id as its first member: that prefix is read as it is (the id
// shares the body's memory), any other body is parsed.
func idOf(body string) string {
	if rest, ok := strings.CutPrefix(body, `{"id":"`); ok {
		if i := strings.IndexByte(rest, '"'); i >= 0 && strings.IndexByte(rest[:i], '\\') < 0 {
			return rest[:i]
		}
	}
	return gjson.Get(body, "id").String()
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
