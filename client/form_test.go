package client_test

import (
	"encoding/json"
	"math"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/client"
)

func TestEncodeForm(t *testing.T) {
	type address struct {
		City string `json:"city"`
		Line string `json:"line1,omitempty"`
	}
	type params struct {
		Amount   int               `json:"amount"`
		Metadata map[string]string `json:"metadata,omitempty"`
		Address  *address          `json:"address,omitempty"`
		skipped  int
	}
	cyclic := map[string]any{}
	cyclic["self"] = cyclic
	tests := []struct {
		name    string
		params  any
		want    url.Values
		wantErr bool
	}{
		{"nil", nil, url.Values{}, false},
		{"url.Values", url.Values{"a": {"1", "2"}}, url.Values{"a": {"1", "2"}}, false},
		{"flat strings", map[string]string{"email": "a@b.c", "name": "Ada"}, url.Values{"email": {"a@b.c"}, "name": {"Ada"}}, false},
		{"metadata", map[string]any{"metadata": map[string]any{"order": 6735}}, url.Values{"metadata[order]": {"6735"}}, false},
		{"expand", map[string]any{"expand": []string{"customer", "invoice.subscription"}},
			url.Values{"expand[]": {"customer", "invoice.subscription"}}, false},
		{"items", map[string]any{"items": []any{map[string]any{"price": "x", "quantity": 2}, map[string]any{"price": "y"}}},
			url.Values{"items[0][price]": {"x"}, "items[0][quantity]": {"2"}, "items[1][price]": {"y"}}, false},
		{"list of lists is indexed", map[string]any{"m": [][]int{{1, 2}, {3}}},
			url.Values{"m[0][]": {"1", "2"}, "m[1][]": {"3"}}, false},
		{"scalars", map[string]any{"b": true, "f": 1.5, "f32": float32(0.1), "u": uint8(7), "n": json.Number("12"), "neg": -3, "bytes": []byte("hi")},
			url.Values{"b": {"true"}, "f": {"1.5"}, "f32": {"0.1"}, "u": {"7"}, "n": {"12"}, "neg": {"-3"}, "bytes": {"hi"}}, false},
		{"nil unsets", map[string]any{"description": nil}, url.Values{"description": {""}}, false},
		{"nested three deep", map[string]any{"a": map[string]any{"b": map[string]any{"c": "d"}}}, url.Values{"a[b][c]": {"d"}}, false},
		{"empty map sends nothing", map[string]any{"metadata": map[string]string{}}, url.Values{}, false},
		{"struct through json tags", &params{Amount: 5, Metadata: map[string]string{"k": "v"}, Address: &address{City: "Paris"}, skipped: 7},
			url.Values{"amount": {"5"}, "metadata[k]": {"v"}, "address[city]": {"Paris"}}, false},
		{"struct in a map", map[string]any{"shipping": address{City: "Oslo", Line: "1 Main"}},
			url.Values{"shipping[city]": {"Oslo"}, "shipping[line1]": {"1 Main"}}, false},
		{"time through json", map[string]any{"at": time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
			url.Values{"at": {"2026-01-02T03:04:05Z"}}, false},
		{"typed nil pointer", (*params)(nil), url.Values{}, false},
		{"not a map", []string{"a"}, nil, true},
		{"a string", "amount=1", nil, true},
		{"int keys", map[int]string{1: "a"}, nil, true},
		{"a func", map[string]any{"f": func() {}}, nil, true},
		{"a channel in a list", map[string]any{"l": []any{make(chan int)}}, nil, true},
		{"cyclic", cyclic, nil, true},
		{"NaN in a struct", struct{ F float64 }{math.NaN()}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := client.EncodeForm(tt.params)
			if tt.wantErr {
				assert.ErrorIs(t, err, client.ErrParams)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// FuzzEncodeForm encodes whatever JSON document the fuzzer builds, and flat
// string maps: it never panics, its output always parses back, and a flat
// map comes back exactly.
func FuzzEncodeForm(f *testing.F) {
	f.Add([]byte(`{"amount":2000,"metadata":{"order":"6735"},"expand":["customer"],"items":[{"price":"x"}]}`), "k", "v")
	f.Add([]byte(`{"a":[[1,[2,{"b":null}]],true,1e300]}`), "a[b]", "&=?%")
	f.Add([]byte(`[1,2]`), "", "")
	f.Add([]byte(`{"":{"":[{"":""}]}}`), "x\x00", "\xff")
	f.Fuzz(func(t *testing.T, doc []byte, key, value string) {
		var v any
		if json.Unmarshal(doc, &v) == nil {
			vals, err := client.EncodeForm(v)
			if err == nil {
				back, perr := url.ParseQuery(vals.Encode())
				if perr != nil {
					t.Fatalf("%s: output %q does not parse: %v", doc, vals.Encode(), perr)
				}
				if len(back) != len(vals) {
					t.Fatalf("%s: %d keys encoded, %d parsed back", doc, len(vals), len(back))
				}
			}
		}
		flat := map[string]any{key: value}
		vals, err := client.EncodeForm(flat)
		if err != nil {
			t.Fatalf("flat map %q: %v", flat, err)
		}
		back, err := url.ParseQuery(vals.Encode())
		if err != nil || len(back) != 1 || back.Get(key) != value {
			t.Fatalf("flat map %q came back as %q (%v)", flat, back, err)
		}
	})
}

func BenchmarkEncodeForm(b *testing.B) {
	params := map[string]any{
		"amount":   2000,
		"currency": "usd",
		"metadata": map[string]string{"order": "6735", "customer_ref": "ada"},
		"expand":   []string{"customer", "latest_charge"},
		"items":    []map[string]any{{"price": "price_1", "quantity": 2}, {"price": "price_2", "quantity": 1}},
	}
	b.ReportAllocs()
	for b.Loop() {
		vals, err := client.EncodeForm(params)
		if err != nil {
			b.Fatal(err)
		}
		_ = vals.Encode()
	}
}
