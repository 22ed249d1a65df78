package transform

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"sync"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/versions"
)

// DefaultMaxDepth is how deeply nested a body may be unless Options say
// otherwise.
const DefaultMaxDepth = 512

// Options configures an Engine. The zero value is valid.
type Options struct {
	// MaxDepth bounds the nesting of bodies. Optional. Default DefaultMaxDepth.
	MaxDepth int
	// TypeField is the member that names an object's type. Optional.
	// Default the timeline's type_field, itself "object" by default.
	TypeField string
}

// Engine walks bodies between the versions of one timeline. It compiles a
// Plan per pair of versions (and, for requests and endpoint-scoped
// responses, per route) on first use and caches it. An Engine is safe for
// concurrent use.
type Engine struct {
	tl        *gates.Timeline
	maxDepth  int
	typeField string
	qtype     string // typeField quoted
	// qword and qmask: see walker.
	qword, qmask uint64
	listField    string
	vers         []verInfo // the timeline's versions, newest first
	routes       router
	// topScoped tells that some change scopes its response ops by
	// endpoint; topRoutes are the routes such changes name.
	topScoped bool
	topRoutes []uint64
	plans     sync.Map // [2]versions.Version -> *Plan
	pairs     cache[*Plan]
	responses cache[*Plan]
	requests  cache[*objPlan]
	walkers   sync.Pool
	// noFlat makes every plan rewrite objects with the DOM, for tests
	// that compare flat programs with it.
	noFlat bool
}

// verInfo is one version of the timeline with its changes' routes.
type verInfo struct {
	v       versions.Version
	changes []chgInfo
}

type chgInfo struct {
	c      *gates.Change
	idx    int   // the change's index in the timeline (gates.Timeline.ChangeIndex)
	routes []int // indexes in the engine's router of the change's endpoints
	// top: the change scopes its response ops by endpoint (endpoints and
	// no resources); errs: its ops walk error bodies.
	top, errs bool
}

// New returns an engine for the timeline.
func New(tl *gates.Timeline, opts *Options) *Engine {
	e := &Engine{tl: tl, maxDepth: DefaultMaxDepth, typeField: tl.TypeField(), listField: tl.ListField()}
	if opts != nil && opts.MaxDepth > 0 {
		e.maxDepth = opts.MaxDepth
	}
	if opts != nil && opts.TypeField != "" {
		e.typeField = opts.TypeField
	}
	e.qtype = string(quoteKey(e.typeField))
	if n := len(e.qtype); n <= 8 {
		var word [8]byte
		copy(word[:], e.qtype)
		e.qword, e.qmask = binary.LittleEndian.Uint64(word[:]), 1<<(8*n)-1
		if n == 8 {
			e.qmask = math.MaxUint64
		}
	}
	e.walkers.New = func() any { return new(walker) }
	list := tl.List()
	e.vers = make([]verInfo, len(list))
	var top []int
	for i := range list {
		vi := &e.vers[i]
		vi.v = list[i].ID
		for ci := range list[i].Changes {
			c := &list[i].Changes[ci]
			info := chgInfo{c: c, idx: tl.ChangeIndex(c.ID), top: len(c.Resources) == 0 && len(c.Endpoints) > 0,
				errs: slices.Contains(c.Resources, gates.ErrorResource)}
			for _, ep := range c.Endpoints {
				info.routes = append(info.routes, e.routes.add(ep))
			}
			if info.top && hasBodyOps(c) {
				e.topScoped = true
				top = append(top, info.routes...)
			}
			vi.changes = append(vi.changes, info)
		}
	}
	e.topRoutes = make([]uint64, e.routes.words())
	for _, r := range top {
		e.topRoutes[r>>6] |= 1 << (r & 63)
	}
	return e
}

func hasBodyOps(c *gates.Change) bool {
	for _, op := range c.Ops {
		if op.Kind != gates.KindBehavior {
			return true
		}
	}
	return false
}

