package idempotency

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// maxFormDepth bounds the nesting of a form key such as a[b][c].
const maxFormDepth = 32

// errFormConflict reports a form that gives one parameter two values.
var errFormConflict = errors.New("parameter given twice or as both a value and an object")

// CanonicalParams returns the canonical form of a request body, so that two
// requests meaning the same parameters compare equal whatever their key
// order or encoding. contentType selects the parser: JSON (application/json
// or any +json type) or a form (application/x-www-form-urlencoded); with no
// content type a body starting with '{' or '[' is JSON, anything else a form.
// An empty body is canonically empty. Other types return an error, and so
// does a body that does not parse: the middleware then compares raw bytes.
//
// The canonical form is compact JSON-like text (strings quoted as Go does)
// with sorted object keys, in which:
//   - every array is an object keyed by index ("0", "1", ...), as Stripe's
//     form syntax writes it: JSON {"expand":["a"]} equals the form expand[]=a
//     and expand[0]=a; JSON {"items":[{"price":"p"}]} equals items[0][price]=p;
//   - every scalar is a string, since a form cannot say otherwise: the JSON
//     number 1000, the JSON string "1000" and the form value amount=1000 are
//     one parameter; true equals "true"; null equals "" (a form's way to unset
//     a field). Numbers keep the text they were written with: 1.5 and 1.50,
//     or 1000 and 1e3, differ.
//
// Form keys use Stripe's bracket syntax: metadata[a]=b sets a field of an
// object; expand[]=x appends to an array; items[0][price]=p indexes one. Each
// "[]" appends one element: items[][price]=p&items[][qty]=1 is two elements;
// write indices for arrays of objects. A parameter given twice (a=1&a=2), or
// as both a value and an object (a=1&a[b]=2), is an error.
func CanonicalParams(contentType string, body []byte) ([]byte, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return []byte{}, nil
	}
	kind, err := bodyKind(contentType, trimmed)
	if err != nil {
		return nil, err
	}
	if kind == "json" {
		return canonicalJSON(trimmed)
	}
	tree, err := parseForm(string(body))
	if err != nil {
		return nil, err
	}
	return appendCanonical(nil, tree), nil
}

// bodyKind says how to parse a non-empty body: "json" or "form".
func bodyKind(contentType string, trimmed []byte) (string, error) {
	if contentType == "" {
		if len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') {
			return "json", nil
		}
		return "form", nil
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return "", fmt.Errorf("idempotency: content type: %w", err)
	}
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		return "json", nil
	case mt == "application/x-www-form-urlencoded":
		return "form", nil
	}
	return "", fmt.Errorf("idempotency: cannot canonicalise %s", mt)
}

func canonicalJSON(body []byte) ([]byte, error) {
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, fmt.Errorf("idempotency: json body: %w", err)
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, errors.New("idempotency: json body: data after the value")
	}
	return appendCanonical(nil, v), nil
}

// canonicalValues canonicalises form values already parsed (a request whose
// form an outer middleware read). Keys are taken in sorted order.
func canonicalValues(vs map[string][]string) ([]byte, error) {
	if len(vs) == 0 {
		return []byte{}, nil
	}
	tree := map[string]any{}
	for _, k := range slices.Sorted(maps.Keys(vs)) {
		for _, v := range vs[k] {
			if err := setForm(tree, k, v); err != nil {
				return nil, err
			}
		}
	}
	return appendCanonical(nil, tree), nil
}

// parseForm parses a form body into a tree of map[string]any and strings,
// keeping the order of the pairs.
func parseForm(s string) (map[string]any, error) {
	tree := map[string]any{}
	for s != "" {
		var pair string
		pair, s, _ = strings.Cut(s, "&")
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			return nil, fmt.Errorf("idempotency: form key: %w", err)
		}
		val, err := url.QueryUnescape(v)
		if err != nil {
			return nil, fmt.Errorf("idempotency: form value of %q: %w", key, err)
		}
		if err := setForm(tree, key, val); err != nil {
			return nil, err
		}
	}
	return tree, nil
}

// formPath splits a[b][c] into a, b, c and a[] into a, "". A key that does
// not follow the syntax is one literal name.
func formPath(key string) []string {
	i := strings.IndexByte(key, '[')
	if i <= 0 {
		return []string{key}
	}
	path := []string{key[:i]}
	rest := key[i:]
	for rest != "" {
		if rest[0] != '[' {
			return []string{key}
		}
		j := strings.IndexByte(rest, ']')
		if j < 0 {
			return []string{key}
		}
		seg := rest[1:j]
		if strings.IndexByte(seg, '[') >= 0 {
			return []string{key}
		}
		path = append(path, seg)
		rest = rest[j+1:]
	}
	return path
}

func setForm(tree map[string]any, key, val string) error {
	path := formPath(key)
	if len(path) > maxFormDepth {
		return fmt.Errorf("idempotency: form key %q nests deeper than %d", key, maxFormDepth)
	}
	node := tree
	for i, seg := range path {
		if seg == "" && i > 0 {
			seg = strconv.Itoa(len(node))
		}
		if i == len(path)-1 {
			if _, ok := node[seg]; ok {
				return fmt.Errorf("idempotency: form key %q: %w", key, errFormConflict)
			}
			node[seg] = val
			return nil
		}
		switch child := node[seg].(type) {
		case nil:
			m := map[string]any{}
			node[seg] = m
			node = m
		case map[string]any:
			node = child
		default:
			return fmt.Errorf("idempotency: form key %q: %w", key, errFormConflict)
		}
	}
	return nil
}

// appendCanonical writes v (decoded JSON or a form tree) in canonical form.
func appendCanonical(b []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(b, `""`...)
	case string:
		return appendString(b, v)
	case json.Number:
		return appendString(b, string(v))
	case bool:
		return appendString(b, strconv.FormatBool(v))
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':')
			b = appendCanonical(b, v[k])
		}
		return append(b, '}')
	case []any:
		keys := make([]string, len(v))
		for i := range v {
			keys[i] = strconv.Itoa(i)
		}
		slices.Sort(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':')
			n, _ := strconv.Atoi(k)
			b = appendCanonical(b, v[n])
		}
		return append(b, '}')
	}
	// Unreachable for decoded JSON and form trees; keep the output defined.
	return appendString(b, fmt.Sprint(v))
}

func appendString(b []byte, s string) []byte {
	return strconv.AppendQuote(b, s)
}
