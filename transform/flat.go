package transform

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"slices"

	"github.com/verso-api/verso/gates"
)

// A flat program applies an object type's plan with no DOM, when every
// step of the plan renames a member in place, drops one, puts one back
// (with a literal, from a member of the object's own, or from a resolver),
// converts one or maps its value: the steps Stripe-like histories are
// mostly made of. It
// finds the members the steps name once, from the members the walk
// recorded, follows the steps on small records of what changed, and writes
// the object in one pass. The result is byte for byte the DOM's
// (objPlan.apply, then appendObject), changes fired included; an object it
// cannot take (a key that appears twice, an object in the way that the
// walk did not record) goes to the DOM.
//
// What it keeps per walk holds no pointers, so that writing it costs no
// write barriers while the collector runs.

// flatProg is the flat program of an objPlan.
type flatProg struct {
	objs []flatPath // objs[0] is the object the plan applies to
	ops  []flatOp   // the plan's steps, in order
	none []int32    // a -1 for each name of each path: the slots when nothing is found
}

// flatPath is an object a flat program's steps apply to: the one walked,
// or one under it, the value of member name of objs[parent].
type flatPath struct {
	parent, name int32
	names        []flatName // the names steps look up in it
	slot         int32      // where its names' slots start in a walk's slots
	// filter has the bit flatSlot of each name's fingerprint set: a key
	// whose bit is clear is none of them.
	filter uint64
	// tab holds, for each name, its index plus one, at flatSlot of its
	// fingerprint or the next free slot after it; 0 ends a search.
	tab [1 << flatTabBits]uint8
}

// flatName is a name a flat program looks up: its key, quoted, and the
// first sixteen bytes of the key as two little-endian words with the
// masks that cover them, when it is at most that long.
type flatName struct {
	name   string // unquoted
	fp     uint32 // nameFP
	n      int32  // the quoted key's length
	w, msk [2]uint64
}

// flatTabBits sizes a flatPath's table, which holds at most half as many
// names as it has slots.
const flatTabBits = 6

func flatSlot(fp uint32) uint32 { return (fp * 0x9e3779b1) >> (32 - flatTabBits) }

// flatOp is one step of a flat program.
type flatOp struct {
	s    *step
	kind stepKind // s.kind
	obj  int32    // the object in objs it applies to
	// The slots (see flatPath.slot) of names of that object: the step's
	// key (a rename's source), and a rename's destination.
	key, dst int32
	src      int32 // the slot of a copy's source, or of a resolve step's id, a name of objs[0]; -1 for none
}

// index returns the index of name in the path's names, adding it.
func (fp *flatPath) index(name string) int32 {
	for i := range fp.names {
		if fp.names[i].name == name {
			return int32(i)
		}
	}
	nm := flatName{name: name, fp: nameFP(name), n: int32(len(name) + 2)}
	var q [16]byte
	if k := copy(q[:], quoteKey(name)); k == len(name)+2 {
		for i := range 2 {
			nm.w[i] = binary.LittleEndian.Uint64(q[8*i:])
			nm.msk[i] = 1<<(8*min(max(k-8*i, 0), 8)) - 1
			if k-8*i >= 8 {
				nm.msk[i] = math.MaxUint64
			}
		}
	}
	fp.names = append(fp.names, nm)
	return int32(len(fp.names) - 1)
}

// lookup returns the index of the name that the key of m, a member of
// raw, is, or -1; h is flatSlot of its fingerprint.
func (fp *flatPath) lookup(raw []byte, m *member, h uint32) int32 {
	for ; ; h = (h + 1) & (1<<flatTabBits - 1) {
		e := int32(fp.tab[h])
		if e == 0 {
			return -1
		}
		nm := &fp.names[e-1]
		if nm.fp != m.fp || nm.n != m.ke-m.ks {
			continue
		}
		if k := int(m.ks); nm.n <= 16 && k+16 <= len(raw) {
			if binary.LittleEndian.Uint64(raw[k:k+8])&nm.msk[0] == nm.w[0] &&
				binary.LittleEndian.Uint64(raw[k+8:k+16])&nm.msk[1] == nm.w[1] {
				return e - 1
			}
		} else if keyIs(raw[m.ks:m.ke], nm.name) {
			return e - 1
		}
	}
}

