package transform

import (
	"bytes"
	"fmt"
	"math"
	"strings"

	"github.com/verso-api/verso/gates"
)

// seg is one step of a field path: a key, and whether the path then steps
// into each element of the array found there.
type seg struct {
	key  string
	each bool
}

func parsePath(p string) []seg {
	parts := strings.Split(p, ".")
	out := make([]seg, len(parts))
	for i, s := range parts {
		out[i] = seg{key: strings.TrimSuffix(s, "[]"), each: strings.HasSuffix(s, "[]")}
	}
	return out
}

type stepKind uint8

const (
	stepRename stepKind = iota + 1
	stepDrop
	stepDefault
	stepCopy
	stepConvert
	stepEnum
	stepCustom
	stepLift     // nest walked back: members out of a wrapper
	stepNest     // nest walked forward: members into a wrapper
	stepCollapse // collapse walked back: an object becomes its id
	stepExpand   // collapse walked forward: an id becomes an object, or moves
	stepResolve
)

// step is one compiled operation, in one direction, for one object type.
type step struct {
	kind   stepKind
	parent []seg  // the object holding the field (empty for the top level)
	key    string // the field's key in parent
	qkey   []byte // key, quoted
	qdst   []byte // the last key of dst, quoted
	// rename: the source and destination, relative to parent.
	dst  []seg
	from []seg
	// src is the path a copy reads, from the top level; raw is what a
	// copy falls back to when it finds nothing (nil: nothing), and the
	// literal a default puts.
	src  []fstep
	raw  []byte
	conv converter
	// was and now are the types of a retype walked forward: a request's
	// value must be of type was, and convert to now.
	was, now gates.Type
	enum     map[string][]byte // raw quoted value -> raw quoted value
	// enumFrom and enumTo list enum's pairs when there are few, which
	// enumOf compares in turn.
	enumFrom, enumTo [][]byte
	fn               gates.Func
	name             string // resource.field, for errors
	// members are the quoted members a nest moves (nil: every member);
	// qid is the quoted member holding a collapsed object's id, and
	// qalt the quoted member an expand moves the id to (nil: none).
	members [][]byte
	// keep is the quoted type field, which a nest of every member of a
	// typed object leaves where it is.
	keep []byte
	qid  []byte
	qalt []byte
	// envelope tells that an error plan's step applies to the whole
	// error body, not to its error object.
	envelope bool
	// req tells that the step walks a request forward: a field sent under
	// both its old and new name is a *ConflictError, not overwritten.
	req bool
	// oldParam and newParam name such fields as a form would.
	oldParam, newParam string
	// change is the index of the step's change, reported when it fires,
	// and slot its field slot (gates.Timeline.FieldSlotIndex; -1 for
	// none), reported when the walk tracks fields.
	change, slot int
	// resolver, rname and rtype are the resolver of a resolve step, its
	// name and the type of the objects it is asked about.
	resolver     gates.Resolver
	rname, rtype string
}

// fstep is one step of a copy's source path: a key, and the index it
// stands for when it is made of digits (else -1).
type fstep struct {
	key string
	idx int
}

// objPlan is the compiled list of steps for one object type.
type objPlan struct {
	steps []step
	// errs tells that the plan walks error bodies: it is applied to the
	// body's top-level object, and each step that is not an envelope step
	// to the error object, found anew at each step since an envelope step
	// may add or remove it (the top-level member wrapper when it is an
	// object, else the body itself).
	errs bool
	// wrapper is the member that holds an error body's fields: the one
	// the timeline's error shape names (apierror.Shape.Wrapper), "error"
	// when it names none.
	wrapper string
	// desc is the descent of the steps, nil when not worked out.
	desc *descent
	// flat is the plan's flat program, nil when it has none.
	flat *flatProg
}

// Error is a value a plan could not convert, naming the field.
type Error struct {
	Field string // resource.path
	Msg   string
}

func (e *Error) Error() string { return e.Field + ": " + e.Msg }

// visit calls fn on every object reached by path from o (every element
// when a segment steps into an array).
func (d *domPool) visit(o *object, path []seg, fn func(*object) error) error {
	if len(path) == 0 {
		return fn(o)
	}
	i := o.find(path[0].key)
	if i < 0 {
		return nil
	}
	m := &o.members[i]
	if !path[0].each {
		c := d.memberObject(o, m)
		m.dirty = true
		if c == nil {
			return nil
		}
		return inParam(d.visit(c, path[1:], fn), path[0].key, -1)
	}
	a := d.memberArray(o, m)
	if a == nil {
		return nil
	}
	for k := range a.elems {
		if c := d.elemObject(&a.elems[k]); c != nil {
			m.dirty = true
			if err := d.visit(c, path[1:], fn); err != nil {
				return inParam(err, path[0].key, k)
			}
		}
	}
	return nil
}

