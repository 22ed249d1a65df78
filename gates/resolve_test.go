package gates_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/versions"
)

func noValues(_ context.Context, refs []gates.Ref) ([]json.RawMessage, error) {
	return make([]json.RawMessage, len(refs)), nil
}

func resolverRegistry(t *testing.T, names ...string) *gates.Registry {
	t.Helper()
	reg := gates.NewRegistry()
	for _, n := range names {
		require.NoError(t, reg.RegisterResolver(n, noValues))
	}
	return reg
}

func TestLoadResolve(t *testing.T) {
	y := base + `  - version: 2022-11-15
    changes:
      - id: charge_refunds
        description: Charge no longer includes refunds.
        resources: [charge]
        ops:
          - removed: {field: refunds, resolve: charge_refunds, default: {object: list, data: []}}
      - id: pi_charges
        description: PaymentIntent no longer embeds charges.
        resources: [payment_intent]
        ops:
          - removed: {field: charges, resolve: payment_intent_charges}
  - version: 2015-01-01
`
	tl, err := gates.Load("t.yaml", []byte(y), &gates.Options{Funcs: resolverRegistry(t, "charge_refunds", "payment_intent_charges")})
	require.NoError(t, err)
	c, _ := tl.Change("charge_refunds")
	assert.Equal(t, "charge_refunds", c.Ops[0].Resolve)
	assert.Equal(t, `{"object":"list","data":[]}`, string(c.Ops[0].Default), "the default is the fallback")
	assert.Equal(t, "`charge.refunds` is removed.", c.Ops[0].Describe("charge"))
	p, _ := tl.Change("pi_charges")
	assert.Nil(t, p.Ops[0].Default)

	// The Go form is the same op.
	op := gates.RemovedResolved("refunds", "charge_refunds").WithDefault(map[string]any{"object": "list", "data": []any{}})
	assert.Equal(t, c.Ops[0].Resolve, op.Resolve)
	assert.JSONEq(t, string(c.Ops[0].Default), string(op.Default))
}

func TestLoadResolveErrors(t *testing.T) {
	change := func(ops string) string {
		return base + "  - version: 2019-10-17\n    changes:\n      - id: a\n        description: d\n        resources: [charge]\n        ops:\n" + ops + "  - version: 2015-01-01\n"
	}
	tests := []struct {
		name string
		yaml string
		want string // the first error, exactly
	}{
		{"not registered", change("          - removed: {field: refunds, resolve: charge_refunds}\n"),
			`t.yaml:9:13: a: removed: no resolver is registered as "charge_refunds" (register it with RegisterResolver on the Registry passed to the loader)`},
		{"resolve and from", change("          - removed: {field: refunds, resolve: known, from: x}\n"),
			`t.yaml:9:13: a: removed: give one of default, from or resolve (a default may back either up) or custom (how older versions get "refunds" back)`},
		{"resolve and custom", change("          - removed: {field: refunds, resolve: known, custom: f}\n"),
			`t.yaml:9:13: a: removed: no Go function is registered as "f" (register it on the Registry passed to the loader)`},
		{"inside an array", change("          - removed: {field: \"lines[].refunds\", resolve: known}\n"),
			`t.yaml:9:13: a: removed: field "lines[].refunds": a resolved field cannot be inside an array: a resolver answers once per object`},
		{"resolve not a string", change("          - removed: {field: refunds, resolve: [known]}\n"),
			`t.yaml:9:48: a: removed: resolve: want a string, got a list`},
		{"an older op inside the field", base + "  - version: 2019-10-17\n    changes:\n      - id: a\n        description: d\n        resources: [charge]\n        ops:\n          - removed: {field: refunds, resolve: known}\n" +
			"  - version: 2018-01-01\n    changes:\n      - id: b\n        description: d\n        resources: [charge]\n        ops:\n          - rename: {field: refunds.url, was: refunds.link}\n  - version: 2015-01-01\n",
			"t.yaml:16:13: b: rename: changes a field inside refunds: it applies after resolver known puts back charge.refunds (change a), whose value is spliced in once the response is walked"},
		{"an older enum of the field", base + "  - version: 2019-10-17\n    changes:\n      - id: a\n        description: d\n        resources: [charge]\n        ops:\n          - removed: {field: refunds, resolve: known}\n" +
			"  - version: 2018-01-01\n    changes:\n      - id: b\n        description: d\n        resources: [charge]\n        ops:\n          - enum: {field: refunds, was: {a: b}}\n  - version: 2015-01-01\n",
			"t.yaml:16:13: b: enum: maps the values of refunds: it applies after resolver known puts back charge.refunds (change a), whose value is spliced in once the response is walked"},
		{"an older copy from inside", base + "  - version: 2019-10-17\n    changes:\n      - id: a\n        description: d\n        resources: [charge]\n        ops:\n          - removed: {field: refunds, resolve: known}\n" +
			"  - version: 2018-01-01\n    changes:\n      - id: b\n        description: d\n        resources: [charge]\n        ops:\n          - removed: {field: refund_count, from: refunds.total_count}\n  - version: 2015-01-01\n",
			"t.yaml:16:13: b: removed: copies from inside refunds: it applies after resolver known puts back charge.refunds (change a), whose value is spliced in once the response is walked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := gates.Load("t.yaml", []byte(tt.yaml), &gates.Options{Funcs: resolverRegistry(t, "known")})
			var list gates.ErrorList
			require.ErrorAs(t, err, &list)
			assert.Equal(t, tt.want, list[0].Error())
		})
	}

	// What the walk handles is accepted: an older rename of the field,
	// or a newer op inside it, or another resource's field of that name.
	ok := base + "  - version: 2020-01-01\n    changes:\n      - id: c\n        description: d\n        resources: [charge]\n        ops:\n          - rename: {field: refunds.url, was: refunds.link}\n" +
		"  - version: 2019-10-17\n    changes:\n      - id: a\n        description: d\n        resources: [charge]\n        ops:\n          - removed: {field: refunds, resolve: known}\n" +
		"  - version: 2018-01-01\n    changes:\n      - id: b\n        description: d\n        resources: [charge]\n        ops:\n          - rename: {field: refunds, was: refund_list}\n" +
		"      - id: r\n        description: d\n        resources: [refund]\n        ops:\n          - added: {field: refunds.x}\n  - version: 2015-01-01\n"
	_, err := gates.Load("t.yaml", []byte(ok), &gates.Options{Funcs: resolverRegistry(t, "known")})
	require.NoError(t, err)
}