// child returns the index in p.objs of the object at member name of
// objs[obj], adding it.
func (p *flatProg) child(obj, name int32) int32 {
	for i := range p.objs {
		if o := &p.objs[i]; o.parent == obj && o.name == name {
			return int32(i)
		}
	}
	p.objs = append(p.objs, flatPath{parent: obj, name: name})
	return int32(len(p.objs) - 1)
}

// flatOf returns the flat program of p, or nil when one of its steps needs
// the DOM. Steps that apply to objects under the walked one are flat when
// no step names the members holding those objects: then what the DOM
// finds at a path does not change while the plan runs.
func flatOf(p *objPlan) *flatProg {
	if p.errs || len(p.steps) == 0 {
		return nil
	}
	prog := &flatProg{objs: []flatPath{{parent: -1, name: -1}}}
	type ref struct{ obj, name int32 }
	heads, named := map[ref]bool{}, map[ref]bool{}
	for i := range p.steps {
		s := &p.steps[i]
		if s.req || s.envelope {
			return nil
		}
		key := s.key
		switch s.kind {
		case stepRename:
			if len(s.from) != 1 || len(s.dst) != 1 || s.from[0].each || s.dst[0].each || s.from[0].key == s.dst[0].key {
				return nil
			}
			key = s.from[0].key
		case stepCopy:
			if len(s.src) != 1 || s.src[0].idx >= 0 {
				return nil
			}
		case stepConvert:
			if s.was != "" {
				return nil // a request's value is checked against its old type
			}
		case stepDrop, stepDefault, stepEnum, stepResolve:
		default:
			return nil
		}
		obj := int32(0)
		for _, sg := range s.parent {
			if sg.each {
				return nil
			}
			n := prog.objs[obj].index(sg.key)
			heads[ref{obj, n}] = true
			obj = prog.child(obj, n)
		}
		op := flatOp{s: s, kind: s.kind, obj: obj, dst: -1, src: -1}
		op.key = prog.objs[obj].index(key)
		named[ref{obj, op.key}] = true
		if s.kind == stepRename {
			op.dst = prog.objs[obj].index(s.dst[0].key)
			named[ref{obj, op.dst}] = true
		}
		switch s.kind {
		case stepCopy:
			op.src = prog.objs[0].index(s.src[0].key)
			named[ref{0, op.src}] = true
		case stepResolve:
			// The walked object's id names it to the resolver.
			op.src = prog.objs[0].index("id")
			named[ref{0, op.src}] = true
		}
		prog.ops = append(prog.ops, op)
	}
	for r := range named {
		if heads[r] {
			return nil
		}
	}
	for i := range prog.objs {
		o := &prog.objs[i]
		if len(o.names) > 1<<(flatTabBits-1) {
			return nil
		}
		o.slot = int32(len(prog.none))
		for k := range o.names {
			prog.none = append(prog.none, -1)
			h := flatSlot(o.names[k].fp)
			o.filter |= 1 << h
			for o.tab[h] != 0 {
				h = (h + 1) & (1<<flatTabBits - 1)
			}
			o.tab[h] = uint8(k + 1)
		}
	}
	for i := range prog.ops {
		op := &prog.ops[i]
		slot := prog.objs[op.obj].slot
		op.key += slot
		if op.dst >= 0 {
			op.dst += slot
		}
		if op.src >= 0 {
			op.src += prog.objs[0].slot
		}
	}
	return prog
}

// errFlat tells that an object is left to the DOM.
var errFlat = errors.New("transform: object left to the DOM")

// flatState is what a walk keeps of the objects it applies flat programs
// to, reused from one object to the next.
type flatState struct {
	objs  []flatObj // by path of the program: the object found there
	ents  []flatEnt // members the steps found, and members they added
	slots []int32   // per name of each path (see flatPath.slot): the ent of the live member of that name, or -1
	vals  []flatVal // values that changed
	bytes []byte    // the bytes of converted and mapped values
	// raw is the walked object's bytes, top its members and kept the
	// members the walk kept of the objects in it.
	raw       []byte
	top, kept []member
}

// release drops what the state points to, and buffers grown large.
func (f *flatState) release() {
	f.raw, f.top, f.kept = nil, nil, nil
	if cap(f.bytes) > 1<<16 {
		f.bytes = nil
	}
	if cap(f.ents) > 1<<12 {
		f.ents, f.slots, f.vals, f.objs = nil, nil, nil, nil
	}
}

