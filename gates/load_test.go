package gates_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/apierror"
	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/versions"
)

func TestLoadStripeTimeline(t *testing.T) {
	tl, err := gates.LoadFile("../testdata/stripe.yaml", nil)
	require.NoError(t, err)
	assert.Equal(t, "Stripe-like Payments", tl.API())
	assert.Equal(t, "Stripe-Version", tl.Header())
	assert.Equal(t, 10, tl.Versions().Len())
	assert.Equal(t, "2024-09-30.acacia", tl.Newest().String())
	c, ok := tl.Change("customer_balance")
	require.True(t, ok)
	assert.Equal(t, []gates.Op{{Kind: gates.KindRename, Field: "balance", Was: "account_balance", Pos: c.Ops[0].Pos}}, c.Ops)
	assert.Equal(t, 71, c.Ops[0].Pos.Line)
	pi, _ := tl.Change("payment_intent_latest_charge")
	assert.JSONEq(t, `{"object":"list","data":[],"has_more":false}`, string(pi.Ops[1].Default))
	assert.Equal(t, `{"object":"list","data":[],"has_more":false}`, string(pi.Ops[1].Default), "key order kept")
	on, err := tl.Active(versions.MustParse("2023-08-16"), "payment_intent_automatic_payment_methods")
	require.NoError(t, err)
	assert.True(t, on)
	on, _ = tl.Active(versions.MustParse("2022-11-15"), "payment_intent_automatic_payment_methods")
	assert.False(t, on)
}

const base = "api: T\nversions:\n"

func TestLoadRemovedSchema(t *testing.T) {
	y := base + "  - version: 2019-10-17\n    changes:\n      - id: a\n        description: d\n        resources: [x]\n        ops:\n          - removed:\n              field: card\n              default: null\n              schema: {type: string, nullable: true, description: The card id.}\n  - version: 2015-01-01\n"
	tl, err := gates.Load("t.yaml", []byte(y), nil)
	require.NoError(t, err)
	c, _ := tl.Change("a")
	assert.Equal(t, `{"type":"string","nullable":true,"description":"The card id."}`, string(c.Ops[0].Schema), "key order kept")
	op := gates.RemovedDefault("card", nil).WithSchema(map[string]any{"type": "string"})
	assert.Equal(t, `{"type":"string"}`, string(op.Schema))
	_, err = gates.NewTimeline(gates.Spec{Versions: []gates.Version{
		{ID: versions.MustParse("2020-01-01"), Changes: []gates.Change{{ID: "a", Description: "d", Resources: []string{"x"},
			Ops: []gates.Op{gates.RemovedDefault("card", nil).WithSchema([]int{1}), gates.Added("y").WithSchema(map[string]any{})}}}},
		{ID: versions.MustParse("2019-01-01")},
	}}, nil)
	var list gates.ErrorList
	require.ErrorAs(t, err, &list)
	require.Len(t, list, 2)
	assert.Contains(t, list[0].Error(), `a: removed: schema of "card": want a mapping`)
	assert.Contains(t, list[1].Error(), `a: added: schema belongs to removed ops only`)
}

