package jsonstr_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/verso-api/verso/internal/jsonstr"
)

// unquote is encoding/json's answer, which Unquote must give.
func unquote(raw []byte) (string, bool) {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

func TestUnquote(t *testing.T) {
	for _, raw := range []string{
		`""`, `"plain"`, `"a\"b\\c\/d"`, `"\b\f\n\r\t"`, `"\u00e9\u4e2d"`, `"é中"`,
		`"\ud83d\ude00"`, `"\ud83d"`, `"\ud83dx"`, `"\ud83d\u0041"`, `"\ude00"`, "\"a\xffb\"",
		`"`, `x`, `"a`, `"\"`, `"\x"`, `"\u12"`, `"\u12g4"`, "\"a\nb\"", `"a"b"`, `'a'`, `"\u0000"`,
	} {
		got, ok := jsonstr.Unquote([]byte(raw))
		want, wok := unquote([]byte(raw))
		if ok != wok || ok && string(got) != want {
			t.Errorf("Unquote(%q) = %q %v, want %q %v", raw, got, ok, want, wok)
		}
	}
}

func FuzzUnquote(f *testing.F) {
	for _, s := range []string{`"a"`, `"\ud83d\ude00"`, `"\u00e9"`, "\"\xff\"", `"\"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if len(bytes.TrimSpace(raw)) != len(raw) {
			return // encoding/json takes space around a value; a token has none
		}
		got, ok := jsonstr.Unquote(raw)
		want, wok := unquote(raw)
		if ok != wok || ok && string(got) != want {
			t.Fatalf("Unquote(%q) = %q %v, want %q %v", raw, got, ok, want, wok)
		}
	})
}
