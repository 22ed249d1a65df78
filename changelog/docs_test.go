package changelog_test

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	goldenfile "github.com/verso-api/verso/internal/golden"

	"github.com/verso-api/verso/changelog"
	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/versions"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func stripe(t testing.TB) *gates.Timeline {
	t.Helper()
	tl, err := gates.LoadFile("../testdata/stripe.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	return tl
}

func golden(t *testing.T, name string, got []byte) { goldenfile.Check(t, *update, "docs", name, got) }

func TestGolden(t *testing.T) {
	tl := stripe(t)
	log, err := changelog.NewLog(tl, changelog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	guide, err := changelog.UpgradeGuide(tl, nil, versions.MustParse("2019-10-17"), tl.Newest(), changelog.DefaultSamples())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		doc    changelog.Document
		format string
	}{
		{"changelog.md", log, "md"},
		{"changelog.json", log, "json"},
		{"changelog.html", log, "html"},
		{"guide-2019-10-17.md", guide, "md"},
		{"guide-2019-10-17.json", guide, "json"},
		{"guide-2019-10-17.html", guide, "html"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := changelog.Write(&buf, tc.doc, tc.format); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name, buf.Bytes())
		})
	}
}

func versionsOf(l *changelog.Log) string {
	var s []string
	for _, v := range l.Versions {
		s = append(s, v.Version.String())
	}
	return strings.Join(s, " ")
}

