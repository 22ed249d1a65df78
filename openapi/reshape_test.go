package openapi_test

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/verso-api/verso/internal/golden"

	"github.com/verso-api/verso/openapi"
)

// TestGoldenReshaping derives each version's document of
// ../testdata/ops.yaml, whose ops reshape objects (nest, collapse, a
// default, from through an array, an error wrapper), from
// testdata/ops-spec.yaml: the document agrees with the timeline, and
// error responses' schemas follow the version (flat before 2024-06-01).
func TestGoldenReshaping(t *testing.T) {
	tl := load(t, "../../testdata/ops.yaml")
	spec, err := os.ReadFile("testdata/ops-spec.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range tl.Versions().List()[1:] {
		t.Run(v.String(), func(t *testing.T) {
			r, err := openapi.DeriveResult(spec, tl, v)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range r.Disagreements {
				t.Errorf("disagreement: %s", d)
			}
			for _, w := range r.Warnings {
				t.Errorf("warning: %s", w)
			}
			if !json.Valid(r.JSON) {
				t.Fatal("output is not JSON")
			}
			golden.Check(t, *update, "openapi", "ops-"+v.String()+".json", r.JSON)
		})
	}
}