func TestLoadRemovedEndpointOperation(t *testing.T) {
	y := base + "  - version: 2019-10-17\n    changes:\n      - id: a\n        description: d\n        ops:\n          - endpoint_removed: \"GET /v1/a\"\n          - endpoint_removed:\n              endpoint: \"GET /v1/recipients/{id}\"\n              operation: {operationId: GetRecipient, summary: Retrieve a recipient., responses: {\"200\": {description: The recipient.}}}\n  - version: 2015-01-01\n"
	tl, err := gates.Load("t.yaml", []byte(y), nil)
	require.NoError(t, err)
	c, _ := tl.Change("a")
	assert.Nil(t, c.Ops[0].Operation, "the string form carries no operation")
	assert.Equal(t, "GET /v1/recipients/{id}", c.Ops[1].Endpoint.String())
	assert.Equal(t, `{"operationId":"GetRecipient","summary":"Retrieve a recipient.","responses":{"200":{"description":"The recipient."}}}`, string(c.Ops[1].Operation), "key order kept")
	op := gates.EndpointRemoved("GET /v1/a").WithOperation(map[string]any{"summary": "s"})
	assert.Equal(t, `{"summary":"s"}`, string(op.Operation))
	_, err = gates.NewTimeline(gates.Spec{Versions: []gates.Version{
		{ID: versions.MustParse("2020-01-01"), Changes: []gates.Change{{ID: "a", Description: "d", Resources: []string{"x"},
			Ops: []gates.Op{gates.EndpointRemoved("GET /v1/a").WithOperation([]int{1}), gates.Added("y").WithOperation(map[string]any{})}}}},
		{ID: versions.MustParse("2019-01-01")},
	}}, nil)
	var list gates.ErrorList
	require.ErrorAs(t, err, &list)
	require.Len(t, list, 2)
	assert.Contains(t, list[0].Error(), `a: endpoint_removed: operation of "GET /v1/a": want a mapping`)
	assert.Contains(t, list[1].Error(), `a: added: operation belongs to endpoint_removed ops only`)
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want string // the first error, exactly
	}{
		{"malformed yaml", "versions: [", "t.yaml:1:1: malformed YAML: did not find expected node content"},
		{"empty", "", "t.yaml:1:1: empty file: want a mapping with `versions`"},
		{"not a mapping", "- a\n", "t.yaml:1:1: timeline: want a mapping, got a list"},
		{"unknown top key", "apiname: x\nversions: []\n", `t.yaml:1:1: timeline: unknown key "apiname" (allowed: api, header, type_field, list_field, after_sunset, errors, versions)`},
		{"no versions key", "api: x\n", `t.yaml:1:1: missing key "versions"`},
		{"bad version", base + "  - version: 2019-13-01\n", `t.yaml:3:14: malformed version "2019-13-01": month out of range`},
		{"out of order", base + "  - version: 2015-02-18\n    changes:\n      - {id: a, description: d, resources: [x], ops: [{added: {field: f}}]}\n  - version: 2019-10-17\n",
			"t.yaml:6:14: version 2019-10-17 is listed after 2015-02-18 but is not older: list versions newest first"},
		{"duplicate version", base + "  - version: 2019-10-17\n    changes:\n      - {id: a, description: d, resources: [x], ops: [{added: {field: f}}]}\n  - version: 2019-10-17\n",
			"t.yaml:6:14: version 2019-10-17 is listed twice (first at t.yaml:3:14)"},
		{"base with changes", base + "  - version: 2019-10-17\n    changes:\n      - {id: a, description: d, resources: [x], ops: [{added: {field: f}}]}\n",
			"t.yaml:3:14: version 2019-10-17 is the base (the oldest) and cannot have changes; add an older version below it"},
		{"duplicate change id", base + "  - version: 2019-10-17\n    changes:\n      - {id: a, description: d, resources: [x], ops: [{added: {field: f}}]}\n      - {id: a, description: d, resources: [x], ops: [{added: {field: g}}]}\n  - version: 2015-01-01\n",
			"t.yaml:6:9: a: duplicate change id (first at t.yaml:5:9)"},
		{"unknown op", base + "  - version: 2019-10-17\n    changes:\n      - id: a\n        description: d\n        resources: [x]\n        ops:\n          - rname: {field: a, was: b}\n  - version: 2015-01-01\n",
			`t.yaml:9:13: a: unknown op "rname" (want rename, added, removed, retype, enum, nest, collapse, custom, behavior, endpoint_added, endpoint_removed, endpoint_moved, status, header_rename or header_added)`},
		{"missing key", base + "  - version: 2019-10-17\n    changes:\n      - id: a\n        description: d\n        resources: [x]\n        ops:\n          - rename: {field: a}\n  - version: 2015-01-01\n",
			`t.yaml:9:13: a: rename: missing key "was"`},
		{"unknown op key", base + "  - version: 2019-10-17\n    changes:\n      - id: a\n        description: d\n        resources: [x]\n        ops:\n          - rename: {field: a, was: b, to: c}\n  - version: 2015-01-01\n",
			`t.yaml:9:40: a: rename: unknown key "to" (allowed: field, was)`},
		{"collision", base + "  - version: 2019-10-17\n    changes:\n      - id: a\n        description: d\n        resources: [customer]\n        ops:\n          - rename: {field: balance, was: account_balance}\n      - id: b\n        description: d\n        resources: [customer]\n        ops:\n          - added: {field: balance}\n  - version: 2015-01-01\n",
			"t.yaml:14:13: b: added: customer.balance collides with rename balance of change a in the same version"},
		{"collision nested", base + "  - version: 2019-10-17\n    changes:\n      - id: a\n        description: d\n        resources: [customer]\n        ops:\n          - removed: {field: address, default: null}\n          - rename: {field: address.city, was: city}\n  - version: 2015-01-01\n",
			"t.yaml:10:13: a: rename: customer.address.city collides with removed address of change a in the same version"},
		{"custom not registered", base + "  - version: 2019-10-17\n    changes:\n      - id: a\n        description: d\n        resources: [x]\n        ops:\n          - custom: {func: split_name}\n  - version: 2015-01-01\n",
			`t.yaml:9:13: a: custom: no Go function is registered as "split_name" (register it on the Registry passed to the loader)`},
		{"removed schema not a mapping", base + "  - version: 2019-10-17\n    changes:\n      - id: a\n        description: d\n        resources: [x]\n        ops:\n          - removed: {field: card, default: null, schema: string}\n  - version: 2015-01-01\n",
			`t.yaml:9:59: a: removed: schema: want a mapping (the field's OpenAPI schema), got "string"`},
		{"schema on a rename", base + "  - version: 2019-10-17\n    changes:\n      - id: a\n        description: d\n        resources: [x]\n        ops:\n          - rename: {field: card, was: c, schema: {type: string}}\n  - version: 2015-01-01\n",
			`t.yaml:9:43: a: rename: unknown key "schema" (allowed: field, was)`},
		{"removed needs one source", base + "  - version: 2019-10-17\n    changes:\n      - id: a\n        description: d\n        resources: [x]\n        ops:\n          - removed: {field: card}\n  - version: 2015-01-01\n",
			`t.yaml:9:13: a: removed: give one of default, from or resolve (a default may back either up) or custom (how older versions get "card" back)`},
		{"bad retype", base + "  - version: 2019-10-17\n    changes:\n      - id: a\n        description: d\n        resources: [x]\n        ops:\n          - retype: {field: amount, was: integer, now: boolean}\n  - version: 2015-01-01\n",
			"t.yaml:9:13: a: retype: cannot convert between integer and boolean (supported: integer, number, string, decimal)"},
		{"no description", base + "  - version: 2019-10-17\n    changes:\n      - id: a\n        resources: [x]\n        ops:\n          - added: {field: f}\n  - version: 2015-01-01\n",
			`t.yaml:5:9: a: missing key "description"`},
		{"no scope", base + "  - version: 2019-10-17\n    changes:\n      - id: a\n        description: d\n        ops:\n          - added: {field: f}\n  - version: 2015-01-01\n",
			"t.yaml:5:9: a: no resources and no endpoints: the ops would apply to nothing"},
		{"bad endpoint", base + "  - version: 2019-10-17\n    changes:\n      - id: a\n        description: d\n        endpoints: [\"FETCH /v1/x\"]\n        ops:\n          - added: {field: f}\n  - version: 2015-01-01\n",
			`t.yaml:7:21: a: endpoint "FETCH /v1/x": unknown method "FETCH"`},
		{"bad second endpoint", base + "  - version: 2019-10-17\n    changes:\n      - id: a\n        description: d\n        endpoints: [\"GET /v1/x\", \"GET /v1/x/{id\"]\n        ops:\n          - added: {field: f}\n  - version: 2015-01-01\n",
			`t.yaml:7:34: a: endpoint "GET /v1/x/{id": segment "{id": write a parameter as {name} or :name, alone in its segment`},
		{"bad type_field", "type_field: a.b\nversions:\n  - version: 2015-01-01\n",
			`t.yaml:1:13: type_field: key "a.b" has a character keys do not allow (dots, brackets, quotes, backslashes, spaces)`},
		{"type_field not a string", "type_field: [kind]\nversions:\n  - version: 2015-01-01\n",
			`t.yaml:1:13: type_field: want a string, got a list`},
		{"empty list_field", "list_field: \"\"\nversions:\n  - version: 2015-01-01\n",
			`t.yaml:1:13: list_field: empty key`},
		{"collision across template spellings", base + "  - version: 2019-10-17\n    changes:\n      - id: a\n        description: d\n        endpoints: [\"GET /v1/users/{id}\"]\n        ops:\n          - rename: {field: full_name, was: name}\n      - id: b\n        description: d\n        endpoints: [\"GET /v1/users/:user\"]\n        ops:\n          - added: {field: full_name}\n  - version: 2015-01-01\n",
			"t.yaml:14:13: b: added: endpoint GET /v1/users/:user.full_name collides with rename full_name of change a in the same version"},
		{"error resource with others", base + "  - version: 2019-10-17\n    changes:\n      - id: a\n        description: d\n        resources: [error, customer]\n        ops:\n          - enum: {field: code, was: {resource_missing: not_found}}\n  - version: 2015-01-01\n",
			`t.yaml:5:9: a: resource "error" walks error bodies: declare it in a change of its own, with no other resources and no endpoints`},
		{"error resource with endpoints", base + "  - version: 2019-10-17\n    changes:\n      - id: a\n        description: d\n        resources: [error]\n        endpoints: [\"GET /v1/x\"]\n        ops:\n          - enum: {field: code, was: {resource_missing: not_found}}\n  - version: 2015-01-01\n",
			`t.yaml:5:9: a: resource "error" walks error bodies: declare it in a change of its own, with no other resources and no endpoints`},
		{"bad path", base + "  - version: 2019-10-17\n    changes:\n      - id: a\n        description: d\n        resources: [x]\n        ops:\n          - added: {field: \"a..b\"}\n  - version: 2015-01-01\n",
			`t.yaml:9:13: a: added: field "a..b": empty key in path`},
		{"rename across arrays", base + "  - version: 2019-10-17\n    changes:\n      - id: a\n        description: d\n        resources: [x]\n        ops:\n          - rename: {field: \"items[].price\", was: plan}\n  - version: 2015-01-01\n",
			`t.yaml:9:13: a: rename: "plan" and "items[].price" must step into the same arrays: moving a field into or out of an array needs a custom op`},
		{"two documents", base + "  - version: 2019-10-17\n---\na: 1\n", "t.yaml:4:1: more than one YAML document: a timeline is one document"},
		{"bad header", "header: \"Stripe Version\"\n" + "versions:\n  - version: 2019-10-17\n", `header "Stripe Version" is not a valid HTTP header name`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := gates.Load("t.yaml", []byte(tt.yaml), nil)
			require.Error(t, err)
			require.True(t, errors.Is(err, gates.ErrInvalid))
			var list gates.ErrorList
			require.ErrorAs(t, err, &list)
			assert.Equal(t, tt.want, list[0].Error())
		})
	}
}