func TestChangelogRange(t *testing.T) {
	tl := stripe(t)
	v := versions.MustParse
	for _, tc := range []struct {
		name     string
		from, to string
		want     string
		err      error
	}{
		{name: "all", want: "2024-09-30.acacia 2024-04-10 2023-08-16 2022-11-15 2020-08-27 2019-10-17 2017-01-27 2016-07-06 2015-02-18 2014-12-22"},
		{name: "from", from: "2020-08-27", want: "2024-09-30.acacia 2024-04-10 2023-08-16 2022-11-15"},
		{name: "to", to: "2016-07-06", want: "2016-07-06 2015-02-18 2014-12-22"},
		{name: "both", from: "2016-07-06", to: "2020-08-27", want: "2020-08-27 2019-10-17 2017-01-27"},
		{name: "same", from: "2019-10-17", to: "2019-10-17", want: ""},
		{name: "from newer than to", from: "2020-08-27", to: "2016-07-06", err: changelog.ErrRange},
		{name: "unknown from", from: "2018-01-01", err: versions.ErrUnknownVersion},
		{name: "unknown to", to: "2030-01-01", err: versions.ErrUnknownVersion},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var opts changelog.Options
			if tc.from != "" {
				opts.From = v(tc.from)
			}
			if tc.to != "" {
				opts.To = v(tc.to)
			}
			l, err := changelog.NewLog(tl, opts)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := versionsOf(l); got != tc.want {
				t.Errorf("versions = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestChangelogEntries(t *testing.T) {
	l, err := changelog.NewLog(stripe(t), changelog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]changelog.ChangeEntry{}
	for _, v := range l.Versions {
		for _, c := range v.Changes {
			byID[c.ID] = c
		}
	}
	for _, tc := range []struct {
		id                 string
		breaking, behavior bool
		texts              []string
	}{
		{"customer_balance", true, false, []string{"`customer.account_balance` is now `customer.balance`."}},
		{"payment_intent_automatic_payment_methods", true, true, []string{"Behaviour change; no change to request or response bodies."}},
		{"amount_as_string", true, false, []string{
			"`charge.amount` is now a string (was an integer).",
			"`refund.amount` is now a string (was an integer).",
			"`payment_intent.amount` is now a string (was an integer).",
		}},
		{"charge_status_succeeded", true, false, []string{"Values of `charge.status` renamed: `paid` is now `succeeded`."}},
	} {
		t.Run(tc.id, func(t *testing.T) {
			c, ok := byID[tc.id]
			if !ok {
				t.Fatalf("no change %s", tc.id)
			}
			if c.Breaking != tc.breaking || c.Behavior != tc.behavior {
				t.Errorf("breaking, behavior = %v, %v; want %v, %v", c.Breaking, c.Behavior, tc.breaking, tc.behavior)
			}
			var texts []string
			for _, op := range c.Ops {
				texts = append(texts, op.Text)
			}
			if strings.Join(texts, "\n") != strings.Join(tc.texts, "\n") {
				t.Errorf("ops = %q, want %q", texts, tc.texts)
			}
			if c.Anchor != "change-"+tc.id {
				t.Errorf("anchor = %q", c.Anchor)
			}
		})
	}
	if l.Versions[0].Anchor != "v2024-09-30.acacia" || !l.Versions[len(l.Versions)-1].Base {
		t.Errorf("first anchor %q, last base %v", l.Versions[0].Anchor, l.Versions[len(l.Versions)-1].Base)
	}
}

func TestUpgradeGuide(t *testing.T) {
	tl := stripe(t)
	v := versions.MustParse
	for _, tc := range []struct {
		name      string
		from, to  string
		resources string // resource: sample names of its examples
		endpoints string
		breaking  int
		err       error
	}{
		{
			name: "one rename", from: "2023-08-16", to: "2024-04-10",
			resources: "product:product.json", endpoints: "POST /v1/products|POST /v1/products/:id", breaking: 1,
		},
		{
			name: "behaviour only", from: "2022-11-15", to: "2023-08-16",
			resources: "payment_intent:", endpoints: "POST /v1/payment_intents", breaking: 1, // behaviour changes count as breaking
		},
		{
			name: "several", from: "2019-10-17", to: "2022-11-15",
			resources: "charge:charge.json customer:customer.json payment_intent:payment_intent.json", breaking: 3,
		},
		{name: "same version", from: "2019-10-17", to: "2019-10-17"},
		{name: "backwards", from: "2022-11-15", to: "2019-10-17", err: changelog.ErrRange},
		{name: "unknown", from: "2019-10-18", to: "2022-11-15", err: versions.ErrUnknownVersion},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, err := changelog.UpgradeGuide(tl, nil, v(tc.from), v(tc.to), changelog.DefaultSamples())
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var rs []string
			for _, r := range g.Resources {
				var ex []string
				for _, e := range r.Examples {
					ex = append(ex, e.Sample)
					if e.Before == e.After {
						t.Errorf("%s: example %s shows no change", r.Resource, e.Sample)
					}
				}
				rs = append(rs, r.Resource+":"+strings.Join(ex, ","))
			}
			var es []string
			for _, e := range g.Endpoints {
				es = append(es, e.Endpoint)
			}
			if got := strings.Join(rs, " "); got != tc.resources {
				t.Errorf("resources = %q, want %q", got, tc.resources)
			}
			if got := strings.Join(es, "|"); got != tc.endpoints {
				t.Errorf("endpoints = %q, want %q", got, tc.endpoints)
			}
			if g.Breaking != tc.breaking {
				t.Errorf("breaking = %d, want %d", g.Breaking, tc.breaking)
			}
		})
	}
}

func TestGuideExampleShowsBothVersions(t *testing.T) {
	tl := stripe(t)
	g, err := changelog.UpgradeGuide(tl, nil, versions.MustParse("2014-12-22"), tl.Newest(), changelog.DefaultSamples())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range g.Resources {
		if r.Resource != "customer" {
			continue
		}
		ex := r.Examples[0]
		for _, want := range []string{`"account_balance": -500`, `"default_card"`, `"cards"`} {
			if !strings.Contains(ex.Before, want) {
				t.Errorf("before lacks %s:\n%s", want, ex.Before)
			}
		}
		for _, want := range []string{`"balance": -500`, `"default_source"`} {
			if !strings.Contains(ex.After, want) {
				t.Errorf("after lacks %s:\n%s", want, ex.After)
			}
		}
		// Shortened: a key equal in both versions is left out.
		if !ex.Shortened || strings.Contains(ex.Before, "invoice_prefix") || !strings.Contains(ex.Before, "...") {
			t.Errorf("customer example not shortened:\n%s", ex.Before)
		}
		return
	}
	t.Fatal("no customer section")
}

func TestHTMLEscapes(t *testing.T) {
	tl, err := gates.NewTimeline(gates.Spec{
		API: `Acme <script>alert(1)</script>`,
		Versions: []gates.Version{
			{ID: versions.MustParse("2024-01-01"), Changes: []gates.Change{{
				ID:          "x_renamed",
				Description: "`<b>` is now `y`; <img src=x onerror=alert(1)> & more",
				Resources:   []string{"widget"},
				Ops:         []gates.Op{gates.Rename("y", "x")},
			}}},
			{ID: versions.MustParse("2023-01-01")},
		},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	l, err := changelog.NewLog(tl, changelog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := l.HTML(&buf); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, bad := range []string{"<script>alert", "<img", "<b>"} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains unescaped %q", bad)
		}
	}
	for _, want := range []string{
		`<code>&lt;b&gt;</code>`, `&lt;img src=x onerror=alert(1)&gt; &amp; more`,
		`id="v2024-01-01"`, `href="#v2024-01-01"`, `id="change-x_renamed"`, `href="#change-x_renamed"`,
		`<span class="badge breaking">Breaking</span>`, `<style>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, external := range []string{"<link", "<script", "src=\"http", "@import", "url("} {
		if strings.Contains(page, external) {
			t.Errorf("page refers to an external asset: %q", external)
		}
	}
}

func TestWriteUnknownFormat(t *testing.T) {
	l, err := changelog.NewLog(stripe(t), changelog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := changelog.Write(&bytes.Buffer{}, l, "pdf"); !errors.Is(err, changelog.ErrFormat) {
		t.Errorf("err = %v, want ErrFormat", err)
	}
}

func TestLoadSamples(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good/a.json", `{"object":"charge","id":"ch_1"}`)
	write("good/b.jsonl", "{\"object\":\"refund\"}\n\n{\"object\":\"customer\"}\n")
	write("good/notes.txt", "not a sample")
	lines := write("lines.jsonl", "{\"object\":\"charge\"}\n{\"object\": \"charge\",}\n")
	badFile := write("bad/x.json", "{\n  \"object\": \"charge\",\n  \"amount\": 10,\n}")
	array := write("array.json", `[{"object":"charge"}]`)
	null := write("null.json", `null`)
	noExt := write("noext", "{\"object\":\"a\"}\n{\"object\":\"b\"}\n")
	write("empty/readme.md", "")
	for _, tc := range []struct {
		name    string
		path    string
		want    string // names and types
		wantErr string
	}{
		{name: "directory", path: filepath.Join(dir, "good"), want: "a.json=charge b.jsonl:1=refund b.jsonl:3=customer"},
		{name: "one file", path: good, want: good + "=charge"},
		{name: "lines without extension", path: noExt, want: noExt + ":1=a " + noExt + ":2=b"},
		{name: "bad line", path: lines, wantErr: lines + ":2: bad sample: not valid JSON at column 21"},
		{name: "bad file", path: badFile, wantErr: badFile + ": bad sample: not valid JSON at line 4, column 1"},
		{name: "bad file in a directory", path: filepath.Join(dir, "bad"), wantErr: badFile + ": bad sample"},
		{name: "array", path: array, wantErr: "a sample must be a JSON object, not array"},
		{name: "null", path: null, wantErr: "a sample must be a JSON object, not null"},
		{name: "empty directory", path: filepath.Join(dir, "empty"), wantErr: "no .json, .jsonl or .ndjson files"},
		{name: "missing", path: filepath.Join(dir, "missing"), wantErr: "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ss, err := changelog.LoadSamples(tc.path)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range ss {
				got = append(got, s.Name+"="+s.Type)
			}
			if strings.Join(got, " ") != tc.want {
				t.Errorf("samples = %q, want %q", strings.Join(got, " "), tc.want)
			}
		})
	}
}

func TestSampleTypes(t *testing.T) {
	s := changelog.Sample{Body: []byte(`{"object":"list","data":[{"object":"charge","customer":{"object":"customer"}},{"object":"charge"}]}`)}
	if got := strings.Join(s.Types(), ","); got != "charge,customer,list" {
		t.Errorf("Types = %q", got)
	}
}

// TestGoldenLifecycle renders a timeline with endpoint, status and header
// ops and deprecated versions.
func TestGoldenLifecycle(t *testing.T) {
	tl, err := gates.LoadFile("../gates/testdata/endpoints.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	log, err := changelog.NewLog(tl, changelog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range changelog.Formats() {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := changelog.Write(&buf, log, format); err != nil {
				t.Fatal(err)
			}
			golden(t, "lifecycle."+format, buf.Bytes())
		})
	}
}

// TestGoldenReshaping renders the changelog of ../testdata/ops.yaml, whose
// ops reshape objects (nest, collapse, defaults, from through arrays, an
// error wrapper), and the upgrade guide from its base with the samples of
// testdata/ops-samples, an error body among them.
func TestGoldenReshaping(t *testing.T) {
	tl, err := gates.LoadFile("../testdata/ops.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	log, err := changelog.NewLog(tl, changelog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	samples, err := changelog.LoadSamples("testdata/ops-samples")
	if err != nil {
		t.Fatal(err)
	}
	guide, err := changelog.UpgradeGuide(tl, nil, tl.Versions().Base(), tl.Newest(), samples)
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range changelog.Formats() {
		for _, d := range []struct {
			name string
			doc  changelog.Document
		}{{"ops-changelog", log}, {"ops-guide", guide}} {
			t.Run(d.name+"."+format, func(t *testing.T) {
				var buf bytes.Buffer
				if err := changelog.Write(&buf, d.doc, format); err != nil {
					t.Fatal(err)
				}
				golden(t, d.name+"."+format, buf.Bytes())
			})
		}
	}
	// Without an error sample, the guide shows Stripe's shape.
	guide, err = changelog.UpgradeGuide(tl, nil, tl.Versions().Base(), tl.Newest(), samples[:2])
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range guide.Resources {
		if r.Resource == "error" {
			if len(r.Examples) != 1 || !strings.Contains(r.Examples[0].Before, `"code": "not_found"`) || !strings.Contains(r.Examples[0].After, `"error": {`) {
				t.Errorf("error examples: %+v", r.Examples)
			}
			return
		}
	}
	t.Error("no error section")
}
