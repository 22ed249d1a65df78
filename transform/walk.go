package transform

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
)

// walker makes one pass over a document, finds the objects whose type
// field names a type with a plan, and the objects the plan's top steps
// apply to, and rewrites each on its own bytes.
//
// Bytes are copied to out lazily: src[mark:] has not been copied yet, so a
// source offset p >= mark is at output offset len(out)+p-mark. Nothing is
// copied unless some object is rewritten; a document no plan touches comes
// back as the very same slice.
type walker struct {
	src      []byte
	out      []byte
	mark     int
	maxDepth int
	depth    int
	changed  bool

	rewrites int // objects rewritten so far

	plan  *Plan  // the types to rewrite; nil when there are none
	qtype string // the type field, quoted
	// qword holds the first eight bytes of qtype, and qmask covers them,
	// when qtype is at most eight bytes long.
	qword, qmask uint64
	// top is applied to the body's own object: the top-level one, or when
	// it has a member topKey (an array of objects when topEach, else an
	// object), the objects there; with topEach, also each object of a
	// top-level array. inTop tells that the walk is in such a member (or
	// array), whose objects are at depth topDepth; sawTop that the body
	// has one.
	top           *objPlan
	topKey        string
	topEach       bool
	inTop, sawTop bool
	topDepth      int
	spans         []member // the members of the objects being walked
	kept          []member // see object
	// lastSub and lastSubn delimit in kept the members of the object just
	// walked; lastSub < 0 when they were not kept.
	lastSub, lastSubn int32
	scratch           []byte
	dom               domPool
	// node is the descent into the object value being walked, handed to
	// it by the member holding it.
	node *descent

	// buf is the walker's own buffer for out, kept between walks; pooled
	// tells that out is in it, so the result must be copied out of it.
	// With direct, out starts as the caller's dst and the walk appends to
	// it: the result is written once, where the caller wants it.
	buf            []byte
	pooled, direct bool
	started        bool // out has been set up

	// flat is what flat programs keep (see flatApply).
	flat flatState

	// res gets the fields resolve steps leave to resolvers; resMark is the
	// number of its placeholders when the object being rewritten began.
	res     *resolution
	resMark int
}

// The literals, as little-endian words (false without its f).
const (
	nullWord = 'n' | 'u'<<8 | 'l'<<16 | 'l'<<24
	trueWord = 't' | 'r'<<8 | 'u'<<16 | 'e'<<24
	alseWord = 'a' | 'l'<<8 | 's'<<16 | 'e'<<24
)

// maxPooledOut bounds the outputs a walker builds in its own buffer, which
// it keeps (as it keeps scratch) for the next walk. Past it, out is
// allocated for the walk and handed over as the result.
const maxPooledOut = 1 << 20

func (w *walker) outPos(p int) int { return len(w.out) + p - w.mark }

func (w *walker) flush(p int) {
	if !w.started {
		w.started = true
		// Room for the result to grow, so that one allocation does.
		n := len(w.src) + len(w.src)/2 + 1024
		if w.direct {
			w.out = slices.Grow(w.out, n)
		} else if n <= maxPooledOut {
			if cap(w.buf) < n {
				w.buf = make([]byte, 0, n)
			}
			w.out, w.pooled = w.buf[:0], true
		} else {
			w.out = make([]byte, 0, n)
		}
	}
	w.out = append(w.out, w.src[w.mark:p]...)
	w.mark = p
}

// run walks the whole document and returns the result, which is in w.buf
// when w.pooled.
func (w *walker) run() ([]byte, error) {
	i := skipSpace(w.src, 0)
	if i >= len(w.src) {
		return nil, syntaxErr(w.src, i, "empty body")
	}
	if w.top != nil && w.topEach && w.src[i] == '[' {
		w.inTop, w.sawTop, w.topDepth = true, true, 2
	}
	i, err := w.value(i, false)
	if err != nil {
		return nil, err
	}
	if j := skipSpace(w.src, i); j != len(w.src) {
		return nil, syntaxErr(w.src, j, "data after the top-level value")
	}
	if !w.changed {
		return w.src, nil
	}
	w.flush(len(w.src))
	return w.out, nil
}

