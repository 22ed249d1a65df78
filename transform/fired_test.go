package transform_test

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/tools/txtar"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/transform"
	"github.com/verso-api/verso/versions"
)

// firedFuncs are the custom functions the fired golden files name: "tag"
// adds a member, "same" returns the object unchanged.
func firedFuncs(t testing.TB) *gates.Registry {
	reg := gates.NewRegistry()
	require.NoError(t, reg.Register("tag", func(b []byte) ([]byte, error) {
		return append([]byte(`{"tagged":true,`), b[1:]...), nil
	}, nil))
	require.NoError(t, reg.Register("same", func(b []byte) ([]byte, error) { return b, nil }, nil))
	return reg
}

// TestGoldenFired checks, per kind of change, which changes a walk reports
// as fired. Each ../testdata/golden/fired/*.txtar holds a timeline
// (timeline.yaml), an input and, per version older than the newest, the
// walk's result (VERSION.txt): the changes that fired, then what the walk
// made. The comment's first line says what is walked:
//
//	response METHOD PATH STATUS   input.json is the newest-schema response; it is
//	                              routed (RouteFired: absent, moved, status and
//	                              the headers of headers.txt) and walked back
//	request METHOD PATH           input.json (or input.txt, a form) is an old
//	                              client's request, routed and walked forward
//	event                         input.json is an event rendered (RenderFired)
//
// Run with -update to rewrite them.
func TestGoldenFired(t *testing.T) {
	files, err := filepath.Glob("../testdata/golden/fired/*.txtar")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(file)
			require.NoError(t, err)
			sections := map[string][]byte{}
			for _, f := range ar.Files {
				sections[f.Name] = f.Data
			}
			tl, err := gates.Load("timeline.yaml", sections["timeline.yaml"], &gates.Options{Funcs: firedFuncs(t)})
			require.NoError(t, err)
			e := transform.New(tl, nil)
			first, _, _ := strings.Cut(string(ar.Comment), "\n")
			how := strings.Fields(first)
			require.NotEmpty(t, how, "the comment's first line says what is walked")
			out := &txtar.Archive{Comment: ar.Comment}
			for _, f := range ar.Files {
				if f.Name == "timeline.yaml" || strings.HasPrefix(f.Name, "input") || f.Name == "headers.txt" {
					out.Files = append(out.Files, f)
				}
			}
			newest := tl.Newest()
			for _, v := range tl.Versions().List()[1:] {
				var fired gates.Fired
				var b strings.Builder
				switch how[0] {
				case "response":
					require.Len(t, how, 4, "response METHOD PATH STATUS")
					status, err := strconv.Atoi(how[3])
					require.NoError(t, err)
					d := tl.RouteFired(v, how[1], how[2], &fired)
					if d.Absent {
						b.WriteString("absent\n")
						break
					}
					if d.Moved {
						fmt.Fprintf(&b, "served at %s %s\n", d.Method, d.Path)
					}
					if s := d.Status(status); s != status {
						fmt.Fprintf(&b, "status %d\n", s)
					}
					h := http.Header{}
					for _, line := range strings.Split(strings.TrimSpace(string(sections["headers.txt"])), "\n") {
						if k, val, ok := strings.Cut(line, ": "); ok {
							h.Add(k, val)
						}
					}
					d.Header(h)
					keys := slices.Sorted(func(yield func(string) bool) {
						for k := range h {
							if !yield(k) {
								return
							}
						}
					})
					for _, k := range keys {
						fmt.Fprintf(&b, "%s: %s\n", k, h.Get(k))
					}
					p, err := e.ResponsePlan(newest, v, d.Method, d.Path)
					require.NoError(t, err)
					body := sections["input.json"]
					if sp := p.ForStatus(status); sp != nil {
						body, err = sp.AppendApplyFired(nil, body, &fired)
						require.NoError(t, err)
					}
					b.Write(body)
				case "request":
					require.Len(t, how, 3, "request METHOD PATH")
					d := tl.RouteFired(v, how[1], how[2], &fired)
					if d.Absent {
						b.WriteString("absent\n")
						break
					}
					if d.Moved {
						fmt.Fprintf(&b, "served at %s %s\n", d.Method, d.Path)
					}
					if form, ok := sections["input.txt"]; ok {
						got, err := e.UpgradeFormFired(strings.TrimSpace(string(form)), v, d.Method, d.Path, &fired)
						require.NoError(t, err)
						b.WriteString(got + "\n")
					} else {
						got, err := e.UpgradeFired(sections["input.json"], v, d.Method, d.Path, &fired)
						require.NoError(t, err)
						b.Write(got)
					}
				case "event":
					got, err := e.RenderFired(sections["input.json"], newest, v, &fired)
					require.NoError(t, err)
					b.Write(got)
				default:
					t.Fatalf("unknown walk %q", how[0])
				}
				ids := fired.IDs(tl)
				require.Equal(t, len(ids), fired.Len())
				text := "fired: " + strings.Join(ids, ", ") + "\n" + b.String()
				if !strings.HasSuffix(text, "\n") {
					text += "\n"
				}
				name := v.String() + ".txt"
				out.Files = append(out.Files, txtar.File{Name: name, Data: []byte(text)})
				if !*update {
					require.Contains(t, sections, name, "missing section; run go test ./transform -update")
					assert.Equal(t, string(sections[name]), text, "%s at %s", file, v)
				}
			}
			if *update {
				require.NoError(t, os.WriteFile(file, txtar.Format(out), 0o644))
			}
		})
	}
}

