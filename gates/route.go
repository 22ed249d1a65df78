package gates

import (
	"net/http"
	"net/textproto"
	"slices"
	"strings"

	"github.com/verso-api/verso/versions"
)

// RouteDecision is what the timeline says about one request at one
// version: whether its endpoint exists there, where it is served now if it
// moved, and how its response's status and headers are walked back.
// The zero value says nothing applies.
type RouteDecision struct {
	// Absent is true when the endpoint does not exist at the version (it
	// was added later, or removed or moved away at or before it): the
	// request is answered 404 as if the route did not exist.
	Absent bool
	// Moved is true when the endpoint moved after the version: the request
	// is served at Method and Path.
	Moved bool
	// Method and Path are where the request is served: the request's own
	// unless Moved.
	Method, Path string

	// resp are the version's status and header rules, newest first; rules
	// are matched against the request's own method and path.
	resp          []respRule
	method, path  string
	adjustsStatus bool
	adjustsHeader bool
	// fired, when not nil, gets the changes whose status and header ops
	// Status and Header apply (RouteFired).
	fired *Fired
}

// AdjustsResponse reports whether the response's status code or headers
// are changed on the way back (Status and Header do something).
func (d *RouteDecision) AdjustsResponse() bool { return d.adjustsStatus || d.adjustsHeader }

// Status returns the status code the version answers where the newest
// answers code.
func (d *RouteDecision) Status(code int) int {
	if !d.adjustsStatus {
		return code
	}
	for i := range d.resp {
		r := &d.resp[i]
		if r.kind == KindStatus && code == r.code && r.matches(d.method, d.path) {
			code = r.was
			if d.fired != nil {
				d.fired.Add(r.change)
			}
		}
	}
	return code
}

// Header renames and drops the response headers h as the version had them.
func (d *RouteDecision) Header(h http.Header) {
	if !d.adjustsHeader {
		return
	}
	for i := range d.resp {
		r := &d.resp[i]
		if r.kind == KindStatus || !r.matches(d.method, d.path) {
			continue
		}
		vals, ok := h[r.header]
		if !ok {
			continue
		}
		delete(h, r.header)
		if r.kind == KindHeaderRename {
			h[r.wasHeader] = vals
		}
		if d.fired != nil {
			d.fired.Add(r.change)
		}
	}
}

// Route returns what the timeline says about a request with the given
// method and path served at version v. It does not allocate unless the
// endpoint moved (the new path is built). A HEAD request is routed as a
// GET. A version not on the timeline gets the zero decision with the
// request's method and path.
func (t *Timeline) Route(v versions.Version, method, path string) RouteDecision {
	return t.RouteFired(v, method, path, nil)
}

// RouteFired is Route reporting, in fired, the changes that apply: the
// endpoint op that makes the endpoint absent, the moves that send it on,
// and, as the decision's Status and Header methods apply them, the status
// and header ops that change the response. With a nil fired it is Route.
func (t *Timeline) RouteFired(v versions.Version, method, path string, fired *Fired) RouteDecision {
	d := RouteDecision{Method: method, Path: path, method: method, path: path, fired: fired}
	i, ok := t.index[v]
	if !ok {
		return d
	}
	rt := &t.routes[i]
	m := method
	if m == http.MethodHead {
		m = http.MethodGet
	}
	for _, a := range rt.absent {
		if a.endpoint.Match(m, path) {
			d.Absent = true
			if fired != nil {
				fired.Add(a.change)
			}
			return d
		}
	}
	for _, mv := range rt.moves {
		if mv.from.Match(m, path) {
			if fired != nil {
				for _, c := range mv.changes {
					fired.Add(c)
				}
			}
			d.Moved = true
			d.Path = rewritePath(mv.from.Path, mv.to.Path, path)
			d.Method = mv.to.Method
			if method == http.MethodHead && mv.to.Method == http.MethodGet {
				d.Method = method
			}
			break
		}
	}
	d.resp = rt.resp
	for i := range rt.resp {
		r := &rt.resp[i]
		if r.matches(method, path) {
			if r.kind == KindStatus {
				d.adjustsStatus = true
			} else {
				d.adjustsHeader = true
			}
		}
	}
	return d
}

// routeTable is what applies to requests served at one version.
type routeTable struct {
	absent []absence
	moves  []move
	resp   []respRule
}

// absence is an endpoint absent at a version, and the index of the change
// that makes it so (that added it later, or removed or moved it away).
type absence struct {
	endpoint Endpoint
	change   int
}