// value walks the value at b[i]; inObject tells whether it is a member's
// value, whose spans an object keeps for its parent.
func (w *walker) value(i int, inObject bool) (int, error) {
	switch c := w.src[i]; {
	case c == '{':
		return w.object(i, inObject)
	case c == '[':
		return w.array(i)
	case c == '"':
		return scanString(w.src, i)
	case c == 't':
		return scanLiteral(w.src, i, "true")
	case c == 'f':
		return scanLiteral(w.src, i, "false")
	case c == 'n':
		return scanLiteral(w.src, i, "null")
	default:
		return scanNumber(w.src, i)
	}
}

func (w *walker) enter(i int) error {
	w.depth++
	if w.depth > w.maxDepth {
		return fmt.Errorf("%w: more than %d levels at offset %d", ErrTooDeep, w.maxDepth, i)
	}
	return nil
}

func (w *walker) array(i int) (int, error) {
	if err := w.enter(i); err != nil {
		return i, err
	}
	b := w.src
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		w.depth--
		return i + 1, nil
	}
	for {
		if i >= len(b) {
			return i, syntaxErr(b, i, "unterminated array")
		}
		var err error
		if i, err = w.value(i, false); err != nil {
			return i, err
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return i, syntaxErr(b, i, "unterminated array")
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case ']':
			w.depth--
			return i + 1, nil
		default:
			return i, syntaxErr(b, i, "want ',' or ']' in array")
		}
	}
}

// object walks the object at b[i]. When it may be rewritten, or a plan
// may step into it, it records its members in w.spans, in its own offsets,
// and unless a DOM was built on them leaves them in w.kept for the object
// holding it (through w.lastSub and w.lastSubn), so that a plan stepping
// into it needs no second parse. It records from the start an object the
// walk's top plan applies to, or that the descent handed down in w.node
// names; from its type member on, and its members before that parsed
// again, an object whose type has a plan; not others, which it only
// checks (see skim). Members of objects in arrays are not kept.
func (w *walker) object(i int, inObject bool) (int, error) {
	if err := w.enter(i); err != nil {
		return i, err
	}
	srcStart := i
	start := w.outPos(i)
	rewrites := w.rewrites
	resMark := w.res.mark()
	topLevel := w.depth == 1
	target := w.inTop && w.depth == w.topDepth
	node := w.node
	w.node = nil
	if target || topLevel && w.top != nil {
		node = node.merge(w.top.descent())
	}
	keptBase := len(w.kept)
	at, n := i+1, 0 // the member to record from, and how many are before it
	if node == nil {
		j, tn, err := w.skim(i)
		if err != nil || tn == nil {
			w.depth--
			w.kept = w.kept[:keptBase]
			w.lastSub, w.lastSubn = -1, 0
			return j, err
		}
		// A type member names a plan: record the members before it, and
		// walk the rest recording.
		node, at = tn, j
		if at > i+1 {
			k := len(w.spans)
			w.recordPrefix(srcStart, start, at, rewrites == w.rewrites)
			n = len(w.spans) - k
		}
	}
	return w.record(srcStart, start, at, n, node, inObject, rewrites, resMark, keptBase, topLevel, target)
}

