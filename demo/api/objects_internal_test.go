package api

import (
	"testing"

	"github.com/tidwall/gjson"
)

// TestIDOf checks that idOf reads an object's id from its body, by its
// prefix when the body starts with it and by parsing it otherwise.
func TestIDOf(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{`{"id":"ch_1","object":"charge"}`, "ch_1"},
		{`{"id":"","object":"charge"}`, ""},
		{`{"object":"charge","id":"ch_2"}`, "ch_2"},
		{`{ "id": "ch_3" }`, "ch_3"},
		{`{"id":"ch_\u0034"}`, "ch_4"},
		{`{"id":"a\"b"}`, `a"b`},
		{`{"id":7}`, "7"},
		{`{"object":"charge"}`, ""},
		{`{"data":{"id":"x"}}`, ""},
		{`[]`, ""},
		{``, ""},
	} {
		if got := idOf(tc.body); got != tc.want {
			t.Errorf("idOf(%s) = %q, want %q", tc.body, got, tc.want)
		}
	}
}

// FuzzIDOf checks that idOf agrees with parsing the body, on any valid
// JSON.
func FuzzIDOf(f *testing.F) {
	for _, s := range []string{`{"id":"ch_1","object":"charge"}`, `{"object":"x","id":"y"}`, `{"id":"a\"b"}`, `{"id":"a","id":"b"}`, `{"id":"é"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		if !gjson.Valid(body) {
			return
		}
		if got, want := idOf(body), gjson.Get(body, "id").String(); got != want {
			t.Fatalf("idOf(%s) = %q, parsed %q", body, got, want)
		}
	})
}
