package openapi_test

import (
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/openapi"
	"github.com/verso-api/verso/versions"
)

// formSpec is a small document whose key order is not sorted, with a form
// request body that has an encoding map, as Stripe's documents do.
const formSpec = `openapi: 3.0.0
info: {version: "2024-01-01", title: Form}
paths:
  /v1/widgets/{widget}:
    post:
      requestBody:
        content:
          application/x-www-form-urlencoded:
            schema:
              type: object
              properties:
                zeta: {type: string}
                dims: {type: object, properties: {w: {type: integer}}}
                tags: {type: array, items: {type: string}}
                alpha: {type: string}
                legacy: {type: string, description: still accepted}
                label: {type: string}
            encoding:
              dims: {style: deepObject, explode: true}
              tags: {style: deepObject, explode: true}
components:
  schemas:
    widget:
      type: object
      required: [zeta, id, object]
      properties:
        zeta: {type: string}
        id: {type: string}
        object: {type: string, enum: [widget]}
        dims: {type: object, properties: {w: {type: integer}}}
        tags: {type: array, items: {type: string}}
        label: {type: string}
`

func formTimeline(t *testing.T, ops ...gates.Op) *gates.Timeline {
	t.Helper()
	tl, err := gates.NewTimeline(gates.Spec{Versions: []gates.Version{
		{ID: versions.MustParse("2024-01-01"), Changes: []gates.Change{{
			ID: "c", Description: "d", Resources: []string{"widget"},
			Endpoints: []gates.Endpoint{{Method: "POST", Path: "/v1/widgets/:id"}},
			Ops:       ops,
		}}},
		{ID: versions.MustParse("2023-01-01")},
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tl
}

func deriveForm(t *testing.T, tl *gates.Timeline, opts *openapi.Options) (map[string]any, *openapi.Result) {
	t.Helper()
	r, err := openapi.DeriveWithOptions([]byte(formSpec), tl, versions.MustParse("2023-01-01"), opts)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(r.JSON, &doc); err != nil {
		t.Fatal(err)
	}
	return doc, r
}

func TestDeriveEncodingFollowsRenames(t *testing.T) {
	media := []string{"paths", "/v1/widgets/{widget}", "post", "requestBody", "content", "application/x-www-form-urlencoded"}
	enc := append(slices.Clone(media), "encoding")
	for _, tc := range []struct {
		name string
		op   gates.Op
		want string
	}{
		{"rename", gates.Rename("dims", "size"), `{"size":{"explode":true,"style":"deepObject"},"tags":{"explode":true,"style":"deepObject"}}`},
		{"rename into an object", gates.Rename("dims", "shape.dims"), `{"tags":{"explode":true,"style":"deepObject"}}`},
		{"rename of a field without encoding", gates.Rename("label", "title"), `{"dims":{"explode":true,"style":"deepObject"},"tags":{"explode":true,"style":"deepObject"}}`},
		{"added", gates.Added("tags"), `{"dims":{"explode":true,"style":"deepObject"}}`},
		{"removed object put back", gates.RemovedDefault("meta", map[string]any{}).WithSchema(map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string"}}),
			`{"dims":{"explode":true,"style":"deepObject"},"meta":{"explode":true,"style":"deepObject"},"tags":{"explode":true,"style":"deepObject"}}`},
		{"removed string put back", gates.RemovedDefault("note", ""), `{"dims":{"explode":true,"style":"deepObject"},"tags":{"explode":true,"style":"deepObject"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, _ := deriveForm(t, formTimeline(t, tc.op), nil)
			if got := js(get(t, doc, enc...)); got != tc.want {
				t.Errorf("encoding = %s\nwant       %s", got, tc.want)
			}
		})
	}
}

func TestDeriveRenameConflict(t *testing.T) {
	tl := formTimeline(t, gates.Rename("alpha", "legacy"))
	_, err := openapi.Derive([]byte(formSpec), tl, versions.MustParse("2023-01-01"))
	if !errors.Is(err, openapi.ErrConflict) || !strings.Contains(err.Error(), "c (2024-01-01): rename alpha to legacy: POST /v1/widgets/{widget} (application/x-www-form-urlencoded) already has legacy") {
		t.Fatalf("err = %v, want ErrConflict naming the change and both fields", err)
	}
	doc, _ := deriveForm(t, tl, &openapi.Options{KeepExisting: true})
	schema := []string{"paths", "/v1/widgets/{widget}", "post", "requestBody", "content", "application/x-www-form-urlencoded", "schema", "properties"}
	if got := js(get(t, doc, append(slices.Clone(schema), "legacy")...)); got != `{"description":"still accepted","type":"string"}` {
		t.Errorf("legacy = %s: the existing property must be kept", got)
	}
	if got := get(t, doc, append(slices.Clone(schema), "alpha")...); got != nil {
		t.Errorf("alpha = %v: the renamed property must be gone", got)
	}
}

func TestDerivePutBackSchema(t *testing.T) {
	card := map[string]any{"type": "string", "nullable": true, "description": "The card's id."}
	tl := formTimeline(t,
		gates.RemovedDefault("card", nil).WithSchema(card),
		gates.RemovedDefault("color", "red"),
		gates.RemovedFrom("name", "label"),
		gates.RemovedFrom("key", "zeta"),
	)
	doc, r := deriveForm(t, tl, nil)
	w := []string{"components", "schemas", "widget"}
	for _, tc := range []struct {
		path []string
		want string
	}{
		{append(slices.Clone(w), "properties", "card"), `{"description":"The card's id.","nullable":true,"type":"string"}`},
		{append(slices.Clone(w), "properties", "color"), `{"type":"string"}`},
		{append(slices.Clone(w), "properties", "name"), `{"type":"string"}`},
		// Always put back: a default, or a copy of a required field. name
		// is copied from an optional field: absent when it is.
		{append(slices.Clone(w), "required"), `["zeta","id","object","key","color","card"]`},
		// A request never requires a put-back field.
		{[]string{"paths", "/v1/widgets/{widget}", "post", "requestBody", "content", "application/x-www-form-urlencoded", "schema", "required"}, `null`},
		{[]string{"paths", "/v1/widgets/{widget}", "post", "requestBody", "content", "application/x-www-form-urlencoded", "schema", "properties", "card", "description"}, `"The card's id."`},
	} {
		t.Run(strings.Join(tc.path, "."), func(t *testing.T) {
			if got := js(get(t, doc, tc.path...)); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
	if len(r.Warnings) != 0 {
		t.Errorf("warnings: %q", r.Warnings)
	}
	if slices.Contains(strings.Split(js(get(t, doc, append(slices.Clone(w), "required")...)), ","), `"name"`) {
		t.Error("name is copied from an optional field and must not be required")
	}
}

func TestDeriveKeepsKeyOrder(t *testing.T) {
	_, r := deriveForm(t, formTimeline(t, gates.Rename("zeta", "omega"), gates.Added("label")), nil)
	out := string(r.JSON)
	order := []string{`"openapi"`, `"info"`, `"paths"`, `"omega"`, `"dims"`, `"tags"`, `"alpha"`, `"legacy"`, `"components"`}
	last := -1
	for _, k := range order {
		i := strings.Index(out, k)
		if i < 0 || i < last {
			t.Fatalf("%s out of order (at %d, previous key at %d):\n%s", k, i, last, out)
		}
		last = i
	}
	if !strings.Contains(out, `"required": [`+"\n"+`          "omega",`) {
		t.Errorf("the renamed field keeps its place in required:\n%s", out)
	}
}

func TestDeriveDisagreements(t *testing.T) {
	tl := formTimeline(t,
		gates.Rename("missing", "old"),
		gates.Retype("zeta", gates.Integer, gates.Number),
		gates.Enum("object", map[string]string{"gadget": "widget_v1"}),
	)
	got, err := openapi.Check([]byte(strings.Replace(formSpec, `version: "2024-01-01"`, `version: "2023-06-01"`, 1)), tl, nil)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, d := range got {
		lines = append(lines, d.String())
	}
	want := []string{
		`info.version: the document is of version "2023-06-01"; the timeline's newest version is 2024-01-01`,
		`c (2024-01-01): widget: enum: object has no value "gadget" in the schema`,
		`c (2024-01-01): POST /v1/widgets/{widget} (application/x-www-form-urlencoded): enum: object is not in the schema`,
		`c (2024-01-01): widget: retype: zeta is string in the schema; the timeline says it is now number`,
		`c (2024-01-01): POST /v1/widgets/{widget} (application/x-www-form-urlencoded): retype: zeta is string in the schema; the timeline says it is now number`,
		`c (2024-01-01): widget: rename: missing is not in the schema`,
		`c (2024-01-01): POST /v1/widgets/{widget} (application/x-www-form-urlencoded): rename: missing is not in the schema`,
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("disagreements:\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

// stripeSpec returns Stripe's real OpenAPI document, or skips.
func stripeSpec(t testing.TB) []byte {
	t.Helper()
	dir := os.Getenv("VERSO_SHARED_DIR") // default: ../shared beside the clone
	if dir == "" {
		dir = "../../shared"
	}
	b, err := os.ReadFile(dir + "/fixtures/stripe/openapi/spec3-2023-08-16.json")
	if err != nil {
		t.Skipf("Stripe's OpenAPI document is not here (%v): it lives in ../shared beside the clone, or in $VERSO_SHARED_DIR", err)
	}
	return b
}

func TestDeriveStripeRealDocument(t *testing.T) {
	spec := stripeSpec(t)
	tl := load(t, "../../testdata/stripe.yaml")
	base := tl.Versions().Base()
	_, err := openapi.Derive(spec, tl, base)
	if !errors.Is(err, openapi.ErrConflict) || !strings.Contains(err.Error(), "rename default_source to default_card: POST /v1/customers/{customer} (application/x-www-form-urlencoded) already has default_card") {
		t.Fatalf("err = %v, want the default_card conflict", err)
	}
	r, err := openapi.DeriveWithOptions(spec, tl, base, &openapi.Options{KeepExisting: true})
	if err != nil {
		t.Fatal(err)
	}
	var src, out map[string]json.RawMessage
	if err := json.Unmarshal(spec, &src); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(r.JSON, &out); err != nil {
		t.Fatal(err)
	}
	// Key order: the paths come out in the document's order.
	if a, b := topKeys(t, src["paths"]), topKeys(t, out["paths"]); !slices.Equal(a, b) {
		t.Errorf("paths reordered: %v... vs %v...", a[:5], b[:5])
	}
	var lines []string
	for _, d := range r.Disagreements {
		lines = append(lines, d.String())
	}
	all := strings.Join(lines, "\n")
	for _, want := range []string{
		`info.version: the document is of version "2023-08-16"; the timeline's newest version is 2024-09-30.acacia`,
		"product_marketing_features (2024-04-10): product: rename: marketing_features is not in the schema",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("disagreements lack %q:\n%s", want, all)
		}
	}
}

// topKeys returns the keys of a JSON object in document order.
func topKeys(t *testing.T, raw json.RawMessage) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

func BenchmarkDeriveStripeRealDocument(b *testing.B) {
	spec := stripeSpec(b)
	tl := load(b, "../../testdata/stripe.yaml")
	base := tl.Versions().Base()
	opts := &openapi.Options{KeepExisting: true}
	b.ReportAllocs()
	b.SetBytes(int64(len(spec)))
	for b.Loop() {
		if _, err := openapi.DeriveWithOptions(spec, tl, base, opts); err != nil {
			b.Fatal(err)
		}
	}
}
