package transform

import (
	"slices"

	"github.com/verso-api/verso/gates"
)

// The DOM here is a thin, lazily parsed view of one object's bytes: members
// keep their raw key and value slices and the white space around them, so
// what no operation touches is written back byte for byte.

// member is one member of an object. The walker records members as it
// goes and a rewritten object's DOM is built on them as they are. A member
// holds no pointers, so recording and copying members costs no write
// barriers, and is small (52 bytes), so that recording them costs little:
// its bytes are given by offsets in its object's raw bytes (pre is at
// lo:ks, the key at ks:ke, mid at ke:vs, the value at vs:ve, post at
// ve:hi), and a member whose key or value changed, or that was added, has
// its bytes in an ext. An object the walker records is at most
// math.MaxInt32 bytes long.
type member struct {
	lo, ks, ke, vs, ve, hi int32
	fp                     uint32 // keyFP of the key
	// sub and subn delimit, in the pool's kept spans, the members of an
	// object value the walker already scanned; sub < 0 when there are none.
	sub, subn int32
	// obj, arr and ext are 1-based indexes of the parsed object or array
	// value in the pool and of the member's ext in its object; 0 for none.
	obj, arr, ext int32
	dead          bool
	// dirty marks a member whose key or value changed; lo < 0 marks one
	// that was added.
	dirty bool
}

// mext holds the bytes of a member that changed or was added. Of a member
// of the raw bytes, only the key (newKey) or the value (newVal) changes.
type mext struct {
	pre, key, mid, val []byte
	newKey, newVal     bool
}

type object struct {
	raw     []byte // the bytes the members were parsed from
	idx     int32  // 1-based index in the pool
	members []member
	buf     []member // the pool's buffer for members; members may be the walker's
	// tab, once indexed and when tabbed, finds members by fingerprint
	// (see fpSlot).
	tab     [1 << tabBits]uint8
	indexed bool
	tabbed  bool
	finds   uint8 // lookups made without the table
	exts    []mext
	tail    []byte // white space before '}'
}

func (o *object) keyOf(m *member) []byte {
	if m.ext != 0 {
		return o.exts[m.ext-1].key
	}
	return o.raw[m.ks:m.ke]
}

func (o *object) preOf(m *member) []byte {
	if m.ext != 0 {
		return o.exts[m.ext-1].pre
	}
	return o.raw[m.lo:m.ks]
}

func (o *object) midOf(m *member) []byte {
	if m.ext != 0 {
		return o.exts[m.ext-1].mid
	}
	return o.raw[m.ke:m.vs]
}

// valOf returns the raw value of m, which is stale when m.obj or m.arr is
// set.
func (o *object) valOf(m *member) []byte {
	if m.ext != 0 {
		return o.exts[m.ext-1].val
	}
	return o.raw[m.vs:m.ve]
}

// ext returns the ext of m, making one from its raw bytes if needed.
func (o *object) ext(m *member) *mext {
	if m.ext == 0 {
		o.exts = append(o.exts, mext{pre: o.preOf(m), key: o.keyOf(m), mid: o.midOf(m), val: o.valOf(m)})
		m.ext = int32(len(o.exts))
	}
	return &o.exts[m.ext-1]
}

type elem struct {
	pre  []byte
	val  []byte
	post []byte
	obj  *object
	arr  *array
}

type array struct {
	idx   int32 // 1-based index in the pool
	elems []elem
	tail  []byte
}

// domPool recycles DOM nodes between the objects of one walk.
type domPool struct {
	// form tells that the body came from a form or query string, whose
	// values all are strings.
	form bool
	// fired, when not nil, gets the index of each step's change that
	// changes something.
	fired   *gates.Fired
	objs    []*object
	arrs    []*array
	nobj    int
	narr    int
	touched bool
	// usedObj and usedArr count the nodes used since the last release.
	usedObj, usedArr int
	// kept holds the members of nested objects the walker scanned, which
	// members point at through sub and subn.
	kept []member
	// res, when set, gets the fields resolve steps leave to resolvers.
	res *resolution
}

