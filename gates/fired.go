package gates

import (
	"iter"
	"math/bits"
)

// Fired is a set of a timeline's changes, each by its index
// (Timeline.ChangeIndex): the changes that altered something in a walk. A
// rename fires when its field was there, an enum when it mapped a value, a
// removed op when it put its field back (or dropped it from a request), an
// endpoint op when it moved a request or answered it 404, a status or
// header op when it changed the status or a header, and so on for every
// op: a change fires when one of its ops changed a byte.
//
// The zero value is empty and ready to use. A Fired holds up to 256
// changes without allocating; Reset keeps what it allocated for larger
// timelines, so that one Fired reused across walks allocates at most once.
// A Fired is not safe for concurrent use.
type Fired struct {
	small [4]uint64
	more  []uint64 // words past small, for timelines of more than 256 changes
	// fields, when set (TrackFields), gets the field slots of the ops
	// that fire.
	fields *Fired
}

// Add puts the change at index i in the set.
func (f *Fired) Add(i int) {
	if i < 0 {
		return
	}
	w := i >> 6
	if w < len(f.small) {
		f.small[w] |= 1 << (i & 63)
		return
	}
	w -= len(f.small)
	for w >= len(f.more) {
		f.more = append(f.more, 0)
	}
	f.more[w] |= 1 << (i & 63)
}

// Has reports whether the change at index i is in the set.
func (f *Fired) Has(i int) bool {
	if i < 0 {
		return false
	}
	w := i >> 6
	if w < len(f.small) {
		return f.small[w]&(1<<(i&63)) != 0
	}
	w -= len(f.small)
	return w < len(f.more) && f.more[w]&(1<<(i&63)) != 0
}

// Len returns the number of changes in the set.
func (f *Fired) Len() int {
	n := 0
	for _, w := range f.small {
		n += bits.OnesCount64(w)
	}
	for _, w := range f.more {
		n += bits.OnesCount64(w)
	}
	return n
}

// Empty reports whether no change is in the set.
func (f *Fired) Empty() bool {
	for _, w := range f.small {
		if w != 0 {
			return false
		}
	}
	for _, w := range f.more {
		if w != 0 {
			return false
		}
	}
	return true
}

// Equal reports whether f and g hold the same changes.
func (f *Fired) Equal(g *Fired) bool {
	if f.small != g.small {
		return false
	}
	a, b := f.more, g.more
	if len(a) < len(b) {
		a, b = b, a
	}
	for i, w := range a {
		if i < len(b) && w != b[i] || i >= len(b) && w != 0 {
			return false
		}
	}
	return true
}

// Reset empties the set, keeping its storage.
func (f *Fired) Reset() {
	f.small = [4]uint64{}
	clear(f.more)
}

// Union adds the changes of g to f.
func (f *Fired) Union(g *Fired) {
	for i, w := range g.small {
		f.small[i] |= w
	}
	for i, w := range g.more {
		if w == 0 {
			continue
		}
		for i >= len(f.more) {
			f.more = append(f.more, 0)
		}
		f.more[i] |= w
	}
}

// All yields the indexes of the changes in the set, in increasing order:
// the timeline's order, newest version first.
func (f *Fired) All() iter.Seq[int] {
	return func(yield func(int) bool) {
		for wi := 0; wi < len(f.small)+len(f.more); wi++ {
			var w uint64
			if wi < len(f.small) {
				w = f.small[wi]
			} else {
				w = f.more[wi-len(f.small)]
			}
			for w != 0 {
				b := bits.TrailingZeros64(w)
				if !yield(wi<<6 + b) {
					return
				}
				w &^= 1 << b
			}
		}
	}
}

// IDs returns the ids of the changes in the set, in the timeline's order
// (newest version first, each version's changes as declared). An index
// the timeline does not have is left out.
func (f *Fired) IDs(t *Timeline) []string {
	var out []string
	for i := range f.All() {
		if c := t.ChangeAt(i); c != nil {
			out = append(out, c.ID)
		}
	}
	return out
}

// NumChanges returns the number of changes in the timeline: their indexes
// run from 0 to NumChanges()-1.
func (t *Timeline) NumChanges() int { return len(t.changes) }

// ChangeIndex returns the index of the change id, its position in the
// timeline counting from the newest version's first change, or -1 when
// the timeline has no such change. Fired sets changes by this index.
func (t *Timeline) ChangeIndex(id string) int {
	if i, ok := t.changeIdx[id]; ok {
		return i
	}
	return -1
}

// ChangeAt returns the change at index i, or nil.
func (t *Timeline) ChangeAt(i int) *Change {
	if i < 0 || i >= len(t.changes) {
		return nil
	}
	return t.changes[i]
}
