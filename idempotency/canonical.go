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

	"github.com/verso-api/verso/transform"
)

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
// Form keys use Stripe's bracket syntax, parsed by transform.FormToJSON as
// the versioning middleware parses them for the handler: metadata[a]=b sets
// a field of an object; expand[]=x appends to an array; items[0][price]=p
// indexes one. Each "[]" appends one element: items[][price]=p&items[][qty]=1
// is two elements; write indices for arrays of objects. A parameter given
// twice (a=1&a=2), or as both a value and an object (a=1&a[b]=2), is an
// error.
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
	return canonicalForm(string(body))
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
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(vs)) {
		for _, v := range vs[k] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(url.QueryEscape(k))
			b.WriteByte('=')
			b.WriteString(url.QueryEscape(v))
		}
	}
	return canonicalForm(b.String())
}

// canonicalForm canonicalises a form body: transform.FormToJSON parses
// Stripe's bracket syntax, as the versioning middleware does for the
// handler, and the JSON it makes is canonicalised like any JSON body.
func canonicalForm(form string) ([]byte, error) {
	js, err := transform.FormToJSON(form)
	if err != nil {
		return nil, fmt.Errorf("idempotency: %w", err)
	}
	return canonicalJSON(js)
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
