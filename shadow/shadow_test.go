package shadow_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
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
func basilSamples(t *testing.T) []changelog.Sample {
	var out []changelog.Sample
	for _, s := range changelog.DefaultSamples() {
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
		samples  func(*testing.T) []changelog.Sample
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
			samples := changelog.DefaultSamples()
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
			if tc.removed != "" && !strings.Contains(strings.Join(r.Warnings, "\n"), "version "+tc.removed+" is in the old timeline but not in the new one") {
				t.Errorf("no warning about the removed version: %q", r.Warnings)
			}
			if r.Samples != len(samples) {
				t.Errorf("samples = %d", r.Samples)
			}
		})
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
	r, err := shadow.Compare(load(t, "../../testdata/stripe.yaml"), load(t, "broken_rename.yaml"), changelog.DefaultSamples(), nil)
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
	_, err := shadow.Compare(tl, tl, changelog.DefaultSamples(), &shadow.Options{
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
	bad := changelog.Sample{Name: "bad.json", Type: "refund", Body: []byte(`{"object":"refund","amount":"ten"}`)}
	r, err := shadow.Compare(tl, tl, []changelog.Sample{bad}, nil)
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
	r, err = shadow.Compare(tl, newTL, []changelog.Sample{bad}, nil)
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
	a := gates.MustNewTimeline(gates.Spec{Versions: []gates.Version{{Version: versions.MustParse("2020-01-01")}}}, nil)
	b := gates.MustNewTimeline(gates.Spec{Versions: []gates.Version{{Version: versions.MustParse("2021-01-01")}}}, nil)
	if _, err := shadow.Compare(a, b, nil, nil); err != shadow.ErrNoSharedVersion {
		t.Errorf("err = %v", err)
	}
}

func TestReportGolden(t *testing.T) {
	r, err := shadow.Compare(load(t, "../../testdata/stripe.yaml"), load(t, "broken_moved.yaml"), changelog.DefaultSamples(), nil)
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
	samples := changelog.DefaultSamples()
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
