package transform

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/internal/jsonstr"
)

// MaxResolveRounds bounds the rounds of a walk with resolvers. A value a
// resolver returns may hold objects that need resolving in turn (a payment
// intent's charges, each with its refunds): they are asked for in the next
// round, all at once. Objects found in the values of the last round get
// their op's default.
const MaxResolveRounds = 4

// ApplyContext is like Apply for a plan whose removed ops name resolvers
// (removed: {field: refunds, resolve: charge_refunds}): the walk finds
// every object that lacks such a field, calls each resolver once with all
// of them and ctx, walks the values back with the rest of the body, and
// splices them in, in one pass over the result. Values that hold objects
// needing resolvers in turn are resolved in a next round, so a response
// costs at most MaxResolveRounds calls of each resolver, however many
// objects it holds. Apply and AppendApply call resolvers with
// context.Background().
//
// Ops of older versions see a resolved field as an opaque string until
// the end of the walk: a rename moves it and an added op drops it, but
// the timeline refuses ops that step inside it, and a custom function
// must pass it through as it is.
func (p *Plan) ApplyContext(ctx context.Context, body []byte) ([]byte, error) {
	if !p.resolving {
		return p.Apply(body)
	}
	return p.e.resolveWalk(ctx, nil, body, p, false, nil)
}

// AppendApplyContext is like ApplyContext but appends the result to dst,
// as AppendApply does.
func (p *Plan) AppendApplyContext(ctx context.Context, dst, body []byte) ([]byte, error) {
	if !p.resolving {
		return p.AppendApply(dst, body)
	}
	return p.e.resolveWalk(ctx, dst, body, p, true, nil)
}

// AppendApplyContextFired is AppendApplyContext reporting in fired the
// changes that altered something in body (see gates.Fired); a nil fired
// reports nothing. The versioning middleware walks responses with it.
func (p *Plan) AppendApplyContextFired(ctx context.Context, dst, body []byte, fired *gates.Fired) ([]byte, error) {
	if !p.resolving {
		return p.e.walkTo(dst, body, p, nil, true, false, fired, nil)
	}
	return p.e.resolveWalk(ctx, dst, body, p, true, fired)
}

// Resolves reports whether the plan puts some field back with a resolver,
// so that walking it with ApplyContext may call resolvers.
func (p *Plan) Resolves() bool { return p != nil && p.resolving }

// ResolvesWith reports whether walking with the plan may call the
// resolver registered as name. A handler that can fetch what the resolver
// will be asked for along with its own query (the refunds of the charges
// it lists, in the same statement) may then do so, and give the resolver
// the rows through the request's context.
//
//	if p, _ := engine.Plan(newest, clientVersion); p.ResolvesWith("charge_refunds") { ... }
func (p *Plan) ResolvesWith(name string) bool {
	return p != nil && p.resolving && slices.Contains(p.resolvers, name)
}

// noteResolvers marks the plan, and its plan for error bodies, as
// resolving when one of their steps puts a field back with a resolver,
// and gives each the plan that walks resolved values: the same types,
// with no step for the response's own object.
func (p *Plan) noteResolvers() {
	for _, q := range [...]*Plan{p, p.errs} {
		if q == nil || q.resolving {
			continue
		}
		var names []string
		if q.top != nil {
			names = q.top.resolvers(names)
		}
		for _, op := range q.types {
			names = op.resolvers(names)
		}
		if len(names) > 0 {
			q.resolving, q.resolvers = true, names
			q.values = &Plan{e: q.e, From: q.From, To: q.To, types: q.types, hasPartial: q.hasPartial, resolving: true, resolvers: names}
			q.values.values = q.values
		}
	}
}

// resolvers appends to names those of the resolvers p's steps call that
// names lacks.
func (p *objPlan) resolvers(names []string) []string {
	for i := range p.steps {
		if s := &p.steps[i]; s.kind == stepResolve && !slices.Contains(names, s.rname) {
			names = append(names, s.rname)
		}
	}
	return names
}

// compileResolve fills in the step of a removed op with a resolver,
// walked back.
func compileResolve(s *step, funcs *gates.Registry, op gates.Op, resource string) error {
	fn, ok := funcs.LookupResolver(op.Resolve)
	if !ok {
		return fmt.Errorf("removed %s: no resolver registered as %q", op.Field, op.Resolve)
	}
	s.kind, s.resolver, s.rname, s.rtype = stepResolve, fn, op.Resolve, resource
	s.raw = op.Default
	if s.raw == nil {
		s.raw = []byte("null")
	}
	return nil
}

