package openapi_test

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/openapi"
	"github.com/verso-api/verso/transform"
	"github.com/verso-api/verso/versions"
)

// recipients is a timeline that removes two endpoints, one of them
// carrying its operation, and moves one; the document below has none of
// them.
const recipients = `api: Recipients
versions:
  - version: 2020-01-01
    changes:
      - id: recipients_removed
        description: Recipients are removed.
        ops:
          - endpoint_removed:
              endpoint: "GET /v1/recipients/{id}"
              operation:
                operationId: RetrieveRecipient
                summary: Retrieve a recipient.
                responses:
                  "200": {description: The recipient., content: {application/json: {schema: {$ref: "#/components/schemas/recipient"}}}}
          - endpoint_removed: "DELETE /v1/recipients/{id}"
      - id: transfers_moved
        description: Transfers moved.
        ops:
          - endpoint_moved: {endpoint: "GET /v2/transfers", was: "GET /v1/transfers"}
  - version: 2019-01-01
    deprecated: 2020-01-01
    sunset: 2021-06-30
`

const recipientsSpec = `{"openapi": "3.0.3", "info": {"title": "R", "version": "2020-01-01"},
 "paths": {"/v1/customers": {"get": {"operationId": "ListCustomers", "responses": {"200": {"description": "Customers."}, "default": {"$ref": "#/components/responses/error"}}}}},
 "components": {
  "responses": {"error": {"description": "An error."}},
  "schemas": {
   "recipient": {"type": "object", "properties": {"id": {"type": "string"}, "object": {"type": "string", "enum": ["recipient"]}}},
   "customer": {"type": "object", "properties": {"id": {"type": "string"}, "object": {"type": "string", "enum": ["customer"]}, "balance": {"type": "integer"}}},
   "deleted_customer": {"type": "object", "properties": {"id": {"type": "string"}, "object": {"type": "string", "enum": ["customer"]}, "deleted": {"type": "boolean"}}}
  }}}`