func TestLoadReportsEveryError(t *testing.T) {
	y := base + "  - version: 2019-10-17\n    changes:\n      - id: a\n        description: d\n        resources: [x]\n        ops:\n          - rename: {field: a}\n          - retype: {field: b, was: integer}\n  - version: 2015-01-01\n"
	_, err := gates.Load("t.yaml", []byte(y), nil)
	var list gates.ErrorList
	require.ErrorAs(t, err, &list)
	require.Len(t, list, 2)
	assert.Contains(t, err.Error(), "(and 1 more errors)")
}

func TestGoDeclaredTimeline(t *testing.T) {
	reg := gates.NewRegistry()
	require.NoError(t, reg.Register("split", func(b []byte) ([]byte, error) { return b, nil }, nil))
	require.Error(t, reg.Register("split", func(b []byte) ([]byte, error) { return b, nil }, nil))
	tl, err := gates.NewTimeline(gates.Spec{API: "Acme", Versions: []gates.Version{
		{ID: versions.MustParse("2024-01-01"), Changes: []gates.Change{
			{ID: "c", Description: "d", Resources: []string{"customer"}, Ops: []gates.Op{gates.Rename("balance", "account_balance"), gates.Custom("split")}},
			{ID: "b", Description: "d", Ops: []gates.Op{gates.Behavior()}},
		}},
		{ID: versions.MustParse("2020-01-01")},
	}}, &gates.Options{Funcs: reg})
	require.NoError(t, err)
	assert.Equal(t, gates.DefaultHeader, tl.Header())

	ctx := gates.NewContext(context.Background(), tl, versions.MustParse("2020-01-01"))
	assert.False(t, gates.Active(ctx, "b"))
	ctx = gates.NewContext(context.Background(), tl, versions.MustParse("2024-01-01"))
	assert.True(t, gates.Active(ctx, "b"))
	assert.False(t, gates.Active(ctx, "nope"))
	assert.False(t, gates.Active(context.Background(), "b"))

	_, err = gates.NewTimeline(gates.Spec{Versions: []gates.Version{
		{ID: versions.MustParse("2024-01-01"), Changes: []gates.Change{{ID: "c", Description: "d", Resources: []string{"customer"}, Ops: []gates.Op{gates.Custom("missing")}}}},
		{ID: versions.MustParse("2020-01-01")},
	}}, nil)
	require.ErrorContains(t, err, `c: custom: no Go function is registered as "missing"`)
}

