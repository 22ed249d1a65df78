package transform_test

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"testing"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/transform"
	"github.com/verso-api/verso/versions"
)

// chargeOps are ten field operations on charge, one per version, newest
// first: renames (top-level and nested), removals and an added field.
var chargeOps = []gates.Op{
	gates.Added("latest_refund_reason"),
	gates.Rename("risk_insights", "risk"),
	gates.RemovedDefault("refunds", map[string]any{"object": "list", "data": []any{}, "has_more": false}),
	gates.Enum("status", map[string]string{"succeeded": "paid"}),
	gates.Rename("outcome.risk_score", "outcome.score"),
	gates.RemovedFrom("card", "source"),
	gates.Rename("payment_method_details.card.brand", "payment_method_details.card.card_brand"),
	gates.RemovedDefault("dispute", nil),
	gates.Rename("statement_descriptor_suffix", "descriptor_suffix"),
	gates.Rename("receipt_email", "email_receipt"),
}

var otherTypes = []string{"customer", "invoice", "subscription", "product", "price", "refund", "dispute", "payout"}

// benchTimeline has n+1 versions: the ten charge ops spread over the
// newest ten, and on every version a change to another type.
func benchTimeline(tb testing.TB, n int) *transform.Engine {
	tb.Helper()
	var vs []gates.Version
	day := versions.MustParse("2024-01-01")
	y, m, d := day.Date()
	_ = d
	for i := 0; i < n; i++ {
		v := versions.MustParse(fmt.Sprintf("%04d-%02d-%02d", y-i/12, 12-(i%12), 1+(m-1)))
		changes := []gates.Change{{
			ID: fmt.Sprintf("other_%d", i), Description: "d", Resources: []string{otherTypes[i%len(otherTypes)]},
			Ops: []gates.Op{
				gates.Rename(fmt.Sprintf("f%d", i), fmt.Sprintf("g%d", i)),
				gates.Added(fmt.Sprintf("h%d", i)),
				gates.RemovedDefault(fmt.Sprintf("k%d", i), nil),
			},
		}}
		if i < len(chargeOps) {
			changes = append(changes, gates.Change{ID: fmt.Sprintf("charge_%d", i), Description: "d", Resources: []string{"charge"}, Ops: []gates.Op{chargeOps[i]}})
		}
		vs = append(vs, gates.Version{ID: v, Changes: changes})
	}
	vs = append(vs, gates.Version{ID: versions.MustParse("1990-01-01")})
	tl, err := gates.NewTimeline(gates.Spec{Versions: vs}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return transform.New(tl, nil)
}

func benchBodies(tb testing.TB) (charge, list100 []byte) {
	charge, err := os.ReadFile("testdata/charge.json")
	if err != nil {
		tb.Fatal(err)
	}
	charge = bytes.TrimSpace(charge)
	return charge, listOf(charge, 100)
}

func listOf(item []byte, n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"object":"list","url":"/v1/charges","has_more":true,"data":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(item)
	}
	b.WriteString("]}")
	return b.Bytes()
}

