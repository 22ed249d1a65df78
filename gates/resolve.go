package gates

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Resolver fetches the value that a removed op with `resolve` puts back
// when the newest response does not carry it: the data an older version
// embedded (a charge's refunds, a payment intent's charges) that only a
// store knows. The walk calls it once per response with every object that
// needs the field (objects of lists, expanded sub-objects, events'
// data.object alike), so that a store can answer with one query instead
// of one per object; values it returns may themselves hold objects that
// need resolving, which the walk asks for in a next round (see
// transform.Plan.ApplyContext). ctx is the request's context.
//
// It returns one value per ref, in the order of refs: a JSON value in the
// newest schema, walked back to the client's version with the rest of the
// response, or nil when it knows none, in which case the op's default (or
// null) is put back. An error fails the walk.
type Resolver func(ctx context.Context, refs []Ref) ([]json.RawMessage, error)

// Ref is one object a Resolver is asked about.
type Ref struct {
	// Type is the object's type: the resource of the change ("" for the
	// top-level object of a change scoped by endpoint).
	Type string
	// ID is the object's "id" member.
	ID string
	// At, when not zero, is the `created` time (Unix seconds) of the event
	// the object is found in (its data.object, or a value resolved for
	// it): a resolver answers with what was true then. An event shows its
	// object as it was when the event happened.
	At int64
}

// RegisterResolver adds the resolver fn as name, for removed ops that say
// `resolve: name`. It refuses an empty name, a nil fn and a name
// registered twice. Resolvers and custom functions have names of their
// own: one name may be both.
func (r *Registry) RegisterResolver(name string, fn Resolver) error {
	if name == "" {
		return errors.New("gates: register resolver: empty name")
	}
	if fn == nil {
		return fmt.Errorf("gates: register resolver %q: nil function", name)
	}
	if _, dup := r.resolvers[name]; dup {
		return fmt.Errorf("gates: register resolver %q: already registered", name)
	}
	if r.resolvers == nil {
		r.resolvers = map[string]Resolver{}
	}
	r.resolvers[name] = fn
	return nil
}

// LookupResolver returns the resolver registered as name.
func (r *Registry) LookupResolver(name string) (Resolver, bool) {
	if r == nil {
		return nil, false
	}
	fn, ok := r.resolvers[name]
	return fn, ok
}

// ResolverNames returns the names of the registered resolvers, sorted.
func (r *Registry) ResolverNames() []string {
	if r == nil {
		return nil
	}
	names := make([]string, 0, len(r.resolvers))
	for n := range r.resolvers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// RemovedResolved declares a field the newer version dropped; walking back
// puts it back with the value the resolver registered as resolver returns
// for each object (null when it returns none; WithDefault gives another
// fallback).
//
//	gates.RemovedResolved("refunds", "charge_refunds").WithDefault(map[string]any{"object": "list", "data": []any{}})
func RemovedResolved(field, resolver string) Op {
	return Op{Kind: KindRemoved, Field: field, Resolve: resolver}
}

// stubResolver is the resolver Options.StubMissing accepts for one the
// registry lacks: it knows no value, so the op's default is put back.
func stubResolver(_ context.Context, refs []Ref) ([]json.RawMessage, error) {
	return make([]json.RawMessage, len(refs)), nil
}

// checkResolve validates what a removed op with a resolver adds to the
// checks of removed ops.
func checkResolve(op *Op, pos Pos, id string, funcs *Registry, errs *ErrorList) {
	if _, ok := funcs.LookupResolver(op.Resolve); !ok {
		errs.add(pos, id, "removed: no resolver is registered as %q (register it with RegisterResolver on the Registry passed to the loader)", op.Resolve)
	}
	if strings.Contains(op.Field, "[]") {
		errs.add(pos, id, "removed: field %q: a resolved field cannot be inside an array: a resolver answers once per object", op.Field)
	}
}

// checkResolvedFields refuses ops that apply after a resolve op, on the
// same scope, to what lies inside the field it puts back (or that convert
// it): the resolved value is spliced in once the whole response is
// walked, so such an op would never see it. Walking back applies older
// versions after newer ones, and within a version, changes and ops in
// reverse declared order.
func checkResolvedFields(vs []Version, errs *ErrorList) {
	type resolved struct {
		scope, field, change, resolver string
	}
	var seen []resolved
	for _, v := range vs {
		// Within the version, ops declared earlier apply later: walk them
		// in reverse so that seen holds what applied before each.
		var here []resolved
		for ci := len(v.Changes) - 1; ci >= 0; ci-- {
			c := &v.Changes[ci]
			scopes := changeScopes(c)
			for oi := len(c.Ops) - 1; oi >= 0; oi-- {
				op := &c.Ops[oi]
				pos := op.Pos
				if pos == (Pos{}) {
					pos = c.Pos
				}
				for _, s := range scopes {
					for _, r := range append(seen, here...) {
						if r.scope != s {
							continue
						}
						if msg := afterResolve(op, r.field); msg != "" {
							errs.add(pos, c.ID, "%s: %s %s: it applies after %s puts back %s.%s (change %s), whose value is spliced in once the response is walked", op.Kind, msg, r.field, r.resolver, s, r.field, r.change)
						}
					}
				}
				if op.Kind == KindRemoved && op.Resolve != "" {
					for _, s := range scopes {
						here = append(here, resolved{scope: s, field: op.Field, change: c.ID, resolver: "resolver " + op.Resolve})
					}
				}
			}
		}
		seen = append(seen, here...)
	}
}

// changeScopes names what a change's response ops apply to: its resources,
// or its endpoints when it has none.
func changeScopes(c *Change) []string {
	if len(c.Resources) > 0 {
		return c.Resources
	}
	out := make([]string, len(c.Endpoints))
	for i, e := range c.Endpoints {
		out[i] = "endpoint " + endpointKey(e)
	}
	return out
}

// afterResolve says how op, applied after a resolver put back field, would
// miss its value; "" when it does not.
func afterResolve(op *Op, field string) string {
	inside := func(p string) bool {
		return strings.HasPrefix(strings.ReplaceAll(p, "[]", ""), field+".")
	}
	switch {
	case op.Kind == KindRetype && op.Field == field:
		return "converts"
	case op.Kind == KindEnum && op.Field == field:
		return "maps the values of"
	case op.Kind == KindRemoved && op.From != "" && inside(op.From):
		return "copies from inside"
	}
	for _, f := range op.Fields() {
		if inside(f) {
			return "changes a field inside"
		}
	}
	return ""
}
