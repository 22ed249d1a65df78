package transform

// A descent tells the walk which objects inside an object it rewrites the
// plan steps into. The walk records the members of those, as it records
// the rewritten object's own, so that the plan finds them parsed; it only
// checks the others. A step that reaches an object the descent left out
// still works: the DOM parses that object again.
type descent struct {
	all  bool // every object inside, at any depth
	keys []string
	kids []*descent
}

// descendAll is the descent of a plan whose steps may reach anything, such
// as an event's, whose previous_attributes are walked with the plan of its
// data.object.
var descendAll = &descent{all: true}

// child returns the descent into the object value of the member whose
// unquoted key is key, or nil when the plan does not step into it.
func (d *descent) child(key []byte) *descent {
	if d.all {
		return d
	}
	for i, k := range d.keys {
		if k == string(key) {
			return d.kids[i]
		}
	}
	return nil
}

// add makes the descent step through the objects at path. Plans call it
// when compiled, from a closure that would inline it at each of its six
// calls (7 KB of an embedder's binary): it is kept out of line.
//
//go:noinline
func (d *descent) add(path ...string) {
	for _, k := range path {
		if d.all {
			return
		}
		next := d.child([]byte(k))
		if next == nil {
			next = &descent{}
			d.keys = append(d.keys, k)
			d.kids = append(d.kids, next)
		}
		d = next
	}
}

func join(a, b []string) []string { return append(append([]string(nil), a...), b...) }

// segKeys returns the keys of path up to its first step into an array, whose
// elements the walk never records.
func segKeys(path []seg) []string {
	var ks []string
	for _, s := range path {
		ks = append(ks, s.key)
		if s.each {
			break
		}
	}
	return ks
}

// descentOf returns the descent of the steps of p.
func descentOf(p *objPlan) *descent {
	d := &descent{}
	for i := range p.steps {
		s := &p.steps[i]
		parent := segKeys(s.parent)
		at := func(d *descent) {
			d.add(parent...)
			switch s.kind {
			case stepRename:
				if len(s.parent) == 0 || !s.parent[len(s.parent)-1].each {
					from, dst := segKeys(s.from), segKeys(s.dst)
					d.add(join(parent, from[:len(from)-1])...)
					d.add(join(parent, dst[:len(dst)-1])...)
				}
			case stepLift, stepNest, stepCollapse:
				if len(s.parent) == 0 || !s.parent[len(s.parent)-1].each {
					d.add(join(parent, []string{s.key})...)
				}
			case stepCopy:
				var ks []string
				for _, f := range s.src {
					if f.idx >= 0 {
						break
					}
					ks = append(ks, f.key)
				}
				if len(ks) > 0 {
					d.add(ks[:len(ks)-1]...)
				}
			case stepDrop, stepDefault, stepConvert, stepEnum, stepExpand, stepCustom, stepResolve:
			default:
				// A kind of step this does not know: record everything.
				d.all = true
			}
		}
		at(d)
		if p.errs && !s.envelope {
			// The step applies to the error object when there is one.
			d.add(p.wrapper)
			if !d.all {
				at(d.child([]byte(p.wrapper)))
			}
		}
	}
	return d
}

// merge returns a descent that steps wherever d or e does.
func (d *descent) merge(e *descent) *descent {
	switch {
	case d == nil || d == e:
		return e
	case e == nil:
		return d
	}
	return descendAll
}

// descent returns the descent of p, which is that of all when p's steps
// were not looked at (a request's plan).
func (p *objPlan) descent() *descent {
	if p.desc == nil {
		return descendAll
	}
	return p.desc
}

// typeDescent returns the descent of the objects of type typ (a type
// field's raw value) the plan rewrites, or nil when it leaves them alone.
// An event's data.previous_attributes is walked with the plan of its
// data.object, so the walk records all of an event.
func (p *Plan) typeDescent(typ []byte) *descent {
	if op := p.typePlan(typ); op != nil {
		return op.descent()
	}
	if p.hasPartial && string(typ) == "event" {
		return descendAll
	}
	return nil
}

// maxByType is the number of types up to which typePlan compares them in
// turn rather than hashing.
const maxByType = 8

// noteDescents works out the descents of the plan's object plans.
func (p *Plan) noteDescents() {
	for name, op := range p.types {
		op.desc = descentOf(op)
		if !p.e.noFlat {
			op.flat = flatOf(op)
		}
		if len(p.types) <= maxByType {
			p.byType = append(p.byType, typePlan{name, op})
		}
	}
	if p.top != nil {
		p.top.desc = descentOf(p.top)
	}
	if p.errs != nil && p.errs.top != nil && p.errs.top != p.top {
		p.errs.top.desc = descentOf(p.errs.top)
	}
}