// skim checks the object at b[i], walking the values in it, and records
// nothing. When a type member names a type the plan rewrites, it stops at
// the start of that member and returns its offset and the descent of the
// type; else it returns the offset just past the object.
//
// It is the loop most bytes of a body go through, so it keeps little
// state, to keep it in registers across the calls it makes for nested
// values: the type member is checked for in a branch of its own, and
// where a member starts is worked out only there.
func (w *walker) skim(i int) (int, *descent, error) {
	b := w.src
	// The white space before a key, with the key's opening quote, is
	// mostly the same for every member of an object (a line break and
	// the indentation, or nothing): when it is at most seven bytes, ws
	// holds it and wsMask covers it, so that the next member's is checked
	// with one comparison.
	var ws, wsMask uint64
	wsLen := 0
	i++
	if i < len(b) && b[i] != '"' {
		j := skipSpace(b, i)
		if j < len(b) && b[j] == '}' {
			return j + 1, nil, nil
		}
		ws, wsMask, wsLen = spaceWord(b, i, j)
		i = j
	}
	for {
		if i >= len(b) || b[i] != '"' {
			if i >= len(b) {
				return i, nil, syntaxErr(b, i, "unterminated object")
			}
			return i, nil, syntaxErr(b, i, "want a string key in object")
		}
		keyStart := i
		var err error
		if k := stopAt(b, i+1); k >= 0 && b[k] == '"' {
			i = k + 1
		} else if i, err = scanString(b, i); err != nil {
			return i, nil, err
		}
		if i-keyStart == len(w.qtype) && w.isTypeKey(b, keyStart) {
			j, tn, err := w.typeMember(i)
			if err != nil || tn != nil {
				return memberStart(b, keyStart), tn, err
			}
			i = j
		} else {
			if j := afterColon(b, i); j >= 0 {
				i = j
			} else if i, err = colonSpace(b, i); err != nil {
				return i, nil, err
			}
			switch c := b[i]; {
			case c == '"':
				if k := stopAt(b, i+1); k >= 0 && b[k] == '"' {
					i = k + 1
				} else if i, err = scanString(b, i); err != nil {
					return i, nil, err
				}
			case c == 'n' && i+4 <= len(b) && binary.LittleEndian.Uint32(b[i:i+4]) == nullWord:
				i += 4
			case c == 't' && i+4 <= len(b) && binary.LittleEndian.Uint32(b[i:i+4]) == trueWord:
				i += 4
			case c == 'f' && i+5 <= len(b) && binary.LittleEndian.Uint32(b[i+1:i+5]) == alseWord:
				i += 5
			case c >= '0' && c <= '9' || c == '-':
				if i, err = scanNumber(b, i); err != nil {
					return i, nil, err
				}
			default:
				if i, err = w.value(i, true); err != nil {
					return i, nil, err
				}
			}
		}
		if i < len(b) && b[i] == ',' {
			i++
		} else {
			i = skipSpace(b, i)
			if i >= len(b) {
				return i, nil, syntaxErr(b, i, "unterminated object")
			}
			if b[i] == '}' {
				return i + 1, nil, nil
			}
			if b[i] != ',' {
				return i, nil, syntaxErr(b, i, "want ',' or '}' in object")
			}
			i++
		}
		if wsMask != 0 && i+8 <= len(b) && binary.LittleEndian.Uint64(b[i:i+8])&wsMask == ws {
			i += wsLen
		} else if i < len(b) && b[i] != '"' {
			j := skipSpace(b, i)
			ws, wsMask, wsLen = spaceWord(b, i, j)
			i = j
		}
	}
}

// spaceWord returns the white space b[i:j] before a key with the key's
// opening quote b[j], as a word and the mask that covers it, and the
// length of the white space; a zero mask when they are more than eight
// bytes.
func spaceWord(b []byte, i, j int) (ws, mask uint64, n int) {
	if n = j - i; n < 8 && i+8 <= len(b) {
		mask = 1<<(8*(n+1)) - 1
		ws = binary.LittleEndian.Uint64(b[i:i+8]) & mask
	}
	return ws, mask, n
}

// isTypeKey reports whether the key at b[ks:], as long as the quoted type
// field, is the type field.
func (w *walker) isTypeKey(b []byte, ks int) bool {
	n := len(w.qtype)
	if n <= 8 && ks+8 <= len(b) {
		return binary.LittleEndian.Uint64(b[ks:ks+8])&w.qmask == w.qword
	}
	return string(b[ks:ks+n]) == w.qtype
}

// typeMember walks the value of a type member, whose key ends at b[i-1],
// and returns the offset past it, or the descent of the type it names
// when the plan rewrites that type.
func (w *walker) typeMember(i int) (int, *descent, error) {
	b := w.src
	var err error
	if j := afterColon(b, i); j >= 0 {
		i = j
	} else if i, err = colonSpace(b, i); err != nil {
		return i, nil, err
	}
	if b[i] != '"' {
		i, err = w.value(i, true)
		return i, nil, err
	}
	vs := i
	if k := stopAt(b, i+1); k >= 0 && b[k] == '"' {
		i = k + 1
	} else if i, err = scanString(b, i); err != nil {
		return i, nil, err
	}
	if w.plan != nil {
		if tn := w.plan.typeDescent(b[vs+1 : i-1]); tn != nil {
			return i, tn, nil
		}
	}
	return i, nil, nil
}

// memberStart returns the offset of the member whose key starts at b[ks]:
// just past the '{' or ',' before the white space before the key.
func memberStart(b []byte, ks int) int {
	for ks > 0 && isSpace(b[ks-1]) {
		ks--
	}
	return ks
}

