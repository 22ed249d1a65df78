package sdk_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/oasdiff/oasdiff/checker"
	"github.com/oasdiff/oasdiff/diff"
	"github.com/oasdiff/oasdiff/load"

	"github.com/verso-api/verso/demo/api"
	"github.com/verso-api/verso/openapi"
)

// TestOasdiffSeesTheTimelinesBreakingChanges runs oasdiff, a maintained
// OpenAPI diff tool, between the derived documents of each pair of
// consecutive versions of the demo API, and checks that it reports
// breaking changes (level ERR) exactly at the versions whose changes the
// timeline marks breaking: the derived documents say what the timeline
// says, fields verso always puts back included (they are required in
// their version's schema, so dropping them is breaking to oasdiff too).
func TestOasdiffSeesTheTimelinesBreakingChanges(t *testing.T) {
	tl, err := api.LoadDefaultTimeline()
	if err != nil {
		t.Fatal(err)
	}
	list := tl.Versions().List() // newest first
	spec := func(i int) *load.SpecInfo {
		doc, err := openapi.Derive(api.OpenAPI, tl, list[i])
		if err != nil {
			t.Fatal(err)
		}
		loader := openapi3.NewLoader()
		s, err := load.NewSpecInfoFromData(loader, doc, list[i].String()+".json")
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	// A change on a resource the document does not describe cannot show
	// in it; Check must say so, or the exception is not one.
	undocumented := map[string]bool{}
	ds, err := openapi.Check(api.OpenAPI, tl, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if strings.HasPrefix(d.Msg, "no schema for the resource") {
			undocumented[d.Change] = true
		}
	}
	// A behaviour change is breaking (one rule for the changelog, the
	// guide and the documents) but changes no schema: no diff of the
	// documents can see it.
	for _, v := range tl.List() {
		for _, c := range v.Changes {
			if c.IsBehavior() && len(c.Ops) == 1 {
				undocumented[c.ID] = true
			}
		}
	}
	checks := checker.NewConfig(checker.GetAllChecks())
	for i := len(list) - 2; i >= 0; i-- {
		older, newer := list[i+1], list[i]
		d, sources, err := diff.GetWithOperationsSourcesMap(diff.NewConfig(), spec(i+1), spec(i))
		if err != nil {
			t.Fatal(err)
		}
		changes := checker.CheckBackwardCompatibilityUntilLevel(checks, d, sources, checker.ERR)
		var ids []string
		for _, c := range changes {
			ids = append(ids, c.GetId()+" "+c.GetOperation()+" "+c.GetPath())
		}
		var marked []string
		for _, v := range tl.List() {
			if v.ID != newer {
				continue
			}
			for _, c := range v.Changes {
				if c.IsBreaking() && !undocumented[c.ID] {
					marked = append(marked, c.ID)
				}
			}
		}
		slices.Sort(ids)
		ids = slices.Compact(ids)
		if (len(marked) > 0) != (len(ids) > 0) {
			t.Errorf("%s -> %s: the timeline marks %v breaking; oasdiff reports %d breaking changes: %s", older, newer, marked, len(ids), strings.Join(ids, "; "))
		}
		t.Logf("%s -> %s: timeline %v; oasdiff: %d breaking", older, newer, marked, len(ids))
	}
	if len(undocumented) > 0 {
		t.Logf("changes on resources the document does not describe: %v", undocumented)
	}
}
