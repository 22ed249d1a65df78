package transform

import "bytes"

// lift walks a nest op back: the members of the wrapper s.key of o (all
// of them, or s.members) move out into o, just before the wrapper, which is
// dropped when it ends empty. A wrapper that is not an object is left
// alone.
func (d *domPool) lift(o *object, s *step) error {
	i := o.find(s.key)
	if i < 0 {
		return nil
	}
	w := d.memberObject(o, &o.members[i])
	if w == nil {
		return nil
	}
	pre, mid := o.preOf(&o.members[i]), o.midOf(&o.members[i])
	left := 0
	for j := range w.members {
		m := &w.members[j]
		if m.dead {
			continue
		}
		k := w.keyOf(m)
		if s.members != nil && !containsKey(s.members, k) || s.keep != nil && bytes.Equal(k, s.keep) {
			left++
			continue
		}
		v := d.value(w, m)
		w.kill(j)
		if x := findQuoted(o, k); x >= 0 && x != i {
			o.kill(x)
		}
		o.insert(i, pre, k, mid, v)
		i++
		d.fire(s)
	}
	if left == 0 {
		o.kill(i)
	} else {
		o.members[i].dirty = true
	}
	return nil
}

// nest walks a nest op forward: the members of o (all but the wrapper, or
// s.members) move into the wrapper s.key, in front of what it holds, or
// into a new wrapper made where the first of them was. A wrapper that is
// not an object is left alone. On a request, a member sent both beside the
// wrapper and in it is a *ConflictError.
func (d *domPool) nest(o *object, s *step) error {
	wi := o.find(s.key)
	var w *object
	if wi >= 0 {
		if w = d.memberObject(o, &o.members[wi]); w == nil {
			return nil
		}
	}
	moved := 0
	var pre, mid []byte // the white space of the members moved in
	for j := 0; j < len(o.members); j++ {
		m := &o.members[j]
		if m.dead || j == wi {
			continue
		}
		k := o.keyOf(m)
		if s.members != nil && !containsKey(s.members, k) || s.keep != nil && bytes.Equal(k, s.keep) {
			continue
		}
		if w == nil {
			w = d.emptyObject()
			w.tail = o.preOf(m)
			o.insert(j, o.preOf(m), s.qkey, o.midOf(m), []byte("{}"))
			wi = j
			d.setObject(o, wi, w)
			j++
			m = &o.members[j]
		}
		if x := findQuoted(w, k); x >= 0 {
			if s.req {
				name, _ := unquote(k)
				return &ConflictError{Old: string(name), New: s.key + "[" + string(name) + "]"}
			}
			w.kill(x)
		}
		if moved == 0 {
			pre, mid = innerSpace(o, w, m)
		}
		w.insert(moved, pre, k, mid, d.value(o, m))
		moved++
		d.fire(s)
		o.kill(j)
		o.members[wi].dirty = true
	}
	return nil
}

// innerSpace returns the white space for members moved from o into w
// ahead of its own: that of w's first member, or for an empty w, that of
// the member m moved one level deeper, so that an indented body stays
// indented.
func innerSpace(o, w *object, m *member) (pre, mid []byte) {
	for i := range w.members {
		if x := &w.members[i]; !x.dead {
			return w.preOf(x), w.midOf(x)
		}
	}
	pre, mid = o.preOf(m), o.midOf(m)
	nl := bytes.LastIndexByte(pre, '\n')
	if nl < 0 {
		return pre, mid
	}
	ind := pre[nl+1:]
	unit := []byte("  ")
	if t := bytes.LastIndexByte(o.tail, '\n'); t >= 0 && bytes.HasPrefix(ind, o.tail[t+1:]) && len(ind) > len(o.tail)-t-1 {
		unit = ind[len(o.tail)-t-1:]
	}
	return append(append([]byte(nil), pre...), unit...), mid
}

// findQuoted is find for a raw quoted key.
func findQuoted(o *object, qkey []byte) int {
	if len(qkey) < 2 {
		return -1
	}
	for i := range o.members {
		m := &o.members[i]
		if !m.dead && bytes.Equal(o.keyOf(m), qkey) {
			return i
		}
	}
	return -1
}

func containsKey(keys [][]byte, k []byte) bool {
	for _, x := range keys {
		if bytes.Equal(x, k) {
			return true
		}
	}
	return false
}