// move sends requests at from on to to; changes are the indexes of the
// changes that moved it there, one per move of the chain.
type move struct {
	from, to Endpoint
	changes  []int
}

// respRule is one status or header op, with the endpoints of its change
// (none: every endpoint).
type respRule struct {
	kind              Kind
	scope             []Endpoint
	code, was         int
	header, wasHeader string // canonical
	change            int    // the index of the op's change
}

func (r *respRule) matches(method, path string) bool {
	if len(r.scope) == 0 {
		return true
	}
	for _, e := range r.scope {
		if e.Match(method, path) {
			return true
		}
	}
	return false
}

// endpointEvent is an endpoint appearing (added, or the new place of a
// move) or disappearing (removed, or the old place of a move) at a version.
type endpointEvent struct {
	at       versions.Version
	added    bool
	endpoint Endpoint
	pos      Pos
	change   string
	op       Kind
}

// endpointEvents returns, per endpoint key, the events of the timeline
// oldest first, and the keys in the order first seen.
func endpointEvents(vs []Version) (map[string][]endpointEvent, []string) {
	events := map[string][]endpointEvent{}
	var keys []string
	for i := len(vs) - 1; i >= 0; i-- {
		v := vs[i]
		for _, c := range v.Changes {
			for _, op := range c.Ops {
				if !op.Kind.Endpoint() {
					continue
				}
				pos := op.Pos
				if pos == (Pos{}) {
					pos = c.Pos
				}
				// An addition or a removal is one event; a move, the
				// removal of where it was and the addition of where it is.
				var evs [2]endpointEvent
				n := 0
				ev := endpointEvent{at: v.ID, pos: pos, change: c.ID, op: op.Kind}
				if op.Kind == KindEndpointMoved {
					evs[n], n = ev, 1
					evs[0].endpoint = op.WasEndpoint
				}
				ev.added, ev.endpoint = op.Kind != KindEndpointRemoved, op.Endpoint
				evs[n], n = ev, n+1
				for _, e := range evs[:n] {
					k := endpointKey(e.endpoint)
					if _, ok := events[k]; !ok {
						keys = append(keys, k)
					}
					events[k] = append(events[k], e)
				}
			}
		}
	}
	return events, keys
}

// checkEndpointHistory refuses endpoint ops that contradict each other: an
// endpoint added twice with no removal in between, removed twice, or
// changed twice in one version.
func checkEndpointHistory(vs []Version, errs *ErrorList) {
	events, keys := endpointEvents(vs)
	for _, k := range keys {
		evs := events[k]
		for i := 1; i < len(evs); i++ {
			prev, ev := evs[i-1], evs[i]
			switch {
			case prev.at == ev.at:
				errs.add(ev.pos, ev.change, "%s: %s is also changed by %s of change %s in the same version", ev.op, ev.endpoint, prev.op, prev.change)
			case ev.added && prev.added:
				errs.add(ev.pos, ev.change, "%s: %s exists already since %s (%s of change %s); it must be removed in between to be added again", ev.op, ev.endpoint, prev.at, prev.op, prev.change)
			case !ev.added && !prev.added:
				errs.add(ev.pos, ev.change, "%s: %s no longer exists since %s (%s of change %s)", ev.op, ev.endpoint, prev.at, prev.op, prev.change)
			}
		}
	}
}

