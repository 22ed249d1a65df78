package changelog_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/verso-api/verso/changelog"
	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/versions"
)

// churn is a timeline whose versions undo each other: what an integration
// jumping across all of them meets is only the net effect.
func churn(t *testing.T) *gates.Timeline {
	t.Helper()
	v := versions.MustParse
	ch := func(id string, ops ...gates.Op) gates.Change {
		return gates.Change{ID: id, Description: "Change " + id + ".", Resources: []string{"widget"}, Ops: ops}
	}
	tl, err := gates.NewTimeline(gates.Spec{API: "Churn", Versions: []gates.Version{
		{ID: v("2024-05-01"), Changes: []gates.Change{
			ch("drop_temp", gates.RemovedDefault("temp", nil)),
			ch("rename_again", gates.Rename("colour", "hue")),
			ch("retype_back", gates.Retype("size", gates.String, gates.Integer)),
			ch("rename_label_back", gates.Rename("label", "title")),
		}},
		{ID: v("2024-04-01"), Changes: []gates.Change{
			ch("add_temp", gates.Added("temp")),
			ch("rename_colour", gates.Rename("hue", "color")),
			ch("retype_size", gates.Retype("size", gates.Integer, gates.String)),
			ch("rename_label", gates.Rename("title", "label")),
			ch("drop_mass", gates.RemovedDefault("mass", 0)),
		}},
		{ID: v("2024-03-01"), Changes: []gates.Change{
			ch("rename_weight", gates.Rename("mass", "weight")),
			{ID: "quiet", Description: "Refunds settle **faster**.", Resources: []string{"widget"}, Ops: []gates.Op{gates.Behavior()}},
		}},
		{ID: v("2024-01-01")},
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tl
}

func TestGuideNetEffects(t *testing.T) {
	tl := churn(t)
	g, err := changelog.UpgradeGuide(tl, nil, versions.MustParse("2024-01-01"), tl.Newest(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range g.Resources {
		for _, s := range r.Steps {
			for _, op := range s.Ops {
				got = append(got, s.ID+": "+op.Text)
			}
			for _, td := range s.Todo {
				got = append(got, s.ID+" todo: "+td)
			}
		}
	}
	// temp added and removed: gone. size retyped and back: gone. label
	// renamed and back: gone. colour renamed twice: once. weight renamed
	// mass, then mass removed: weight removed.
	for _, absent := range []string{"temp", "`widget.size`", "label", "title", "retype_back", "drop_temp", "drop_mass", "rename_again", "mass"} {
		for _, line := range got {
			if strings.Contains(line, absent) {
				t.Errorf("the guide shows %q, which the versions undo: %s", absent, line)
			}
		}
	}
	for _, present := range []string{
		"quiet: Behaviour change; no change to request or response bodies.",
		"quiet todo: Check that your integration expects the new behaviour described above before you move.",
		"rename_colour: `widget.color` is now `widget.colour`.",
		"rename_colour todo: Read `widget.colour` instead of `widget.color`.",
		"rename_weight: `widget.weight` is removed (older versions return `0`).",
		"rename_weight todo: Stop relying on `widget.weight` being returned.",
	} {
		found := false
		for _, line := range got {
			found = found || line == present
		}
		if !found {
			t.Errorf("the guide lacks %q:\n%s", present, strings.Join(got, "\n"))
		}
	}
	if g.Breaking != 3 {
		t.Errorf("breaking = %d, want 3 (quiet, rename_colour, rename_weight)", g.Breaking)
	}
	// Behaviour changes count as breaking; they say what to do.
	// Between two adjacent versions nothing folds.
	g, err = changelog.UpgradeGuide(tl, nil, versions.MustParse("2024-03-01"), versions.MustParse("2024-04-01"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Resources) != 1 || len(g.Resources[0].Steps) != 5 {
		t.Errorf("2024-03-01 to 2024-04-01: %+v", g.Resources)
	}
}

func TestGuideExamplesCapped(t *testing.T) {
	tl := stripe(t)
	var samples []changelog.Sample
	for i := range 10 {
		for _, s := range changelog.DefaultSamples() {
			s.Name = fmt.Sprintf("%d-%s", i, s.Name)
			samples = append(samples, s)
		}
	}
	g, err := changelog.UpgradeGuide(tl, nil, versions.MustParse("2014-12-22"), tl.Newest(), samples)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range g.Resources {
		if len(r.Examples) > changelog.MaxExamples {
			t.Errorf("%s: %d examples", r.Resource, len(r.Examples))
		}
		if r.Resource == "customer" && (len(r.Examples) != changelog.MaxExamples || r.MoreExamples != 10-changelog.MaxExamples) {
			t.Errorf("customer: %d examples, %d more", len(r.Examples), r.MoreExamples)
		}
	}
	var md, small bytes.Buffer
	if err := g.Markdown(&md); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "7 more samples show these changes; not shown.") {
		t.Error("the guide does not say how many examples it left out")
	}
	one, err := changelog.UpgradeGuide(tl, nil, versions.MustParse("2014-12-22"), tl.Newest(), samples[:5*changelog.MaxExamples])
	if err != nil {
		t.Fatal(err)
	}
	if err := one.Markdown(&small); err != nil {
		t.Fatal(err)
	}
	// Ten times the samples, about the same guide.
	if md.Len() > small.Len()+400 {
		t.Errorf("guide grows with the samples: %d bytes from %d samples, %d from %d", md.Len(), len(samples), small.Len(), 5*changelog.MaxExamples)
	}
}

func TestHTMLMarkdownDescriptions(t *testing.T) {
	tl, err := gates.NewTimeline(gates.Spec{Versions: []gates.Version{
		{ID: versions.MustParse("2024-01-01"), Changes: []gates.Change{{
			ID: "md", Resources: []string{"widget"}, Ops: []gates.Op{gates.Rename("y", "x")},
			Description: "Use **`y`** now; see [the docs](https://example.com/y) and [this](javascript:alert(1)).\n\n" +
				"A second paragraph with <script>alert(1)</script> and `a < b`.",
		}}},
		{ID: versions.MustParse("2023-01-01")},
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	l, err := changelog.NewLog(tl, changelog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	g, err := changelog.UpgradeGuide(tl, nil, versions.MustParse("2023-01-01"), tl.Newest(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, doc := range map[string]changelog.Document{"changelog": l, "guide": g} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := doc.HTML(&buf); err != nil {
				t.Fatal(err)
			}
			page := buf.String()
			for _, want := range []string{
				`<strong><code>y</code></strong>`,
				`<a href="https://example.com/y">the docs</a>`,
				`&lt;script&gt;alert(1)&lt;/script&gt;`,
				`<code>a &lt; b</code>`,
				"</p>\n<p>A second paragraph",
				// On a phone the content comes first: main before the
				// navigation, and a skip link for keyboards.
				`<a class="skip" href="#content">Skip to content</a>`,
			} {
				if !strings.Contains(page, want) {
					t.Errorf("page lacks %q", want)
				}
			}
			for _, bad := range []string{"<script>", `href="javascript:`} {
				if strings.Contains(page, bad) {
					t.Errorf("page contains %q", bad)
				}
			}
			if m, n := strings.Index(page, `<main id="content">`), strings.Index(page, `<nav class="toc"`); m < 0 || n < m {
				t.Errorf("main at %d, nav at %d: the content must come first", m, n)
			}
		})
	}
}

func TestGuideJSONHasTodo(t *testing.T) {
	tl := stripe(t)
	g, err := changelog.UpgradeGuide(tl, nil, versions.MustParse("2023-08-16"), versions.MustParse("2024-04-10"), nil)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := g.JSON(&buf); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Resources []struct {
			Steps []struct {
				Todo []string `json:"todo"`
			} `json:"steps"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if got := doc.Resources[0].Steps[0].Todo; len(got) != 1 || got[0] != "Read `product.marketing_features` instead of `product.features`." {
		t.Errorf("todo = %q", got)
	}
}
