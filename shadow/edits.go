package shadow

import (
	"reflect"
	"regexp"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/versions"
)

// The kinds of an Edit.
const (
	EditAdded   = "added"   // the change is only in the new timeline
	EditRemoved = "removed" // the change is only in the old timeline
	EditMoved   = "moved"   // the change is in both, at another version
	EditChanged = "changed" // the change is in both, at one version, with other resources, endpoints or ops
)

// Edit is one change the new timeline adds, drops, moves or alters in a
// version both timelines have: what a difference can come from.
type Edit struct {
	// Change is the change's id.
	Change string `json:"change"`
	// Kind is EditAdded, EditRemoved, EditMoved or EditChanged.
	Kind string `json:"kind"`
	// Old is the change's version in the old timeline (zero when added),
	// New in the new one (zero when removed).
	Old versions.Version `json:"old,omitzero"`
	New versions.Version `json:"new,omitzero"`
	// Pos is where the change is declared: in the new timeline file, or in
	// the old one for a removed change.
	Pos string `json:"pos,omitempty"`

	oldC, newC *gates.Change
}

// Describe says what the edit did, for reports: "moved from 2017-01-27 to
// 2019-10-17".
func (e Edit) Describe() string {
	switch e.Kind {
	case EditAdded:
		return "added at " + e.New.String()
	case EditRemoved:
		return "removed from " + e.Old.String()
	case EditMoved:
		return "moved from " + e.Old.String() + " to " + e.New.String()
	}
	return "changed at " + e.New.String()
}

// sides returns the change as each timeline declares it, with its version,
// skipping absent sides.
func (e *Edit) sides() []side {
	var out []side
	if e.newC != nil {
		out = append(out, side{e.newC, e.New})
	}
	if e.oldC != nil {
		out = append(out, side{e.oldC, e.Old})
	}
	return out
}

type side struct {
	c *gates.Change
	v versions.Version
}

// edits returns the changes that differ between the timelines, in the new
// timeline's order, then the removed ones. A change in a version only the
// new timeline has (a version added on top, which no pinned client sees)
// is not an edit.
func edits(oldTL, newTL *gates.Timeline) []Edit {
	isShared := func(v versions.Version) bool { return oldTL.Versions().Contains(v) }
	type at struct {
		c *gates.Change
		v versions.Version
	}
	index := func(tl *gates.Timeline) (map[string]at, []string) {
		m := map[string]at{}
		var order []string
		for _, v := range tl.List() {
			for i := range v.Changes {
				c := &v.Changes[i]
				m[c.ID] = at{c, v.ID}
				order = append(order, c.ID)
			}
		}
		return m, order
	}
	om, oorder := index(oldTL)
	nm, norder := index(newTL)
	var out []Edit
	for _, id := range norder {
		n := nm[id]
		o, inOld := om[id]
		switch {
		case !inOld:
			if isShared(n.v) {
				out = append(out, Edit{Change: id, Kind: EditAdded, New: n.v, Pos: n.c.Pos.String(), newC: n.c})
			}
		case o.v != n.v:
			if isShared(n.v) || isShared(o.v) {
				out = append(out, Edit{Change: id, Kind: EditMoved, Old: o.v, New: n.v, Pos: n.c.Pos.String(), oldC: o.c, newC: n.c})
			}
		case !sameChange(o.c, n.c):
			if isShared(n.v) {
				out = append(out, Edit{Change: id, Kind: EditChanged, Old: o.v, New: n.v, Pos: n.c.Pos.String(), oldC: o.c, newC: n.c})
			}
		}
	}
	for _, id := range oorder {
		if _, inNew := nm[id]; inNew {
			continue
		}
		o := om[id]
		out = append(out, Edit{Change: id, Kind: EditRemoved, Old: o.v, Pos: o.c.Pos.String(), oldC: o.c})
	}
	return out
}

// sameChange reports whether two declarations of a change do the same
// thing: resources, endpoints, ops and the breaking mark, wherever they
// are declared and however they are described.
func sameChange(a, b *gates.Change) bool {
	norm := func(c *gates.Change) gates.Change {
		n := gates.Change{Resources: c.Resources, Endpoints: c.Endpoints, Breaking: c.Breaking}
		for _, op := range c.Ops {
			op.Pos = gates.Pos{}
			n.Ops = append(n.Ops, op)
		}
		return n
	}
	return reflect.DeepEqual(norm(a), norm(b))
}

// need is a field an edit touches that some sample must hold, at a version,
// for the comparison to say anything about the edit.
type need struct {
	edit     int
	resource string
	path     string // "" when any object of the resource will do
	version  versions.Version
}

// Uncovered is a field an edit touches that no sample holds at the version
// where it matters: shadow cannot tell whether the edit changes it.
type Uncovered struct {
	Change   string           `json:"change"`
	Edit     string           `json:"edit"`
	Pos      string           `json:"pos,omitempty"`
	Resource string           `json:"resource"`
	Field    string           `json:"field,omitempty"`
	Version  versions.Version `json:"version"`
}