func TestEndpointMatch(t *testing.T) {
	tests := []struct {
		pattern, method, path string
		want                  bool
	}{
		{"POST /v1/customers/:id", "POST", "/v1/customers/cus_1", true},
		{"POST /v1/customers/:id", "GET", "/v1/customers/cus_1", false},
		{"POST /v1/customers/:id", "POST", "/v1/customers", false},
		{"POST /v1/customers/:id", "POST", "/v1/customers/cus_1/sources", false},
		{"POST /v1/customers", "POST", "/v1/customers", true},
		{"* /v1/customers", "DELETE", "/v1/customers", true},
		{"GET /v1/charges/:id/refunds/:rid", "GET", "/v1/charges/ch_1/refunds/re_2", true},
		{"GET /v1/users/{id}", "GET", "/v1/users/u_1", true},
		{"GET /v1/users/{id}", "GET", "/v1/users/", false},
		{"GET /v1/users/{id}", "GET", "/v1/users", false},
		{"GET /v1/users/{id}", "GET", "/v1/users/u_1/", true},
		{"GET /v1/users/{id}/posts/:pid", "GET", "/v1/users/u_1/posts/p_2", true},
		{"GET /v1/users/me", "GET", "/v1/users/u_1", false},
		{"GET /", "GET", "/", true},
		{"GET /", "GET", "/v1", false},
		{"GET /v1/users", "GET", "v1/users", false},
		{"GET /v1/users", "GET", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.pattern+" "+tt.method+" "+tt.path, func(t *testing.T) {
			e, err := gates.ParseEndpoint(tt.pattern)
			require.NoError(t, err)
			assert.Equal(t, tt.want, e.Match(tt.method, tt.path))
		})
	}
	e, _ := gates.ParseEndpoint("GET /v1/charges/:id/refunds/{rid}")
	assert.Equal(t, map[string]string{"id": "ch_1", "rid": "re_2"}, e.PathParams("/v1/charges/ch_1/refunds/re_2"))
	allocs := testing.AllocsPerRun(100, func() {
		if !e.Match("GET", "/v1/charges/ch_1/refunds/re_2") {
			panic("no match")
		}
	})
	assert.Zero(t, allocs, "Match allocates")
}