// lookupFrom returns the raw value at path from o, or nil. A step of
// digits picks an element of an array (and names a member of an object).
func (d *domPool) lookupFrom(o *object, path []fstep) []byte {
	var a *array
	for k, st := range path {
		last := k == len(path)-1
		if o != nil {
			i := o.find(st.key)
			if i < 0 {
				return nil
			}
			m := &o.members[i]
			if last {
				return d.value(o, m)
			}
			parent := o
			o, a = d.memberObject(parent, m), nil
			if o == nil {
				if a = d.memberArray(parent, m); a == nil {
					return nil
				}
			}
			continue
		}
		if st.idx < 0 || st.idx >= len(a.elems) {
			return nil
		}
		e := &a.elems[st.idx]
		if last {
			return d.elemValue(e)
		}
		o, a = d.elemObject(e), nil
		if o == nil {
			if a = d.elemArray(e); a == nil {
				return nil
			}
		}
	}
	return nil
}

// ensure returns the object at path under o, creating empty objects on the
// way (no array steps).
func (d *domPool) ensure(o *object, path []seg) *object {
	for _, s := range path {
		i := o.find(s.key)
		if i < 0 {
			o.add(quoteKey(s.key), []byte("{}"))
			i = len(o.members) - 1
		}
		c := d.memberObject(o, &o.members[i])
		if c == nil {
			return nil // a non-object is in the way: leave it
		}
		o = c
	}
	return o
}

func (p *objPlan) apply(d *domPool, o *object) (*object, error) {
	return p.run(d, o, false)
}

// applyPartial runs the plan on a partial object such as an event's
// previous_attributes: fields present are renamed, converted or dropped;
// nothing is put back.
func (p *objPlan) applyPartial(d *domPool, o *object) (*object, error) {
	return p.run(d, o, true)
}

// fire reports that step s changed something, when the walk reports the
// changes that fired.
func (d *domPool) fire(s *step) {
	if d.fired != nil {
		d.fired.AddField(s.change, s.slot)
	}
}

func (p *objPlan) run(d *domPool, o *object, partial bool) (*object, error) {
	for i := range p.steps {
		s := &p.steps[i]
		if partial && (s.kind == stepDefault || s.kind == stepCopy || s.kind == stepCustom || s.kind == stepResolve) {
			continue
		}
		if s.kind == stepResolve {
			if err := d.resolve(o, s); err != nil {
				return nil, err
			}
			continue
		}
		t, at := o, -1 // the object the step applies to, and its member in o
		if p.errs && !s.envelope {
			if at = o.find(p.wrapper); at >= 0 {
				if t = d.memberObject(o, &o.members[at]); t == nil {
					t, at = o, -1
				}
			}
		}
		if s.kind == stepCustom {
			n, err := d.custom(t, s)
			if err != nil {
				return nil, err
			}
			if at < 0 {
				o = n
			} else {
				d.setObject(o, at, n)
			}
			continue
		}
		var from []byte
		if s.kind == stepCopy {
			if from = d.lookupFrom(t, s.src); from == nil {
				if from = s.raw; from == nil {
					continue
				}
			}
		}
		var err error
		if len(s.parent) == 0 {
			// Most steps are on the object's own members.
			err = d.do(t, s, from)
		} else {
			err = d.visit(t, s.parent, func(obj *object) error { return d.do(obj, s, from) })
		}
		if err != nil {
			return nil, err
		}
	}
	return o, nil
}

