package shadow_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	goldenfile "github.com/verso-api/verso/internal/golden"

	"github.com/verso-api/verso/changelog"
	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/shadow"
	"github.com/verso-api/verso/transform"
	"github.com/verso-api/verso/versions"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func load(t testing.TB, name string) *gates.Timeline {
	t.Helper()
	tl, err := gates.LoadFile(filepath.Join("testdata", name), nil)
	if err != nil {
		t.Fatal(err)
	}
	return tl
}

func golden(t *testing.T, name string, got []byte) { goldenfile.Check(t, *update, "shadow", name, got) }

// basilSamples are the default samples in the newest schema of
// additive.yaml: refund.reason is reason_code there, and charges have an
// outcome.
// defaultSamples are changelog's samples, converted.
func defaultSamples() []shadow.Sample {
	var out []shadow.Sample
	for _, s := range changelog.DefaultSamples() {
		out = append(out, shadow.Sample(s))
	}
	return out
}

func basilSamples(t *testing.T) []shadow.Sample {
	var out []shadow.Sample
	for _, s := range defaultSamples() {
		var m map[string]any
		if err := json.Unmarshal(s.Body, &m); err != nil {
			t.Fatal(err)
		}
		switch s.Type {
		case "refund":
			m["reason_code"] = m["reason"]
			delete(m, "reason")
		case "charge":
			m["outcome"] = map[string]any{"type": "authorized", "risk_level": "normal"}
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		s.Body = b
		out = append(out, s)
	}
	return out
}

func TestCompare(t *testing.T) {
	old := load(t, "../../testdata/stripe.yaml")
	for _, tc := range []struct {
		name     string
		newTL    string
		samples  func(*testing.T) []shadow.Sample
		failed   bool
		versions string // versions with findings
		paths    string // distinct "sample path" of the findings
		removed  string
		added    string
	}{
		{name: "unchanged", newTL: "../../testdata/stripe.yaml"},
		{
			name: "rename was changed", newTL: "broken_rename.yaml", failed: true,
			versions: "2017-01-27 2016-07-06 2015-02-18 2014-12-22",
			paths:    "customer.json account_balance|customer.json acct_balance",
		},
		{
			name: "change moved to another version", newTL: "broken_moved.yaml", failed: true,
			versions: "2017-01-27",
			paths:    "charge.json disputed|charge.json dispute",
		},
		{name: "new version on top", newTL: "additive.yaml", samples: basilSamples, added: "2025-03-31.basil"},
		{
			name: "version removed", newTL: "removed_version.yaml", failed: true,
			versions: "2015-02-18 2014-12-22", paths: "charge.json status", removed: "2016-07-06",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			samples := defaultSamples()
			if tc.samples != nil {
				samples = tc.samples(t)
			}
			r, err := shadow.Compare(old, load(t, tc.newTL), samples, nil)
			if err != nil {
				t.Fatal(err)
			}
			var vs, paths []string
			seen := map[string]bool{}
			for _, f := range r.Findings {
				if !seen[f.Version.String()] {
					seen[f.Version.String()] = true
					vs = append(vs, f.Version.String())
				}
				p := f.Sample + " " + f.Path
				if !seen[p] {
					seen[p] = true
					paths = append(paths, p)
				}
			}
			if r.Failed() != tc.failed {
				t.Errorf("Failed = %v, want %v", r.Failed(), tc.failed)
			}
			if got := strings.Join(vs, " "); got != tc.versions {
				t.Errorf("versions with findings = %q, want %q", got, tc.versions)
			}
			if got := strings.Join(paths, "|"); got != tc.paths {
				t.Errorf("paths = %q, want %q", got, tc.paths)
			}
			if got := joinV(r.Removed); got != tc.removed {
				t.Errorf("removed = %q, want %q", got, tc.removed)
			}
			if got := joinV(r.Added); got != tc.added {
				t.Errorf("added = %q, want %q", got, tc.added)
			}
			if tc.removed != "" {
				var txt bytes.Buffer
				if err := r.Text(&txt); err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(txt.String(), "FAIL: removed version "+tc.removed+": clients pinned to it would be refused (--allow-removed to accept)") {
					t.Errorf("the report does not name the removed version:\n%s", txt.String())
				}
			}
			if r.Samples != len(samples) {
				t.Errorf("samples = %d", r.Samples)
			}
		})
	}
}

