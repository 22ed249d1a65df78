package transform

// collapse walks a collapse op back: the object at member i of o becomes
// the value of its id member. A value that is not an object, or an object
// with no id, is left alone.
func (d *domPool) collapse(o *object, i int, s *step) {
	if i < 0 {
		return
	}
	c := d.memberObject(o, &o.members[i])
	if c == nil {
		return
	}
	k := findQuoted(c, s.qid)
	if k < 0 {
		return
	}
	o.set(i, d.value(c, &c.members[k]))
	d.fire(s)
}

// expand walks a collapse op forward: the id at member i of o becomes the
// object {id: value}, or, when the op names an id field, moves to that
// member, keeping its place. An object, an array or null is left alone. On
// a request, an id sent both in the field and in the id field is a
// *ConflictError.
func (d *domPool) expand(o *object, i int, s *step) error {
	if i < 0 {
		return nil
	}
	m := &o.members[i]
	if m.obj != 0 || m.arr != 0 {
		return nil
	}
	v := o.valOf(m)
	if len(v) == 0 || v[0] == '{' || v[0] == '[' || isNull(v) {
		return nil
	}
	if s.qalt == nil {
		b := make([]byte, 0, len(s.qid)+len(v)+3)
		b = append(b, '{')
		b = append(b, s.qid...)
		b = append(b, ':')
		b = append(b, v...)
		o.set(i, append(b, '}'))
		d.fire(s)
		return nil
	}
	if j := findQuoted(o, s.qalt); j >= 0 {
		if s.req {
			return &ConflictError{Old: s.oldParam, New: s.newParam}
		}
		o.kill(j)
	}
	o.setKey(i, s.qalt)
	d.fire(s)
	return nil
}