func (d *domPool) do(o *object, s *step, from []byte) error {
	switch s.kind {
	case stepRename:
		return d.rename(o, s)
	case stepLift:
		return d.lift(o, s)
	case stepNest:
		return d.nest(o, s)
	}
	i := o.find(s.key)
	switch s.kind {
	case stepCollapse:
		d.collapse(o, i, s)
	case stepExpand:
		return d.expand(o, i, s)
	case stepDrop:
		if i >= 0 {
			o.kill(i)
			d.fire(s)
		}
	case stepDefault:
		if i < 0 {
			o.add(s.qkey, s.raw)
			d.fire(s)
		}
	case stepCopy:
		if i < 0 {
			o.add(s.qkey, from)
			d.fire(s)
		}
	case stepConvert:
		if i < 0 {
			return nil
		}
		m := &o.members[i]
		if m.obj != 0 || m.arr != 0 {
			if s.was != "" {
				return &ParamError{Param: s.key, Want: s.was, Got: map[bool]string{true: "an object", false: "an array"}[m.obj != 0]}
			}
			return &Error{Field: s.name, Msg: "cannot convert an object or array"}
		}
		raw := o.valOf(m)
		if s.was != "" && !isType(raw, s.was, d.form) {
			return &ParamError{Param: s.key, Want: s.was, Got: describe(raw)}
		}
		v, err := s.conv(raw)
		if err != nil {
			if s.was != "" {
				return &ParamError{Param: s.key, Want: s.now, Got: describe(raw)}
			}
			return &Error{Field: s.name, Msg: err.Error()}
		}
		if d.fired != nil && !bytes.Equal(v, raw) {
			d.fire(s)
		}
		o.set(i, v)
	case stepEnum:
		if i < 0 {
			return nil
		}
		m := &o.members[i]
		if m.obj != 0 || m.arr != 0 {
			return nil
		}
		if v, ok := s.enumOf(o.valOf(m)); ok {
			o.set(i, v)
			d.fire(s)
		}
	}
	return nil
}

// enumOf returns the value an enum step maps raw to.
func (s *step) enumOf(raw []byte) ([]byte, bool) {
	if s.enumFrom != nil {
		for i, k := range s.enumFrom {
			if string(k) == string(raw) {
				return s.enumTo[i], true
			}
		}
		return nil, false
	}
	v, ok := s.enum[string(raw)]
	return v, ok
}

// custom runs a registered function on the object's bytes and parses what
// it returns.
func (d *domPool) custom(o *object, s *step) (*object, error) {
	in := d.appendObject(nil, o)
	out, err := s.fn(in)
	if err != nil {
		return nil, &Error{Field: s.name, Msg: err.Error()}
	}
	if err := validate(out, DefaultMaxDepth); err != nil {
		return nil, &Error{Field: s.name, Msg: fmt.Sprintf("custom function returned invalid JSON: %v", err)}
	}
	if len(out) > math.MaxInt32 {
		return nil, &Error{Field: s.name, Msg: fmt.Sprintf("custom function returned more than %d bytes", math.MaxInt32)}
	}
	j := skipSpace(out, 0)
	if out[j] != '{' {
		return nil, &Error{Field: s.name, Msg: "custom function must return a JSON object"}
	}
	if d.fired != nil && !bytes.Equal(in, out) {
		d.fire(s)
	}
	return d.parseObject(out[j:]), nil
}

// rename moves the value at s.from to s.dst, both relative to o. A rename
// within one object keeps the member's place.
func (d *domPool) rename(o *object, s *step) error {
	src := o
	for _, x := range s.from[:len(s.from)-1] {
		i := src.find(x.key)
		if i < 0 {
			return nil
		}
		if src = d.memberObject(src, &src.members[i]); src == nil {
			return nil
		}
	}
	i := src.find(s.from[len(s.from)-1].key)
	if i < 0 {
		return nil
	}
	k := s.dst[len(s.dst)-1].key
	if s.req && d.lookupSeg(o, s.dst) {
		return &ConflictError{Old: s.oldParam, New: s.newParam}
	}
	d.fire(s)
	if len(s.from) == 1 && len(s.dst) == 1 {
		if j := o.find(k); j >= 0 {
			o.kill(j)
		}
		o.setKey(i, s.qdst)
		return nil
	}
	v := d.value(src, &src.members[i])
	src.kill(i)
	t := d.ensure(o, s.dst[:len(s.dst)-1])
	if t == nil {
		return nil
	}
	if j := t.find(k); j >= 0 {
		t.set(j, v)
	} else {
		t.add(s.qdst, v)
	}
	return nil
}

// lookupSeg reports whether a value is at path (no array steps) under o.
func (d *domPool) lookupSeg(o *object, path []seg) bool {
	for k, s := range path {
		i := o.find(s.key)
		if i < 0 {
			return false
		}
		if k == len(path)-1 {
			return true
		}
		if o = d.memberObject(o, &o.members[i]); o == nil {
			return false
		}
	}
	return false
}