// TestRemovedEndpointDocumented derives the versions of a timeline whose
// removed endpoint carries its operation: the version that serves it
// lists it, with the parameter of its path; the newer does not. The
// removed endpoint without an operation and the moved one whose new place
// the document lacks cannot be documented: Check says so.
func TestRemovedEndpointDocumented(t *testing.T) {
	tl, err := gates.Load("r.yaml", []byte(recipients), nil)
	if err != nil {
		t.Fatal(err)
	}
	old, err := openapi.DeriveResult([]byte(recipientsSpec), tl, versions.MustParse("2019-01-01"))
	if err != nil {
		t.Fatal(err)
	}
	doc := gjson.ParseBytes(old.JSON)
	get := doc.Get(`paths./v1/recipients/{id}.get`)
	if got := get.Get("operationId").String(); got != "RetrieveRecipient" {
		t.Errorf("2019-01-01: GET /v1/recipients/{id} has operationId %q, want RetrieveRecipient:\n%s", got, old.JSON)
	}
	if got := doc.Get(`paths./v1/recipients/{id}.parameters.0.name`).String(); got != "id" {
		t.Errorf("2019-01-01: the path parameter is %q, want id", got)
	}
	if doc.Get(`paths./v1/recipients/{id}.delete`).Exists() {
		t.Error("2019-01-01: DELETE /v1/recipients/{id} is listed though nothing says what it is")
	}
	var msgs []string
	for _, d := range old.Disagreements {
		msgs = append(msgs, d.String())
	}
	want := []string{
		`r.yaml:15:13: recipients_removed (2020-01-01): endpoint DELETE /v1/recipients/{id}: endpoint_removed: cannot be documented at 2019-01-01: the document has no DELETE /v1/recipients/{id} and the op carries no operation (give it one: {endpoint: ..., operation: {...}})`,
		`r.yaml:19:13: transfers_moved (2020-01-01): endpoint GET /v1/transfers: endpoint_moved: cannot be documented at 2019-01-01: the document has no GET /v2/transfers to copy it from`,
	}
	if strings.Join(msgs, "\n") != strings.Join(want, "\n") {
		t.Errorf("disagreements:\n%s\nwant\n%s", strings.Join(msgs, "\n"), strings.Join(want, "\n"))
	}
	ds, err := openapi.Check([]byte(recipientsSpec), tl, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 2 {
		t.Errorf("Check: %d disagreements, want the 2 above: %v", len(ds), ds)
	}
	newest, err := openapi.Derive([]byte(recipientsSpec), tl, versions.MustParse("2020-01-01"))
	if err != nil {
		t.Fatal(err)
	}
	if gjson.GetBytes(newest, `paths./v1/recipients/{id}`).Exists() {
		t.Errorf("2020-01-01 lists the removed endpoint:\n%s", newest)
	}
}

// TestVersionHeadersDeclared checks that every operation takes the
// version header and every response declares it, and that a deprecated
// version's responses declare Deprecation, Sunset and Link.
func TestVersionHeadersDeclared(t *testing.T) {
	tl, err := gates.Load("r.yaml", []byte(recipients), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		version    string
		deprecated bool
	}{{"2020-01-01", false}, {"2019-01-01", true}} {
		t.Run(tc.version, func(t *testing.T) {
			out, err := openapi.Derive([]byte(recipientsSpec), tl, versions.MustParse(tc.version))
			if err != nil {
				t.Fatal(err)
			}
			doc := gjson.ParseBytes(out)
			param := doc.Get("components.parameters.Stripe-Version")
			if param.Get("in").String() != "header" || param.Get("name").String() != "Stripe-Version" || param.Get("required").Bool() {
				t.Errorf("components.parameters.Stripe-Version = %s", param.Raw)
			}
			ops := 0
			doc.Get("paths").ForEach(func(path, item gjson.Result) bool {
				item.ForEach(func(method, op gjson.Result) bool {
					if method.String() == "parameters" {
						return true
					}
					ops++
					if !strings.Contains(op.Get("parameters").Raw, `"#/components/parameters/Stripe-Version"`) {
						t.Errorf("%s %s does not take the version header: %s", method, path, op.Get("parameters").Raw)
					}
					return true
				})
				return true
			})
			if ops == 0 {
				t.Fatal("no operation")
			}
			for _, resp := range []string{"paths./v1/customers.get.responses.200", "components.responses.error"} {
				h := doc.Get(resp + ".headers")
				for name, want := range map[string]bool{"Stripe-Version": true, "Deprecation": tc.deprecated, "Sunset": tc.deprecated, "Link": tc.deprecated} {
					if got := h.Get(name + `.\$ref`).String(); (got == "#/components/headers/"+name) != want {
						t.Errorf("%s: header %s: %q (want declared: %v)", resp, name, got, want)
					}
				}
			}
			if tc.deprecated {
				if got := doc.Get("components.headers.Sunset.example").String(); got != "Wed, 30 Jun 2021 00:00:00 GMT" {
					t.Errorf("Sunset example %q", got)
				}
				if got := doc.Get("components.headers.Deprecation.example").String(); got != "@1577836800" {
					t.Errorf("Deprecation example %q", got)
				}
			}
		})
	}
}

// TestVariantSchemasFollow checks that the ops of a resource apply to the
// other schemas of its type (a deleted customer), where they find what
// they name, as the engine walks such objects, without a disagreement.
func TestVariantSchemasFollow(t *testing.T) {
	y := `versions:
  - version: 2020-01-01
    changes:
      - id: c
        description: d
        resources: [customer]
        ops:
          - rename: {field: balance, was: account_balance}
          - removed: {field: cards, default: [], schema: {type: array, items: {type: string}}}
  - version: 2019-01-01
`
	tl, err := gates.Load("v.yaml", []byte(y), nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := openapi.DeriveResult([]byte(recipientsSpec), tl, versions.MustParse("2019-01-01"))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Disagreements) > 0 || len(r.Warnings) > 0 {
		t.Errorf("disagreements %v, warnings %v", r.Disagreements, r.Warnings)
	}
	doc := gjson.ParseBytes(r.JSON)
	if got := doc.Get("components.schemas.customer.properties|@keys").Raw; got != `["id","object","account_balance","cards"]` {
		t.Errorf("customer: %s", got)
	}
	if got := doc.Get("components.schemas.deleted_customer.properties|@keys").Raw; got != `["id","object","deleted","cards"]` {
		t.Errorf("deleted_customer: %s", got)
	}
	if got := doc.Get("components.schemas.deleted_customer.required|@ugly").Raw; got != `["cards"]` {
		t.Errorf("deleted_customer.required: %s (the engine always puts cards back)", got)
	}
}

// TestReferenceFindsObjects builds the reference of documents without
// x-resourceId: objects are found by a timeline resource's name or by
// their type field; a document with neither is refused, saying why.
func TestReferenceFindsObjects(t *testing.T) {
	tl, err := gates.Load("r.yaml", []byte(recipients), nil)
	if err != nil {
		t.Fatal(err)
	}
	v := versions.MustParse("2020-01-01")
	ref, err := openapi.NewReference([]byte(recipientsSpec), tl, v, openapi.Links{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, o := range ref.Objects {
		names = append(names, o.Name)
	}
	if got := strings.Join(names, " "); got != "customer recipient" {
		t.Errorf("objects %q, want customer recipient (the deleted customer is a variant)", got)
	}
	if got := len(ref.Objects[0].Fields); got != 3 {
		t.Errorf("customer has %d fields, want 3 (those of components.schemas.customer)", got)
	}
	bare := `{"openapi": "3.0.3", "info": {"title": "R", "version": "2020-01-01"}, "paths": {}, "components": {"schemas": {"thing": {"type": "object"}}}}`
	_, err = openapi.NewReference([]byte(bare), tl, v, openapi.Links{})
	if !errors.Is(err, openapi.ErrNoObjects) || !strings.Contains(err.Error(), "x-resourceId") {
		t.Errorf("a document with no object: err = %v, want ErrNoObjects saying to add x-resourceId", err)
	}
}

// TestReferenceNestsAndExamples builds a version's reference: an object's
// nested attributes are listed under it, a field holding a documented
// object links to it, and the example is the sample rendered at the
// version.
func TestReferenceNestsAndExamples(t *testing.T) {
	tl := load(t, "../../testdata/stripe.yaml")
	v := versions.MustParse("2014-12-22")
	derived, err := openapi.Derive(spec(t), tl, v)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := openapi.NewReference(derived, tl, v, openapi.Links{})
	if err != nil {
		t.Fatal(err)
	}
	sample, err := os.ReadFile("../changelog/samples/charge.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := ref.AddExamples(transform.New(tl, nil), map[string][]byte{"charge": sample, "nothing": []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	var charge *openapi.Object
	for i := range ref.Objects {
		if ref.Objects[i].Name == "charge" {
			charge = &ref.Objects[i]
		}
	}
	if charge == nil {
		t.Fatal("no charge object")
	}
	fields := map[string]openapi.Field{}
	for _, f := range charge.Fields {
		fields[f.Name] = f
	}
	var nested []string
	for _, f := range fields["billing_details"].Fields {
		nested = append(nested, f.Name)
		if f.Name == "address" {
			for _, g := range f.Fields {
				nested = append(nested, "address."+g.Name)
			}
		}
	}
	if got := strings.Join(nested, " "); got != "address address.city address.country address.line1 address.postal_code email name" {
		t.Errorf("billing_details attributes: %q", got)
	}
	if got := fields["source"].Link; got != "object-card" {
		t.Errorf("source links to %q, want object-card", got)
	}
	if got := fields["card"].Link; got != "object-card" {
		t.Errorf("card (put back at 2014-12-22) links to %q, want object-card", got)
	}
	if fields["source"].Fields != nil {
		t.Error("a documented object's attributes are repeated under the field that holds it")
	}
	for _, want := range []string{`"status": "paid"`, `"card": {`, `"amount": 1099`} {
		if !strings.Contains(charge.Example, want) {
			t.Errorf("the example at 2014-12-22 lacks %s:\n%s", want, charge.Example)
		}
	}
	var page bytes.Buffer
	if err := ref.HTML(&page); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<details class="attrs"><summary>3 attributes of <code>billing_details</code></summary>`,
		`<td class="type"><a href="#object-card">`, `<details class="example">`, `&#34;status&#34;: &#34;paid&#34;`} {
		if !strings.Contains(page.String(), want) {
			t.Errorf("the page lacks %s", want)
		}
	}
}