// TestFiredNilIsPlain checks that the Fired forms with a nil set walk as
// the plain ones do.
func TestFiredNilIsPlain(t *testing.T) {
	e := stripeEngine(t)
	v := versions.MustParse("2014-12-22")
	in := []byte(`{"object":"customer","balance":1,"sources":{"object":"list","data":[]}}`)
	want, err := e.Back(in, v)
	require.NoError(t, err)
	got, err := e.RenderFired(in, e.Timeline().Newest(), v, nil)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got))
	var f gates.Fired
	got, err = e.RenderFired(in, e.Timeline().Newest(), v, &f)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got))
	assert.Equal(t, []string{"customer_lists_not_expanded", "customer_balance", "customer_tax_info_removed", "customer_sources"}, f.IDs(e.Timeline()))
	assert.False(t, bytes.Equal(in, got))
}

// TestFiredFields checks that a walk tracking fields reports the field
// slot of each op that fired, on the resource it fired on: a change on
// charges and payment intents that fired on a charge names the charge's
// field only, and a request names its fields with no resource.
func TestFiredFields(t *testing.T) {
	tl, err := gates.Load("t.yaml", []byte(`versions:
  - version: 2024-03-01
    changes:
      - id: invoice_removed
        description: d
        resources: [charge, payment_intent]
        ops:
          - removed: {field: invoice, default: null}
          - removed: {field: receipt, default: null}
  - version: 2024-02-01
    changes:
      - id: customer_balance
        description: d
        resources: [customer]
        endpoints: ["POST /v1/customers"]
        ops:
          - rename: {field: balance, was: account_balance}
          - rename: {field: phone, was: telephone}
  - version: 2024-01-01
`), nil)
	require.NoError(t, err)
	e := transform.New(tl, nil)
	v := versions.MustParse("2024-01-01")
	names := func(f *gates.Fired) []string {
		out := []string{}
		for i := range f.All() {
			s, ok := tl.FieldSlotAt(i)
			require.True(t, ok)
			out = append(out, tl.ChangeAt(s.Change).ID+":"+s.Name())
		}
		return out
	}
	var fired, fields gates.Fired
	fired.TrackFields(&fields)
	_, err = e.RenderFired([]byte(`{"object":"list","data":[{"object":"charge","receipt":"r"},{"object":"customer","balance":1}]}`), tl.Newest(), v, &fired)
	require.NoError(t, err)
	assert.Equal(t, []string{"invoice_removed", "customer_balance"}, fired.IDs(tl))
	assert.Equal(t, []string{"invoice_removed:charge.invoice", "customer_balance:customer.balance"}, names(&fields),
		"the charge's invoice put back (its receipt was there), the customer's balance renamed (it has no phone); never the payment intent's")

	fired.Reset()
	fields.Reset()
	_, err = e.UpgradeFired([]byte(`{"telephone":"1"}`), v, "POST", "/v1/customers", &fired)
	require.NoError(t, err)
	assert.Equal(t, []string{"customer_balance:phone"}, names(&fields), "a request's fields have no resource")

	assert.Equal(t, -1, tl.FieldSlotIndex(0, 9, "charge"))
	_, ok := tl.FieldSlotAt(tl.NumFieldSlots())
	assert.False(t, ok)

	// Tracking fields allocates nothing.
	p, err := e.Plan(tl.Newest(), v)
	require.NoError(t, err)
	body := []byte(`{"object":"charge","receipt":"r"}`)
	dst := make([]byte, 0, 256)
	n := testing.AllocsPerRun(100, func() {
		fired.Reset()
		fields.Reset()
		dst, _ = p.AppendApplyFired(dst[:0], body, &fired)
	})
	if !raceEnabled {
		assert.Zero(t, n)
	}
}
