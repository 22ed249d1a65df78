package idempotency

import (
	"bytes"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const (
	ctJSON = "application/json"
	ctForm = "application/x-www-form-urlencoded"
)

func TestCanonicalParams(t *testing.T) {
	tests := []struct {
		name   string
		ct     string
		body   string
		want   string
		errSay string
	}{
		{"empty", ctJSON, "", ``, ""},
		{"blank form", ctForm, "  \n", ``, ""},
		{"json object", ctJSON, `{"b":1,"a":{"d":true,"c":null}}`, `{"a":{"c":"","d":"true"},"b":"1"}`, ""},
		{"json array becomes indexed object", ctJSON, `{"expand":["x","y"]}`, `{"expand":{"0":"x","1":"y"}}`, ""},
		{"json array of 11 sorts indices as text", ctJSON, `[0,1,2,3,4,5,6,7,8,9,10]`,
			`{"0":"0","1":"1","10":"10","2":"2","3":"3","4":"4","5":"5","6":"6","7":"7","8":"8","9":"9"}`, ""},
		{"json with charset", "application/json; charset=utf-8", `{"a":"1"}`, `{"a":"1"}`, ""},
		{"vendor json", "application/vnd.verso+json", `{"a":1}`, `{"a":"1"}`, ""},
		{"numbers keep their text", ctJSON, `{"a":1.50,"b":1e3}`, `{"a":"1.50","b":"1e3"}`, ""},
		{"form", ctForm, `b=1&a=x+y%21`, `{"a":"x y!","b":"1"}`, ""},
		{"form brackets", ctForm, `metadata[a]=b&expand[]=x&expand[]=y&items[0][price]=p&items[1][qty]=2`,
			`{"expand":{"0":"x","1":"y"},"items":{"0":{"price":"p"},"1":{"qty":"2"}},"metadata":{"a":"b"}}`, ""},
		{"form escaped brackets", ctForm, `metadata%5Ba%5D=b`, `{"metadata":{"a":"b"}}`, ""},
		{"form key closing a bracket it did not open", ctForm, `d]=3`, `{"d]":"3"}`, ""},
		{"form key with an unclosed bracket", ctForm, `a[b=1`, "", "unclosed"},
		{"form key with no name", ctForm, `[c]=2`, "", "no name"},
		{"form key with text after a bracket", ctForm, `e[f]g=4`, "", "want '['"},
		{"form empty value and bare key", ctForm, `a=&b&&c=1`, `{"a":"","b":"","c":"1"}`, ""},
		{"sniffed json", "", ` {"a":1}`, `{"a":"1"}`, ""},
		{"sniffed form", "", `a=1`, `{"a":"1"}`, ""},
		{"quotes in keys", ctJSON, `{"a\"b":"\u0000"}`, `{"a\"b":"\x00"}`, ""},
		{"form repeated key", ctForm, `a=1&a=2`, "", "conflicts"},
		{"form value and object", ctForm, `a=1&a[b]=2`, "", "conflicts"},
		{"form object and value", ctForm, `a[b]=2&a=1`, "", "conflicts"},
		{"form bad escape", ctForm, `a=%zz`, "", "value of"},
		{"form too deep", ctForm, "a" + strings.Repeat("[b]", 40) + "=1", "", "too deep"},
		{"form sparse indexes are compacted, as the handler sees them", ctForm, `a[3]=x&a[7]=y`, `{"a":{"0":"x","1":"y"}}`, ""},
		{"bad json", ctJSON, `{"a":`, "", "json body"},
		{"json trailing data", ctJSON, `{"a":1} {}`, "", "data after"},
		{"multipart", "multipart/form-data; boundary=x", `--x`, "", "cannot canonicalise multipart/form-data"},
		{"bad content type", "a/b; =", `x`, "", "content type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CanonicalParams(tt.ct, []byte(tt.body))
			if tt.errSay != "" {
				require.ErrorContains(t, err, tt.errSay)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, string(got))
		})
	}
}