func (p *domPool) reset() {
	p.usedObj, p.usedArr = max(p.usedObj, p.nobj), max(p.usedArr, p.narr)
	p.nobj, p.narr, p.touched = 0, 0, false
}

// release drops what the nodes used since the last release point to, such
// as the body walked and the walker's members, so that a pooled walker
// holds on to none of them.
func (p *domPool) release() {
	p.reset()
	for _, o := range p.objs[:p.usedObj] {
		clear(o.exts)
		o.raw, o.tail, o.members, o.exts = nil, nil, o.buf[:0], o.exts[:0]
	}
	for _, a := range p.arrs[:p.usedArr] {
		clear(a.elems)
		a.elems, a.tail = a.elems[:0], nil
	}
	p.usedObj, p.usedArr, p.kept = 0, 0, nil
}

func (p *domPool) newObject() *object {
	if p.nobj < len(p.objs) {
		o := p.objs[p.nobj]
		p.nobj++
		o.members = o.buf[:0]
		o.exts = o.exts[:0]
		o.indexed, o.finds = false, 0
		o.tail = nil
		return o
	}
	o := &object{buf: make([]member, 0, 16)}
	o.members = o.buf
	p.objs = append(p.objs, o)
	p.nobj++
	o.idx = int32(p.nobj)
	return o
}

func (p *domPool) newArray() *array {
	if p.narr < len(p.arrs) {
		a := p.arrs[p.narr]
		p.narr++
		a.elems = a.elems[:0]
		a.tail = nil
		return a
	}
	a := &array{elems: make([]elem, 0, 8)}
	p.arrs = append(p.arrs, a)
	p.narr++
	a.idx = int32(p.narr)
	return a
}

// fromMembers builds the DOM of the object b on the members the walker
// recorded for it. The DOM takes the members over: each is built once.
func (p *domPool) fromMembers(b []byte, ms []member) *object {
	o := p.newObject()
	o.raw = b
	if len(ms) == 0 {
		o.tail = b[1 : len(b)-1]
		return o
	}
	last := &ms[len(ms)-1]
	o.tail = b[last.ve:last.hi]
	last.hi = last.ve
	o.members = ms
	return o
}

// parseObject builds the DOM of the valid JSON object b, at most
// math.MaxInt32 bytes long.
func (p *domPool) parseObject(b []byte) *object {
	o := p.newObject()
	o.raw = b
	i := 1
	for {
		j := skipSpace(b, i)
		if b[j] == '}' {
			if len(o.members) == 0 {
				o.tail = b[i:j]
			}
			return o
		}
		m := member{lo: int32(i), ks: int32(j), sub: -1}
		k := skipString(b, j)
		m.ke = int32(k)
		m.fp = keyFP(b[j:k])
		v := skipSpace(b, k)
		v = skipSpace(b, v+1)
		m.vs = int32(v)
		e := skipValue(b, v)
		m.ve = int32(e)
		n := skipSpace(b, e)
		if b[n] == '}' {
			o.tail = b[e:n]
			m.hi = int32(e)
			o.members = append(o.members, m)
			o.buf = o.members[:0]
			return o
		}
		m.hi = int32(n)
		o.members = append(o.members, m)
		i = n + 1
	}
}

// parseArray builds the DOM of the valid JSON array b.
func (p *domPool) parseArray(b []byte) *array {
	a := p.newArray()
	i := 1
	for {
		j := skipSpace(b, i)
		if b[j] == ']' {
			if len(a.elems) == 0 {
				a.tail = b[i:j]
			}
			return a
		}
		e := skipValue(b, j)
		el := elem{pre: b[i:j], val: b[j:e]}
		n := skipSpace(b, e)
		if b[n] == ']' {
			a.tail = b[e:n]
			a.elems = append(a.elems, el)
			return a
		}
		el.post = b[e:n]
		a.elems = append(a.elems, el)
		i = n + 1
	}
}