// flatObj is an object a flat program works on.
type flatObj struct {
	state    int8  // 0: not looked for; 1: found; -1: not there
	kept     bool  // its members are in kept (else in top)
	off, end int32 // its bytes in raw
	mem, n   int32 // its members: n from mem in top or kept
	// ent and nent delimit the ents of the members the steps found in
	// it, in the order of the members; the ents of members added to it
	// come after.
	ent, nent int32
}

// members returns the members of o.
func (f *flatState) members(o *flatObj) []member {
	if o.kept {
		return f.kept[o.mem : o.mem+o.n]
	}
	return f.top[o.mem : o.mem+o.n]
}

// flatEnt is a member of an object a flat program works on that a step
// found (mem >= 0) or added.
type flatEnt struct {
	obj  int32 // the object, by path
	mem  int32 // its index in the object's members; -1 for an added one
	key  int32 // the op whose new key it has (qdst of a rename, qkey of an add); -1 for its own
	val  int32 // its value in vals; -1 for its own
	pre  int32 // an added member: the member whose white space it borrows; -1 for none
	kid  int32 // the path of the object that is its value, when a step went there; -1 else
	dead bool
}

// changed reports whether e is written otherwise than its bytes.
func (e *flatEnt) changed() bool { return e.dead || e.key >= 0 || e.val >= 0 || e.kid >= 0 }

// flatVal is a value that changed: bytes of flatState.bytes, of the
// walked object's raw bytes, or an op's literal.
type flatVal struct {
	kind uint8
	a, b int32
}

const (
	valBytes = iota // bytes[a : a+b]
	valRaw          // raw[a : a+b]
	valLit          // ops[a].s.raw
)

// flatApply applies prog to the object raw, whose members the walk
// recorded as top (offsets in raw) with the members of the objects in it
// it kept in kept, and writes the result to b. It returns errFlat, with b
// as it was, when the object is left to the DOM.
func (w *walker) flatApply(b []byte, prog *flatProg, raw []byte, top, kept []member) ([]byte, error) {
	f := &w.flat
	f.raw, f.top, f.kept = raw, top, kept
	f.objs = f.objs[:0]
	for range prog.objs {
		f.objs = append(f.objs, flatObj{})
	}
	f.ents, f.vals, f.bytes = f.ents[:0], f.vals[:0], f.bytes[:0]
	f.slots = append(f.slots[:0], prog.none...)
	if !f.find(prog, 0) {
		return b, errFlat
	}
	// slots does not move while the steps run: it has a place for each
	// name of each path.
	ops, slots := prog.ops, f.slots
	for k := range ops {
		op := &ops[k]
		if op.obj != 0 && !f.find(prog, op.obj) {
			if f.objs[op.obj].state == 0 {
				return b, errFlat
			}
			continue
		}
		// The steps most plans are made of are taken here, the others
		// by flatOp.
		switch i := slots[op.key]; op.kind {
		case stepRename:
			if i >= 0 {
				w.dom.fire(op.s)
				if j := slots[op.dst]; j >= 0 {
					f.ents[j].dead = true
				}
				f.ents[i].key = int32(k)
				slots[op.dst], slots[op.key] = i, -1
			}
		case stepDrop:
			if i >= 0 {
				f.ents[i].dead = true
				slots[op.key] = -1
				w.dom.fire(op.s)
			}
		default:
			if err := w.flatOp(prog, int32(k), op); err != nil {
				return b, err
			}
		}
	}
	return f.write(b, prog, 0), nil
}

