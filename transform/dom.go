package transform

// The DOM here is a thin, lazily parsed view of one object's bytes: members
// keep their raw key and value slices and the white space around them, so
// what no operation touches is written back byte for byte.

type member struct {
	pre  []byte // white space between '{' or ',' and the key
	key  []byte // the key with its quotes
	mid  []byte // white space, ':' and white space
	val  []byte // the raw value, when obj and arr are nil
	post []byte // white space after the value
	obj  *object
	arr  *array
	dead bool
	// lo and hi delimit the member's bytes (pre to post) in its object's
	// raw bytes; lo < 0 for a member that was added. dirty marks a member
	// whose key or value changed.
	lo, hi int
	dirty  bool
}

type object struct {
	raw     []byte // the bytes the members were parsed from
	members []member
	tail    []byte // white space before '}'
}

type elem struct {
	pre  []byte
	val  []byte
	post []byte
	obj  *object
	arr  *array
}

type array struct {
	elems []elem
	tail  []byte
}

// domPool recycles DOM nodes between the objects of one walk.
type domPool struct {
	objs    []*object
	arrs    []*array
	nobj    int
	narr    int
	touched bool
}

func (p *domPool) reset() { p.nobj, p.narr, p.touched = 0, 0, false }

func (p *domPool) newObject() *object {
	if p.nobj < len(p.objs) {
		o := p.objs[p.nobj]
		p.nobj++
		o.members = o.members[:0]
		o.tail = nil
		return o
	}
	o := &object{members: make([]member, 0, 16)}
	p.objs = append(p.objs, o)
	p.nobj++
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
	return a
}

// fromSpans builds the DOM of the object b from the spans the walker
// recorded; off is the output offset of b[0].
func (p *domPool) fromSpans(b []byte, spans []span, off int) *object {
	o := p.newObject()
	o.raw = b
	for k, s := range spans {
		m := member{
			pre: b[s.seg-off : s.keyStart-off],
			key: b[s.keyStart-off : s.keyEnd-off],
			mid: b[s.keyEnd-off : s.valStart-off],
			val: b[s.valStart-off : s.valEnd-off],
			lo:  s.seg - off,
			hi:  s.end - off,
		}
		if k == len(spans)-1 {
			o.tail = b[s.valEnd-off : s.end-off]
			m.hi = s.valEnd - off
		} else {
			m.post = b[s.valEnd-off : s.end-off]
		}
		o.members = append(o.members, m)
	}
	if len(spans) == 0 {
		o.tail = b[1 : len(b)-1]
	}
	return o
}

// parseObject builds the DOM of the valid JSON object b.
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
		m := member{lo: i}
		m.pre = b[i:j]
		k := skipString(b, j)
		m.key = b[j:k]
		v := skipSpace(b, k)
		v = skipSpace(b, v+1)
		m.mid = b[k:v]
		e := skipValue(b, v)
		m.val = b[v:e]
		n := skipSpace(b, e)
		if b[n] == '}' {
			o.tail = b[e:n]
			m.hi = e
			o.members = append(o.members, m)
			return o
		}
		m.post = b[e:n]
		m.hi = n
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

// find returns the index of the live member named key, or -1.
func (o *object) find(key string) int {
	for i := range o.members {
		if !o.members[i].dead && keyIs(o.members[i].key, key) {
			return i
		}
	}
	return -1
}

// child returns the parsed object value of member key, or nil when it is
// absent or not an object.
func (p *domPool) child(o *object, key string) *object {
	i := o.find(key)
	if i < 0 {
		return nil
	}
	return p.memberObject(&o.members[i])
}

func (p *domPool) memberObject(m *member) *object {
	if m.obj == nil {
		if m.arr != nil || len(m.val) == 0 || m.val[0] != '{' {
			return nil
		}
		m.obj = p.parseObject(m.val)
	}
	return m.obj
}

func (p *domPool) memberArray(m *member) *array {
	if m.arr == nil {
		if m.obj != nil || len(m.val) == 0 || m.val[0] != '[' {
			return nil
		}
		m.arr = p.parseArray(m.val)
	}
	return m.arr
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
func (m *member) value() []byte {
	switch {
	case m.obj != nil:
		return m.obj.appendTo(nil)
	case m.arr != nil:
		return m.arr.appendTo(nil)
	}
	return m.val
}

// set replaces a member's value.
func (m *member) set(raw []byte) {
	m.val, m.obj, m.arr, m.dirty = raw, nil, nil, true
}

func (m *member) clean() bool { return !m.dirty && m.obj == nil && m.arr == nil && m.lo >= 0 }

// add appends a member, borrowing the white space of the last live member
// so that pretty-printed objects stay pretty.
func (o *object) add(qkey, raw []byte) {
	m := member{key: qkey, mid: colon, val: raw, lo: -1, dirty: true}
	for i := len(o.members) - 1; i >= 0; i-- {
		if !o.members[i].dead {
			m.pre, m.mid = o.members[i].pre, o.members[i].mid
			break
		}
	}
	o.members = append(o.members, m)
}

var colon = []byte(":")

func quoteKey(k string) []byte {
	b := make([]byte, 0, len(k)+2)
	b = append(b, '"')
	b = append(b, k...)
	return append(b, '"')
}

// appendTo writes the object. Runs of members that did not change are
// copied from the raw bytes in one piece, commas included.
func (o *object) appendTo(b []byte) []byte {
	b = append(b, '{')
	n := 0
	runLo, runHi, prev := -1, -1, -2
	for i := range o.members {
		m := &o.members[i]
		if m.dead {
			continue
		}
		if m.clean() {
			if runLo >= 0 && prev == i-1 {
				runHi = m.hi
			} else {
				if runLo >= 0 {
					b = append(b, o.raw[runLo:runHi]...)
				}
				if n > 0 {
					b = append(b, ',')
				}
				runLo, runHi = m.lo, m.hi
			}
			prev = i
			n++
			continue
		}
		if runLo >= 0 {
			b = append(b, o.raw[runLo:runHi]...)
			runLo = -1
		}
		if n > 0 {
			b = append(b, ',')
		}
		n++
		b = append(b, m.pre...)
		b = append(b, m.key...)
		b = append(b, m.mid...)
		switch {
		case m.obj != nil:
			b = m.obj.appendTo(b)
		case m.arr != nil:
			b = m.arr.appendTo(b)
		default:
			b = append(b, m.val...)
		}
		b = append(b, m.post...)
	}
	if runLo >= 0 {
		b = append(b, o.raw[runLo:runHi]...)
	}
	b = append(b, o.tail...)
	return append(b, '}')
}

func (a *array) appendTo(b []byte) []byte {
	b = append(b, '[')
	for i := range a.elems {
		e := &a.elems[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, e.pre...)
		switch {
		case e.obj != nil:
			b = e.obj.appendTo(b)
		case e.arr != nil:
			b = e.arr.appendTo(b)
		default:
			b = append(b, e.val...)
		}
		b = append(b, e.post...)
	}
	b = append(b, a.tail...)
	return append(b, ']')
}