// keyIs reports whether the raw quoted key k names name.
func keyIs(k []byte, name string) bool {
	return len(k) == len(name)+2 && string(k[1:len(k)-1]) == name
}

// keyFP is the fingerprint of a quoted key: its length and three of its
// bytes. It is never 0.
func keyFP(k []byte) uint32 {
	n := len(k)
	return uint32(n)<<24 | uint32(k[1])<<16 | uint32(k[n-2])<<8 | uint32(k[n/2])
}

// nameFP is keyFP of name quoted.
func nameFP(name string) uint32 {
	n := len(name)
	if n == 0 {
		return 2<<24 | '"'<<16 | '"'<<8 | '"'
	}
	return uint32(n+2)<<24 | uint32(name[0])<<16 | uint32(name[n-1])<<8 | uint32(name[n/2])
}

// The table find looks keys up in: slot fpSlot(fp) of an object's tab
// holds 0 when no live member's fingerprint falls there, the index plus
// one of the only member whose does, or tabMany. Objects of more than
// maxTabbed members are searched in order.
const (
	tabBits   = 7
	tabMany   = 255
	maxTabbed = tabMany - 1
)

func fpSlot(fp uint32) uint32 { return (fp * 0x9e3779b1) >> (32 - tabBits) }

// find returns the index of the live member named key, or -1. The first
// few lookups in an object search its members in order; from then on, a
// table finds them.
func (o *object) find(key string) int {
	fp := nameFP(key)
	if !o.indexed {
		if o.finds < tabAfter || len(o.members) < 8 {
			o.finds++
			return o.scan(key, fp)
		}
		o.index()
	}
	if o.tabbed {
		switch e := o.tab[fpSlot(fp)]; e {
		case 0:
			return -1
		case tabMany:
		default:
			k := int(e) - 1
			if m := &o.members[k]; m.fp == fp && !m.dead && keyIs(o.keyOf(m), key) {
				return k
			}
			return -1
		}
	}
	return o.scan(key, fp)
}

// tabAfter is the number of lookups in an object before find builds its
// table, which costs about as much as that many searches.
const tabAfter = 3

// scan searches the members in order for the live one named key, whose
// fingerprint is fp.
func (o *object) scan(key string, fp uint32) int {
	for i := range o.members {
		if m := &o.members[i]; m.fp == fp && !m.dead && keyIs(o.keyOf(m), key) {
			return i
		}
	}
	return -1
}

// index builds the table find looks keys up in.
func (o *object) index() {
	o.indexed = true
	o.tabbed = len(o.members) <= maxTabbed
	if !o.tabbed {
		return
	}
	clear(o.tab[:])
	for i := range o.members {
		if m := &o.members[i]; !m.dead {
			o.tabPut(i, m.fp)
		}
	}
}

// tabPut enters live member i, of fingerprint fp, in the table.
func (o *object) tabPut(i int, fp uint32) {
	if i >= maxTabbed {
		o.tabbed = false
		return
	}
	t := &o.tab[fpSlot(fp)]
	if *t == 0 {
		*t = uint8(i + 1)
	} else {
		*t = tabMany
	}
}

// tabDrop takes member i, of fingerprint fp, out of the table.
func (o *object) tabDrop(i int, fp uint32) {
	if t := &o.tab[fpSlot(fp)]; int(*t) == i+1 {
		*t = 0
	}
}

// kill removes member i.
func (o *object) kill(i int) {
	m := &o.members[i]
	if o.indexed && o.tabbed && !m.dead {
		o.tabDrop(i, m.fp)
	}
	m.dead = true
}

// child returns the parsed object value of member key, or nil when it is
// absent or not an object.
func (p *domPool) child(o *object, key string) *object {
	i := o.find(key)
	if i < 0 {
		return nil
	}
	return p.memberObject(o, &o.members[i])
}

