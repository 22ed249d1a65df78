package transform

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/versions"
)

// router holds the distinct endpoint templates of a timeline. A request's
// method and path are matched against all of them into a set of route
// indexes; plans for requests and endpoint-scoped responses are cached by
// version and that set, so that no request compiles anything once its
// route has been seen.
type router struct {
	routes []gates.Endpoint
}

// add returns the index of ep, adding it when it is new.
func (r *router) add(ep gates.Endpoint) int {
	for i, x := range r.routes {
		if x == ep {
			return i
		}
	}
	r.routes = append(r.routes, ep)
	return len(r.routes) - 1
}

// words is the length of a set of routes.
func (r *router) words() int { return (len(r.routes) + 63) / 64 }

// match adds to set the routes that match method and path and reports
// whether any did. It does not allocate.
func (r *router) match(method, path string, set []uint64) bool {
	hit := false
	for i := range r.routes {
		if r.routes[i].Match(method, path) {
			set[i>>6] |= 1 << (i & 63)
			hit = true
		}
	}
	return hit
}

// maxCached bounds each cache of plans keyed by route. Past it, plans are
// compiled for each request: the number of keys a timeline allows is small
// (versions times the route sets real paths produce), so it is never
// reached in practice.
const maxCached = 8192

// cache maps keys to compiled plans. Reads take no lock: the map is
// replaced, never modified, when a plan is added.
type cache[T any] struct {
	mu sync.Mutex
	m  atomic.Pointer[map[string]T]
}

func (c *cache[T]) get(key []byte) (T, bool) {
	if m := c.m.Load(); m != nil {
		v, ok := (*m)[string(key)]
		return v, ok
	}
	var zero T
	return zero, false
}

// put adds v under key unless a value is there already, and returns the
// value cached under key (v when the cache is full).
func (c *cache[T]) put(key []byte, v T) T {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.m.Load()
	n := 0
	if old != nil {
		if x, ok := (*old)[string(key)]; ok {
			return x
		}
		n = len(*old)
	}
	if n >= maxCached {
		return v
	}
	m := make(map[string]T, n+1)
	if old != nil {
		for k, x := range *old {
			m[k] = x
		}
	}
	m[string(key)] = v
	c.m.Store(&m)
	return v
}

// routeSet returns a zeroed set of routes, in buf when it is big enough.
func (e *Engine) routeSet(buf []uint64) []uint64 {
	n := e.routes.words()
	if n <= len(buf) {
		return buf[:n]
	}
	return make([]uint64, n)
}

// ResponsePlan returns the plan that walks the response to method and
// path from version from to version to: the ops of the changes between
// them scoped by resource, and those of the changes scoped by endpoint
// whose endpoints match. Use its ForStatus for the response's status. It
// returns nil when the walk changes nothing whatever the status, so that
// the response can stream through unbuffered. Plans are compiled once per
// pair of versions and set of matching endpoint templates and cached; a
// call for a route already seen does not allocate.
//
//	p, err := engine.ResponsePlan(engine.Timeline().Newest(), clientVersion, r.Method, r.URL.Path)
func (e *Engine) ResponsePlan(from, to versions.Version, method, path string) (*Plan, error) {
	fi, ti, err := e.indexes(from, to)
	if err != nil {
		return nil, err
	}
	if fi == ti {
		return nil, nil
	}
	p, err := e.pairPlan(fi, ti)
	if err != nil {
		return nil, err
	}
	if e.topScoped {
		if p, err = e.endpointPlan(p, fi, ti, method, path); err != nil {
			return nil, err
		}
	}
	if p.Empty() && p.errs == nil {
		return nil, nil
	}
	return p, nil
}

// endpointPlan returns the plan between the versions at fi and ti for
// method and path: p, the pair's plan, when no change scoped by endpoint
// matches them.
func (e *Engine) endpointPlan(p *Plan, fi, ti int, method, path string) (*Plan, error) {
	var sb [4]uint64
	set := e.routeSet(sb[:])
	if !e.routes.match(method, path, set) {
		return p, nil
	}
	hit := uint64(0)
	for i := range set {
		set[i] &= e.topRoutes[i]
		hit |= set[i]
	}
	if hit == 0 {
		return p, nil
	}
	var kb [64]byte
	key := planKey(kb[:0], 'r', fi, ti, set)
	if rp, ok := e.responses.get(key); ok {
		return rp, nil
	}
	rp, err := e.compile(fi, ti, set)
	if err != nil {
		return nil, err
	}
	if rp.top == nil {
		rp = p // no endpoint op between the two versions: share the pair's plan
	}
	return e.responses.put(key, rp), nil
}

// requestPlan returns the plan that walks a request body on method and path
// forward from the given version to the newest, or nil when none applies.
func (e *Engine) requestPlan(from versions.Version, method, path string) (*objPlan, error) {
	fi := e.tl.Versions().Index(from)
	if fi < 0 {
		_, _, err := e.indexes(from, from)
		return nil, err
	}
	if fi == 0 {
		return nil, nil
	}
	var sb [4]uint64
	set := e.routeSet(sb[:])
	if !e.routes.match(method, path, set) {
		return nil, nil
	}
	var kb [64]byte
	key := planKey(kb[:0], 'q', fi, 0, set)
	if p, ok := e.requests.get(key); ok {
		return p, nil
	}
	p, err := e.compileRequest(fi, set)
	if err != nil {
		return nil, err
	}
	return e.requests.put(key, p), nil
}

// compileRequest builds the forward walk of request bodies from the
// version at index fi to the newest through the changes that name one of
// the routes in set; nil when there is none.
func (e *Engine) compileRequest(fi int, set []uint64) (*objPlan, error) {
	p := &objPlan{}
	for i := fi - 1; i >= 0; i-- {
		for ci := range e.vers[i].changes {
			info := &e.vers[i].changes[ci]
			if !anyRoute(info.routes, set) {
				continue
			}
			c := info.c
			res := ""
			if len(c.Resources) > 0 {
				res = c.Resources[0]
			}
			for oi, op := range c.Ops {
				s, ok, err := compileOp(e.tl.Funcs(), op, res, false, true)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", c.ID, err)
				}
				s.change, s.slot = info.idx, e.tl.FieldSlotIndex(info.idx, oi, "")
				if s.kind == stepNest && res != "" && s.members == nil {
					s.keep = []byte(e.qtype)
				}
				if ok {
					p.steps = append(p.steps, s)
				}
			}
		}
	}
	if len(p.steps) == 0 {
		return nil, nil
	}
	return p, nil
}
