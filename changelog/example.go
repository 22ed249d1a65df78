package changelog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tidwall/gjson"
)

// shortenAt is the number of lines above which examples are shortened to
// the keys that differ.
const shortenAt = 24

// example indents both renderings and, when either is long, leaves out the
// keys equal on both sides (keeping "id" and "object" for context).
func example(before, after []byte) (Example, error) {
	b, err := indent(before, "")
	if err != nil {
		return Example{}, fmt.Errorf("render: %w", err)
	}
	a, err := indent(after, "")
	if err != nil {
		return Example{}, fmt.Errorf("render: %w", err)
	}
	ex := Example{Before: b, After: a}
	if strings.Count(b, "\n") < shortenAt && strings.Count(a, "\n") < shortenAt {
		return ex, nil
	}
	bs, ba := gjson.ParseBytes(before), gjson.ParseBytes(after)
	var w1, w2 strings.Builder
	e1 := shorten(&w1, bs, ba, "")
	e2 := shorten(&w2, ba, bs, "")
	ex.Before, ex.After, ex.Shortened = w1.String(), w2.String(), e1 || e2
	return ex, nil
}

func indent(raw []byte, prefix string) (string, error) {
	var buf bytes.Buffer
	if err := json.Indent(&buf, bytes.TrimSpace(raw), prefix, "  "); err != nil {
		return "", err
	}
	return buf.String(), nil
}

func same(a, b gjson.Result) bool {
	if a.Type != b.Type {
		return false
	}
	var x, y bytes.Buffer
	if json.Compact(&x, []byte(a.Raw)) != nil || json.Compact(&y, []byte(b.Raw)) != nil {
		return a.Raw == b.Raw
	}
	return bytes.Equal(x.Bytes(), y.Bytes())
}

// shorten writes x, indented by ind, leaving out what is equal in other;
// it reports whether it left anything out.
func shorten(w *strings.Builder, x, other gjson.Result, ind string) bool {
	type entry struct {
		text   string
		elided bool
	}
	var entries []entry
	elided := false
	add := func(text string, skip bool) {
		if skip {
			elided = true
			if len(entries) > 0 && entries[len(entries)-1].elided {
				return
			}
			entries = append(entries, entry{elided: true})
			return
		}
		entries = append(entries, entry{text: text})
	}
	inner := ind + "  "
	value := func(v, ov gjson.Result) string {
		var sub strings.Builder
		if ov.Exists() && ((v.IsObject() && ov.IsObject()) || (v.IsArray() && ov.IsArray())) {
			if shorten(&sub, v, ov, inner) {
				elided = true
			}
			return sub.String()
		}
		s, err := indent([]byte(v.Raw), inner)
		if err != nil {
			s = v.Raw
		}
		return s
	}
	var open, close string
	switch {
	case x.IsObject() && other.IsObject():
		open, close = "{", "}"
		seen := map[string]bool{}
		x.ForEach(func(k, v gjson.Result) bool {
			key := k.String()
			if seen[key] {
				return true
			}
			seen[key] = true
			ov := other.Get(gjson.Escape(key))
			keep := key == "id" || key == "object"
			kq, _ := json.Marshal(key)
			if ov.Exists() && same(v, ov) && !keep {
				add("", true)
				return true
			}
			add(inner+string(kq)+": "+value(v, ov), false)
			return true
		})
	case x.IsArray() && other.IsArray():
		open, close = "[", "]"
		xs, os := x.Array(), other.Array()
		for i, v := range xs {
			var ov gjson.Result
			if i < len(os) {
				ov = os[i]
			}
			if ov.Exists() && same(v, ov) {
				add("", true)
				continue
			}
			add(inner+value(v, ov), false)
		}
	default:
		s, err := indent([]byte(x.Raw), ind)
		if err != nil {
			s = x.Raw
		}
		w.WriteString(s)
		return false
	}
	last := -1
	for i, e := range entries {
		if !e.elided {
			last = i
		}
	}
	w.WriteString(open + "\n")
	for i, e := range entries {
		if e.elided {
			w.WriteString(inner + "...\n")
			continue
		}
		w.WriteString(e.text)
		if i < last {
			w.WriteString(",")
		}
		w.WriteString("\n")
	}
	w.WriteString(ind + close)
	return elided
}