func (p *domPool) memberObject(o *object, m *member) *object {
	if m.obj != 0 {
		return p.objs[m.obj-1]
	}
	if m.arr != 0 {
		return nil
	}
	v := o.valOf(m)
	if len(v) == 0 || v[0] != '{' {
		return nil
	}
	var c *object
	if m.sub >= 0 {
		// Capped, so that adding to it does not write over the next
		// object's members.
		e := m.sub + m.subn
		c = p.fromMembers(v, p.kept[m.sub:e:e])
	} else {
		c = p.parseObject(v)
	}
	m.obj = c.idx
	return c
}

func (p *domPool) memberArray(o *object, m *member) *array {
	if m.arr != 0 {
		return p.arrs[m.arr-1]
	}
	if m.obj != 0 {
		return nil
	}
	v := o.valOf(m)
	if len(v) == 0 || v[0] != '[' {
		return nil
	}
	a := p.parseArray(v)
	m.arr = a.idx
	return a
}

func (p *domPool) elemObject(e *elem) *object {
	if e.obj == nil {
		if e.arr != nil || len(e.val) == 0 || e.val[0] != '{' {
			return nil
		}
		e.obj = p.parseObject(e.val)
	}
	return e.obj
}

// value returns the raw bytes of a member's value, serializing a parsed
// child when there is one.
func (p *domPool) value(o *object, m *member) []byte {
	switch {
	case m.obj != 0:
		return p.appendObject(nil, p.objs[m.obj-1])
	case m.arr != 0:
		return p.appendArray(nil, p.arrs[m.arr-1])
	}
	return o.valOf(m)
}

// set replaces the value of member i.
func (o *object) set(i int, raw []byte) {
	m := &o.members[i]
	e := o.ext(m)
	e.val, e.newVal = raw, true
	m.obj, m.arr, m.sub, m.dirty = 0, 0, -1, true
}

// setKey renames member i.
func (o *object) setKey(i int, qkey []byte) {
	m := &o.members[i]
	e := o.ext(m)
	e.key, e.newKey = qkey, true
	m.dirty = true
	tab := o.indexed && o.tabbed && !m.dead
	if tab {
		o.tabDrop(i, m.fp)
	}
	m.fp = keyFP(qkey)
	if tab {
		o.tabPut(i, m.fp)
	}
}

func (m *member) clean() bool { return !m.dirty && m.obj == 0 && m.arr == 0 && m.lo >= 0 }

// add appends a member, borrowing the white space of the last live member
// so that pretty-printed objects stay pretty.
func (o *object) add(qkey, raw []byte) {
	e := mext{key: qkey, mid: colon, val: raw}
	for i := len(o.members) - 1; i >= 0; i-- {
		if m := &o.members[i]; !m.dead {
			e.pre, e.mid = o.preOf(m), o.midOf(m)
			break
		}
	}
	o.exts = append(o.exts, e)
	o.members = append(o.members, member{lo: -1, sub: -1, ext: int32(len(o.exts)), dirty: true, fp: keyFP(qkey)})
	if o.indexed && o.tabbed {
		o.tabPut(len(o.members)-1, keyFP(qkey))
	}
}

var colon = []byte(":")

func quoteKey(k string) []byte {
	b := make([]byte, 0, len(k)+2)
	b = append(b, '"')
	b = append(b, k...)
	return append(b, '"')
}