// edited returns the engine test timeline with old replaced by new.
func edited(t *testing.T, old, new string) *gates.Timeline {
	t.Helper()
	y := mustRead(t, "../testdata/stripe.yaml")
	if !strings.Contains(y, old) {
		t.Fatalf("stripe.yaml lacks %q", old)
	}
	tl, err := gates.Load("edited.yaml", []byte(strings.Replace(y, old, new, 1)), nil)
	if err != nil {
		t.Fatal(err)
	}
	return tl
}

func TestCompareNeverPassesSilently(t *testing.T) {
	old := load(t, "../../testdata/stripe.yaml")
	// An edit to a field no sample holds renders the samples alike: that
	// proves nothing, and must not pass as if it did.
	uncovered := edited(t, "          - added: {field: disputed}\n", "          - added: {field: disputed}\n          - added: {field: level3}\n")
	renamed := edited(t, "- rename: {field: default_source, was: default_card}", "- rename: {field: default_source, was: default_card}\n          - rename: {field: shipping.name, was: shipping.recipient}")
	removed := load(t, "removed_version.yaml")
	for _, tc := range []struct {
		name      string
		newTL     *gates.Timeline
		opts      shadow.Options
		failed    bool
		uncovered string // "change (resource) field at version", one a line
		text      string // in the text report
	}{
		{name: "uncovered added field", newTL: uncovered, failed: true,
			uncovered: "charge_disputed (charge) level3 at 2017-01-27",
			text:      "FAIL: not covered: no sample holds these fields where the edit matters"},
		{name: "uncovered allowed", newTL: uncovered, opts: shadow.Options{AllowUncovered: true},
			uncovered: "charge_disputed (charge) level3 at 2017-01-27",
			text:      "allowed: not covered"},
		// The customer sample has no shipping: neither name is covered.
		{name: "rename of a field no sample has", newTL: renamed, failed: true,
			uncovered: "customer_sources (customer) shipping.name at 2015-02-18\ncustomer_sources (customer) shipping.recipient at 2014-12-22",
			text:      "  customer_sources (changed at 2015-02-18, edited.yaml:105:9): (customer) shipping.recipient at 2014-12-22"},
		{name: "removed version allowed", newTL: removed, opts: shadow.Options{AllowRemoved: true}, failed: true,
			text: "allowed: removed version 2016-07-06"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := shadow.Compare(old, tc.newTL, defaultSamples(), &tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if r.Failed() != tc.failed {
				t.Errorf("Failed = %v, want %v", r.Failed(), tc.failed)
			}
			var got []string
			for _, u := range r.Uncovered {
				got = append(got, u.Change+" ("+u.Resource+") "+u.Field+" at "+u.Version.String())
			}
			if strings.Join(got, "\n") != tc.uncovered {
				t.Errorf("uncovered:\n%s\nwant\n%s", strings.Join(got, "\n"), tc.uncovered)
			}
			var txt bytes.Buffer
			if err := r.Text(&txt); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(txt.String(), tc.text) {
				t.Errorf("report lacks %q:\n%s", tc.text, txt.String())
			}
		})
	}
	// The removed version allowed, its findings still fail; with the
	// removed version's change the only thing gone, they are blamed on it.
	r, err := shadow.Compare(old, removed, defaultSamples(), &shadow.Options{AllowRemoved: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range r.Findings {
		if strings.Join(f.Changes, ",") != "charge_status_succeeded" {
			t.Errorf("finding %s %s %s blamed on %v, want charge_status_succeeded", f.Version, f.Sample, f.Path, f.Changes)
		}
	}
}

func TestCompareGroupsByChange(t *testing.T) {
	r, err := shadow.Compare(load(t, "../../testdata/stripe.yaml"), load(t, "broken_rename.yaml"), defaultSamples(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, g := range r.Groups {
		got = append(got, fmt.Sprintf("%s (%s) %s %s: %d in %d versions", strings.Join(g.Changes, ","), g.Object, g.Field, g.Kind, g.Count, len(g.Versions)))
	}
	want := []string{
		"customer_balance (customer) account_balance removed: 4 in 4 versions",
		"customer_balance (customer) acct_balance added: 4 in 4 versions",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("groups:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestCompareWorkers checks that rendering on many cores gives the report
// one core gives.
func TestCompareWorkers(t *testing.T) {
	old, broken := load(t, "../../testdata/stripe.yaml"), load(t, "broken_rename.yaml")
	var samples []shadow.Sample
	for i := range 40 {
		for _, s := range defaultSamples() {
			s.Name = fmt.Sprintf("%d-%s", i, s.Name)
			samples = append(samples, s)
		}
	}
	var reports []string
	for _, w := range []int{1, 4, 16} {
		r, err := shadow.Compare(old, broken, samples, &shadow.Options{Workers: w})
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := r.JSON(&buf); err != nil {
			t.Fatal(err)
		}
		reports = append(reports, buf.String())
	}
	if reports[0] != reports[1] || reports[0] != reports[2] {
		t.Error("reports differ with the number of workers")
	}
}

func joinV(vs []versions.Version) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = v.String()
	}
	return strings.Join(s, " ")
}

func TestCompareFindingFields(t *testing.T) {
	r, err := shadow.Compare(load(t, "../../testdata/stripe.yaml"), load(t, "broken_rename.yaml"), defaultSamples(), nil)
	if err != nil {
		t.Fatal(err)
	}
	f := r.Findings[0]
	if f.Version.String() != "2017-01-27" || f.Sample != "customer.json" || f.Object != "customer" ||
		f.Path != "account_balance" || f.Kind != shadow.Removed || string(f.Old) != "-500" || f.New != nil {
		t.Errorf("first finding = %+v", f)
	}
}

func TestCompareProgress(t *testing.T) {
	tl := load(t, "../../testdata/stripe.yaml")
	var calls [][2]int
	_, err := shadow.Compare(tl, tl, defaultSamples(), &shadow.Options{
		Progress: func(done, total int) { calls = append(calls, [2]int{done, total}) },
	})
	if err != nil {
		t.Fatal(err)
	}
	want := [][2]int{{10, 50}, {20, 50}, {30, 50}, {40, 50}, {50, 50}}
	if len(calls) != len(want) {
		t.Fatalf("progress calls = %v, want %v", calls, want)
	}
	for i := range want {
		if calls[i] != want[i] {
			t.Errorf("progress calls = %v, want %v", calls, want)
		}
	}
}

func TestCompareRenderErrors(t *testing.T) {
	tl := load(t, "../../testdata/stripe.yaml")
	// An amount that is not a number cannot be walked back to an integer:
	// both timelines refuse it alike, which is a warning, not a finding.
	bad := shadow.Sample{Name: "bad.json", Type: "refund", Body: []byte(`{"object":"refund","amount":"ten"}`)}
	r, err := shadow.Compare(tl, tl, []shadow.Sample{bad}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Failed() || len(r.Warnings) == 0 || !strings.Contains(r.Warnings[0], "sample bad.json at 2024-04-10: both timelines refuse it") {
		t.Errorf("failed %v, warnings %q", r.Failed(), r.Warnings)
	}
	// The new timeline drops the retype: it renders what the old refuses.
	noRetype := strings.Replace(mustRead(t, "../testdata/stripe.yaml"),
		"          - retype: {field: amount, was: integer, now: string}",
		"          - behavior: {}", 1)
	newTL, err := gates.Load("no_retype.yaml", []byte(noRetype), nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err = shadow.Compare(tl, newTL, []shadow.Sample{bad}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Failed() || !strings.Contains(string(r.Findings[0].Old), "error: ") || string(r.Findings[0].New) != `"(rendered)"` {
		t.Errorf("findings = %+v", r.Findings)
	}
}

func mustRead(t *testing.T, p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCompareNoSharedVersion(t *testing.T) {
	a := gates.MustNewTimeline(gates.Spec{Versions: []gates.Version{{ID: versions.MustParse("2020-01-01")}}}, nil)
	b := gates.MustNewTimeline(gates.Spec{Versions: []gates.Version{{ID: versions.MustParse("2021-01-01")}}}, nil)
	if _, err := shadow.Compare(a, b, nil, nil); err != shadow.ErrNoSharedVersion {
		t.Errorf("err = %v", err)
	}
}

func TestReportGolden(t *testing.T) {
	r, err := shadow.Compare(load(t, "../../testdata/stripe.yaml"), load(t, "broken_moved.yaml"), defaultSamples(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var txt, js bytes.Buffer
	if err := r.Text(&txt); err != nil {
		t.Fatal(err)
	}
	if err := r.JSON(&js); err != nil {
		t.Fatal(err)
	}
	golden(t, "report-broken_moved.txt", txt.Bytes())
	golden(t, "report-broken_moved.json", js.Bytes())
}

func TestDiffVersionsGolden(t *testing.T) {
	tl := load(t, "../../testdata/stripe.yaml")
	e := transform.New(tl, nil)
	body, err := os.ReadFile("../changelog/samples/customer.json")
	if err != nil {
		t.Fatal(err)
	}
	diffs, err := shadow.DiffVersions(e, body, versions.MustParse("2014-12-22"), tl.Newest())
	if err != nil {
		t.Fatal(err)
	}
	var txt, js bytes.Buffer
	if err := shadow.WriteText(&txt, diffs); err != nil {
		t.Fatal(err)
	}
	if err := shadow.WriteJSON(&js, diffs); err != nil {
		t.Fatal(err)
	}
	golden(t, "diff-customer.txt", txt.Bytes())
	golden(t, "diff-customer.json", js.Bytes())

	if _, err := shadow.DiffVersions(e, []byte(`{"object":`), tl.Newest(), tl.Newest()); err == nil {
		t.Error("DiffVersions accepted malformed JSON")
	}
	if _, err := shadow.DiffVersions(e, body, versions.MustParse("2018-01-01"), tl.Newest()); err == nil {
		t.Error("DiffVersions accepted an unknown version")
	}
}

func BenchmarkCompare(b *testing.B) {
	old, broken := load(b, "../../testdata/stripe.yaml"), load(b, "broken_moved.yaml")
	samples := defaultSamples()
	n := 0
	for _, s := range samples {
		n += len(s.Body)
	}
	b.ReportAllocs()
	b.SetBytes(int64(n))
	for b.Loop() {
		if _, err := shadow.Compare(old, broken, samples, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func TestProgressWriter(t *testing.T) {
	var buf bytes.Buffer
	p := shadow.ProgressWriter(&buf)
	for _, d := range []int{1, 2, 200, 201, 400} {
		p(d, 400)
	}
	want := "\rshadow: 1/400 renderings (0%)\rshadow: 200/400 renderings (50%)\rshadow: 400/400 renderings (100%)\n"
	if buf.String() != want {
		t.Errorf("got %q, want %q", buf.String(), want)
	}
}

// stripeFixtures returns Stripe's 176 real fixture objects as samples,
// copies times over, or skips when ../shared is not beside the clone.
func stripeFixtures(t testing.TB, copies int) []shadow.Sample {
	t.Helper()
	dir := os.Getenv("VERSO_SHARED_DIR") // default: ../shared beside the clone
	if dir == "" {
		dir = "../../shared"
	}
	b, err := os.ReadFile(dir + "/fixtures/stripe/openapi/fixtures3.json")
	if err != nil {
		t.Skipf("Stripe's fixtures are not here (%v): they live in ../shared beside the clone, or in $VERSO_SHARED_DIR", err)
	}
	var f struct {
		Resources map[string]json.RawMessage `json:"resources"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(f.Resources))
	for n := range f.Resources {
		names = append(names, n)
	}
	slices.Sort(names)
	var out []shadow.Sample
	for i := range copies {
		for _, n := range names {
			out = append(out, shadow.Sample{Name: fmt.Sprintf("%s#%d", n, i), Type: n, Body: f.Resources[n]})
		}
	}
	return out
}

// TestCompareStripeFixtures runs a broken edit over Stripe's real objects:
// hundreds of differences, a handful of report lines, each naming the
// change behind it.
func TestCompareStripeFixtures(t *testing.T) {
	samples := stripeFixtures(t, 4)
	r, err := shadow.Compare(load(t, "../../testdata/stripe.yaml"), load(t, "broken_rename.yaml"), samples, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Failed() || len(r.Findings) < 8 {
		t.Fatalf("failed %v with %d findings", r.Failed(), len(r.Findings))
	}
	for _, g := range r.Groups {
		if strings.Join(g.Changes, ",") != "customer_balance" {
			t.Errorf("group (%s) %s %s blamed on %v", g.Object, g.Field, g.Kind, g.Changes)
		}
	}
	if len(r.Groups) > 4 {
		t.Errorf("%d findings in %d groups: the report does not group them", len(r.Findings), len(r.Groups))
	}
	t.Logf("%d samples: %d findings in %d groups", len(samples), len(r.Findings), len(r.Groups))
}

func BenchmarkCompareStripeFixtures(b *testing.B) {
	samples := stripeFixtures(b, 10)
	old, broken := load(b, "../../testdata/stripe.yaml"), load(b, "broken_rename.yaml")
	n := 0
	for _, s := range samples {
		n += len(s.Body)
	}
	b.ReportAllocs()
	b.SetBytes(int64(n))
	for b.Loop() {
		if _, err := shadow.Compare(old, broken, samples, nil); err != nil {
			b.Fatal(err)
		}
	}
}
