package openapi_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/verso-api/verso/internal/golden"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/openapi"
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

func spec(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/spec.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		timeline, version string
	}{
		{"../../testdata/stripe.yaml", "2024-09-30.acacia"},
		{"../../testdata/stripe.yaml", "2022-11-15"},
		{"../../testdata/stripe.yaml", "2019-10-17"},
		{"../../testdata/stripe.yaml", "2014-12-22"},
		{"nested.yaml", "2022-01-01"},
	} {
		name := strings.TrimSuffix(filepath.Base(tc.timeline), ".yaml") + "-" + tc.version + ".json"
		t.Run(name, func(t *testing.T) {
			got, err := openapi.Derive(spec(t), load(t, tc.timeline), versions.MustParse(tc.version))
			if err != nil {
				t.Fatal(err)
			}
			if !json.Valid(got) {
				t.Fatal("output is not JSON")
			}
			golden.Check(t, *update, "openapi", name, got)
		})
	}
}

// get walks a decoded document by keys.
func get(t *testing.T, doc map[string]any, path ...string) any {
	t.Helper()
	var cur any = doc
	for _, k := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[k]
	}
	return cur
}

func derive(t *testing.T, tl *gates.Timeline, v string) map[string]any {
	t.Helper()
	out, err := openapi.Derive(spec(t), tl, versions.MustParse(v))
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestDeriveStripe(t *testing.T) {
	tl := load(t, "../../testdata/stripe.yaml")
	sc := func(name string) []string { return []string{"components", "schemas", name} }
	prop := func(schema string, p ...string) []string { return append(append(sc(schema), "properties"), p...) }
	for _, tc := range []struct {
		version string
		path    []string
		want    string // JSON; "null" for absent
	}{
		{"2024-09-30.acacia", []string{"info", "version"}, `"2024-09-30.acacia"`},
		{"2024-09-30.acacia", prop("charge", "amount"), `{"description":"Amount intended to be collected, in the smallest currency unit.","example":"1099","pattern":"^[0-9]+$","type":"string"}`},
		// retype: the pattern no longer fits, the example is converted.
		{"2024-04-10", prop("charge", "amount"), `{"description":"Amount intended to be collected, in the smallest currency unit.","example":1099,"type":"integer"}`},
		{"2024-04-10", prop("refund", "amount", "type"), `"integer"`},
		{"2024-04-10", prop("PaymentIntent", "amount", "type"), `"integer"`},
		{"2024-04-10", []string{"info", "version"}, `"2024-04-10"`},
		// rename, in properties and required.
		{"2024-04-10", prop("product", "marketing_features", "type"), `"array"`},
		{"2023-08-16", prop("product", "marketing_features"), `null`},
		{"2023-08-16", prop("product", "features", "items"), `{"$ref":"#/components/schemas/product_marketing_feature"}`},
		{"2023-08-16", append(sc("product"), "required"), `["active","created","id","livemode","features","name","object"]`},
		// added and removed with a default.
		{"2020-08-27", prop("PaymentIntent", "latest_charge"), `null`},
		{"2020-08-27", prop("PaymentIntent", "charges"), `{"properties":{"data":{"items":{},"type":"array"},"has_more":{"type":"boolean"},"object":{"type":"string"}},"type":"object"}`},
		{"2020-08-27", prop("charge", "refunds", "properties", "total_count"), `{"type":"integer"}`},
		// a removed field the newest document still describes keeps its schema.
		{"2019-10-17", prop("customer", "tax_ids", "title"), `"TaxIDsList"`},
		{"2019-10-17", prop("customer", "subscriptions", "type"), `"object"`},
		{"2019-10-17", prop("customer", "tax_info"), `null`},
		{"2017-01-27", prop("customer", "tax_ids"), `null`},
		{"2017-01-27", prop("customer", "tax_info"), `{"nullable":true}`},
		{"2017-01-27", prop("customer", "account_balance", "type"), `"integer"`},
		// fields always put back (with a default) are required.
		{"2017-01-27", append(sc("customer"), "required"), `["account_balance","created","id","livemode","object","subscriptions","sources","tax_info_verification","tax_info"]`},
		{"2017-01-27", prop("customer", "balance"), `null`},
		{"2016-07-06", prop("charge", "disputed"), `null`},
		{"2016-07-06", prop("charge", "dispute"), `{"nullable":true}`},
		{"2016-07-06", append(sc("charge"), "required"), `["amount","amount_captured","billing_details","created","currency","id","livemode","metadata","object","paid","status","refunds","dispute"]`},
		// card is copied from source, which is optional: not required.
		{"2014-12-22", append(sc("charge"), "required"), `["amount","amount_captured","billing_details","created","currency","id","livemode","metadata","object","paid","status","refunds","dispute"]`},
		// enum.
		{"2016-07-06", prop("charge", "status", "enum"), `["failed","pending","succeeded"]`},
		{"2015-02-18", prop("charge", "status", "enum"), `["failed","pending","paid"]`},
		// removed with from: a copy of the source schema.
		{"2014-12-22", prop("charge", "card"), `{"anyOf":[{"$ref":"#/components/schemas/card"}],"description":"The source used for the payment.","nullable":true}`},
		{"2014-12-22", prop("charge", "source", "description"), `"The source used for the payment."`},
		{"2014-12-22", prop("customer", "default_card", "nullable"), `true`},
		{"2014-12-22", prop("customer", "cards", "type"), `"object"`},
		{"2014-12-22", prop("customer", "sources"), `null`},
		// untouched parts stay as they were.
		{"2014-12-22", append(prop("charge", "metadata"), "additionalProperties"), `{"maxLength":500,"type":"string"}`},
		{"2014-12-22", []string{"paths", "/v1/charges", "post", "operationId"}, `"PostCharges"`},
	} {
		t.Run(tc.version+" "+strings.Join(tc.path, "."), func(t *testing.T) {
			doc := derive(t, tl, tc.version)
			if got := js(get(t, doc, tc.path...)); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestDeriveNested(t *testing.T) {
	doc := derive(t, load(t, "nested.yaml"), "2022-01-01")
	sc := func(p ...string) []string { return append([]string{"components", "schemas"}, p...) }
	for _, tc := range []struct {
		path []string
		want string
	}{
		// billing_details.address.city: through a $ref and an anyOf.
		{sc("address", "properties", "town", "type"), `"string"`},
		{sc("address", "properties", "city"), `null`},
		// marketing_features[].name: through items and a $ref.
		{sc("product_marketing_feature", "properties", "title", "maxLength"), `5000`},
		{sc("product_marketing_feature", "properties", "name"), `null`},
		// A move between nesting levels.
		{sc("charge", "properties", "receipt_email"), `{"nullable":true,"type":"string"}`},
		{sc("billing_details", "properties", "email"), `null`},
		// A retype inside an expandable sub-object.
		{sc("card", "properties", "exp_year"), `{"type":"string"}`},
		// Enum renames keep the list's order.
		{sc("PaymentIntent", "properties", "status", "enum"), `["canceled","processing","requires_source_action","requires_capture","requires_confirmation","requires_source","succeeded"]`},
	} {
		t.Run(strings.Join(tc.path, "."), func(t *testing.T) {
			if got := js(get(t, doc, tc.path...)); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

const yamlSpec = `openapi: 3.1.0
info:
  title: Tiny
  version: "2"
components:
  schemas:
    Widget:
      x-resourceId: widget
      type: object
      required: [size, id]
      properties:
        id: {type: string}
        size: {type: [string, "null"], example: "12"}
        big: {type: integer, example: 123456789012345678901234567890}
`

const jsonSpec = `{"openapi":"3.1.0","info":{"title":"Tiny","version":"2"},"components":{"schemas":{"Widget":{
 "x-resourceId":"widget","type":"object","required":["size","id"],"properties":{"id":{"type":"string"},
 "size":{"type":["string","null"],"example":"12"},"big":{"type":"integer","example":123456789012345678901234567890}}}}}}`

func tiny(t testing.TB) *gates.Timeline {
	tl, err := gates.NewTimeline(gates.Spec{Versions: []gates.Version{
		{ID: versions.MustParse("2024-01-01"), Changes: []gates.Change{{
			ID: "size_string", Description: "`size` is a string.", Resources: []string{"widget"},
			Ops: []gates.Op{gates.Retype("size", gates.Integer, gates.String), gates.RemovedDefault("color", nil), gates.Added("nothere")},
		}}},
		{ID: versions.MustParse("2023-01-01"), Changes: []gates.Change{{
			ID: "gadgets", Description: "Gadgets.", Resources: []string{"gadget"}, Ops: []gates.Op{gates.Added("x")},
		}}},
		{ID: versions.MustParse("2022-01-01")},
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tl
}

func TestDeriveYAMLAndJSONAgree(t *testing.T) {
	tl := tiny(t)
	v := versions.MustParse("2023-01-01")
	fromYAML, err := openapi.DeriveResult([]byte(yamlSpec), tl, v)
	if err != nil {
		t.Fatal(err)
	}
	fromJSON, err := openapi.DeriveResult([]byte(jsonSpec), tl, v)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fromYAML.JSON, fromJSON.JSON) {
		t.Errorf("YAML and JSON inputs differ:\n%s\n%s", fromYAML.JSON, fromJSON.JSON)
	}
	out := string(fromJSON.JSON)
	for _, want := range []string{
		`"size": {` + "\n" + `            "type": [` + "\n" + `              "integer",` + "\n" + `              "null"` + "\n" + `            ],` + "\n" + `            "example": 12`,
		`"color": {` + "\n" + `            "type": "null"`, // OpenAPI 3.1: null is a type
		`"example": 123456789012345678901234567890`,
		`"version": "2023-01-01"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
	wantWarnings := "size_string: removed: widget.color is put back with null; its schema is only partly known from that (give the op a schema)"
	if got := strings.Join(fromJSON.Warnings, "\n"); got != wantWarnings {
		t.Errorf("warnings = %q, want %q", got, wantWarnings)
	}
	all, err := openapi.DeriveResult([]byte(jsonSpec), tl, versions.MustParse("2022-01-01"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range all.Disagreements {
		got = append(got, d.String())
	}
	want := []string{
		`info.version: the document is of version "2"; the timeline's newest version is 2024-01-01`,
		"size_string (2024-01-01): widget: added: nothere is not in the schema",
		"gadgets (2023-01-01): gadget: no schema for the resource (x-resourceId, components.schemas.gadget, or a schema whose \"object\" is \"gadget\")",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("disagreements:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestDeriveErrors(t *testing.T) {
	tl := tiny(t)
	good := versions.MustParse("2022-01-01")
	for _, tc := range []struct {
		name string
		spec string
		v    versions.Version
		err  error
		msg  string
	}{
		{"truncated JSON", `{"openapi": "3.0.0",`, good, openapi.ErrSyntax, "not JSON or YAML"},
		{"JSON with trailing data", `{"openapi": "3.0.0"} {}`, good, openapi.ErrSyntax, "data after the document"},
		{"bad YAML", "openapi: [3.0\n  x: }", good, openapi.ErrSyntax, "not JSON or YAML"},
		{"empty", "  \n", good, openapi.ErrSyntax, "empty input"},
		{"YAML scalar", "just words", good, openapi.ErrNotOpenAPI, "top level is not a mapping"},
		{"array", `[1, 2]`, good, openapi.ErrNotOpenAPI, "top level is not a mapping"},
		{"no openapi key", `{"info": {"title": "x"}, "paths": {}}`, good, openapi.ErrNotOpenAPI, `no "openapi" version key`},
		{"swagger", `{"swagger": "2.0"}`, good, openapi.ErrNotOpenAPI, "Swagger 2.0"},
		{"openapi 2", `{"openapi": "2.0"}`, good, openapi.ErrNotOpenAPI, `openapi version "2.0"`},
		{"unknown version", jsonSpec, versions.MustParse("2021-06-01"), versions.ErrUnknownVersion, "supported versions: 2024-01-01, 2023-01-01, 2022-01-01"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := openapi.Derive([]byte(tc.spec), tl, tc.v)
			if !errors.Is(err, tc.err) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("err = %v, want %v containing %q", err, tc.err, tc.msg)
			}
		})
	}
}

func FuzzDerive(f *testing.F) {
	f.Add([]byte(jsonSpec))
	f.Add([]byte(yamlSpec))
	f.Add([]byte(`{"openapi":"3.0.0","components":{"schemas":{"widget":{"properties":{"size":{"$ref":"#/components/schemas/widget"}}}}}}`))
	f.Add([]byte(`openapi: "3.0"` + "\ncomponents: {schemas: {widget: {allOf: [{$ref: '#/components/schemas/widget'}]}}}"))
	tl := tiny(f)
	base := versions.MustParse("2022-01-01")
	f.Fuzz(func(t *testing.T, spec []byte) {
		out, err := openapi.Derive(spec, tl, base)
		if err != nil {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("output is not JSON: %s", out)
		}
	})
}

func BenchmarkDerive(b *testing.B) {
	s := spec(b)
	tl := load(b, "../../testdata/stripe.yaml")
	base := tl.Versions().Base()
	b.ReportAllocs()
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		if _, err := openapi.Derive(s, tl, base); err != nil {
			b.Fatal(err)
		}
	}
}

func TestDeriveRequestBodies(t *testing.T) {
	tl := load(t, "../../testdata/stripe.yaml")
	form := "application/x-www-form-urlencoded"
	for _, tc := range []struct {
		version string
		path    []string
		want    string
	}{
		{"2024-09-30.acacia", []string{"paths", "/v1/charges", "post", "requestBody", "content", form, "schema", "properties", "amount", "type"}, `"string"`},
		{"2024-04-10", []string{"paths", "/v1/charges", "post", "requestBody", "content", form, "schema", "properties", "amount", "type"}, `"integer"`},
		{"2014-12-22", []string{"paths", "/v1/charges", "post", "requestBody", "content", form, "schema", "properties", "card"}, `{"maxLength":5000,"type":"string"}`},
		// A $ref'd request schema is copied into place before it is edited;
		// the shared component stays as it was.
		{"2017-01-27", []string{"paths", "/v1/customers/{customer}", "post", "requestBody", "content", form, "schema", "properties", "account_balance", "type"}, `"integer"`},
		{"2017-01-27", []string{"paths", "/v1/customers/{customer}", "post", "requestBody", "content", form, "schema", "properties", "balance"}, `null`},
		{"2017-01-27", []string{"components", "schemas", "customer_update_params", "properties", "balance", "type"}, `"integer"`},
		{"2014-12-22", []string{"paths", "/v1/customers/{customer}", "post", "requestBody", "content", form, "schema", "properties", "default_card", "maxLength"}, `500`},
		{"2024-04-10", []string{"paths", "/v1/customers/{customer}", "post", "requestBody", "content", form, "schema"}, `{"$ref":"#/components/schemas/customer_update_params"}`},
	} {
		t.Run(tc.version+" "+strings.Join(tc.path, "."), func(t *testing.T) {
			doc := derive(t, tl, tc.version)
			if got := js(get(t, doc, tc.path...)); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
	r, err := openapi.DeriveResult(spec(t), tl, versions.MustParse("2014-12-22"))
	if err != nil {
		t.Fatal(err)
	}
	want := "../testdata/stripe.yaml:105:9: customer_sources (2015-02-18): endpoint POST /v1/customers: no request body for the endpoint in the document"
	var got []string
	for _, d := range r.Disagreements {
		got = append(got, d.String())
	}
	if !slices.Contains(got, want) {
		t.Errorf("disagreements lack %q:\n%s", want, strings.Join(got, "\n"))
	}
}

func TestPathMatches(t *testing.T) {
	for _, tc := range []struct {
		pattern, template string
		want              bool
	}{
		{"/v1/customers/:id", "/v1/customers/{customer}", true},
		{"/v1/customers/{id}", "/v1/customers/{customer}", true},
		{"/v1/customers/{id}", "/v1/customers/search", false},
		{"/v1/customers", "/v1/customers", true},
		{"/v1/customers/:id", "/v1/customers", false},
		{"/v1/customers/:id", "/v1/customers/search", false},
		{"/v1/customers/search", "/v1/customers/{customer}", false},
		{"/v1/charges", "/v1/refunds", false},
	} {
		if got := openapi.PathMatches(tc.pattern, tc.template); got != tc.want {
			t.Errorf("PathMatches(%q, %q) = %v", tc.pattern, tc.template, got)
		}
	}
}

// TestGoldenLifecycle derives each version of a timeline with endpoint,
// status and header ops and deprecated versions.
func TestGoldenLifecycle(t *testing.T) {
	b, err := os.ReadFile("testdata/endpoints-spec.json")
	if err != nil {
		t.Fatal(err)
	}
	tl := load(t, "../../gates/testdata/endpoints.yaml")
	for _, v := range tl.Versions().List() {
		t.Run(v.String(), func(t *testing.T) {
			r, err := openapi.DeriveResult(b, tl, v)
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Warnings) > 0 || len(r.Disagreements) > 0 {
				t.Fatalf("warnings: %q; disagreements: %v", r.Warnings, r.Disagreements)
			}
			golden.Check(t, *update, "openapi", "endpoints-"+v.String()+".json", r.JSON)
		})
	}
}