// record walks the members of the object that starts at source offset
// srcStart (output offset start) from the one at offset i on, n members
// after the first, recording them for node, then rewrites the object when
// a plan applies to it (see object).
func (w *walker) record(srcStart, start, i, n int, node *descent, inObject bool, rewrites, resMark, keptBase int, topLevel, target bool) (int, error) {
	b := w.src
	base := len(w.spans) - n
	i, typStart, typEnd, err := w.recordMembers(i, start, node, topLevel, n == 0)
	if err != nil {
		return i, err
	}
	ds := len(w.out) - w.mark - start
	w.depth--
	if i+ds > math.MaxInt32 {
		w.spans = w.spans[:base]
		return i, fmt.Errorf("%w: an object of more than %d bytes at offset %d", ErrTooLarge, math.MaxInt32, srcStart)
	}
	var p, p2 *objPlan
	event := false
	if typStart >= 0 {
		typ := b[typStart:typEnd]
		p = w.plan.typePlan(typ)
		event = string(typ) == "event" && w.plan.hasPartial
	}
	if target || topLevel && w.top != nil && !w.sawTop {
		p2 = w.top
	}
	if p != nil || p2 != nil || event {
		w.resMark = resMark
		if err := w.rewrite(srcStart, start, i, base, p, p2, event, rewrites == w.rewrites); err != nil {
			w.spans = w.spans[:base]
			return i, err
		}
	}
	if inObject && p == nil && p2 == nil && !event {
		w.lastSub, w.lastSubn = int32(len(w.kept)), int32(len(w.spans)-base)
		w.kept = append(w.kept, w.spans[base:]...)
	} else {
		w.kept = w.kept[:keptBase]
		w.lastSub, w.lastSubn = -1, 0
	}
	w.spans = w.spans[:base]
	return i, nil
}

// recordMembers walks the members of the object that starts at source
// offset start in the output, from the one at offset i on, and adds each
// to w.spans (see record), stepping into object values with node, merged
// with the descent of the type its type member names once it is found. It
// returns the offset past the object and where that type is in src (-1
// when no type member names a type the plan has).
func (w *walker) recordMembers(i, start int, node *descent, topLevel, empty bool) (_ int, typStart, typEnd int, _ error) {
	b := w.src
	typStart, typEnd = -1, -1
	// ds maps source offsets to offsets in the object's own output
	// bytes (see outPos). Only walking an object or array value can
	// change it: rewriting an object in it.
	ds := len(w.out) - w.mark - start
	var ws, wsMask uint64 // as in skim
	wsLen := 0
	lo := i // where the member starts
	// spans is w.spans, which the loop does not write back for each
	// member: a slice stored in the walker costs a write barrier check.
	spans := w.spans
	if i < len(b) && b[i] != '"' {
		j := skipSpace(b, i)
		if j < len(b) && b[j] == '}' && empty {
			w.spans = spans
			return j + 1, typStart, typEnd, nil
		}
		ws, wsMask, wsLen = spaceWord(b, i, j)
		i = j
	}
	for {
		if i >= len(b) || b[i] != '"' {
			if i >= len(b) {
				w.spans = spans
				return i, typStart, typEnd, syntaxErr(b, i, "unterminated object")
			}
			w.spans = spans
			return i, typStart, typEnd, syntaxErr(b, i, "want a string key in object")
		}
		// The member is written field by field as the walk finds them,
		// in place: a composite literal is built on the stack and
		// copied, which stalls on store forwarding; and what is
		// written need not be kept in registers. Its offsets are in
		// the object's own bytes: it may be rewritten, or stepped into,
		// on its own. An object or array value is walked after it is
		// added: the members it records go after it, and are gone when
		// it returns.
		k := len(spans)
		if k == cap(spans) {
			spans = slices.Grow(spans, 16)
		}
		spans = spans[:k+1]
		m := &spans[k]
		m.lo, m.ks = int32(lo+ds), int32(i+ds)
		m.sub, m.subn, m.obj, m.arr, m.ext = -1, 0, 0, 0, 0
		m.dead, m.dirty = false, false
		keyStart := i
		var err error
		if k := stopAt(b, i+1); k >= 0 && b[k] == '"' {
			i = k + 1
		} else if i, err = scanString(b, i); err != nil {
			w.spans = spans
			return i, typStart, typEnd, err
		}
		m.ke, m.fp = int32(i+ds), keyFP(b[keyStart:i])
		isType := i-keyStart == len(w.qtype) && w.isTypeKey(b, keyStart)
		if j := afterColon(b, i); j >= 0 {
			i = j
		} else if i, err = colonSpace(b, i); err != nil {
			w.spans = spans
			return i, typStart, typEnd, err
		}
		m.vs = int32(i + ds)
		switch c := b[i]; {
		case c == '"':
			vs := i
			if k := stopAt(b, i+1); k >= 0 && b[k] == '"' {
				i = k + 1
			} else if i, err = scanString(b, i); err != nil {
				w.spans = spans
				return i, typStart, typEnd, err
			}
			if isType && w.plan != nil {
				typStart, typEnd = vs+1, i-1
				node = node.merge(w.plan.typeDescent(b[typStart:typEnd]))
			}
		case c == 'n' && i+4 <= len(b) && binary.LittleEndian.Uint32(b[i:i+4]) == nullWord:
			i += 4
		case c == 't' && i+4 <= len(b) && binary.LittleEndian.Uint32(b[i:i+4]) == trueWord:
			i += 4
		case c == 'f' && i+5 <= len(b) && binary.LittleEndian.Uint32(b[i+1:i+5]) == alseWord:
			i += 5
		case c >= '0' && c <= '9' || c == '-':
			if i, err = scanNumber(b, i); err != nil {
				w.spans = spans
				return i, typStart, typEnd, err
			}
		default:
			w.spans = spans
			if i, err = w.recordValue(i, int(m.ks)-ds, int(m.ke)-ds, node, topLevel); err != nil {
				w.spans = spans
				return i, typStart, typEnd, err
			}
			ds = len(w.out) - w.mark - start
			spans = w.spans
			m = &spans[k]
			if c == '{' {
				m.sub, m.subn = w.lastSub, w.lastSubn
			}
		}
		m.ve = int32(i + ds)
		if i >= len(b) || b[i] != ',' {
			i = skipSpace(b, i)
		}
		m.hi = int32(i + ds)
		if i >= len(b) {
			w.spans = spans
			return i, typStart, typEnd, syntaxErr(b, i, "unterminated object")
		}
		if b[i] != ',' {
			if b[i] != '}' {
				w.spans = spans
				return i, typStart, typEnd, syntaxErr(b, i, "want ',' or '}' in object")
			}
			w.spans = spans
			return i + 1, typStart, typEnd, nil
		}
		i++
		lo = i
		if wsMask != 0 && i+8 <= len(b) && binary.LittleEndian.Uint64(b[i:i+8])&wsMask == ws {
			i += wsLen
		} else if i < len(b) && b[i] != '"' {
			j := skipSpace(b, i)
			ws, wsMask, wsLen = spaceWord(b, i, j)
			i = j
		}
	}
}