// needs lists what samples must hold to cover the edits: for each op of
// each side of an edit, the field it is about, at the version where it
// exists (the change's version for the newer name or a nest's wrapper,
// the version below it for an older name, a put-back field or the
// members a nest names), for each of its resources.
// Behaviour ops and request-only changes need nothing.
func needs(es []Edit, oldTL, newTL *gates.Timeline, shared map[versions.Version]bool) []need {
	var out []need
	below := func(tl *gates.Timeline, v versions.Version) (versions.Version, bool) {
		list := tl.Versions().List()
		for i, x := range list {
			if x == v && i+1 < len(list) {
				return list[i+1], true
			}
		}
		return versions.Version{}, false
	}
	seen := map[need]bool{}
	add := func(n need) {
		if shared[n.version] && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	for ei := range es {
		e := &es[ei]
		for _, sd := range e.sides() {
			tl := newTL
			if sd.c == e.oldC {
				tl = oldTL
			}
			prev, hasPrev := below(tl, sd.v)
			for _, r := range sd.c.Resources {
				for _, op := range sd.c.Ops {
					switch op.Kind {
					case gates.KindBehavior:
					case gates.KindCustom:
						add(need{ei, r, "", sd.v})
					case gates.KindRename:
						add(need{ei, r, op.Field, sd.v})
						if hasPrev {
							add(need{ei, r, op.Was, prev})
						}
					case gates.KindRemoved:
						if hasPrev {
							add(need{ei, r, op.Field, prev})
						}
					case gates.KindNest:
						// The wrapper, and the members it names where
						// they were before it: beside it.
						add(need{ei, r, op.Field, sd.v})
						if hasPrev {
							for _, m := range op.Fields()[1:] {
								add(need{ei, r, m, prev})
							}
						}
					default:
						add(need{ei, r, op.Field, sd.v})
					}
				}
			}
		}
	}
	return out
}

// holds reports whether doc has an object of type typ (at any depth)
// holding path.
func holds(doc gjson.Result, typ, path string) bool {
	found := false
	var walk func(r gjson.Result, depth int)
	walk = func(r gjson.Result, depth int) {
		if found || depth > 64 {
			return
		}
		switch {
		case r.IsObject():
			if t := r.Get("object"); t.Type == gjson.String && t.Str == typ {
				if path == "" || hasPath(r, strings.Split(path, ".")) {
					found = true
					return
				}
			}
			r.ForEach(func(_, v gjson.Result) bool { walk(v, depth+1); return !found })
		case r.IsArray():
			r.ForEach(func(_, v gjson.Result) bool { walk(v, depth+1); return !found })
		}
	}
	walk(doc, 0)
	return found
}

// hasPath reports whether obj holds the path given as segments ("items[]"
// steps into every element of an array).
func hasPath(obj gjson.Result, segs []string) bool {
	if len(segs) == 0 {
		return true
	}
	key, each := strings.CutSuffix(segs[0], "[]")
	var v gjson.Result
	found := false
	obj.ForEach(func(k, x gjson.Result) bool {
		if k.String() == key {
			v, found = x, true
			return false
		}
		return true
	})
	if !found {
		return false
	}
	if len(segs) == 1 && !each {
		return true
	}
	if each {
		ok := false
		v.ForEach(func(_, x gjson.Result) bool {
			ok = x.IsObject() && hasPath(x, segs[1:])
			return !ok
		})
		return ok
	}
	return v.IsObject() && hasPath(v, segs[1:])
}

var arrayIndex = regexp.MustCompile(`\[[0-9]+\]`)

// fieldPath turns a difference's path inside its object ("items[2].price")
// into the form op paths use ("items[].price").
func fieldPath(rel string) string { return arrayIndex.ReplaceAllString(rel, "[]") }

// touches reports whether the op is about the field path of a difference
// (the field, something inside it, or an object holding it). A nest op
// that moves every member of its wrapper names none of them, and before
// it they are fields beside the wrapper: it touches every path in the
// object holding the wrapper.
func touches(op gates.Op, path string) bool {
	if op.Kind == gates.KindCustom {
		return true
	}
	b := strings.ReplaceAll(path, "[]", "")
	within := func(a string) bool {
		return a == b || strings.HasPrefix(b, a+".") || strings.HasPrefix(a, b+".") || b == ""
	}
	if op.Kind == gates.KindNest && len(op.Members) == 0 {
		i := strings.LastIndexByte(op.Field, '.')
		if i < 0 || within(strings.ReplaceAll(op.Field[:i], "[]", "")) {
			return true
		}
	}
	for _, f := range op.Fields() {
		if within(strings.ReplaceAll(f, "[]", "")) {
			return true
		}
	}
	return false
}

// blame returns the edits that can explain a difference at version v in an
// object of type typ at path: those with a side in a version newer than v
// (which rendering at v walks through) up to the pivot, on that resource,
// with an op about that field; failing that, any such edit on the
// resource.
func blame(es []Edit, v, pivot versions.Version, typ, path string) []int {
	var byField, byType []int
	for i := range es {
		field, res := false, false
		for _, sd := range es[i].sides() {
			if !sd.v.After(v) || sd.v.After(pivot) {
				continue
			}
			if typ != "" && len(sd.c.Resources) > 0 && !contains(sd.c.Resources, typ) {
				continue
			}
			res = true
			for _, op := range sd.c.Ops {
				if touches(op, path) {
					field = true
				}
			}
		}
		if field {
			byField = append(byField, i)
		} else if res {
			byType = append(byType, i)
		}
	}
	if len(byField) > 0 {
		return byField
	}
	return byType
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
