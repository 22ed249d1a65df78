package shadow_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/verso-api/verso/shadow"
)

func TestDiff(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b string
		want string // one "kind path old new" per line
	}{
		{name: "equal", a: `{"a":1,"b":[1,2]}`, b: `{ "a" : 1 , "b" : [ 1, 2 ] }`, want: ""},
		{name: "changed leaf", a: `{"amount":1099}`, b: `{"amount":"1099"}`, want: `changed amount 1099 "1099"`},
		{name: "number literal", a: `{"x":1}`, b: `{"x":1.0}`, want: `changed x 1 1.0`},
		{name: "big numbers exact", a: `{"x":12345678901234567890123}`, b: `{"x":12345678901234567890124}`, want: `changed x 12345678901234567890123 12345678901234567890124`},
		{name: "string escapes", a: `{"s":"\u00e9"}`, b: `{"s":"é"}`, want: ""},
		{name: "added and removed", a: `{"a":1,"b":2}`, b: `{"b":2,"c":{"d": 3}}`, want: "removed a 1 -\nadded c - {\"d\":3}"},
		{name: "nested", a: `{"data":[{"amount":1},{"amount":2}]}`, b: `{"data":[{"amount":1},{"amount":3}]}`, want: "changed data[1].amount 2 3"},
		{name: "array lengths", a: `[1,2,3]`, b: `[1]`, want: "removed [1] 2 -\nremoved [2] 3 -"},
		{name: "array grows", a: `{"x":[]}`, b: `{"x":[true]}`, want: "added x[0] - true"},
		{name: "object to array", a: `{"x":{}}`, b: `{"x":[]}`, want: "changed x {} []"},
		{name: "quoted keys", a: `{"a.b":1,"":2,"0x":3}`, b: `{"a.b":2,"":3,"0x":4}`, want: "changed [\"a.b\"] 1 2\nchanged [\"\"] 2 3\nchanged [\"0x\"] 3 4"},
		{name: "duplicate keys: first counts", a: `{"a":1,"a":2}`, b: `{"a":1}`, want: ""},
		{name: "root scalar", a: `1`, b: `2`, want: "changed  1 2"},
		{name: "null vs missing", a: `{"x":null}`, b: `{}`, want: "removed x null -"},
		{name: "invalid JSON as text", a: `{"a":`, b: `{"a":1}`, want: "changed  \"{\\\"a\\\":\" \"{\\\"a\\\":1}\""},
		{name: "invalid JSON equal", a: `{"a":`, b: `{"a":`, want: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, d := range shadow.Diff([]byte(tc.a), []byte(tc.b)) {
				old, nw := string(d.Old), string(d.New)
				if old == "" {
					old = "-"
				}
				if nw == "" {
					nw = "-"
				}
				got = append(got, fmt.Sprintf("%s %s %s %s", d.Kind, d.Path, old, nw))
			}
			if g := strings.Join(got, "\n"); g != tc.want {
				t.Errorf("Diff:\n%s\nwant:\n%s", g, tc.want)
			}
		})
	}
}

func TestDiffOrderIsDeterministic(t *testing.T) {
	a := []byte(`{"z":1,"y":2,"x":{"c":1,"b":2,"a":3},"w":[1,2]}`)
	b := []byte(`{"w":[2,1],"x":{"a":4,"b":5,"c":6},"v":0,"y":3,"z":4}`)
	first := shadow.Diff(a, b)
	var paths []string
	for _, d := range first {
		paths = append(paths, d.Path)
	}
	if got := strings.Join(paths, " "); got != "z y x.c x.b x.a w[0] w[1] v" {
		t.Errorf("order = %q", got)
	}
	for range 20 {
		again := shadow.Diff(a, b)
		ja, _ := json.Marshal(first)
		jb, _ := json.Marshal(again)
		if !bytes.Equal(ja, jb) {
			t.Fatalf("Diff is not deterministic:\n%s\n%s", ja, jb)
		}
	}
}

func TestWriteText(t *testing.T) {
	var buf bytes.Buffer
	long := `"` + strings.Repeat("x", 300) + `"`
	diffs := shadow.Diff([]byte(`{"a":1,"b":2,"s":"short"}`), []byte(`{"a":"1","c":true,"s":`+long+`}`))
	if err := shadow.WriteText(&buf, diffs); err != nil {
		t.Fatal(err)
	}
	want := "~ a: 1 -> \"1\"\n- b: 2\n~ s: \"short\" -> \"" + strings.Repeat("x", 199) + "...\n+ c: true\n"
	if buf.String() != want {
		t.Errorf("WriteText:\n%s\nwant:\n%s", buf.String(), want)
	}
	buf.Reset()
	if err := shadow.WriteText(&buf, nil); err != nil || buf.String() != "no differences\n" {
		t.Errorf("WriteText(nil) = %q, %v", buf.String(), err)
	}
	buf.Reset()
	if err := shadow.WriteJSON(&buf, nil); err != nil || buf.String() != "[]\n" {
		t.Errorf("WriteJSON(nil) = %q, %v", buf.String(), err)
	}
}

func FuzzDiff(f *testing.F) {
	charge, err := os.ReadFile("../changelog/samples/charge.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(charge, []byte(`{"object":"charge","amount":1099}`))
	f.Add([]byte(`[1,{"a":[2]}]`), []byte(`[1,{"a":[3,4]}]`))
	f.Add([]byte(`{"a":`), []byte(`null`))
	f.Add([]byte(`{"a.b":{"":1}}`), []byte(`{"a.b":{"":"1"}}`))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		if d := shadow.Diff(a, a); len(d) != 0 {
			t.Fatalf("Diff(x, x) = %+v", d)
		}
		diffs := shadow.Diff(a, b)
		out, err := json.Marshal(diffs)
		if err != nil {
			t.Fatalf("differences do not marshal: %v", err)
		}
		if !json.Valid(out) {
			t.Fatalf("invalid JSON: %s", out)
		}
		if bytes.Equal(a, b) && len(diffs) != 0 {
			t.Fatalf("equal inputs differ: %+v", diffs)
		}
	})
}

func BenchmarkDiff(b *testing.B) {
	charge, err := os.ReadFile("../changelog/samples/charge.json")
	if err != nil {
		b.Fatal(err)
	}
	other := bytes.Replace(charge, []byte(`"amount": "1099"`), []byte(`"amount": 1099`), 1)
	var list, list2 bytes.Buffer
	list.WriteString(`{"object":"list","data":[`)
	list2.WriteString(`{"object":"list","data":[`)
	for i := range 100 {
		if i > 0 {
			list.WriteByte(',')
			list2.WriteByte(',')
		}
		list.Write(charge)
		list2.Write(other)
	}
	list.WriteString(`]}`)
	list2.WriteString(`]}`)
	for _, bc := range []struct {
		name string
		a, b []byte
	}{{"charge", charge, other}, {"list100", list.Bytes(), list2.Bytes()}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.a) + len(bc.b)))
			for b.Loop() {
				shadow.Diff(bc.a, bc.b)
			}
		})
	}
}
