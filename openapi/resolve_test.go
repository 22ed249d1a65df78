package openapi_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/openapi"
	"github.com/verso-api/verso/versions"
)

// TestDeriveResolved: a field a resolver puts back is in the older
// version's schema, with the op's schema, with a schema inferred from its
// default, or left open with a warning when it has neither.
func TestDeriveResolved(t *testing.T) {
	reg := gates.NewRegistry()
	if err := reg.RegisterResolver("parts", func(_ context.Context, refs []gates.Ref) ([]json.RawMessage, error) {
		return make([]json.RawMessage, len(refs)), nil
	}); err != nil {
		t.Fatal(err)
	}
	tl, err := gates.NewTimeline(gates.Spec{Versions: []gates.Version{
		{ID: versions.MustParse("2024-01-01"), Changes: []gates.Change{{
			ID: "parts", Description: "Widgets no longer embed their parts.", Resources: []string{"widget"},
			Ops: []gates.Op{
				gates.RemovedResolved("parts", "parts"),
				gates.RemovedResolved("spares", "parts").WithDefault([]any{}),
				gates.RemovedResolved("kits", "parts").WithSchema(map[string]any{"type": "array", "description": "The kits."}),
			},
		}}},
		{ID: versions.MustParse("2023-01-01")},
	}}, &gates.Options{Funcs: reg})
	if err != nil {
		t.Fatal(err)
	}
	r, err := openapi.DeriveResult([]byte(jsonSpec), tl, versions.MustParse("2023-01-01"))
	if err != nil {
		t.Fatal(err)
	}
	out := string(r.JSON)
	for _, want := range []string{`"parts": {}`, `"spares": {`, `"kits": {`, `"description": "The kits."`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
	want := "parts: removed: widget.parts is put back by resolver parts; its schema is left open (give the op a schema)"
	if got := strings.Join(r.Warnings, "\n"); !strings.Contains(got, want) {
		t.Errorf("warnings = %q, want %q", got, want)
	}
}
