package shadow

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
)

// The kinds of a Difference.
const (
	Changed = "changed" // the value at the path differs
	Added   = "added"   // the path exists only in the second document
	Removed = "removed" // the path exists only in the first document
)

// Difference is one field that differs between two JSON documents.
type Difference struct {
	// Path locates the field: keys joined by dots, array indexes in
	// brackets, and keys that are not plain identifiers quoted in brackets:
	// `data[0].amount`, `metadata["order.id"]`. The root is "".
	Path string `json:"path"`
	// Kind is Changed, Added or Removed.
	Kind string `json:"kind"`
	// Old is the value in the first document (absent when Added), New the
	// value in the second (absent when Removed), compact.
	Old json.RawMessage `json:"old,omitempty"`
	New json.RawMessage `json:"new,omitempty"`
}

// Diff returns the field-level differences between two JSON documents, in
// a deterministic order: the first document's keys in their order, then
// keys only the second has, in its order; arrays index by index. Objects
// are compared key by key (the first of duplicate keys counts), numbers by
// their literal, so 1 and 1.0 differ. Equal documents give no differences.
// A document that is not valid JSON is compared as text: when the two
// differ, the one Difference is at the root and holds each text as a JSON
// string.
//
//	shadow.Diff([]byte(`{"amount":1099}`), []byte(`{"amount":"1099"}`))
//	// [{Path: "amount", Kind: "changed", Old: 1099, New: "1099"}]
func Diff(a, b []byte) []Difference {
	var out []Difference
	diff(a, b, func(d Difference, _, _ string) { out = append(out, d) })
	return out
}

// diff calls emit for each difference with the type (the "object" field) of
// the innermost object holding it and the path relative to that object.
func diff(a, b []byte, emit func(d Difference, typ, rel string)) {
	if !gjson.ValidBytes(a) || !gjson.ValidBytes(b) {
		if !bytes.Equal(a, b) {
			oa, _ := json.Marshal(string(a))
			ob, _ := json.Marshal(string(b))
			emit(Difference{Kind: Changed, Old: oa, New: ob}, "", "")
		}
		return
	}
	d := differ{emit: emit}
	d.value(gjson.ParseBytes(a), gjson.ParseBytes(b), nil, "", 0)
}

type differ struct {
	emit func(d Difference, typ, rel string)
}

// emitAt emits a difference at path; base is where the innermost typed
// object's path starts.
func (d *differ) emitAt(diff Difference, typ string, base int) {
	d.emit(diff, typ, strings.TrimPrefix(diff.Path[base:], "."))
}

func (d *differ) value(a, b gjson.Result, path []byte, typ string, base int) {
	switch {
	case a.IsObject() && b.IsObject():
		d.object(a, b, path, typ, base)
	case a.IsArray() && b.IsArray():
		as, bs := a.Array(), b.Array()
		for i := 0; i < len(as) || i < len(bs); i++ {
			p := append(path, '[')
			p = strconv.AppendInt(p, int64(i), 10)
			p = append(p, ']')
			switch {
			case i >= len(bs):
				d.emitAt(Difference{Path: string(p), Kind: Removed, Old: compact(as[i])}, typ, base)
			case i >= len(as):
				d.emitAt(Difference{Path: string(p), Kind: Added, New: compact(bs[i])}, typ, base)
			default:
				d.value(as[i], bs[i], p, typ, base)
			}
		}
	case !sameLeaf(a, b):
		d.emitAt(Difference{Path: string(path), Kind: Changed, Old: compact(a), New: compact(b)}, typ, base)
	}
}

func (d *differ) object(a, b gjson.Result, path []byte, typ string, base int) {
	if t := a.Get("object"); t.Type == gjson.String {
		typ, base = t.Str, len(path)
	} else if t := b.Get("object"); t.Type == gjson.String {
		typ, base = t.Str, len(path)
	}
	bm := map[string]gjson.Result{}
	var bkeys []string
	b.ForEach(func(k, v gjson.Result) bool {
		key := k.String()
		if _, dup := bm[key]; !dup {
			bm[key] = v
			bkeys = append(bkeys, key)
		}
		return true
	})
	seen := map[string]bool{}
	a.ForEach(func(k, v gjson.Result) bool {
		key := k.String()
		if seen[key] {
			return true
		}
		seen[key] = true
		p := appendKey(path, key)
		if bv, ok := bm[key]; ok {
			d.value(v, bv, p, typ, base)
		} else {
			d.emitAt(Difference{Path: string(p), Kind: Removed, Old: compact(v)}, typ, base)
		}
		return true
	})
	for _, key := range bkeys {
		if !seen[key] {
			d.emitAt(Difference{Path: string(appendKey(path, key)), Kind: Added, New: compact(bm[key])}, typ, base)
		}
	}
}

func sameLeaf(a, b gjson.Result) bool {
	if a.Type != b.Type {
		return false
	}
	switch a.Type {
	case gjson.String:
		return a.Str == b.Str
	case gjson.Number:
		return a.Raw == b.Raw
	case gjson.JSON: // an object against an array
		return false
	}
	return true
}

func compact(r gjson.Result) json.RawMessage {
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(r.Raw)); err != nil {
		return json.RawMessage(r.Raw)
	}
	return buf.Bytes()
}

// appendKey appends a key to a path: ".key" for identifiers, `["k.y"]`
// for others.
func appendKey(path []byte, key string) []byte {
	p := append([]byte{}, path...)
	if plainKey(key) {
		if len(p) > 0 {
			p = append(p, '.')
		}
		return append(p, key...)
	}
	q, _ := json.Marshal(key)
	p = append(p, '[')
	p = append(p, q...)
	return append(p, ']')
}

func plainKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case c == '_', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case (c >= '0' && c <= '9') || c == '-':
			if i == 0 {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// maxTextValue is how many bytes of a value WriteText shows before
// cutting it short.
const maxTextValue = 200

// WriteText writes differences one a line: "~ path: old -> new" for a
// changed value, "+ path: new" for an added one, "- path: old" for a
// removed one; "(root)" names the root. Values longer than 200 bytes are
// cut short with "...". No differences write "no differences".
func WriteText(w io.Writer, diffs []Difference) error {
	bw := bufio.NewWriter(w)
	if len(diffs) == 0 {
		bw.WriteString("no differences\n")
	}
	for _, d := range diffs {
		writeLine(bw, "", d)
	}
	return bw.Flush()
}

func writeLine(w io.Writer, indent string, d Difference) {
	writeLineSuffix(w, indent, d, "")
}

// writeLineSuffix is writeLine with text added at the end of the line.
func writeLineSuffix(w io.Writer, indent string, d Difference, suffix string) {
	p := d.Path
	if p == "" {
		p = "(root)"
	}
	switch d.Kind {
	case Added:
		fmt.Fprintf(w, "%s+ %s: %s%s\n", indent, p, short(d.New), suffix)
	case Removed:
		fmt.Fprintf(w, "%s- %s: %s%s\n", indent, p, short(d.Old), suffix)
	default:
		fmt.Fprintf(w, "%s~ %s: %s -> %s%s\n", indent, p, short(d.Old), short(d.New), suffix)
	}
}

func short(raw json.RawMessage) string {
	if len(raw) <= maxTextValue {
		return string(raw)
	}
	return string(raw[:maxTextValue]) + "..."
}

// WriteJSON writes differences as an indented JSON array.
func WriteJSON(w io.Writer, diffs []Difference) error {
	if diffs == nil {
		diffs = []Difference{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(diffs)
}
