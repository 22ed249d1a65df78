package transform

import (
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ErrForm is wrapped by the errors FormToJSON returns.
var ErrForm = errors.New("malformed form body")

// Limits on form bodies.
const (
	maxFormParams = 10000
	maxFormDepth  = 32
	maxFormIndex  = 10000
)

// fnode is a node of a form parameter tree; exactly one of its kinds is in
// use once it is filled.
type fnode struct {
	leaf   *string
	keys   []string // object keys in order of first appearance
	fields map[string]*fnode
	elems  []*fnode       // "key[]" appends
	index  map[int]*fnode // "key[0]" indexes
	isArr  bool
}

// FormToJSON turns an application/x-www-form-urlencoded body or a query
// string in Stripe's bracket syntax into a JSON object, keeping the order
// in which parameters first appear. All values are strings.
//
//	metadata[order]=6735&expand[]=customer&items[0][price]=price_1
//	{"metadata":{"order":"6735"},"expand":["customer"],"items":[{"price":"price_1"}]}
func FormToJSON(form string) ([]byte, error) {
	root := &fnode{}
	n := 0
	for form != "" {
		var pair string
		pair, form, _ = strings.Cut(form, "&")
		if pair == "" {
			continue
		}
		if n++; n > maxFormParams {
			return nil, fmt.Errorf("%w: more than %d parameters", ErrForm, maxFormParams)
		}
		rk, rv, _ := strings.Cut(pair, "=")
		k, err := url.QueryUnescape(rk)
		if err != nil {
			return nil, fmt.Errorf("%w: key %q: %v", ErrForm, rk, err)
		}
		if !utf8.ValidString(k) {
			return nil, fmt.Errorf("%w: parameter %q is not valid UTF-8", ErrForm, k)
		}
		v, err := url.QueryUnescape(rv)
		if err != nil {
			return nil, fmt.Errorf("%w: value of %q: %v", ErrForm, k, err)
		}
		segs, err := splitFormKey(k)
		if err != nil {
			return nil, err
		}
		if err := root.put(segs, v, k, true); err != nil {
			return nil, err
		}
	}
	return root.appendJSON(nil), nil
}

func splitFormKey(k string) ([]string, error) {
	i := strings.IndexByte(k, '[')
	if i < 0 {
		if k == "" {
			return nil, fmt.Errorf("%w: empty parameter name", ErrForm)
		}
		return []string{k}, nil
	}
	if i == 0 {
		return nil, fmt.Errorf("%w: parameter %q has no name before '['", ErrForm, k)
	}
	segs := []string{k[:i]}
	rest := k[i:]
	for rest != "" {
		if rest[0] != '[' {
			return nil, fmt.Errorf("%w: parameter %q: want '[' after ']'", ErrForm, k)
		}
		j := strings.IndexByte(rest, ']')
		if j < 0 {
			return nil, fmt.Errorf("%w: parameter %q: unclosed '['", ErrForm, k)
		}
		segs = append(segs, rest[1:j])
		rest = rest[j+1:]
		if len(segs) > maxFormDepth {
			return nil, fmt.Errorf("%w: parameter %q nested too deep", ErrForm, k)
		}
	}
	return segs, nil
}

// put adds the value v of parameter full, whose key segments are segs,
// under n. At the top, a segment of digits is a parameter's name ("0=x"
// is {"0":"x"}); below, it is an array index.
func (n *fnode) put(segs []string, v, full string, top bool) error {
	conflict := func() error { return fmt.Errorf("%w: parameter %q conflicts with another parameter", ErrForm, full) }
	if len(segs) == 0 {
		if n.leaf != nil || n.fields != nil || n.isArr {
			return conflict()
		}
		n.leaf = &v
		return nil
	}
	if n.leaf != nil {
		return conflict()
	}
	s := segs[0]
	if s == "" || isIndex(s) && !top {
		if n.fields != nil {
			return conflict()
		}
		n.isArr = true
		if s == "" {
			c := &fnode{}
			n.elems = append(n.elems, c)
			return c.put(segs[1:], v, full, false)
		}
		i, err := strconv.Atoi(s)
		if err != nil || i > maxFormIndex {
			return fmt.Errorf("%w: parameter %q: index out of range", ErrForm, full)
		}
		if n.index == nil {
			n.index = map[int]*fnode{}
		}
		c := n.index[i]
		if c == nil {
			c = &fnode{}
			n.index[i] = c
		}
		return c.put(segs[1:], v, full, false)
	}
	if n.isArr {
		return conflict()
	}
	if n.fields == nil {
		n.fields = map[string]*fnode{}
	}
	c := n.fields[s]
	if c == nil {
		c = &fnode{}
		n.fields[s] = c
		n.keys = append(n.keys, s)
	}
	return c.put(segs[1:], v, full, false)
}

func isIndex(s string) bool {
	if s == "" || len(s) > 6 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func (n *fnode) appendJSON(b []byte) []byte {
	switch {
	case n.leaf != nil:
		return appendQuoted(b, *n.leaf)
	case n.isArr:
		b = append(b, '[')
		idx := make([]int, 0, len(n.index))
		for i := range n.index {
			idx = append(idx, i)
		}
		sort.Ints(idx)
		k := 0
		for _, i := range idx {
			if k > 0 {
				b = append(b, ',')
			}
			k++
			b = n.index[i].appendJSON(b)
		}
		for _, c := range n.elems {
			if k > 0 {
				b = append(b, ',')
			}
			k++
			b = c.appendJSON(b)
		}
		return append(b, ']')
	}
	b = append(b, '{')
	for i, key := range n.keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendQuoted(b, key)
		b = append(b, ':')
		b = n.fields[key].appendJSON(b)
	}
	return append(b, '}')
}

// JSONToForm encodes a JSON object as a form body in Stripe's bracket
// syntax, keeping key order: objects as key[sub], arrays of scalars as
// key[]=v, arrays of objects as key[0][sub]. Strings are sent as they are,
// numbers by their digits, booleans as true/false and null as an empty
// value.
func JSONToForm(body []byte) (string, error) {
	var d domPool
	j := skipSpace(body, 0)
	if err := validate(body, DefaultMaxDepth); err != nil {
		return "", err
	}
	if body[j] != '{' {
		return "", errors.New("form body must be a JSON object")
	}
	var b strings.Builder
	if err := formObject(&b, &d, d.parseObject(body[j:]), ""); err != nil {
		return "", err
	}
	return b.String(), nil
}

func formObject(b *strings.Builder, d *domPool, o *object, prefix string) error {
	for i := range o.members {
		m := &o.members[i]
		if m.dead {
			continue
		}
		k, err := unquote(o.keyOf(m))
		if err != nil {
			return err
		}
		name := string(k)
		if prefix != "" {
			name = prefix + "[" + name + "]"
		}
		if err := formValue(b, d, d.value(o, m), name); err != nil {
			return err
		}
	}
	return nil
}

func formValue(b *strings.Builder, d *domPool, v []byte, name string) error {
	switch v[0] {
	case '{':
		return formObject(b, d, d.parseObject(v), name)
	case '[':
		a := d.parseArray(v)
		// Scalars go as name[]; an array holding an object or an array
		// numbers all its elements, so that they parse back in order.
		indexed := false
		for i := range a.elems {
			if c := a.elems[i].val[0]; c == '{' || c == '[' {
				indexed = true
			}
		}
		for i := range a.elems {
			n := name + "[]"
			if indexed {
				n = name + "[" + strconv.Itoa(i) + "]"
			}
			if err := formValue(b, d, a.elems[i].val, n); err != nil {
				return err
			}
		}
		return nil
	}
	var s string
	switch {
	case v[0] == '"':
		u, err := unquote(v)
		if err != nil {
			return err
		}
		s = string(u)
	case string(v) == "null":
	default:
		s = string(v)
	}
	if b.Len() > 0 {
		b.WriteByte('&')
	}
	b.WriteString(formEscape(name))
	b.WriteByte('=')
	b.WriteString(url.QueryEscape(s))
	return nil
}

// formEscape escapes a parameter name but keeps its brackets readable.
func formEscape(name string) string {
	e := url.QueryEscape(name)
	return strings.NewReplacer("%5B", "[", "%5D", "]").Replace(e)
}

// appendQuoted appends s as a JSON string, escaping only what JSON
// requires; invalid UTF-8 becomes U+FFFD.
func appendQuoted(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		switch {
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r == '\n':
			b = append(b, '\\', 'n')
		case r == '\r':
			b = append(b, '\\', 'r')
		case r == '\t':
			b = append(b, '\\', 't')
		case r < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[r>>4], hex[r&0xf])
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return append(b, '"')
}
