package transform

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
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
}

// Engine walks bodies between the versions of one timeline. It compiles a
// Plan per pair of versions on first use and caches it. An Engine is safe
// for concurrent use.
type Engine struct {
	tl       *gates.Timeline
	maxDepth int
	plans    sync.Map // [2]versions.Version -> *Plan
	requests sync.Map // requestKey -> *objPlan (nil stored as noPlan)
	walkers  sync.Pool
}

// New returns an engine for the timeline.
func New(tl *gates.Timeline, opts *Options) *Engine {
	e := &Engine{tl: tl, maxDepth: DefaultMaxDepth}
	if opts != nil && opts.MaxDepth > 0 {
		e.maxDepth = opts.MaxDepth
	}
	e.walkers.New = func() any { return new(walker) }
	return e
}

// Timeline returns the engine's timeline.
func (e *Engine) Timeline() *gates.Timeline { return e.tl }

// Plan is the compiled walk from one version to another, per object type:
// only the operations that touch a type are in its plan, so gates on other
// types cost nothing. A Plan is immutable and safe for concurrent use.
type Plan struct {
	e          *Engine
	From, To   versions.Version
	types      map[string]*objPlan
	hasPartial bool // some type has steps, so events' previous_attributes may need walking
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

// Empty reports whether the plan changes nothing.
func (p *Plan) Empty() bool { return len(p.types) == 0 }

// Plan returns the compiled plan from one version to another: walking back
// when from is newer than to, forward when it is older.
func (e *Engine) Plan(from, to versions.Version) (*Plan, error) {
	key := [2]versions.Version{from, to}
	if p, ok := e.plans.Load(key); ok {
		return p.(*Plan), nil
	}
	vt := e.tl.Versions()
	for _, v := range []versions.Version{from, to} {
		if !vt.Contains(v) {
			return nil, fmt.Errorf("%w %s; supported versions: %s", versions.ErrUnknownVersion, v, vt.Supported())
		}
	}
	p, err := e.compile(from, to)
	if err != nil {
		return nil, err
	}
	actual, _ := e.plans.LoadOrStore(key, p)
	return actual.(*Plan), nil
}

func (e *Engine) compile(from, to versions.Version) (*Plan, error) {
	p := &Plan{e: e, From: from, To: to, types: map[string]*objPlan{}}
	back := from.After(to)
	older, newer := to, from
	if !back {
		older, newer = from, to
	}
	vs := e.tl.Between(older, newer) // newest first
	if !back {
		reverse(vs)
	}
	for _, v := range vs {
		changes := v.Changes
		for ci := range changes {
			c := &changes[ci]
			if back {
				c = &changes[len(changes)-1-ci]
			}
			for oi := range c.Ops {
				op := c.Ops[oi]
				if back {
					op = c.Ops[len(c.Ops)-1-oi]
				}
				for _, r := range c.Resources {
					s, ok, err := compileOp(e.tl.Funcs(), op, r, back)
					if err != nil {
						return nil, fmt.Errorf("%s: %w", c.ID, err)
					}
					if !ok {
						continue
					}
					op := p.types[r]
					if op == nil {
						op = &objPlan{}
						p.types[r] = op
					}
					op.steps = append(op.steps, s)
				}
			}
		}
	}
	p.hasPartial = len(p.types) > 0
	return p, nil
}

func reverse[T any](s []T) {
	for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
		s[i], s[j] = s[j], s[i]
	}
}

// compileOp turns one op into a step for the given direction; ok is false
// when the op does nothing in that direction.
func compileOp(funcs *gates.Registry, op gates.Op, resource string, back bool) (step, bool, error) {
	name := resource + "." + op.Field
	if resource == "" {
		name = op.Field
	}
	s := step{name: name}
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
		return s, true, nil
	case gates.KindAdded:
		if !back {
			return s, false, nil
		}
		s.kind = stepDrop
		at(op.Field)
	case gates.KindRemoved:
		at(op.Field)
		switch {
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
		case !back:
			s.kind = stepDrop
		case op.From != "":
			s.kind = stepCopy
			s.from = parsePath(op.From)
			for _, x := range s.from {
				if x.each {
					return s, false, fmt.Errorf("removed %s: from %s: a path into an array is not supported", op.Field, op.From)
				}
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
			s.conv = newConverter(op.NowType)
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

// requestKey identifies a cached request plan.
type requestKey struct {
	from     versions.Version
	patterns string
}

// requestPlan returns the plan that walks a request body on method and path
// forward from the given version to the newest, or nil when none applies.
func (e *Engine) requestPlan(from versions.Version, method, path string) (*objPlan, error) {
	if !e.tl.Versions().Contains(from) {
		vt := e.tl.Versions()
		return nil, fmt.Errorf("%w %s; supported versions: %s", versions.ErrUnknownVersion, from, vt.Supported())
	}
	vs := e.tl.Between(from, e.tl.Newest())
	reverse(vs)
	var matched []string
	for _, v := range vs {
		for _, c := range v.Changes {
			for _, ep := range c.Endpoints {
				if ep.Match(method, path) {
					matched = append(matched, ep.String())
				}
			}
		}
	}
	if len(matched) == 0 {
		return nil, nil
	}
	key := requestKey{from: from, patterns: strings.Join(matched, "\n")}
	if p, ok := e.requests.Load(key); ok {
		return p.(*objPlan), nil
	}
	p := &objPlan{}
	for _, v := range vs {
		for _, c := range v.Changes {
			hit := false
			for _, ep := range c.Endpoints {
				hit = hit || ep.Match(method, path)
			}
			if !hit {
				continue
			}
			res := ""
			if len(c.Resources) > 0 {
				res = c.Resources[0]
			}
			for _, op := range c.Ops {
				s, ok, err := compileOp(e.tl.Funcs(), op, res, false)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", c.ID, err)
				}
				if ok {
					p.steps = append(p.steps, s)
				}
			}
		}
	}
	actual, _ := e.requests.LoadOrStore(key, p)
	return actual.(*objPlan), nil
}