func TestCanonicalParamsEqual(t *testing.T) {
	tests := []struct {
		name         string
		ct1, body1   string
		ct2, body2   string
		wantSameness bool
	}{
		{"key order", ctJSON, `{"a":1,"b":{"x":1,"y":2}}`, ctJSON, `{"b":{"y":2,"x":1},"a":1}`, true},
		{"form order", ctForm, `a=1&b=2`, ctForm, `b=2&a=1`, true},
		{"json and form", ctJSON, `{"amount":1000,"currency":"usd"}`, ctForm, `currency=usd&amount=1000`, true},
		{"nested json and form", ctJSON, `{"metadata":{"k":"v"},"expand":["c"],"items":[{"price":"p","qty":2}]}`,
			ctForm, `items[0][qty]=2&expand[]=c&metadata[k]=v&items[0][price]=p`, true},
		{"indexed and appended arrays", ctForm, `expand[]=a&expand[]=b`, ctForm, `expand[0]=a&expand[1]=b`, true},
		{"number and numeric string", ctJSON, `{"a":1000}`, ctJSON, `{"a":"1000"}`, true},
		{"bool and string", ctJSON, `{"a":true}`, ctForm, `a=true`, true},
		{"null and empty", ctJSON, `{"a":null}`, ctForm, `a=`, true},
		{"array order", ctJSON, `{"a":[1,2]}`, ctJSON, `{"a":[2,1]}`, false},
		{"appended order", ctForm, `e[]=1&e[]=2`, ctForm, `e[]=2&e[]=1`, false},
		{"different amount", ctJSON, `{"amount":1000}`, ctForm, `amount=2000`, false},
		{"extra field", ctJSON, `{"a":1}`, ctJSON, `{"a":1,"b":2}`, false},
		{"number text", ctJSON, `{"a":1.5}`, ctJSON, `{"a":1.50}`, false},
		{"object and string", ctJSON, `{"a":{}}`, ctJSON, `{"a":""}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c1, err := CanonicalParams(tt.ct1, []byte(tt.body1))
			require.NoError(t, err)
			c2, err := CanonicalParams(tt.ct2, []byte(tt.body2))
			require.NoError(t, err)
			require.Equal(t, tt.wantSameness, bytes.Equal(c1, c2), "%s\n%s", c1, c2)
		})
	}
}

func TestCanonicalValues(t *testing.T) {
	vs, err := url.ParseQuery(`items[1][p]=b&items[0][p]=a&expand[]=x&expand[]=y`)
	require.NoError(t, err)
	got, err := canonicalValues(vs)
	require.NoError(t, err)
	want, err := CanonicalParams(ctJSON, []byte(`{"items":[{"p":"a"},{"p":"b"}],"expand":["x","y"]}`))
	require.NoError(t, err)
	require.Equal(t, string(want), string(got))
	_, err = canonicalValues(url.Values{"a": {"1", "2"}})
	require.Error(t, err)
}

// FuzzCanonicalParams checks that canonicalising never panics, that a JSON
// body canonicalises the same with its keys in another order and written as
// a Stripe-style form, and that a form canonicalises the same with its
// parameters in another order.
func FuzzCanonicalParams(f *testing.F) {
	for _, s := range []struct{ ct, body string }{
		{ctJSON, `{"amount":1000,"currency":"usd","metadata":{"a":"b"},"expand":["x","y"]}`},
		{ctJSON, `{"items":[{"price":"p","quantity":2},{"price":"q"}],"capture":false,"d":null}`},
		{ctJSON, `[1,"2",[3],{"4":5}]`},
		{ctForm, `amount=1000&metadata[a]=b&expand[]=x&items[0][price]=p`},
		{ctForm, `a[b][c][]=1&a[b][d]=%20&x=y+z`},
		{"", `a=1&a=2`},
		{"", `{"a":`},
	} {
		f.Add(s.ct, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		canon, err := CanonicalParams(ct, body)
		if err != nil {
			return
		}
		if looksJSON(ct, body) {
			d := json.NewDecoder(bytes.NewReader(body))
			d.UseNumber()
			var v any
			if d.Decode(&v) != nil {
				t.Fatalf("canonicalised %q but it does not decode", body)
			}
			reordered, err := CanonicalParams(ctJSON, marshalReversed(nil, v))
			if err != nil || !bytes.Equal(canon, reordered) {
				t.Fatalf("reordered JSON differs: %v\n%s\n%s", err, canon, reordered)
			}
			if form, ok := toForm(v); ok {
				fc, err := CanonicalParams(ctForm, []byte(form))
				if err != nil || !bytes.Equal(canon, fc) {
					t.Fatalf("form %q of %s differs: %v\n%s\n%s", form, body, err, canon, fc)
				}
			}
			return
		}
		if isForm(ct, body) {
			pairs := strings.Split(string(body), "&")
			// Reorder whole parameters, keeping the order of the pairs of one
			// top-level name (it orders appended array elements).
			slices.SortStableFunc(pairs, func(a, b string) int { return -strings.Compare(topName(a), topName(b)) })
			reordered, err := CanonicalParams(ctForm, []byte(strings.Join(pairs, "&")))
			if err != nil || !bytes.Equal(canon, reordered) {
				t.Fatalf("reordered form differs: %v\n%s\n%s", err, canon, reordered)
			}
		}
	})
}

func looksJSON(ct string, body []byte) bool {
	b := bytes.TrimSpace(body)
	kind, err := bodyKind(ct, b)
	return len(b) > 0 && err == nil && kind == "json"
}

func isForm(ct string, body []byte) bool {
	b := bytes.TrimSpace(body)
	kind, err := bodyKind(ct, b)
	return len(b) > 0 && err == nil && kind == "form"
}

// topName is the unescaped top-level name of a form pair.
func topName(pair string) string {
	k, _, _ := strings.Cut(pair, "=")
	k, err := url.QueryUnescape(k)
	if err != nil {
		return ""
	}
	name, _, _ := strings.Cut(k, "[")
	return name
}

// maxFormDepth bounds the nesting toForm writes, below transform's limit.
const maxFormDepth = 30

// isDigits reports whether k is all digits: below the top level of a form,
// transform.FormToJSON reads such a key as an array index, so a form cannot
// say an object keyed by it.
func isDigits(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < '0' || k[i] > '9' {
			return false
		}
	}
	return true
}

// marshalReversed writes v as JSON with object keys in reverse order.
func marshalReversed(b []byte, v any) []byte {
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		slices.Reverse(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			kb, _ := json.Marshal(k)
			b = append(b, kb...)
			b = append(b, ':')
			b = marshalReversed(b, v[k])
		}
		return append(b, '}')
	case []any:
		b = append(b, '[')
		for i, e := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = marshalReversed(b, e)
		}
		return append(b, ']')
	}
	vb, _ := json.Marshal(v)
	return append(b, vb...)
}

// toForm writes v in Stripe's form syntax, keys in reverse order, or
// reports that a form cannot say it (a scalar at the top, an empty object or
// array, a key that is empty or holds brackets, a nested key of digits, too
// deep a nesting).
func toForm(v any) (string, bool) {
	var pairs []string
	var walk func(prefix string, depth int, v any) bool
	name := func(prefix, k string) string {
		if prefix == "" {
			return k
		}
		return prefix + "[" + k + "]"
	}
	walk = func(prefix string, depth int, v any) bool {
		if depth > maxFormDepth {
			return false
		}
		switch v := v.(type) {
		case map[string]any:
			if len(v) == 0 {
				return false
			}
			keys := make([]string, 0, len(v))
			for k := range v {
				if k == "" || strings.ContainsAny(k, "[]") || (prefix != "" && isDigits(k)) {
					return false
				}
				keys = append(keys, k)
			}
			slices.Sort(keys)
			slices.Reverse(keys)
			for _, k := range keys {
				if !walk(name(prefix, k), depth+1, v[k]) {
					return false
				}
			}
			return true
		case []any:
			if len(v) == 0 {
				return false
			}
			for i, e := range v {
				if !walk(name(prefix, strconv.Itoa(i)), depth+1, e) {
					return false
				}
			}
			return true
		}
		if prefix == "" {
			return false
		}
		var s string
		switch v := v.(type) {
		case string:
			s = v
		case json.Number:
			s = string(v)
		case bool:
			s = strconv.FormatBool(v)
		}
		pairs = append(pairs, url.QueryEscape(prefix)+"="+url.QueryEscape(s))
		return true
	}
	if !walk("", 0, v) {
		return "", false
	}
	return strings.Join(pairs, "&"), true
}
