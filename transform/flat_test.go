package transform

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"testing"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/versions"
)

// flatKeys are the fields the generated timelines' ops name: members of
// the object, and of objects in it.
var flatKeys = []string{"a", "b", "c", "amount", "n", "status", "x.a", "x.b", "x.y.k", "x.y.j", "x.amount", "y.a"}

// flatOpOf returns a random op of the kinds flat programs take, and
// sometimes one they do not.
func flatOpOf(r *rand.Rand) gates.Op {
	k := flatKeys[r.Intn(len(flatKeys))]
	switch r.Intn(12) {
	case 10:
		op := gates.RemovedResolved(k, "things")
		if r.Intn(2) == 0 {
			op = op.WithDefault([]any{nil, 0, "s"}[r.Intn(3)])
		}
		return op
	case 0:
		return gates.Rename(k, flatKeys[r.Intn(len(flatKeys))])
	case 1:
		i := strings.LastIndexByte(k, '.')
		return gates.Rename(k, k[:i+1]+fmt.Sprint("r", r.Intn(3)))
	case 2:
		return gates.Added(k)
	case 3:
		return gates.RemovedDefault(k, []any{nil, 0, "s", map[string]any{"q": 1}, false}[r.Intn(5)])
	case 4:
		if r.Intn(2) == 0 {
			op := gates.RemovedDefault(k, []any{nil, 7, "s"}[r.Intn(3)])
			op.From = []string{"a", "b", "n", "x", "zz"}[r.Intn(5)]
			return op
		}
		return gates.RemovedFrom(k, []string{"a", "b", "n", "x", "x.a", "zz"}[r.Intn(6)])
	case 5:
		return gates.Retype(k, gates.Integer, gates.String)
	case 6:
		return gates.Retype(k, gates.String, gates.Integer)
	case 7:
		return gates.Retype(k, gates.Number, gates.String)
	case 8:
		return gates.Collapse(k, "id")
	case 9:
		return gates.Nest(k, "c")
	default:
		return gates.Enum(k, map[string]string{"open": "todo", "done": "closed"})
	}
}

// flatTimeline returns a random valid timeline of changes to type thing.
func flatTimeline(r *rand.Rand) *gates.Timeline {
	for {
		var vs []gates.Version
		nv := 2 + r.Intn(4)
		id := 0
		for i := 0; i < nv; i++ {
			v := gates.Version{ID: versions.MustParse(fmt.Sprintf("20%02d-01-01", 30-i))}
			for c := 0; i < nv-1 && c < 1+r.Intn(3); c++ {
				var ops []gates.Op
				for o := 0; o < 1+r.Intn(2); o++ {
					ops = append(ops, flatOpOf(r))
				}
				id++
				v.Changes = append(v.Changes, gates.Change{ID: fmt.Sprint("c", id), Description: "d.", Resources: []string{"thing"}, Ops: ops})
			}
			vs = append(vs, v)
		}
		if tl, err := gates.NewTimeline(gates.Spec{Versions: vs}, &gates.Options{Funcs: flatFuncs}); err == nil {
			return tl
		}
	}
}

// flatFuncs holds the resolver of the generated timelines' resolve ops,
// things: for an id, nothing (the default) when it ends in 0, else a
// thing that may need resolving in turn, or an error for the id "fail".
var flatFuncs = func() *gates.Registry {
	reg := gates.NewRegistry()
	err := reg.RegisterResolver("things", func(_ context.Context, refs []gates.Ref) ([]json.RawMessage, error) {
		out := make([]json.RawMessage, len(refs))
		for i, ref := range refs {
			switch {
			case ref.ID == "fail":
				return nil, errors.New("no things today")
			case strings.HasSuffix(ref.ID, "0"):
			default:
				out[i] = json.RawMessage(fmt.Sprintf(`{"object":"thing","id":"%s0","a":"%d","status":"open","x":{"a":1}}`, ref.ID, len(ref.ID)))
			}
		}
		return out, nil
	})
	if err != nil {
		panic(err)
	}
	return reg
}()

func flatValueOf(r *rand.Rand, depth int, sp string) string {
	switch r.Intn(10) {
	case 0:
		return "null"
	case 1:
		return fmt.Sprint(r.Intn(2000) - 100)
	case 2:
		return fmt.Sprintf(`"%d"`, r.Intn(100))
	case 3:
		return []string{`"open"`, `"done"`, `"x"`, `"1.50"`, `"0012"`, `1.25`, `"a\u0062"`, `"fail"`, `"i\"d"`}[r.Intn(9)]
	case 4:
		return "true"
	case 5, 6:
		if depth < 3 {
			return flatObjectOf(r, depth+1, sp, r.Intn(8) == 0)
		}
		return "{}"
	case 7:
		return `[1,{"a":2}]`
	default:
		return `"str\"ing"`
	}
}

