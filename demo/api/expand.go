package api

import (
	"context"
	"database/sql"
	"encoding/json"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/verso-api/verso/storage"
)

// expandOne replaces the ids that expand paths ("customer",
// "latest_charge.customer") name in body with the objects they name.
func (s *Server) expandOne(ctx context.Context, q listQuerier, account string, r *resource, body []byte, paths []string) ([]byte, error) {
	items := [][]byte{body}
	if err := s.expand(ctx, q, account, r, items, paths); err != nil {
		return nil, err
	}
	return items[0], nil
}

// expand replaces, in each of items, the ids that expand paths name with
// the objects they name. Each step of a path costs one query for all the
// items, so a list of 100 costs what one object does; a charge's refunds
// are its list of refunds, newest first.
func (s *Server) expand(ctx context.Context, q listQuerier, account string, r *resource, items [][]byte, paths []string) error {
	for _, path := range paths {
		field, rest, _ := cutPath(path)
		typ, ok := r.expandable[field]
		if !ok {
			return cannotExpand(path)
		}
		if r.typ == "charge" && field == "refunds" {
			if rest != "" {
				return cannotExpand(path)
			}
			if err := s.expandRefunds(ctx, q, account, items); err != nil {
				return err
			}
			continue
		}
		// subs[i] is the object expanded in items[i], nil for none.
		subs := make([][]byte, len(items))
		var ids []string
		for i, it := range items {
			v := gjson.GetBytes(it, field)
			switch {
			case v.Type == gjson.String:
				ids = append(ids, v.String())
			case v.IsObject():
				subs[i] = []byte(v.Raw)
			}
		}
		found, err := s.objects.getMany(ctx, q, account, typ, ids)
		if err != nil {
			return err
		}
		for i, it := range items {
			if v := gjson.GetBytes(it, field); v.Type == gjson.String {
				subs[i] = found[v.String()]
			}
		}
		if rest != "" {
			// Expand the next step in every object at once; the ones that
			// were not found are left out.
			var have [][]byte
			var at []int
			for i, sub := range subs {
				if sub != nil {
					have, at = append(have, sub), append(at, i)
				}
			}
			if err := s.expand(ctx, q, account, s.byType[typ], have, []string{rest}); err != nil {
				return err
			}
			for k, i := range at {
				subs[i] = have[k]
			}
		}
		for i, sub := range subs {
			if sub == nil {
				continue
			}
			if items[i], err = sjson.SetRawBytes(items[i], field, sub); err != nil {
				return err
			}
		}
	}
	return nil
}

func cutPath(p string) (field, rest string, more bool) {
	for i := 0; i < len(p); i++ {
		if p[i] == '.' {
			return p[:i], p[i+1:], true
		}
	}
	return p, "", false
}

// expandRefunds puts in each charge of items its list of refunds, in one
// query.
func (s *Server) expandRefunds(ctx context.Context, q listQuerier, account string, items [][]byte) error {
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = gjson.GetBytes(it, "id").String()
	}
	kids, err := s.objects.children(ctx, q, account, "refund", ids)
	if err != nil {
		return err
	}
	for i, id := range ids {
		refunds := [][]byte{}
		for _, c := range kids[id] {
			refunds = append(refunds, c.body)
		}
		if items[i], err = sjson.SetRawBytes(items[i], "refunds", embeddedList("/v1/charges/"+id+"/refunds", refunds)); err != nil {
			return err
		}
	}
	return nil
}

// The queries of getMany, by dialect: by the primary key, id by id. Given
// the account and type too, PostgreSQL without statistics may prefer an
// index on them and filter the account's objects of the type by id, so
// getMany checks them itself there; CROSS JOIN makes SQLite look each id
// up in the order written.
const (
	getManyPostgres = `SELECT id, account, type, body FROM verso_objects WHERE id = ANY(?)`
	getManySQLite   = `SELECT o.id, o.account, o.type, o.body FROM json_each(?) AS i CROSS JOIN verso_objects AS o
		WHERE o.id = i.value`
)

// getMany returns, in one query, the account's objects of type typ among
// ids, by id.
func (o *objects) getMany(ctx context.Context, q listQuerier, account, typ string, ids []string) (map[string][]byte, error) {
	out := make(map[string][]byte, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows *sql.Rows
	var err error
	if o.db.Dialect == storage.Postgres {
		rows, err = q.Query(ctx, getManyPostgres, ids)
	} else {
		js, _ := json.Marshal(ids)
		rows, err = q.Query(ctx, getManySQLite, string(js))
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, acct, t, body string
		if err := rows.Scan(&id, &acct, &t, &body); err != nil {
			return nil, err
		}
		if acct == account && t == typ {
			out[id] = []byte(body)
		}
	}
	return out, rows.Err()
}