// find finds the object at path p, and tells whether it is there. A path
// it cannot take is left with state 0.
func (f *flatState) find(prog *flatProg, p int32) bool {
	o := &f.objs[p]
	if o.state != 0 {
		return o.state > 0
	}
	path := &prog.objs[p]
	if p == 0 {
		o.off, o.end, o.mem, o.n = 0, int32(len(f.raw)), 0, int32(len(f.top))
	} else {
		if !f.find(prog, path.parent) {
			if f.objs[path.parent].state < 0 {
				o.state = -1
			}
			return false
		}
		po := &f.objs[path.parent]
		e := f.slots[prog.objs[path.parent].slot+path.name]
		if e < 0 {
			o.state = -1
			return false
		}
		ent := &f.ents[e]
		m := &f.members(po)[ent.mem]
		if f.raw[po.off+m.vs] != '{' {
			o.state = -1
			return false
		}
		if m.sub < 0 {
			return false // not recorded: the DOM parses it
		}
		ent.kid = p
		o.off, o.end = po.off+m.vs, po.off+m.ve
		o.kept, o.mem, o.n = true, m.sub, m.subn
	}
	o.ent = int32(len(f.ents))
	slots := f.slots[path.slot : path.slot+int32(len(path.names))]
	raw := f.raw[o.off:o.end]
	ms := f.members(o)
	ents := slices.Grow(f.ents, len(ms))
	filter := path.filter
	for k := range ms {
		m := &ms[k]
		h := flatSlot(m.fp)
		if filter&(1<<h) == 0 {
			continue
		}
		n := path.lookup(raw, m, h)
		if n < 0 {
			continue
		}
		if slots[n] >= 0 {
			f.ents = ents
			return false // a key twice: the DOM finds the first live one
		}
		e := len(ents)
		slots[n] = int32(e)
		ents = ents[:e+1]
		// Field by field: a composite literal is built on the stack and
		// copied.
		ent := &ents[e]
		ent.obj, ent.mem, ent.key, ent.val, ent.pre, ent.kid, ent.dead = p, int32(k), -1, -1, -1, -1, false
	}
	f.ents = ents
	o.nent = int32(len(ents)) - o.ent
	o.state = 1
	return true
}

// value returns the value of ent e.
func (f *flatState) value(prog *flatProg, e int32) []byte {
	ent := &f.ents[e]
	if ent.val >= 0 {
		return f.val(prog, ent.val)
	}
	o := &f.objs[ent.obj]
	m := &f.members(o)[ent.mem]
	return f.raw[o.off+m.vs : o.off+m.ve]
}

// val returns the bytes of vals[i].
func (f *flatState) val(prog *flatProg, i int32) []byte {
	v := &f.vals[i]
	switch v.kind {
	case valBytes:
		return f.bytes[v.a : v.a+v.b]
	case valRaw:
		return f.raw[v.a : v.a+v.b]
	default:
		return prog.ops[v.a].s.raw
	}
}

// set makes v the value of ent e, keeping a copy of its bytes.
func (f *flatState) set(e int32, v []byte) {
	f.vals = append(f.vals, flatVal{kind: valBytes, a: int32(len(f.bytes)), b: int32(len(v))})
	f.bytes = append(f.bytes, v...)
	f.ents[e].val = int32(len(f.vals) - 1)
}

// add adds a member to object p with the key of op k and the value val,
// borrowing the white space of its last live member, and returns its ent.
func (f *flatState) add(p, k, val int32) int32 {
	o := &f.objs[p]
	pre := int32(-1)
	// The last live member is the last added one when there is one.
	found := false
	for e := int32(len(f.ents)) - 1; e >= o.ent+o.nent; e-- {
		if a := &f.ents[e]; a.obj == p && a.mem < 0 && !a.dead {
			pre, found = a.pre, true
			break
		}
	}
	if !found {
		// Members no step found are live.
		e := o.ent + o.nent - 1
		for k := o.n - 1; k >= 0; k-- {
			for e >= o.ent && f.ents[e].mem > k {
				e--
			}
			if e < o.ent || f.ents[e].mem != k || !f.ents[e].dead {
				pre = k
				break
			}
		}
	}
	f.ents = append(f.ents, flatEnt{obj: p, mem: -1, key: k, val: val, pre: pre, kid: -1})
	return int32(len(f.ents) - 1)
}