// flatObjectOf returns a random object, with white space of one of the
// usual kinds, sometimes a key twice; typed, its type is thing.
func flatObjectOf(r *rand.Rand, depth int, sp string, typed bool) string {
	names := []string{"a", "b", "c", "amount", "n", "status", "x", "y", "k", "j", "r0", "r1", "zz", "q", "id"}
	var ms []string
	if typed {
		ms = append(ms, `"object":"thing"`)
	}
	for i := 0; i < r.Intn(8); i++ {
		ms = append(ms, fmt.Sprintf(`"%s":%s%s`, names[r.Intn(len(names))], sp, flatValueOf(r, depth, sp)))
	}
	if r.Intn(30) == 0 && len(ms) > 0 {
		ms = append(ms, ms[r.Intn(len(ms))])
	}
	r.Shuffle(len(ms), func(i, j int) { ms[i], ms[j] = ms[j], ms[i] })
	if len(ms) == 0 {
		return []string{"{}", "{ }", "{\n}"}[r.Intn(3)]
	}
	ind, sep, end := "", ",", ""
	switch r.Intn(3) {
	case 1:
		ind = "\n" + strings.Repeat("  ", depth+1)
		sep, end = ","+ind, "\n"+strings.Repeat("  ", depth)
	case 2:
		sep = ", "
	}
	return "{" + ind + strings.Join(ms, sep) + end + "}"
}

// domOnly returns a copy of e whose plans have no flat programs, so that
// they rewrite every object with the DOM.
func domOnly(tl *gates.Timeline) *Engine {
	e := New(tl, nil)
	e.noFlat = true
	return e
}

// checkFlat walks body with plans of e and of the same timeline with no
// flat programs, and fails when the results differ, in bytes, error or
// changes fired.
func checkFlat(t *testing.T, tl *gates.Timeline, e, dom *Engine, body []byte) {
	t.Helper()
	vs := tl.Versions().List()
	for _, v := range vs {
		for _, pair := range [][2]versions.Version{{tl.Newest(), v}, {v, tl.Newest()}} {
			p, err := e.Plan(pair[0], pair[1])
			if err != nil {
				t.Fatal(err)
			}
			q, err := dom.Plan(pair[0], pair[1])
			if err != nil {
				t.Fatal(err)
			}
			var f1, f2, g1, g2 gates.Fired
			f1.TrackFields(&g1)
			f2.TrackFields(&g2)
			a, err1 := p.ApplyFired(body, &f1)
			b, err2 := q.ApplyFired(body, &f2)
			fired := func(f, g *gates.Fired) string {
				ids := f.IDs(tl)
				slices.Sort(ids)
				return fmt.Sprint(ids, slices.Collect(g.All()))
			}
			if string(a) != string(b) || fmt.Sprint(err1) != fmt.Sprint(err2) || fired(&f1, &g1) != fired(&f2, &g2) {
				var ops []string
				for _, ver := range tl.List() {
					for _, c := range ver.Changes {
						ops = append(ops, fmt.Sprintf("%s %s %+v", ver.ID, c.ID, c.Ops))
					}
				}
				t.Fatalf("%s -> %s\nops:\n%s\ninput: %s\nflat: %s %v %s\nDOM:  %s %v %s", pair[0], pair[1], strings.Join(ops, "\n"), body,
					a, err1, fired(&f1, &g1), b, err2, fired(&f2, &g2))
			}
		}
	}
}

// TestFlatAgreesWithDOM checks that flat programs write what the DOM
// writes, and fire the same changes, on random timelines of the ops they
// take (and some they do not) and random objects: lists of them, keys
// that appear twice, objects in objects, every kind of white space.
func TestFlatAgreesWithDOM(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	n := 300
	if testing.Short() {
		n = 50
	}
	flat := 0
	for range n {
		tl := flatTimeline(r)
		e, dom := New(tl, nil), domOnly(tl)
		if p, _ := e.Plan(tl.Newest(), tl.Versions().Base()); p.types["thing"] != nil && p.types["thing"].flat != nil {
			flat++
		}
		for range 20 {
			sp := []string{"", " "}[r.Intn(2)]
			body := flatObjectOf(r, 0, sp, true)
			if r.Intn(3) == 0 {
				body = `{"object":"list","data":[` + body + "," + flatObjectOf(r, 0, sp, true) + "]}"
			}
			checkFlat(t, tl, e, dom, []byte(body))
		}
	}
	if flat < n/4 {
		t.Fatalf("only %d of %d timelines have a flat program: the test does not test it", flat, n)
	}
}

// FuzzFlat checks flat programs against the DOM on any bytes, with
// timelines made from the fuzzer's seed.
func FuzzFlat(f *testing.F) {
	for _, s := range []string{
		`{"object":"thing","a":1,"b":"open","x":{"a":"2","y":{"k":null}}}`,
		"{\n  \"object\": \"thing\",\n  \"amount\": \"12\",\n  \"status\": \"done\"\n}",
		`{"object":"thing","a":1,"a":2}`, `{"object":"thing"}`, `{"object":"thing","x":[]}`,
	} {
		f.Add([]byte(s), int64(1))
	}
	f.Fuzz(func(t *testing.T, body []byte, seed int64) {
		tl := flatTimeline(rand.New(rand.NewSource(seed)))
		checkFlat(t, tl, New(tl, nil), domOnly(tl), body)
	})
}