// recordValue walks the object or array value at b[i] of the member whose
// key is at b[keyStart:keyEnd], of an object record walks, into which the
// walk steps with node: the top plan's member when the object is the top
// level one.
func (w *walker) recordValue(i, keyStart, keyEnd int, node *descent, topLevel bool) (int, error) {
	b := w.src
	c := b[i]
	if c == '{' {
		w.node = node.child(b[keyStart+1 : keyEnd-1])
	}
	if topLevel && w.topKey != "" && (c == '[' && w.topEach || c == '{' && !w.topEach) &&
		string(b[keyStart+1:keyEnd-1]) == w.topKey {
		w.inTop, w.sawTop, w.topDepth = true, true, 2
		if w.topEach {
			w.topDepth = 3
		}
		i, err := w.value(i, true)
		w.inTop = false
		return i, err
	}
	return w.value(i, true)
}

// afterColon returns the offset of the value after the ':' that follows
// an object's key, which ends at b[i], when they are ": " or ":" (read in
// one word), else -1: then colonSpace says.
func afterColon(b []byte, i int) int {
	if i+4 > len(b) {
		return -1
	}
	sep := binary.LittleEndian.Uint32(b[i:])
	if sep&0xffff == ':'|' '<<8 && byte(sep>>16) > ' ' {
		return i + 2
	}
	if byte(sep) == ':' && byte(sep>>8) > ' ' {
		return i + 1
	}
	return -1
}

func colonSpace(b []byte, i int) (int, error) {
	i = skipSpace(b, i)
	if i >= len(b) || b[i] != ':' {
		return i, syntaxErr(b, i, "want ':' after object key")
	}
	i = skipSpace(b, i+1)
	if i >= len(b) {
		return i, syntaxErr(b, i, "unterminated object")
	}
	return i, nil
}

