package api

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/tidwall/gjson"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/server/echoversioning"
	"github.com/verso-api/verso/storage"
)

// Old versions see real data.
//
// A gate that puts back a removed field can only put back what the newest
// response carries. PaymentIntent `charges` and Charge `refunds`, which
// 2022-11-15 removed, are lists of other objects the newest schema no
// longer embeds, so a literal default (an empty list) would tell an old
// client that a paid intent has no charge. The timeline names a resolver
// for each (removed: {field: refunds, resolve: charge_refunds}), and the
// walk back calls it once per response with every object that lacks the
// field: each resolver here is one indexed query, whatever the size of
// the list or of the account. The values are in the newest schema and are
// walked back with everything else: the charges inside a payment intent
// get integer amounts, `paid` and `card` like any other charge, and their
// own refunds in the next round. Newest clients never see the fields, and
// their responses stream through unwalked.
//
// Objects are related by a column of their own, parent (a refund's
// charge, a charge's payment intent, a card's customer), indexed with the
// account and type, so a related list is an index range, never a scan of
// the account. A second column, has_children, is set on an object once
// another names it as its parent (and never cleared), so that objects
// that never had any (most charges have no refund) cost no lookup.
//
// A handler that lists or retrieves charges or payment intents for a
// version whose walk calls their resolver fetches their children in the
// same statement on PostgreSQL (on SQLite, where a statement costs no
// round trip, in a second one, and only for the objects that have
// children), and leaves them in the request's scope: the resolver then
// answers from there, and asks the database only about the objects the
// handler did not fetch (the charges of payment intents, expanded
// objects, events' objects). A response still costs at most one query
// per resolver and round.
//
// Webhook deliveries resolve with the endpoint's account, as of each
// event's time (renderEvent). Responses replayed from the idempotency
// store go through the walk like any other and get them.

// parentField names, per type, the member that holds the id of the object
// it belongs to.
var parentField = map[string]string{"refund": "charge", "charge": "payment_intent", "card": "customer"}

// childType names, per type, the type of the objects that belong to it:
// parentField the other way round.
var childType = map[string]string{"charge": "refund", "payment_intent": "charge", "customer": "card"}

// parentOf returns the id of the object an object of type typ belongs to,
// "" for none.
func parentOf(typ string, body []byte) string {
	f, ok := parentField[typ]
	if !ok {
		return ""
	}
	return gjson.GetBytes(body, f).String()
}