// resolution is the state of one walk with resolvers: the placeholders
// written for the fields to resolve, and the values found for them.
type resolution struct {
	ctx context.Context
	// marker starts every placeholder: `\u0000`, a random nonce and a dot.
	// A placeholder is the JSON string "<marker><n>", n its index in ph.
	// Bodies walked never hold the nonce, which is drawn afresh for each
	// walk once the body exists.
	marker []byte
	arena  []byte
	ph     []pending
	val    [][]byte // by placeholder: the walked value; nil for the default
	// final is set while walking the values of the last round: the fields
	// they lack get defaults, not placeholders.
	final bool
	buf   []byte // the walked body, reused between walks
	fired *gates.Fired
	group map[gates.Ref]int
	refs  []gates.Ref
	uidx  []int
}

// pending is a field to resolve: the object it belongs to, the resolver
// and the op's default.
type pending struct {
	ref  gates.Ref
	name string
	fn   gates.Resolver
	def  []byte
}

var resolutions = sync.Pool{New: func() any { return &resolution{group: map[gates.Ref]int{}} }}

func getResolution(ctx context.Context) *resolution {
	r := resolutions.Get().(*resolution)
	r.ctx = ctx
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], rand.Uint64())
	r.marker = append(r.marker[:0], `\u0000`...)
	r.marker = hex.AppendEncode(r.marker, n[:])
	r.marker = append(r.marker, '.')
	return r
}

func putResolution(r *resolution) {
	clear(r.ph)
	clear(r.val)
	clear(r.group)
	clear(r.refs)
	r.ctx, r.ph, r.val, r.arena, r.final, r.fired = nil, r.ph[:0], r.val[:0], r.arena[:0], false, nil
	r.refs, r.uidx = r.refs[:0], r.uidx[:0]
	if cap(r.buf) > maxPooledOut {
		r.buf = nil
	}
	if cap(r.arena) > 1<<16 || cap(r.ph) > 1<<12 {
		r.arena, r.ph, r.val = nil, nil, nil
	}
	resolutions.Put(r)
}

// placeholder records p and returns the placeholder written in its stead.
func (r *resolution) placeholder(p pending) []byte {
	n := len(r.ph)
	r.ph = append(r.ph, p)
	start := len(r.arena)
	r.arena = append(r.arena, '"')
	r.arena = append(r.arena, r.marker...)
	r.arena = strconv.AppendInt(r.arena, int64(n), 10)
	r.arena = append(r.arena, '"')
	// A full slice expression: a later append never writes into it.
	return r.arena[start:len(r.arena):len(r.arena)]
}

// mark returns the number of placeholders written so far, 0 without a
// resolution.
func (r *resolution) mark() int {
	if r == nil {
		return 0
	}
	return len(r.ph)
}

// stamp gives the placeholders written since mark, inside an event, the
// event's created time, unless an event inside it gave them one.
func (r *resolution) stamp(d *domPool, ev *object, mark int) {
	i := ev.find("created")
	if i < 0 {
		return
	}
	at, err := strconv.ParseInt(string(d.value(ev, &ev.members[i])), 10, 64)
	if err != nil {
		return
	}
	for k := mark; k < len(r.ph); k++ {
		if r.ph[k].ref.At == 0 {
			r.ph[k].ref.At = at
		}
	}
}

// resolve runs a resolve step on o: each object at the step's parent path
// that lacks the field gets a placeholder for the value the resolver will
// give for o, or, with no resolution or in the last round, the default.
func (d *domPool) resolve(o *object, s *step) error {
	id, hasID := "", false
	return d.visit(o, s.parent, func(obj *object) error {
		if obj.find(s.key) >= 0 {
			return nil
		}
		d.fire(s)
		r := d.res
		if r == nil || r.final {
			obj.add(s.qkey, s.raw)
			return nil
		}
		if !hasID {
			if id, hasID = objectID(d, o); !hasID {
				obj.add(s.qkey, s.raw)
				return nil
			}
		}
		obj.add(s.qkey, r.placeholder(pending{ref: gates.Ref{Type: s.rtype, ID: id}, name: s.rname, fn: s.resolver, def: s.raw}))
		return nil
	})
}

// objectID returns the id member of o: a string, or the digits of a
// number.
func objectID(d *domPool, o *object) (string, bool) {
	i := o.find("id")
	if i < 0 {
		return "", false
	}
	return idOf(d.value(o, &o.members[i]))
}

// idOf returns the id an object's id member v holds: a string, or the
// digits of a number.
func idOf(v []byte) (string, bool) {
	switch {
	case len(v) >= 2 && v[0] == '"':
		if bytes.IndexByte(v, '\\') < 0 {
			return string(v[1 : len(v)-1]), true
		}
		s, ok := jsonstr.Unquote(v)
		return string(s), ok
	case len(v) > 0 && (v[0] == '-' || v[0] >= '0' && v[0] <= '9'):
		return string(v), true
	}
	return "", false
}