// WithTypeField returns an engine over the same timeline and options that
// finds objects' types by field instead, or e itself when that is its
// field already. A server whose objects name their type in "type" or
// "kind" uses it when the timeline does not say so.
func (e *Engine) WithTypeField(field string) (*Engine, error) {
	if field == e.typeField {
		return e, nil
	}
	if err := gates.CheckKey(field); err != nil {
		return nil, fmt.Errorf("transform: type field: %w", err)
	}
	return New(e.tl, &Options{MaxDepth: e.maxDepth, TypeField: field}), nil
}

// Timeline returns the engine's timeline.
func (e *Engine) Timeline() *gates.Timeline { return e.tl }

// EndpointScoped reports whether some change of the timeline scopes its
// response ops by endpoint (endpoints and no resources), so that a
// response's plan depends on its method and path (ResponsePlan). When it
// is false, Plan(from, to) is the plan of every response between the two
// versions.
func (e *Engine) EndpointScoped() bool { return e.topScoped }

// TypeField returns the member the engine finds objects' types by.
func (e *Engine) TypeField() string { return e.typeField }

// Plan is the compiled walk from one version to another, per object type:
// only the operations that touch a type are in its plan, so gates on other
// types cost nothing. A plan from ResponsePlan also holds the operations
// scoped to its endpoint. A Plan is immutable and safe for concurrent use.
type Plan struct {
	e          *Engine
	From, To   versions.Version
	types      map[string]*objPlan
	hasPartial bool // some type has steps, so events' previous_attributes may need walking
	// top walks the body's own object: on an endpoint's response, its
	// top-level object, or each object of its items when it is a list
	// (topEach: a top-level array, or an array under topKey); on an error
	// body, the object under topKey ("error"), else the top-level one.
	top     *objPlan
	topKey  string
	topEach bool
	// errs is the plan for bodies of non-2xx responses, nil when it
	// changes nothing.
	errs *Plan
	// resolving tells that some step puts a field back with a resolver;
	// values is then the plan that walks the values resolvers return.
	resolving bool
	values    *Plan
	resolvers []string // the names of the resolvers its steps call
	// byType lists types' plans for typePlan when there are few.
	byType []typePlan
}

// valuesOf returns p.values, or nil for a nil p.
func (p *Plan) valuesOf() *Plan {
	if p == nil {
		return nil
	}
	return p.values
}

// typePlan is the plan of one object type.
type typePlan struct {
	name string
	op   *objPlan
}

// typePlan returns the plan of the objects of type typ (a type field's
// raw value), or nil. A few types are compared in turn, which costs less
// than hashing the type.
func (p *Plan) typePlan(typ []byte) *objPlan {
	if p.byType != nil {
		for i := range p.byType {
			if t := &p.byType[i]; t.name == string(typ) {
				return t.op
			}
		}
		return nil
	}
	return p.types[string(typ)]
}