// migrateParent adds the parent column and its index, filling it in for
// the objects stored before it existed.
func migrateParent(ctx context.Context, db *storage.DB) error {
	return db.MigrateFunc(ctx, func(tx *storage.Tx) error {
		has, err := tx.HasColumn(ctx, "verso_objects", "parent")
		if err != nil {
			return err
		}
		if !has {
			if err := tx.AddColumns(ctx, "verso_objects", "parent TEXT NOT NULL DEFAULT ''"); err != nil {
				return err
			}
			if err := backfillParent(ctx, tx); err != nil {
				return err
			}
		}
		if _, err = tx.Exec(ctx, `CREATE INDEX IF NOT EXISTS verso_objects_parent ON verso_objects (account, type, parent, seq)`); err != nil {
			return err
		}
		if has, err = tx.HasColumn(ctx, "verso_objects", "has_children"); err != nil || has {
			return err
		}
		if err := tx.AddColumns(ctx, "verso_objects", "has_children INTEGER NOT NULL DEFAULT 0"); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE verso_objects SET has_children = 1
			WHERE id IN (SELECT parent FROM verso_objects WHERE parent <> '')`)
		return err
	})
}

func backfillParent(ctx context.Context, tx *storage.Tx) error {
	rows, err := tx.Query(ctx, `SELECT id, type, body FROM verso_objects WHERE type IN ('refund', 'charge', 'card')`)
	if err != nil {
		return err
	}
	type fill struct{ id, parent string }
	var fills []fill
	for rows.Next() {
		var id, typ, body string
		if err := rows.Scan(&id, &typ, &body); err != nil {
			rows.Close()
			return err
		}
		if p := parentOf(typ, []byte(body)); p != "" {
			fills = append(fills, fill{id, p})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, f := range fills {
		if _, err := tx.Exec(ctx, `UPDATE verso_objects SET parent = ? WHERE id = ?`, f.parent, f.id); err != nil {
			return err
		}
	}
	return nil
}

// listQuerier runs queries on the database or in a transaction.
type listQuerier interface {
	querier
	Query(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

// child is an object found by its parent.
type child struct {
	seq, created int64
	id           string
	body         []byte
	// hasChildren tells that objects may belong to it in turn.
	hasChildren bool
}

// The queries of children, by dialect. Neither orders its rows: asked to,
// a planner without statistics may prefer to scan the account's objects
// of the type in list order (verso_objects_list) over looking the parents
// up; children sorts each parent's few objects itself. CROSS JOIN makes
// SQLite look each parent up in the order written.
const (
	childrenPostgres = `SELECT parent, seq, id, created, has_children, body FROM verso_objects
		WHERE account = ? AND type = ? AND parent = ANY(?)`
	childrenSQLite = `SELECT o.parent, o.seq, o.id, o.created, o.has_children, o.body FROM json_each(?) AS p CROSS JOIN verso_objects AS o
		WHERE o.account = ? AND o.type = ? AND o.parent = p.value`
	// childrenOne is the children of one parent, the usual case of a
	// retrieval: simpler to compile.
	childrenOne = `SELECT parent, seq, id, created, has_children, body FROM verso_objects
		WHERE parent = ? AND account = ? AND type = ?`
)

// children returns, in one query, the account's objects of type typ that
// belong to each of parents, newest first.
func (o *objects) children(ctx context.Context, q listQuerier, account, typ string, parents []string) (map[string][]child, error) {
	out := make(map[string][]child, len(parents))
	if len(parents) == 0 {
		return out, nil
	}
	var rows *sql.Rows
	var err error
	switch {
	case len(parents) == 1:
		rows, err = q.Query(ctx, childrenOne, parents[0], account, typ)
	case o.db.Dialect == storage.Postgres:
		rows, err = q.Query(ctx, childrenPostgres, account, typ, parents)
	default:
		ids, _ := json.Marshal(parents)
		rows, err = q.Query(ctx, childrenSQLite, string(ids), account, typ)
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var parent, id, body string
		var seq, created, kids int64
		if err := rows.Scan(&parent, &seq, &id, &created, &kids, &body); err != nil {
			return nil, err
		}
		out[parent] = append(out[parent], child{seq: seq, id: id, created: created, body: []byte(body), hasChildren: kids != 0})
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, cs := range out {
		sortChildren(cs)
	}
	return out, nil
}

// sortChildren puts a parent's children newest first, as lists are.
func sortChildren(cs []child) {
	slices.SortFunc(cs, func(a, b child) int {
		if c := cmp.Compare(b.seq, a.seq); c != 0 {
			return c
		}
		return strings.Compare(b.id, a.id)
	})
}

// known is what a handler learned of objects' children along with its own
// query, for the resolvers: by the children's type and the parent's id,
// every child of that parent, newest first; a parent with none is there
// with none. A parent that is not there is unknown.
type known map[string]map[string][]child

// add records that parent has the children cs, of type kid, and what is
// known of theirs: none, for a child no object ever named as its parent.
func (k known) add(kid, parent string, cs []child) {
	k.put(kid, parent, cs)
	if grand := childType[kid]; grand != "" {
		for _, c := range cs {
			if !c.hasChildren {
				k.put(grand, c.id, nil)
			}
		}
	}
}

func (k known) put(typ, parent string, cs []child) {
	m := k[typ]
	if m == nil {
		m = map[string][]child{}
		k[typ] = m
	}
	m[parent] = cs
}

// page is one object of a list, or the object retrieved, read with what
// the walk's resolvers need to know of it.
type page struct {
	id          string
	body        []byte
	hasChildren bool
}

// withChildren fetches the children (of childType[typ]) of the objects in
// items that have some, and returns what that tells of every one of them:
// on SQLite, the statement after the handler's. PostgreSQL's statements
// fetch them in the same statement (see pageChildren).
func (o *objects) withChildren(ctx context.Context, q listQuerier, account, typ string, items []page) (known, error) {
	k := known{}
	var ids []string
	for _, it := range items {
		if it.hasChildren {
			ids = append(ids, it.id)
		}
	}
	kids, err := o.children(ctx, q, account, childType[typ], ids)
	if err != nil {
		return nil, err
	}
	k[childType[typ]] = make(map[string][]child, len(items))
	for _, it := range items {
		k.add(childType[typ], it.id, kids[it.id])
	}
	return k, nil
}

// pageChildren reads the rows of a PostgreSQL statement that returns the
// objects it looks for (kind 0: id, has_children, body, in their order)
// and their children (kind 1: id, has_children, parent, seq, created,
// body), and returns the objects and what they tell of each one's
// children.
func pageChildren(rows *sql.Rows, typ string) ([]page, known, error) {
	defer rows.Close()
	var items []page
	var kids map[string][]child
	for rows.Next() {
		var kind, seq, created, has int64
		var id, parent, body string
		if err := rows.Scan(&kind, &id, &has, &parent, &seq, &created, &body); err != nil {
			return nil, nil, err
		}
		if kind == 0 {
			items = append(items, page{id: id, body: []byte(body), hasChildren: has != 0})
			continue
		}
		if kids == nil {
			kids = map[string][]child{}
		}
		kids[parent] = append(kids[parent], child{seq: seq, id: id, created: created, body: []byte(body), hasChildren: has != 0})
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	k := known{childType[typ]: make(map[string][]child, len(items))}
	for _, it := range items {
		cs := kids[it.id]
		sortChildren(cs)
		k.add(childType[typ], it.id, cs)
	}
	return items, k, nil
}

// related returns the account's objects of type typ that belong to id,
// newest first.
func (o *objects) related(ctx context.Context, q listQuerier, account, typ, id string) ([][]byte, error) {
	m, err := o.children(ctx, q, account, typ, []string{id})
	if err != nil {
		return nil, err
	}
	items := [][]byte{}
	for _, c := range m[id] {
		items = append(items, c.body)
	}
	return items, nil
}

// embeddedList is a list embedded in an object, as Stripe embedded them:
// every item, and their count.
func embeddedList(url string, items [][]byte) []byte {
	n := len(url) + 96
	for _, it := range items {
		n += len(it) + 1
	}
	b := appendListHead(make([]byte, 0, n), url, "", "")
	for i, it := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, it...)
	}
	return appendListTail(b, len(items))
}

// appendListHead appends the start of an embedded list whose url is
// prefix+id+suffix, up to its first item.
func appendListHead(b []byte, prefix, id, suffix string) []byte {
	b = append(b, `{"object":"list","url":`...)
	if plainString(prefix) && plainString(id) && plainString(suffix) {
		b = append(append(append(append(append(b, '"'), prefix...), id...), suffix...), '"')
	} else {
		u, _ := json.Marshal(prefix + id + suffix)
		b = append(b, u...)
	}
	return append(b, `,"has_more":false,"data":[`...)
}

// appendListTail ends an embedded list of n items.
func appendListTail(b []byte, n int) []byte {
	b = append(b, `],"total_count":`...)
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, '}')
}

// plainString reports whether s needs no escaping in a JSON string.
func plainString(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// resolverOf names, by type, the resolver that puts back the list of the
// objects belonging to one (childType) that older versions embedded.
var resolverOf = map[string]string{"charge": "charge_refunds", "payment_intent": "payment_intent_charges"}

// wantsKids reports whether walking the response to c's request back to
// its version calls the resolver of the children of objects of type typ,
// so that the handler fetches them along with the objects.
func (s *Server) wantsKids(c echo.Context, typ string) bool {
	name, ok := resolverOf[typ]
	if !ok || scopeOf(c.Request().Context()) == nil {
		return false
	}
	v := echoversioning.VersionOf(c)
	if v.IsZero() {
		return false
	}
	p, err := s.Engine.Plan(s.timeline.Newest(), v)
	return err == nil && p.ResolvesWith(name)
}

// Funcs returns a registry with the Go functions the demo's timeline
// names: the resolvers charge_refunds and payment_intent_charges, which
// put back, for every object of a response at once, the lists 2022-11-15
// stopped embedding. They read the account and the database from the
// context the demo gives each request (its authentication) and each
// webhook delivery (the endpoint's account); called outside both (verso
// render) they know nothing, so the ops' defaults are put back. Load a
// custom timeline that names them with gates.Options{Funcs: api.Funcs()}.
func Funcs() *gates.Registry {
	reg := gates.NewRegistry()
	for name, fn := range map[string]gates.Resolver{
		resolverOf["charge"]:         relatedResolver("refund", "/v1/charges/", "/refunds"),
		resolverOf["payment_intent"]: relatedResolver("charge", "/v1/charges?payment_intent=", ""),
	} {
		if err := reg.RegisterResolver(name, fn); err != nil {
			panic(err) // constant names, registered once on a new registry
		}
	}
	return reg
}

// scope is what the demo's resolvers need of a request: its account, the
// store, and the children the handler fetched along with its objects.
type scope struct {
	objects *objects
	db      *storage.DB
	account string
	known   known
}

// learn keeps what a handler's query told of its objects' children for
// the resolvers.
func (sc *scope) learn(k known) {
	if sc == nil {
		return
	}
	if sc.known == nil {
		sc.known = k
		return
	}
	for typ, m := range k {
		for parent, cs := range m {
			sc.known.put(typ, parent, cs)
		}
	}
}

func scopeOf(ctx context.Context) *scope {
	sc, _ := ctx.Value(scopeKey{}).(*scope)
	return sc
}

type scopeKey struct{}

func withScope(ctx context.Context, sc *scope) context.Context {
	return context.WithValue(ctx, scopeKey{}, sc)
}

// relatedResolver resolves, for each object, the list of the account's
// objects of type typ that belong to it, with the url prefix+id+suffix:
// those the handler fetched already (scope.known), the others in one
// query. An object found in an event gets the list as it was when the
// event happened. The values share one allocation.
func relatedResolver(typ, prefix, suffix string) gates.Resolver {
	return func(ctx context.Context, refs []gates.Ref) ([]json.RawMessage, error) {
		out := make([]json.RawMessage, len(refs))
		sc := scopeOf(ctx)
		if sc == nil {
			return out, nil
		}
		have := sc.known[typ]
		var ids []string
		var asking map[string]bool
		for _, r := range refs {
			if _, ok := have[r.ID]; ok || asking[r.ID] {
				continue
			}
			if asking == nil {
				asking = map[string]bool{}
			}
			asking[r.ID] = true
			ids = append(ids, r.ID)
		}
		if len(ids) > 0 {
			asked, err := sc.objects.children(ctx, sc.db, sc.account, typ, ids)
			if err != nil {
				return nil, err
			}
			k := known{}
			for _, id := range ids {
				k.add(typ, id, asked[id])
			}
			// The next round may ask about these children's own.
			sc.learn(k)
			have = sc.known[typ]
		}
		n := 0
		for _, r := range refs {
			n += len(prefix) + len(r.ID) + len(suffix) + 96
			for _, c := range have[r.ID] {
				n += len(c.body) + 1
			}
		}
		b := make([]byte, 0, n)
		for i, r := range refs {
			start := len(b)
			b = appendListHead(b, prefix, r.ID, suffix)
			items := 0
			for _, c := range have[r.ID] {
				if r.At == 0 || c.created <= r.At {
					if items > 0 {
						b = append(b, ',')
					}
					b = append(b, c.body...)
					items++
				}
			}
			b = appendListTail(b, items)
			out[i] = b[start:len(b):len(b)]
		}
		return out, nil
	}
}