func TestRegisterResolver(t *testing.T) {
	reg := gates.NewRegistry()
	require.NoError(t, reg.RegisterResolver("a", noValues))
	assert.ErrorContains(t, reg.RegisterResolver("a", noValues), `register resolver "a": already registered`)
	assert.ErrorContains(t, reg.RegisterResolver("", noValues), "empty name")
	assert.ErrorContains(t, reg.RegisterResolver("b", nil), "nil function")
	require.NoError(t, reg.Register("a", func(b []byte) ([]byte, error) { return b, nil }, nil), "custom functions have names of their own")
	assert.Equal(t, []string{"a"}, reg.ResolverNames())
	_, ok := reg.LookupResolver("a")
	assert.True(t, ok)
	var none *gates.Registry
	_, ok = none.LookupResolver("a")
	assert.False(t, ok)
	assert.Nil(t, none.ResolverNames())
}

func TestStubMissingResolvers(t *testing.T) {
	y := base + "  - version: 2019-10-17\n    changes:\n      - id: a\n        description: d\n        resources: [x]\n        ops:\n          - removed: {field: f, resolve: lines}\n          - removed: {field: g, resolve: known}\n          - custom: lines\n  - version: 2015-01-01\n"
	reg := resolverRegistry(t, "known")
	tl, err := gates.Load("t.yaml", []byte(y), &gates.Options{Funcs: reg, StubMissing: true})
	require.NoError(t, err)
	assert.Equal(t, []string{"lines"}, tl.Stubbed(), "one name for the custom function and the resolver")
	stub, ok := tl.Funcs().LookupResolver("lines")
	require.True(t, ok)
	vals, err := stub(context.Background(), []gates.Ref{{Type: "x", ID: "1"}, {Type: "x", ID: "2"}})
	require.NoError(t, err)
	assert.Equal(t, []json.RawMessage{nil, nil}, vals, "a stub knows no value: the default is put back")
	_, ok = tl.Funcs().LookupResolver("known")
	assert.True(t, ok, "registered resolvers are kept")
	_, ok = reg.LookupResolver("lines")
	assert.False(t, ok, "the caller's registry is not changed")

	_, err = gates.NewTimeline(gates.Spec{Versions: []gates.Version{
		{ID: versions.MustParse("2020-01-01"), Changes: []gates.Change{{ID: "a", Description: "d", Resources: []string{"x"},
			Ops: []gates.Op{gates.RemovedResolved("f", "nope")}}}},
		{ID: versions.MustParse("2019-01-01")},
	}}, nil)
	assert.ErrorContains(t, err, `no resolver is registered as "nope"`)
}
