package transform_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/transform"
	"github.com/verso-api/verso/versions"
)

// scanCases are bodies on the edges of the grammar the walk's scanner
// checks: white space that changes from one member to the next (the
// scanner compares each member's with the first one's), separators with
// and without blanks, escapes, control characters, numbers and literals
// cut short, and bytes past the end of a value.
var scanCases = []string{
	`{}`, `[]`, `""`, `0`, `-0`, `1.5e+3`, `true`, `null`, ` {"a":1} `, "\t[\r\n]\n",
	`{"object":"charge","amount":"12"}`,
	"{\n  \"a\": 1,\n  \"b\": 2\n}",
	"{\n  \"a\": 1,\n   \"b\": 2,\n  \"c\": 3\n}",
	"{\n  \"a\": 1,\n\t \"b\": 2}",
	"{\n  \"a\": 1,\n \x01\"b\": 2}",
	"{\n  \"a\": 1,\n  \x00\"b\": 2}",
	"{\n  \"a\": 1,\n  'b\": 2}",
	"{\n  \"a\": 1,\n  \n  \"b\": 2}",
	"{\n        \"a\": 1,\n        \"b\": 2,\n        \"c\": {\n          \"d\": [1, 2]\n        }\n}",
	"{\"a\" : 1, \"b\" :2, \"c\":  3}",
	`{"a":1,}`, `{"a":1,,"b":2}`, `{,"a":1}`, `{"a" 1}`, `{"a"::1}`, `{"a":}`, `{"a"}`, `{a:1}`,
	`{"a":1 "b":2}`, `{"a":1}}`, `{"a":1`, `{"a":`, `{"a"`, `{"`, `{`, `[1,]`, `[,1]`, `[1 2]`, `[`, `]`,
	`"\u00e9\n\"\\\/\b\f\r\t"`, `"\u00g0"`, `"\u00"`, `"\x"`, `"\'"`, "\"\x1f\"", "\"\x7f\"", `"\`, `"abc`,
	"\"caf\xc3\xa9\"", "\"\xff\"", `"\ud800"`,
	`01`, `-`, `-a`, `1.`, `.5`, `1e`, `1e+`, `+1`, `0x10`, `1E5`, `-0.0e-0`, `Infinity`, `NaN`,
	`tru`, `truex`, `nul`, `nulll`, `fals`, `false0`, `[true,false,null]`, `[truefalse]`,
	`{"a":1}x`, `{"a":1} {"b":2}`, "\v{}", "\f{}", "{}\x00", ``, ` `,
	`{"a":"b","a":"c"}`, `{"":1}`, `{"object":{"object":"charge"}}`,
	`{"data":[{"object":"charge","amount":"1"},{"object":"charge","amount":"2"}],"object":"list"}`,
	strings.Repeat("[", 40) + strings.Repeat("]", 40),
	strings.Repeat(`{"a":`, 40) + "1" + strings.Repeat("}", 40),
}

// scanEngines are the three ways a body is scanned: validated alone, walked
// with a plan for a type it does not hold (members recorded, nothing
// rewritten), and walked with plans that rewrite its charges.
func scanPlans(tb testing.TB) (*transform.Engine, []*transform.Plan) {
	tb.Helper()
	change := func(id, resource string, ops ...gates.Op) []gates.Change {
		return []gates.Change{{ID: id, Description: id + ".", Resources: []string{resource}, Ops: ops}}
	}
	v := versions.MustParse
	tl, err := gates.NewTimeline(gates.Spec{Versions: []gates.Version{
		{ID: v("2025-03-01"), Changes: change("zip", "charge", gates.Rename("address.zip", "address.postal_code"), gates.Added("b"))},
		{ID: v("2025-02-01"), Changes: change("amount", "charge", gates.Retype("amount", gates.Integer, gates.String))},
		{ID: v("2025-01-01"), Changes: change("other", "customer", gates.Added("zz"))},
		{ID: v("2024-12-01")},
	}}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	e := transform.New(tl, nil)
	var plans []*transform.Plan
	for _, pair := range [][2]string{{"2025-01-01", "2024-12-01"}, {"2025-03-01", "2025-02-01"}, {"2025-03-01", "2024-12-01"}} {
		p, err := e.Plan(v(pair[0]), v(pair[1]))
		if err != nil {
			tb.Fatal(err)
		}
		plans = append(plans, p)
	}
	return e, plans
}

// checkScan checks that body is refused exactly when encoding/json refuses
// it, by Engine.Valid (as ErrSyntax) and by every plan (which may find a
// value it cannot convert first, or refuse valid JSON for that), and that
// a plan that accepts it returns valid JSON. A body nested past MaxDepth
// is refused as too deep, which encoding/json does not do.
func checkScan(t *testing.T, e *transform.Engine, plans []*transform.Plan, body []byte) {
	t.Helper()
	want := json.Valid(body)
	err := e.Valid(body)
	if errors.Is(err, transform.ErrTooDeep) {
		return
	}
	if (err == nil) != want {
		t.Fatalf("Valid(%q) = %v; encoding/json says valid=%v", body, err, want)
	}
	if err != nil && !errors.Is(err, transform.ErrSyntax) {
		t.Fatalf("Valid(%q) = %v, not ErrSyntax", body, err)
	}
	for k, p := range plans {
		out, err := p.Apply(body)
		var te *transform.Error
		switch {
		case err == nil && !want:
			t.Fatalf("plan %d accepted malformed %q, returning %q", k, body, out)
		case err == nil && !json.Valid(out):
			t.Fatalf("plan %d turned %q into malformed %q", k, body, out)
		case err != nil && want && !errors.As(err, &te):
			t.Fatalf("plan %d refused valid %q: %v", k, body, err)
		}
	}
}

// TestScanAgreesWithJSON checks the scanner against encoding/json on the
// edge cases of scanCases.
func TestScanAgreesWithJSON(t *testing.T) {
	e, plans := scanPlans(t)
	for _, c := range scanCases {
		checkScan(t, e, plans, []byte(c))
	}
}

// FuzzScan checks on any bytes that the walk refuses exactly what
// encoding/json.Valid refuses, validated alone or walked with plans, so a
// malformed body never reaches a client.
func FuzzScan(f *testing.F) {
	for _, c := range scanCases {
		f.Add([]byte(c))
	}
	e, plans := scanPlans(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		checkScan(t, e, plans, body)
	})
}