// recordPrefix records the members of the object that starts at source
// offset srcStart (output offset start) up to source offset end, where the
// member being walked starts: the walk had only checked them. When clean,
// nothing in them was rewritten, so their bytes are still the source's.
func (w *walker) recordPrefix(srcStart, start, end int, clean bool) {
	obj, n := w.src[srcStart:], end-srcStart
	if !clean {
		w.flush(end)
		obj, n = w.out[start:], len(w.out)-start
	}
	for i := 1; i < n; {
		j := skipSpace(obj, i)
		k := skipString(obj, j)
		v := skipSpace(obj, skipSpace(obj, k)+1)
		e := skipValue(obj, v)
		h := skipSpace(obj, e)
		w.spans = append(w.spans, member{lo: int32(i), ks: int32(j), ke: int32(k), vs: int32(v), ve: int32(e), hi: int32(h),
			fp: keyFP(obj[j:k]), sub: -1})
		i = h + 1
	}
}

// rewrite applies p, then p2 (either may be nil), to the object that
// starts at source offset srcStart (output offset start) and ends at
// source offset end, whose members are w.spans[base:]; the DOM takes them
// over. When no object inside it was rewritten (clean), its
// bytes are still those of the source: the DOM is built on them and
// written straight to the output, with no intermediate copy.
func (w *walker) rewrite(srcStart, start, end, base int, p, p2 *objPlan, event, clean bool) error {
	var obj []byte
	if clean {
		obj = w.src[srcStart:end]
	} else {
		w.flush(end)
		obj = w.out[start:]
	}
	if p != nil && p.flat != nil && p2 == nil && !event {
		if done, err := w.rewriteFlat(srcStart, start, end, base, p.flat, clean); done || err != nil {
			return err
		}
	}
	w.dom.reset()
	w.dom.kept = w.kept
	// Room for added members, which are appended to w.spans[base:].
	w.spans = slices.Grow(w.spans, 16)
	o := w.dom.fromMembers(obj, w.spans[base:])
	if p != nil && len(p.steps) > tabAfter {
		// Its lookups will need the table: build it at once.
		o.index()
	}
	var err error
	if p != nil {
		if o, err = p.apply(&w.dom, o); err != nil {
			return err
		}
	}
	if p2 != nil {
		if o, err = p2.apply(&w.dom, o); err != nil {
			return err
		}
	}
	if event {
		if w.res != nil && len(w.res.ph) > w.resMark {
			w.res.stamp(&w.dom, o, w.resMark)
		}
		if err := w.previousAttributes(o); err != nil {
			return err
		}
		if p == nil && p2 == nil && !w.dom.touched {
			return nil
		}
	}
	if clean {
		w.flush(srcStart)
		w.out = w.dom.appendObject(w.out, o)
		w.mark = end
	} else {
		w.scratch = w.dom.appendObject(w.scratch[:0], o)
		w.out = append(w.out[:start], w.scratch...)
	}
	w.rewrites++
	w.changed = true
	return nil
}

// rewriteFlat rewrites the object as rewrite does, with its plan's flat
// program. It reports false when the object is left to the DOM.
func (w *walker) rewriteFlat(srcStart, start, end, base int, prog *flatProg, clean bool) (bool, error) {
	var (
		out []byte
		err error
	)
	if clean {
		w.flush(srcStart)
		out, err = w.flatApply(w.out, prog, w.src[srcStart:end], w.spans[base:], w.kept)
		if err == nil {
			w.out, w.mark = out, end
		}
	} else {
		w.flush(end)
		w.scratch, err = w.flatApply(w.scratch[:0], prog, w.out[start:], w.spans[base:], w.kept)
		if err == nil {
			w.out = append(w.out[:start], w.scratch...)
		}
	}
	if err == errFlat {
		return false, nil
	}
	if err != nil {
		return true, err
	}
	w.rewrites++
	w.changed = true
	return true, nil
}

// previousAttributes walks an event's data.previous_attributes with the
// plan of the type of its data.object, in partial mode: only the fields
// present are touched, nothing is put back.
func (w *walker) previousAttributes(ev *object) error {
	data := w.dom.child(ev, "data")
	if data == nil {
		return nil
	}
	obj := w.dom.child(data, "object")
	if obj == nil {
		return nil
	}
	k := obj.find(w.qtype[1 : len(w.qtype)-1])
	if k < 0 {
		return nil
	}
	tv := obj.valOf(&obj.members[k])
	if len(tv) < 2 || tv[0] != '"' {
		return nil
	}
	p := w.plan.typePlan(tv[1 : len(tv)-1])
	if p == nil {
		return nil
	}
	prev := w.dom.child(data, "previous_attributes")
	if prev == nil {
		return nil
	}
	w.dom.touched = true
	_, err := p.applyPartial(&w.dom, prev)
	return err
}