// Types returns the object types the plan changes, sorted.
func (p *Plan) Types() []string {
	out := make([]string, 0, len(p.types))
	for t := range p.types {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// Empty reports whether the plan changes nothing in a body it applies to.
func (p *Plan) Empty() bool { return len(p.types) == 0 && p.top == nil }

// ForStatus returns the plan for a response with the given status: p
// itself for a 2xx status, else the plan that walks error bodies (the
// types p changes, and the changes to resource "error"). It returns nil
// when that plan changes nothing, so the body can pass through as it is.
func (p *Plan) ForStatus(status int) *Plan {
	if p == nil {
		return nil
	}
	if status >= 200 && status <= 299 {
		if p.Empty() {
			return nil
		}
		return p
	}
	return p.errs
}

// Plan returns the compiled plan from one version to another: walking back
// when from is newer than to, forward when it is older. It holds the ops
// scoped by resource; ForStatus gives the plan for error bodies, and
// ResponsePlan the plan that adds the ops scoped by endpoint.
func (e *Engine) Plan(from, to versions.Version) (*Plan, error) {
	key := [2]versions.Version{from, to}
	if p, ok := e.plans.Load(key); ok {
		return p.(*Plan), nil
	}
	fi, ti, err := e.indexes(from, to)
	if err != nil {
		return nil, err
	}
	p, err := e.pairPlan(fi, ti)
	if err != nil {
		return nil, err
	}
	actual, _ := e.plans.LoadOrStore(key, p)
	return actual.(*Plan), nil
}

// indexes returns the positions of from and to in the timeline.
func (e *Engine) indexes(from, to versions.Version) (int, int, error) {
	vt := e.tl.Versions()
	fi, ti := vt.Index(from), vt.Index(to)
	if fi < 0 || ti < 0 {
		bad := from
		if fi >= 0 {
			bad = to
		}
		return 0, 0, fmt.Errorf("%w %s; supported versions: %s", versions.ErrUnknownVersion, bad, vt.Supported())
	}
	return fi, ti, nil
}

// pairPlan returns the cached plan between the versions at indexes fi and
// ti, with no endpoint-scoped ops.
func (e *Engine) pairPlan(fi, ti int) (*Plan, error) {
	var kb [8]byte
	key := planKey(kb[:0], 'p', fi, ti, nil)
	if p, ok := e.pairs.get(key); ok {
		return p, nil
	}
	p, err := e.compile(fi, ti, nil)
	if err != nil {
		return nil, err
	}
	return e.pairs.put(key, p), nil
}

// planKey appends a cache key: a kind byte, two version indexes and a set
// of routes.
func planKey(b []byte, kind byte, fi, ti int, set []uint64) []byte {
	b = append(b, kind, byte(fi>>8), byte(fi), byte(ti>>8), byte(ti))
	for _, w := range set {
		b = binary.LittleEndian.AppendUint64(b, w)
	}
	return b
}

// compile builds the plan from the version at index fi to the one at ti.
// With a set of routes, it also holds the ops of the changes scoped to
// those routes' responses.
func (e *Engine) compile(fi, ti int, set []uint64) (*Plan, error) {
	p := &Plan{e: e, From: e.vers[fi].v, To: e.vers[ti].v, types: map[string]*objPlan{}}
	var top, errs objPlan
	back := fi < ti
	// Walking back visits the versions newer than to, up to from, newest
	// first, and each one's changes and ops in reverse; walking forward is
	// the mirror.
	n := ti - fi
	if !back {
		n = fi - ti
	}
	for k := 0; k < n; k++ {
		vi := fi + k
		if !back {
			vi = fi - 1 - k
		}
		v := &e.vers[vi]
		for ci := range v.changes {
			info := &v.changes[ci]
			if back {
				info = &v.changes[len(v.changes)-1-ci]
			}
			c := info.c
			onTop := set != nil && info.top && anyRoute(info.routes, set)
			for k := range c.Ops {
				oi := k // the op's index in the change, walked in reverse going back
				if back {
					oi = len(c.Ops) - 1 - k
				}
				op := c.Ops[oi]
				for _, r := range c.Resources {
					s, ok, err := compileOp(e.tl.Funcs(), op, r, back, false)
					if err != nil {
						return nil, fmt.Errorf("%s: %w", c.ID, err)
					}
					if !ok {
						continue
					}
					s.change, s.slot = info.idx, e.tl.FieldSlotIndex(info.idx, oi, r)
					if s.kind == stepLift || s.kind == stepNest {
						if r != gates.ErrorResource && s.members == nil {
							s.keep = []byte(e.qtype)
						}
					}
					if r == gates.ErrorResource {
						errs.steps = append(errs.steps, s)
						continue
					}
					op := p.types[r]
					if op == nil {
						op = &objPlan{}
						p.types[r] = op
					}
					op.steps = append(op.steps, s)
				}
				if onTop {
					s, ok, err := compileOp(e.tl.Funcs(), op, "", back, false)
					if err != nil {
						return nil, fmt.Errorf("%s: %w", c.ID, err)
					}
					if ok {
						s.change, s.slot = info.idx, e.tl.FieldSlotIndex(info.idx, oi, "")
						top.steps = append(top.steps, s)
					}
				}
			}
		}
	}
	p.hasPartial = len(p.types) > 0
	if len(top.steps) > 0 {
		p.top, p.topKey, p.topEach = &top, e.listField, true
	}
	switch {
	case len(errs.steps) > 0:
		errs.errs, errs.wrapper = true, errorWrapper(e.tl)
		p.errs = &Plan{e: e, From: p.From, To: p.To, types: p.types, hasPartial: p.hasPartial, top: &errs}
	case len(p.types) > 0 && p.top == nil:
		p.errs = p
	case len(p.types) > 0:
		p.errs = &Plan{e: e, From: p.From, To: p.To, types: p.types, hasPartial: p.hasPartial}
	}
	p.noteResolvers()
	p.noteDescents()
	// The plans that share p's types share their list.
	for _, q := range [...]*Plan{p.errs, p.values, p.errs.valuesOf()} {
		if q != nil {
			q.byType = p.byType
		}
	}
	return p, nil
}

func anyRoute(routes []int, set []uint64) bool {
	for _, r := range routes {
		if set[r>>6]&(1<<(r&63)) != 0 {
			return true
		}
	}
	return false
}

// compileOp turns one op into a step for the given direction; ok is false
// when the op does nothing in that direction. req tells that the step
// walks requests forward, where a field sent under both its old and its
// new name is refused.
func compileOp(funcs *gates.Registry, op gates.Op, resource string, back, req bool) (step, bool, error) {
	name := resource + "." + op.Field
	if resource == "" {
		name = op.Field
	}
	s := step{name: name, req: req && !back, slot: -1}
	at := func(path string) {
		segs := parsePath(path)
		s.parent, s.key = segs[:len(segs)-1], segs[len(segs)-1].key
	}
	switch op.Kind {
	case gates.KindRename:
		src, dst := op.Field, op.Was
		if !back {
			src, dst = op.Was, op.Field
		}
		ss, ds := parsePath(src), parsePath(dst)
		n := 0
		for n < len(ss)-1 && n < len(ds)-1 && ss[n] == ds[n] {
			n++
		}
		for _, x := range append(ss[n:len(ss)-1:len(ss)-1], ds[n:len(ds)-1]...) {
			if x.each {
				return s, false, fmt.Errorf("rename %s -> %s: moving a field into or out of an array is not supported; use custom", src, dst)
			}
		}
		s.kind = stepRename
		s.parent, s.from, s.dst = ss[:n], ss[n:], ds[n:]
		s.qdst = quoteKey(s.dst[len(s.dst)-1].key)
		s.oldParam, s.newParam = formParam(s.from), formParam(s.dst)
		return s, true, nil
	case gates.KindAdded:
		at(op.Field)
		switch {
		case back:
			s.kind = stepDrop
		case op.Default != nil:
			s.kind, s.raw = stepDefault, op.Default
		default:
			return s, false, nil
		}
	case gates.KindNest:
		at(op.Field)
		s.kind = stepLift
		if !back {
			s.kind = stepNest
		}
		s.envelope = resource == gates.ErrorResource
		for _, m := range op.Members {
			s.members = append(s.members, quoteKey(m))
		}
	case gates.KindCollapse:
		at(op.Field)
		s.kind = stepCollapse
		if !back {
			s.kind = stepExpand
		}
		s.qid = quoteKey(op.CollapseKey())
		// The id field is where requests send the id; a response walked
		// forward gets the object the newer version embeds.
		if op.IDField != "" && s.req {
			s.qalt = quoteKey(op.IDField)
			s.oldParam, s.newParam = s.key, op.IDField
		}
	case gates.KindRemoved:
		at(op.Field)
		switch {
		case op.Resolve != "" && back:
			if err := compileResolve(&s, funcs, op, resource); err != nil {
				return s, false, err
			}
		case op.Func != "":
			f, _ := funcs.Lookup(op.Func)
			fn := f.Back
			if !back {
				fn = f.Forward
			}
			if fn == nil {
				if back {
					return s, false, nil
				}
				s.kind = stepDrop
				return s, true, nil
			}
			s.kind, s.fn = stepCustom, fn
		case !back && req && op.MovesRequests():
			// An old client sending the field means the value the newer
			// version takes at from: a request walks it there, like a
			// rename (refused when both are sent).
			ss, ds := parsePath(op.Field), parsePath(op.From)
			n := 0
			for n < len(ss)-1 && n < len(ds)-1 && ss[n] == ds[n] {
				n++
			}
			for _, x := range append(ss[n:len(ss)-1:len(ss)-1], ds[n:len(ds)-1]...) {
				if x.each {
					s.kind = stepDrop
					return s, true, nil
				}
			}
			s.kind = stepRename
			s.parent, s.from, s.dst = ss[:n], ss[n:], ds[n:]
			s.qdst = quoteKey(s.dst[len(s.dst)-1].key)
			s.oldParam, s.newParam = formParam(s.from), formParam(s.dst)
			return s, true, nil
		case !back:
			s.kind = stepDrop
		case op.From != "":
			if err := gates.CheckFromPath(op.From); err != nil {
				return s, false, fmt.Errorf("removed %s: from %s: %w", op.Field, op.From, err)
			}
			s.kind, s.raw = stepCopy, op.Default
			for _, k := range gates.SplitFromPath(op.From) {
				idx := -1
				if n, err := strconv.Atoi(k); err == nil && n >= 0 && k[0] >= '0' && k[0] <= '9' {
					idx = n
				}
				s.src = append(s.src, fstep{key: k, idx: idx})
			}
		default:
			s.kind, s.raw = stepDefault, op.Default
		}
	case gates.KindRetype:
		at(op.Field)
		s.kind = stepConvert
		if back {
			s.conv = newConverter(op.WasType)
		} else {
			// A request is checked against the type the client's version
			// declared before it is converted.
			s.conv = newConverter(op.NowType)
			s.was, s.now = op.WasType, op.NowType
		}
	case gates.KindEnum:
		at(op.Field)
		s.kind = stepEnum
		s.enum = make(map[string][]byte, len(op.Values))
		for _, v := range op.Values {
			k, to := v.Now, v.Was
			if !back {
				k, to = v.Was, v.Now
			}
			kr, _ := json.Marshal(k)
			tr, _ := json.Marshal(to)
			s.enum[string(kr)] = tr
		}
		if len(s.enum) <= maxByType {
			for k, v := range s.enum {
				s.enumFrom, s.enumTo = append(s.enumFrom, []byte(k)), append(s.enumTo, v)
			}
		}
	case gates.KindCustom:
		f, ok := funcs.Lookup(op.Func)
		if !ok {
			return s, false, fmt.Errorf("custom: no function registered as %q", op.Func)
		}
		fn := f.Back
		if !back {
			fn = f.Forward
		}
		if fn == nil {
			return s, false, nil
		}
		s.kind, s.fn, s.name = stepCustom, fn, resource+": custom "+op.Func
	default:
		return s, false, nil
	}
	s.qkey = quoteKey(s.key)
	if len(s.dst) > 0 {
		s.qdst = quoteKey(s.dst[len(s.dst)-1].key)
	}
	return s, true, nil
}

// errorWrapper returns the member of an error body that holds the error's
// fields, by the timeline's error shape: "error" for Stripe's and for
// shapes with their fields at the top level (the body itself is then the
// error object, unless it has an "error" object), a template's own
// wrapper for a template.
func errorWrapper(tl *gates.Timeline) string {
	if w := tl.ErrorShape().Wrapper(); w != "" {
		return w
	}
	return gates.ErrorResource
}