// appendObject writes the object. Runs of members that did not change are
// copied from the raw bytes in one piece, commas included; finding a run
// calls nothing, so its loop keeps its state in registers.
func (p *domPool) appendObject(b []byte, o *object) []byte {
	b = append(b, '{')
	ms := o.members
	n := 0 // members written
	for i := 0; i < len(ms); {
		m := &ms[i]
		if m.dead {
			i++
			continue
		}
		if n > 0 {
			b = append(b, ',')
		}
		if m.clean() {
			j := i + 1
			for j < len(ms) && !ms[j].dead && ms[j].clean() {
				j++
			}
			b = append(b, o.raw[m.lo:ms[j-1].hi]...)
			n += j - i
			i = j
			continue
		}
		n++
		i++
		if m.lo >= 0 {
			b = p.appendChanged(b, o, m)
			continue
		}
		b = append(b, o.preOf(m)...)
		b = append(b, o.keyOf(m)...)
		b = append(b, o.midOf(m)...)
		switch {
		case m.obj != 0:
			b = p.appendObject(b, p.objs[m.obj-1])
		case m.arr != 0:
			b = p.appendArray(b, p.arrs[m.arr-1])
		default:
			b = append(b, o.valOf(m)...)
		}
	}
	b = append(b, o.tail...)
	return append(b, '}')
}

// appendChanged writes m, a member of o's raw bytes whose key or value
// changed, copying what did not change from the raw bytes in as few pieces
// as it can.
func (p *domPool) appendChanged(b []byte, o *object, m *member) []byte {
	var key, val []byte
	if m.ext != 0 {
		e := &o.exts[m.ext-1]
		if e.newKey {
			key = e.key
		}
		if e.newVal {
			val = e.val
		}
	}
	if key == nil {
		b = append(b, o.raw[m.lo:m.ke]...)
	} else {
		b = append(b, o.raw[m.lo:m.ks]...)
		b = append(b, key...)
	}
	switch {
	case m.obj != 0:
		b = append(b, o.raw[m.ke:m.vs]...)
		b = p.appendObject(b, p.objs[m.obj-1])
	case m.arr != 0:
		b = append(b, o.raw[m.ke:m.vs]...)
		b = p.appendArray(b, p.arrs[m.arr-1])
	case val == nil:
		return append(b, o.raw[m.ke:m.hi]...)
	default:
		b = append(b, o.raw[m.ke:m.vs]...)
		b = append(b, val...)
	}
	return append(b, o.raw[m.ve:m.hi]...)
}

func (p *domPool) appendArray(b []byte, a *array) []byte {
	b = append(b, '[')
	for i := range a.elems {
		e := &a.elems[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, e.pre...)
		switch {
		case e.obj != nil:
			b = p.appendObject(b, e.obj)
		case e.arr != nil:
			b = p.appendArray(b, e.arr)
		default:
			b = append(b, e.val...)
		}
		b = append(b, e.post...)
	}
	b = append(b, a.tail...)
	return append(b, ']')
}

// elemArray returns the parsed array value of an array's element, or nil
// when it is not an array.
func (p *domPool) elemArray(e *elem) *array {
	if e.arr == nil {
		if e.obj != nil || len(e.val) == 0 || e.val[0] != '[' {
			return nil
		}
		e.arr = p.parseArray(e.val)
	}
	return e.arr
}

// elemValue returns the raw bytes of an array's element, serializing a
// parsed one.
func (p *domPool) elemValue(e *elem) []byte {
	switch {
	case e.obj != nil:
		return p.appendObject(nil, e.obj)
	case e.arr != nil:
		return p.appendArray(nil, e.arr)
	}
	return e.val
}

// setObject makes the parsed object c the value of member i of o.
func (p *domPool) setObject(o *object, i int, c *object) {
	m := &o.members[i]
	m.obj, m.arr, m.sub, m.dirty = c.idx, 0, -1, true
}

// emptyObject returns a new object with no members, for members to be
// added to.
func (p *domPool) emptyObject() *object {
	o := p.newObject()
	o.raw = nil
	return o
}

// insert adds a member at index at (len(o.members) appends), with the
// given white space around its key.
func (o *object) insert(at int, pre, qkey, mid, raw []byte) {
	o.exts = append(o.exts, mext{pre: pre, key: qkey, mid: mid, val: raw})
	m := member{lo: -1, sub: -1, ext: int32(len(o.exts)), dirty: true, fp: keyFP(qkey)}
	o.members = slices.Insert(o.members, at, m)
	o.indexed = false // indexes moved
}