func BenchmarkWalkBack(b *testing.B) {
	e := benchTimeline(b, 10)
	base := e.Timeline().Versions().Base()
	charge, list := benchBodies(b)
	for _, bc := range []struct {
		name string
		body []byte
	}{{"charge", charge}, {"list100", list}} {
		b.Run(bc.name, func(b *testing.B) {
			out, err := e.Back(bc.body, base)
			if err != nil {
				b.Fatal(err)
			}
			if bytes.Equal(out, bc.body) || !gjson.ValidBytes(out) {
				b.Fatal("walk changed nothing or made invalid JSON")
			}
			b.SetBytes(int64(len(bc.body)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := e.Back(bc.body, base); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkValid is the floor: validating the same bytes with gjson.
func BenchmarkValid(b *testing.B) {
	charge, list := benchBodies(b)
	for _, bc := range []struct {
		name string
		body []byte
	}{{"charge", charge}, {"list100", list}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.body)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if !gjson.ValidBytes(bc.body) {
					b.Fatal("invalid")
				}
			}
		})
	}
}

// BenchmarkWalkBackVersions walks one charge back to the base as the
// timeline grows; the versions past the tenth touch only other types.
func BenchmarkWalkBackVersions(b *testing.B) {
	charge, _ := benchBodies(b)
	for _, n := range []int{10, 25, 50, 100} {
		e := benchTimeline(b, n)
		base := e.Timeline().Versions().Base()
		b.Run("versions="+strconv.Itoa(n), func(b *testing.B) {
			b.SetBytes(int64(len(charge)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := e.Back(charge, base); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkWalkBackSize shows the cost is linear in the body size.
func BenchmarkWalkBackSize(b *testing.B) {
	e := benchTimeline(b, 10)
	base := e.Timeline().Versions().Base()
	charge, _ := benchBodies(b)
	for _, n := range []int{1, 10, 100, 1000} {
		body := listOf(charge, n)
		b.Run("items="+strconv.Itoa(n), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := e.Back(body, base); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkNaiveSjson edits a list the naive way, one sjson call per field
// per item, for comparison: each call rescans the document from the start.
func BenchmarkNaiveSjson(b *testing.B) {
	charge, _ := benchBodies(b)
	for _, n := range []int{10, 100} {
		body := listOf(charge, n)
		b.Run("items="+strconv.Itoa(n), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				naive(body, n)
			}
		})
	}
}

func naive(body []byte, n int) []byte {
	out := append([]byte(nil), body...)
	rename := func(p, from, to string) {
		v := gjson.GetBytes(out, p+from)
		if v.Exists() {
			out, _ = sjson.SetRawBytes(out, p+to, []byte(v.Raw))
			out, _ = sjson.DeleteBytes(out, p+from)
		}
	}
	for i := 0; i < n; i++ {
		p := "data." + strconv.Itoa(i) + "."
		out, _ = sjson.DeleteBytes(out, p+"latest_refund_reason")
		rename(p, "risk_insights", "risk")
		out, _ = sjson.SetRawBytes(out, p+"refunds", []byte(`{"object":"list","data":[],"has_more":false}`))
		if gjson.GetBytes(out, p+"status").String() == "succeeded" {
			out, _ = sjson.SetBytes(out, p+"status", "paid")
		}
		rename(p, "outcome.risk_score", "outcome.score")
		out, _ = sjson.SetRawBytes(out, p+"card", []byte(gjson.GetBytes(out, p+"source").Raw))
		rename(p, "payment_method_details.card.brand", "payment_method_details.card.card_brand")
		out, _ = sjson.SetRawBytes(out, p+"dispute", []byte("null"))
		rename(p, "statement_descriptor_suffix", "descriptor_suffix")
		rename(p, "receipt_email", "email_receipt")
	}
	return out
}

// BenchmarkAppendApplyFired compares AppendApply (fired=false) with AppendApplyFired (fired=true)
// reporting the changes that fired into a Fired reused across walks: the
// report costs no allocation and, in time, no more than noise.
func BenchmarkAppendApplyFired(b *testing.B) {
	e := benchTimeline(b, 10)
	p, err := e.Plan(e.Timeline().Newest(), e.Timeline().Versions().Base())
	if err != nil {
		b.Fatal(err)
	}
	charge, list := benchBodies(b)
	var fired gates.Fired
	if _, err := p.AppendApplyFired(nil, charge, &fired); err != nil || fired.Len() < 8 {
		b.Fatalf("%d changes fired (%v): the benchmark would measure little", fired.Len(), err)
	}
	for _, bc := range []struct {
		name string
		body []byte
	}{{"charge", charge}, {"list100", list}} {
		for _, report := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/fired=%t", bc.name, report), func(b *testing.B) {
				dst := make([]byte, 0, 2*len(bc.body))
				b.SetBytes(int64(len(bc.body)))
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					var err error
					if report {
						fired.Reset()
						dst, err = p.AppendApplyFired(dst[:0], bc.body, &fired)
					} else {
						dst, err = p.AppendApply(dst[:0], bc.body)
					}
					if err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkWalkBackDense walks the proxy benchmark's list of small objects
// that every op touches back to the oldest version (walk), next to
// gjson.Valid over the same bytes (valid): the ratio of the two is the
// walk's cost per byte on such bodies.
func BenchmarkWalkBackDense(b *testing.B) {
	tl, err := gates.LoadFile("../proxy/testdata/bench.yaml", nil)
	if err != nil {
		b.Fatal(err)
	}
	e := transform.New(tl, nil)
	p, err := e.Plan(tl.Newest(), versions.MustParse("2022-01-01"))
	if err != nil {
		b.Fatal(err)
	}
	// The answer of the proxy's CPU benchmark: a list of 18 small tasks,
	// 3.1 KB, each of whose 9 members the eight ops touch or look for.
	body, err := os.ReadFile("../proxy/testdata/bench-answer.json")
	if err != nil {
		b.Fatal(err)
	}
	out, err := p.AppendApply(nil, body)
	if err != nil {
		b.Fatal(err)
	}
	if n := bytes.Count(out, []byte(`"archived":false`)); n != 18 || !gjson.ValidBytes(out) {
		b.Fatalf("%d tasks walked back (want 18), or invalid JSON: %s", n, out)
	}
	b.Run("walk", func(b *testing.B) {
		dst := make([]byte, 0, 2*len(body))
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if dst, err = p.AppendApply(dst[:0], body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("valid", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if !gjson.ValidBytes(body) {
				b.Fatal("invalid")
			}
		}
	})
}