// flatOp follows op, the kth step of prog, but a rename or a drop (see
// flatApply).
func (w *walker) flatOp(prog *flatProg, k int32, op *flatOp) error {
	f := &w.flat
	s := op.s
	slots := f.slots
	i := slots[op.key]
	switch s.kind {
	case stepDefault:
		if i < 0 {
			f.vals = append(f.vals, flatVal{kind: valLit, a: k})
			slots[op.key] = f.add(op.obj, k, int32(len(f.vals)-1))
			w.dom.fire(s)
		}
	case stepCopy:
		var val int32
		if j := slots[op.src]; j >= 0 {
			if val = f.ents[j].val; val < 0 {
				e := &f.ents[j]
				o := &f.objs[e.obj]
				m := &f.members(o)[e.mem]
				f.vals = append(f.vals, flatVal{kind: valRaw, a: o.off + m.vs, b: m.ve - m.vs})
				val = int32(len(f.vals) - 1)
			}
		} else if s.raw != nil {
			f.vals = append(f.vals, flatVal{kind: valLit, a: k})
			val = int32(len(f.vals) - 1)
		} else {
			return nil
		}
		if i < 0 {
			slots[op.key] = f.add(op.obj, k, val)
			w.dom.fire(s)
		}
	case stepResolve:
		// As domPool.resolve: a placeholder for the resolver's value,
		// or the default when there is nothing to ask with.
		if i >= 0 {
			return nil
		}
		w.dom.fire(s)
		f.vals = append(f.vals, flatVal{kind: valLit, a: k})
		if r := w.res; r != nil && !r.final {
			if j := slots[op.src]; j >= 0 {
				if id, ok := idOf(f.value(prog, j)); ok {
					ph := r.placeholder(pending{ref: gates.Ref{Type: s.rtype, ID: id}, name: s.rname, fn: s.resolver, def: s.raw})
					f.vals[len(f.vals)-1] = flatVal{kind: valBytes, a: int32(len(f.bytes)), b: int32(len(ph))}
					f.bytes = append(f.bytes, ph...)
				}
			}
		}
		slots[op.key] = f.add(op.obj, k, int32(len(f.vals)-1))
	case stepConvert:
		if i < 0 {
			return nil
		}
		raw := f.value(prog, i)
		v, err := s.conv(raw)
		if err != nil {
			return &Error{Field: s.name, Msg: err.Error()}
		}
		if w.dom.fired != nil && !bytes.Equal(v, raw) {
			w.dom.fire(s)
		}
		f.set(i, v)
	case stepEnum:
		if i < 0 {
			return nil
		}
		if v, ok := s.enumOf(f.value(prog, i)); ok {
			f.set(i, v)
			w.dom.fire(s)
		}
	}
	return nil
}

// write appends the object at path p as appendObject writes its DOM:
// the object's raw bytes with the changes made, copied in as few pieces
// as there are changes.
func (f *flatState) write(b []byte, prog *flatProg, p int32) []byte {
	o := &f.objs[p]
	raw := f.raw[o.off:o.end]
	ms := f.members(o)
	n := int32(len(ms))
	// The members are written joined by commas, then the white space
	// before '}': a member that is gone takes the comma before it with
	// it, or the one after it when no member is written before it.
	end := int32(1) // where members end and added ones go
	if n > 0 {
		end = ms[n-1].ve
	}
	pos := int32(0) // raw[:pos] is written
	live := false   // some member is written
	next := int32(0)
	// What the loop reads is in locals: the appends to b could write
	// anywhere, as far as the compiler knows.
	ops, all := prog.ops, f.ents
	found := all[o.ent : o.ent+o.nent]
	for i := range found {
		ent := &found[i]
		if !ent.changed() {
			continue
		}
		k := ent.mem
		live = live || k > next
		next = k + 1
		m := &ms[k]
		if ent.dead {
			s, t := m.lo, end
			switch {
			case live:
				s--
				if k < n-1 {
					t = m.hi
				}
			case k < n-1:
				t = ms[k+1].lo
			}
			b = append(b, raw[pos:s]...)
			pos = t
			continue
		}
		live = true
		if ent.key >= 0 {
			b = append(b, raw[pos:m.ks]...)
			b = append(b, ops[ent.key].s.qdst...)
			pos = m.ke
		}
		switch {
		case ent.kid >= 0:
			b = append(b, raw[pos:m.vs]...)
			b = f.write(b, prog, ent.kid)
			pos = m.ve
		case ent.val >= 0:
			b = append(b, raw[pos:m.vs]...)
			b = append(b, f.val(prog, ent.val)...)
			pos = m.ve
		}
	}
	live = live || next < n
	b = append(b, raw[pos:end]...)
	for e := o.ent + o.nent; e < int32(len(all)); e++ {
		ent := &all[e]
		if ent.obj != p || ent.mem >= 0 || ent.dead {
			continue
		}
		if live {
			b = append(b, ',')
		}
		live = true
		s := ops[ent.key].s
		key := s.qkey
		if s.kind == stepRename {
			key = s.qdst
		}
		if ent.pre >= 0 {
			pm := &ms[ent.pre]
			b = append(b, raw[pm.lo:pm.ks]...)
			b = append(b, key...)
			b = append(b, raw[pm.ke:pm.vs]...)
		} else {
			b = append(b, key...)
			b = append(b, ':')
		}
		b = append(b, f.val(prog, ent.val)...)
	}
	return append(b, raw[end:]...)
}