func TestParseEndpoint(t *testing.T) {
	tests := []struct {
		in, err string
	}{
		{"GET /v1/users/{id}", ""},
		{"GET /v1/users/:id", ""},
		{"* /v1/users", ""},
		{"GET /v1/users/{}", `segment "{}": write a parameter as {name} or :name`},
		{"GET /v1/users/x{id}", `segment "x{id}"`},
		{"GET /v1/users/{id}x", `segment "{id}x"`},
		{"GET /v1/users/{{id}}", `segment "{{id}}"`},
		{"GET /v1/users/:", `parameter ':' has no name`},
		{"GET /v1/users?x=1", `has a space, '?' or '#'`},
		{"GET v1/users", "path must start with '/'"},
		{"GET", `want "METHOD /path"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			e, err := gates.ParseEndpoint(tt.in)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.in, e.String(), "the template is kept as written")
		})
	}
}

// FuzzParseEndpoint checks that a template ParseEndpoint accepts prints
// back as it was parsed and matches the paths made by filling its
// parameters, and that Match never panics.
func FuzzParseEndpoint(f *testing.F) {
	for _, s := range []string{"GET /v1/users/{id}", "POST /v1/customers/:id", "* /", "GET /a/{b}/c/:d", "GET /{", "PUT //x"} {
		f.Add(s, "/v1/users/u_1")
	}
	f.Fuzz(func(t *testing.T, s, path string) {
		e, err := gates.ParseEndpoint(s)
		_ = gates.Endpoint{Method: "GET", Path: s}.Match("GET", path)
		if err != nil {
			return
		}
		again, err := gates.ParseEndpoint(e.String())
		if err != nil || again != e {
			t.Fatalf("%q parses as %+v, which prints as %q and parses as %+v, %v", s, e, e.String(), again, err)
		}
		segs := strings.Split(e.Path, "/")
		for i, seg := range segs {
			if gates.IsParam(seg) {
				segs[i] = "x"
			}
		}
		concrete := strings.Join(segs, "/")
		method := e.Method
		if method == "*" {
			method = "PATCH"
		}
		if !e.Match(method, concrete) {
			t.Fatalf("%q does not match %q", s, concrete)
		}
	})
}

func TestTypeAndListField(t *testing.T) {
	tl, err := gates.Load("t.yaml", []byte("type_field: kind\nlist_field: items\nversions:\n  - version: 2015-01-01\n"), nil)
	require.NoError(t, err)
	assert.Equal(t, "kind", tl.TypeField())
	assert.Equal(t, "items", tl.ListField())
	tl, err = gates.Load("t.yaml", []byte("versions:\n  - version: 2015-01-01\n"), nil)
	require.NoError(t, err)
	assert.Equal(t, gates.DefaultTypeField, tl.TypeField())
	assert.Equal(t, gates.DefaultListField, tl.ListField())
	_, err = gates.NewTimeline(gates.Spec{TypeField: "a b", Versions: []gates.Version{{ID: versions.MustParse("2015-01-01")}}}, nil)
	require.ErrorContains(t, err, `type_field: key "a b" has a character`)
}

func FuzzLoad(f *testing.F) {
	f.Add([]byte(base + "  - version: 2019-10-17\n    changes:\n      - {id: a, description: d, resources: [x], ops: [{rename: {field: a, was: b}}]}\n  - version: 2015-01-01\n"))
	f.Add([]byte("versions: [{version: 2019-10-17}]"))
	f.Add([]byte("a: &a [*a]"))
	f.Add([]byte("after_sunset: refuse\nversions:\n  - version: 2019-10-17\n    changes:\n      - {id: a, description: d, endpoints: [\"POST /v1/x\"], ops: [{endpoint_moved: {endpoint: \"GET /v2/x/:id\", was: \"GET /v1/x/:id\"}}, {status: {code: 201, was: 200}}, {header_rename: {name: A, was: B}}, {endpoint_added: \"GET /v1/t\"}]}\n  - version: 2015-01-01\n    deprecated: 2019-01-01\n    sunset: 2020-01-01T00:00:00Z\n"))
	f.Add([]byte("versions:\n  - version: 2019-10-17\n    changes:\n      - {id: a, description: d, resources: [x], ops: [{removed: {field: a, default: {x: [1, {y: 2}]}}}]}\n  - version: 2015-01-01\n"))
	f.Add([]byte("versions:\n  - version: 2019-10-17\n    changes:\n      - {id: a, description: d, resources: [error], ops: [{nest: {field: error, fields: [code, message]}}]}\n      - {id: b, description: d, resources: [x], endpoints: [\"POST /v1/x\"], ops: [{nest: location}, {collapse: {field: author, key: id, id_field: author_id}}, {added: {field: v, default: public}}]}\n  - version: 2015-01-01\n"))
	f.Add([]byte("versions:\n  - version: 2019-10-17\n    changes:\n      - {id: a, description: d, resources: [x], ops: [{removed: {field: a, from: \"b[0].c.1\", default: null}}, {collapse: y}, {nest: {field: \"z[].w\", fields: [q]}}]}\n  - version: 2015-01-01\n"))
	f.Add([]byte("errors: {shape: problem, type_base: \"https://x.example/e/\"}\nversions: [{version: 2019-10-17}]"))
	f.Add([]byte("errors:\n  template: {error: {message: \"{message}\", kind: \"{code}\", n: \"{status}\", x: [1]}}\n  content_type: application/x+json\nversions: [{version: 2019-10-17}]"))
	f.Add([]byte("errors: {template: {e: {message: {message}}}}\nversions: [{version: 2019-10-17}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tl, err := gates.Load("f.yaml", data, nil)
		if err != nil {
			if !errors.Is(err, gates.ErrInvalid) {
				t.Fatalf("error is not an ErrorList: %v", err)
			}
			if strings.Contains(err.Error(), "\n") && !strings.Contains(string(data), "\n") {
				t.Fatalf("multi-line error: %q", err)
			}
			return
		}
		if tl.Versions().Len() == 0 {
			t.Fatal("loaded a timeline with no versions")
		}
		e := apierror.New(400, "t", "c", "m\x00\"").WithParam("p")
		if body := tl.ErrorShape().Marshal(e); !json.Valid(body) {
			t.Fatalf("the error shape writes invalid JSON: %s", body)
		}
	})
}

func mustVersion(s string) versions.Version { return versions.MustParse(s) }

func TestContextAllocs(t *testing.T) {
	tl, err := gates.LoadFile("../testdata/stripe.yaml", nil)
	require.NoError(t, err)
	v := versions.MustParse("2019-10-17")
	base := context.WithValue(context.Background(), struct{ k int }{1}, "kept")
	n := testing.AllocsPerRun(100, func() {
		ctx := gates.NewContext(base, tl, v)
		if !gates.Active(ctx, "customer_balance") {
			panic("inactive")
		}
	})
	assert.LessOrEqual(t, n, 1.0)
	ctx := gates.NewContext(base, tl, v)
	got, gt, ok := gates.FromContext(ctx)
	assert.True(t, ok)
	assert.Equal(t, v, got)
	assert.Same(t, tl, gt)
	assert.Equal(t, "kept", ctx.Value(struct{ k int }{1}), "parent values still found")
}

func TestStubMissing(t *testing.T) {
	y := base + "  - version: 2019-10-17\n    changes:\n      - id: a\n        description: d\n        resources: [x]\n        ops:\n          - custom: split_name\n          - removed: {field: f, custom: join_name}\n  - version: 2015-01-01\n"
	_, err := gates.Load("t.yaml", []byte(y), nil)
	require.ErrorContains(t, err, `no Go function is registered as "split_name"`)
	reg := gates.NewRegistry()
	require.NoError(t, reg.Register("join_name", func(b []byte) ([]byte, error) { return b, nil }, nil))
	tl, err := gates.Load("t.yaml", []byte(y), &gates.Options{Funcs: reg, StubMissing: true})
	require.NoError(t, err)
	assert.Equal(t, []string{"split_name"}, tl.Stubbed())
	_, ok := reg.Lookup("split_name")
	assert.False(t, ok, "the caller's registry is not changed")
}

func TestEndpointMatchEdges(t *testing.T) {
	e, err := gates.ParseEndpoint("GET /v1/teams/:id")
	require.NoError(t, err)
	for path, want := range map[string]bool{
		"/v1/teams/t1":    true,
		"/v1/teams/t1/":   true,
		"/v1/teams/":      false,
		"/v1/teams//":     false,
		"v1/teams/t1":     false,
		"/v1/teams/t1/x":  false,
		"/v1/teamsx/t1":   false,
		"":                false,
		"/v1/teams/t1//x": false,
	} {
		assert.Equal(t, want, e.Match("GET", path), path)
	}
}

// TestRouteMovedBraces moves an endpoint written with {id} to one written
// with :id: the parameter is the same by name, however it is written.
func TestRouteMovedBraces(t *testing.T) {
	tl, err := gates.NewTimeline(gates.Spec{Versions: []gates.Version{
		{ID: versions.MustParse("2024-01-01"), Changes: []gates.Change{{ID: "a", Description: "d", Ops: []gates.Op{
			gates.EndpointMoved("GET /v2/users/{id}/posts/:post", "GET /v1/users/:id/posts/{post}"),
		}}}},
		{ID: versions.MustParse("2015-01-01")},
	}}, nil)
	require.NoError(t, err)
	d := tl.Route(versions.MustParse("2015-01-01"), "GET", "/v1/users/u1/posts/p2")
	assert.Equal(t, "GET /v2/users/u1/posts/p2", d.Method+" "+d.Path)
	assert.True(t, tl.Route(versions.MustParse("2024-01-01"), "GET", "/v1/users/u1/posts/p2").Absent)
}

func TestTypeNoun(t *testing.T) {
	for _, tt := range []struct {
		t    gates.Type
		want string
	}{
		{gates.Integer, "an integer"},
		{gates.Number, "a number"},
		{gates.Decimal, "a decimal string"},
		{gates.String, "a string"},
	} {
		if got := tt.t.Noun(); got != tt.want {
			t.Errorf("%s.Noun() = %q, want %q", tt.t, got, tt.want)
		}
	}
}