func (t *Timeline) compileRoutes() {
	t.index = make(map[versions.Version]int, len(t.list))
	for i, v := range t.list {
		t.index[v.ID] = i
	}
	events, keys := endpointEvents(t.list)
	t.routes = make([]routeTable, len(t.list))
	for i, v := range t.list {
		rt := &t.routes[i]
		for _, k := range keys {
			if ev, ok := absentAt(events[k], v.ID); ok {
				rt.absent = append(rt.absent, absence{endpoint: events[k][0].endpoint, change: t.ChangeIndex(ev.change)})
			}
		}
		// Moves after v, oldest first, so that a later move of the new
		// place carries older clients along.
		for j := i - 1; j >= 0; j-- {
			for _, c := range t.list[j].Changes {
				for _, op := range c.Ops {
					if op.Kind != KindEndpointMoved {
						continue
					}
					was, now := endpointKey(op.WasEndpoint), op.Endpoint
					ci := t.ChangeIndex(c.ID)
					dup := false
					for m := range rt.moves {
						if endpointKey(rt.moves[m].to) == was {
							rt.moves[m].to = now
							rt.moves[m].changes = append(rt.moves[m].changes, ci)
						}
						dup = dup || endpointKey(rt.moves[m].from) == was
					}
					if !dup {
						rt.moves = append(rt.moves, move{from: op.WasEndpoint, to: now, changes: []int{ci}})
					}
				}
			}
		}
		// Status and header ops after v, newest first, each version's
		// changes and ops in reverse declared order: the order responses
		// are walked back in.
		for j := 0; j < i; j++ {
			cs := t.list[j].Changes
			for ci := len(cs) - 1; ci >= 0; ci-- {
				c := &cs[ci]
				for oi := len(c.Ops) - 1; oi >= 0; oi-- {
					op := c.Ops[oi]
					if !op.Kind.Response() {
						continue
					}
					rt.resp = append(rt.resp, respRule{
						kind:      op.Kind,
						scope:     c.Endpoints,
						code:      op.Code,
						was:       op.WasCode,
						header:    textproto.CanonicalMIMEHeaderKey(op.Header),
						wasHeader: textproto.CanonicalMIMEHeaderKey(op.WasHeader),
						change:    t.ChangeIndex(c.ID),
					})
				}
			}
		}
	}
}

// absentAt reports whether an endpoint with the given events (oldest
// first) is absent at version v, and the event that makes it so: the last
// event at or before v removed it, or, with none, the first event after v
// added it.
func absentAt(evs []endpointEvent, v versions.Version) (endpointEvent, bool) {
	last := -1
	for i, ev := range evs {
		if !ev.at.After(v) {
			last = i
		}
	}
	if last >= 0 {
		return evs[last], !evs[last].added
	}
	return evs[0], evs[0].added
}

// endpointKey identifies an endpoint whatever its parameters are called
// or written as: "GET /v1/customers/:/cards".
func endpointKey(e Endpoint) string {
	segs := strings.Split(e.Path, "/")
	for i, s := range segs {
		if IsParam(s) {
			segs[i] = ":"
		}
	}
	return e.Method + " " + strings.Join(segs, "/")
}

// params returns the sorted names of a path pattern's parameters.
func params(path string) []string {
	var out []string
	for _, s := range strings.Split(path, "/") {
		if IsParam(s) {
			out = append(out, paramName(s))
		}
	}
	slices.Sort(out)
	return out
}

func sameParams(a, b string) bool { return slices.Equal(params(a), params(b)) }

// checkOpEndpoint validates the endpoint under key of an endpoint op; it
// reports whether it is valid.
func checkOpEndpoint(pos Pos, id, name, key string, e Endpoint, errs *ErrorList) bool {
	n := len(*errs)
	switch {
	case e.Method == "" && e.Path == "":
		errs.add(pos, id, "%s: missing key %q", name, key)
	case e.Method == "":
		_, err := ParseEndpoint(e.Path)
		errs.add(pos, id, "%s: %s: %v", name, key, err)
	case e.Method == "*":
		errs.add(pos, id, "%s: %s %q: name one method, not *", name, key, e)
	default:
		if _, err := ParseEndpoint(e.String()); err != nil {
			errs.add(pos, id, "%s: %s: %v", name, key, err)
			break
		}
		seen := map[string]bool{}
		for i, s := range strings.Split(e.Path, "/") {
			switch {
			case s == "" && i > 0 && e.Path != "/":
				errs.add(pos, id, "%s: %s %q: empty path segment", name, key, e)
			case s == ":":
				errs.add(pos, id, "%s: %s %q: a parameter needs a name after ':'", name, key, e)
			case IsParam(s) && seen[paramName(s)]:
				errs.add(pos, id, "%s: %s %q: parameter %s appears twice", name, key, e, s)
			}
			if IsParam(s) {
				seen[paramName(s)] = true
			}
		}
	}
	return len(*errs) == n
}

// rewritePath builds the path of pattern to from a path that matches
// pattern from, carrying the parameters by name.
func rewritePath(from, to, path string) string {
	fs := strings.Split(from, "/")
	ps := strings.Split(path, "/")
	ts := strings.Split(to, "/")
	for i, s := range ts {
		if !IsParam(s) {
			continue
		}
		for j, f := range fs {
			if IsParam(f) && paramName(f) == paramName(s) && j < len(ps) {
				ts[i] = ps[j]
				break
			}
		}
	}
	return strings.Join(ts, "/")
}