// resolveWalk walks body with p, which has resolve steps, then resolves
// what the walk found, round by round, and splices the values into the
// result: appended to dst when appendTo is set, else in a slice of its
// own (or body itself when nothing changed). fired, when not nil, gets the
// changes that altered the body or the values.
func (e *Engine) resolveWalk(ctx context.Context, dst, body []byte, p *Plan, appendTo bool, fired *gates.Fired) ([]byte, error) {
	r := getResolution(ctx)
	defer putResolution(r)
	r.fired = fired
	out, err := e.walkTo(r.buf[:0], body, p, nil, true, false, fired, r)
	r.buf = out
	if err == nil && len(r.ph) > 0 {
		err = r.rounds(e, p.values)
	}
	if err != nil {
		if appendTo {
			return dst, err
		}
		return nil, err
	}
	if len(r.ph) == 0 && !appendTo {
		if bytes.Equal(out, body) {
			return body, nil
		}
		return append([]byte(nil), out...), nil
	}
	// Room for the result, so that it is allocated at most once: the
	// walked body and every value, placeholders counted as well.
	n := len(out)
	for k := range r.ph {
		if k < len(r.val) && r.val[k] != nil {
			n += len(r.val[k])
		} else {
			n += len(r.ph[k].def)
		}
	}
	if !appendTo {
		dst = nil
	}
	return r.splice(slices.Grow(dst, n), out, 0)
}

// rounds calls the resolvers for the placeholders written so far, each
// once per round with every object it is asked about, and walks the values
// they return, which may write the placeholders of the next round.
func (r *resolution) rounds(e *Engine, values *Plan) error {
	lo := 0
	for round := 1; lo < len(r.ph); round++ {
		hi := len(r.ph)
		r.final = round >= MaxResolveRounds
		for len(r.val) < hi {
			r.val = append(r.val, nil)
		}
		for k := lo; k < hi; k++ {
			if r.ph[k].fn == nil {
				continue // asked already, with an earlier resolver of this round
			}
			if err := r.call(e, values, r.ph[k].name, lo, hi); err != nil {
				return err
			}
		}
		lo = hi
	}
	return nil
}

// call calls the resolver name once with the distinct objects of the
// placeholders lo to hi that name it, walks each value back, and marks
// those placeholders done.
func (r *resolution) call(e *Engine, values *Plan, name string, lo, hi int) error {
	clear(r.group)
	r.refs, r.uidx = r.refs[:0], r.uidx[:0]
	var fn gates.Resolver
	for k := lo; k < hi; k++ {
		p := &r.ph[k]
		if p.fn == nil || p.name != name {
			continue
		}
		fn = p.fn
		u, ok := r.group[p.ref]
		if !ok {
			u = len(r.refs)
			r.group[p.ref] = u
			r.refs = append(r.refs, p.ref)
		}
		r.uidx = append(r.uidx, k, u)
	}
	vals, err := fn(r.ctx, r.refs)
	if err != nil {
		return fmt.Errorf("transform: resolver %s: %w", name, err)
	}
	if len(vals) != len(r.refs) {
		return fmt.Errorf("transform: resolver %s: %d values for %d objects", name, len(vals), len(r.refs))
	}
	walked := make([][]byte, len(vals))
	for u, v := range vals {
		if v == nil {
			continue
		}
		mark := len(r.ph)
		w, err := e.walkTo(nil, v, values, nil, false, false, r.fired, r)
		if err != nil {
			return &Error{Field: r.refs[u].Type + ": resolver " + name, Msg: fmt.Sprintf("value for %s: %v", r.refs[u].ID, err)}
		}
		for k := mark; k < len(r.ph); k++ {
			if r.ph[k].ref.At == 0 {
				r.ph[k].ref.At = r.refs[u].At
			}
		}
		walked[u] = w
	}
	for i := 0; i+1 < len(r.uidx); i += 2 {
		k, u := r.uidx[i], r.uidx[i+1]
		r.val[k] = walked[u]
		r.ph[k].fn = nil
	}
	return nil
}

// splice appends doc to dst with each placeholder replaced by its value,
// itself spliced, or by its default.
func (r *resolution) splice(dst, doc []byte, depth int) ([]byte, error) {
	for {
		i := bytes.Index(doc, r.marker)
		if i < 0 {
			return append(dst, doc...), nil
		}
		j := i + len(r.marker)
		n, end := 0, j
		for end < len(doc) && doc[end] >= '0' && doc[end] <= '9' && end-j < 9 {
			n = n*10 + int(doc[end]-'0')
			end++
		}
		if i == 0 || doc[i-1] != '"' || end == j || end >= len(doc) || doc[end] != '"' || n >= len(r.ph) {
			// The marker inside some other string (a custom function
			// quoted the object): leave it.
			dst = append(dst, doc[:j]...)
			doc = doc[j:]
			continue
		}
		dst = append(dst, doc[:i-1]...)
		if v := r.val[n]; v != nil && depth <= MaxResolveRounds {
			var err error
			if dst, err = r.splice(dst, v, depth+1); err != nil {
				return dst, err
			}
		} else {
			dst = append(dst, r.ph[n].def...)
		}
		doc = doc[end+1:]
	}
}
