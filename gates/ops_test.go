package gates_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/versions"
)

// opYAML is a timeline whose one change to resource x has the given ops,
// one per line, at line 9.
func opYAML(ops ...string) string {
	y := base + "  - version: 2019-10-17\n    changes:\n      - id: a\n        description: d\n        resources: [x]\n        ops:\n"
	for _, op := range ops {
		y += "          - " + op + "\n"
	}
	return y + "  - version: 2015-01-01\n"
}

func TestLoadReshapingOps(t *testing.T) {
	tests := []struct {
		name string
		op   string
		want gates.Op
	}{
		{"nest", "nest: {field: error, fields: [code, message]}", gates.Nest("error", "code", "message")},
		{"nest every member", "nest: {field: error}", gates.Nest("error")},
		{"nest short", "nest: error", gates.Nest("error")},
		{"nest nested", "nest: {field: billing.address, fields: [city]}", gates.Nest("billing.address", "city")},
		{"collapse", "collapse: {field: author}", gates.Collapse("author", "")},
		{"collapse short", "collapse: author", gates.Collapse("author", "")},
		{"collapse key and id field", "collapse: {field: post.author, key: login, id_field: author_login}", gates.Collapse("post.author", "login").WithIDField("author_login")},
		{"added with a default", `added: {field: visibility, default: public}`, gates.Added("visibility").WithDefault("public")},
		{"added with a null default", `added: {field: note, default: null}`, gates.Added("note").WithDefault(nil)},
		{"removed from an index with a default", `removed: {field: assignee, from: assignees.0, default: null}`, gates.RemovedFrom("assignee", "assignees.0").WithDefault(nil)},
		{"removed from a bracket index", `removed: {field: first, from: "lines[0].id"}`, gates.RemovedFrom("first", "lines[0].id")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tl, err := gates.Load("t.yaml", []byte(opYAML(tt.op)), nil)
			require.NoError(t, err)
			c, _ := tl.Change("a")
			require.Len(t, c.Ops, 1)
			got := c.Ops[0]
			assert.Equal(t, gates.Pos{File: "t.yaml", Line: 9, Col: 13}, got.Pos)
			got.Pos = gates.Pos{}
			assert.Equal(t, tt.want, got)
			// The same op declared in Go is valid too.
			_, err = gates.NewTimeline(gates.Spec{Versions: []gates.Version{
				{ID: versions.MustParse("2020-01-01"), Changes: []gates.Change{{ID: "a", Description: "d", Resources: []string{"x"}, Ops: []gates.Op{tt.want}}}},
				{ID: versions.MustParse("2019-01-01")},
			}}, nil)
			require.NoError(t, err)
		})
	}
}

// TestLoadReshapingOpsRefused checks that what the walk could not follow
// is refused at load, with the op's position.
func TestLoadReshapingOpsRefused(t *testing.T) {
	tests := []struct {
		name string
		op   string
		want string
	}{
		{"nest no field", "nest: {fields: [a]}", `t.yaml:9:13: a: nest: missing key "field"`},
		{"nest fields not a list", "nest: {field: error, fields: code}", `t.yaml:9:42: a: nest: fields: want a list of member names, got "code"`},
		{"nest empty fields", "nest: {field: error, fields: []}", `t.yaml:9:42: a: nest: fields: empty list (leave the key out to move every member)`},
		{"nest field is a path", "nest: {field: error, fields: [a.b]}", `t.yaml:9:13: a: nest: fields: key "a.b" has a character keys do not allow (dots, brackets, quotes, backslashes, spaces)`},
		{"nest field twice", "nest: {field: error, fields: [a, a]}", `t.yaml:9:13: a: nest: fields: "a" is listed twice`},
		{"nest wrapper in fields", "nest: {field: x.error, fields: [error]}", `t.yaml:9:13: a: nest: fields: "error" is the wrapper itself`},
		{"nest wrapper into array", "nest: {field: \"items[]\"}", `t.yaml:9:13: a: nest: field "items[]": path ends in []: name a field inside the array's objects`},
		{"nest unknown key", "nest: {field: e, members: [a]}", `t.yaml:9:30: a: nest: unknown key "members" (allowed: field, fields)`},
		{"collapse bad key", "collapse: {field: author, key: a.b}", `t.yaml:9:13: a: collapse: key: key "a.b" has a character keys do not allow (dots, brackets, quotes, backslashes, spaces)`},
		{"collapse id field is a path", "collapse: {field: author, id_field: x.author_id}", `t.yaml:9:13: a: collapse: id_field: key "x.author_id" has a character keys do not allow (dots, brackets, quotes, backslashes, spaces) (it names a member next to "author")`},
		{"collapse id field is the field", "collapse: {field: post.author, id_field: author}", `t.yaml:9:13: a: collapse: id_field and field are both "author"`},
		{"index in a rename", "rename: {field: assignees.0.login, was: assignee}", `t.yaml:9:13: a: rename: field "assignees.0.login": step "0" is an array index, which the walk follows only in a removed op's ` + "`from`" + `; write [] to step into every element of an array`},
		{"bracket index in an added", `added: {field: "lines[0].id"}`, `t.yaml:9:13: a: added: field "lines[0].id": key "lines[0]" has a character paths do not allow`},
		{"from into every element", `removed: {field: a, from: "items[].id"}`, `t.yaml:9:13: a: removed: from "items[].id": a path into every element of an array cannot be copied; pick one element by its index (items.0) or use custom`},
		{"from bad bracket", `removed: {field: a, from: "items[x].id"}`, `t.yaml:9:13: a: removed: from "items[x].id": step "items[x]" has a character paths do not allow (write an index as .0 or [0])`},
		{"from leading zero", `removed: {field: a, from: items.01}`, `t.yaml:9:13: a: removed: from "items.01": index "01" has a leading zero`},
		{"from and custom", `removed: {field: a, from: b, custom: f}`, `t.yaml:9:13: a: removed: no Go function is registered as "f" (register it on the Registry passed to the loader)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := gates.Load("t.yaml", []byte(opYAML(tt.op)), nil)
			var list gates.ErrorList
			require.ErrorAs(t, err, &list)
			assert.Equal(t, tt.want, list[0].Error())
		})
	}
	reg := gates.NewRegistry()
	require.NoError(t, reg.Register("f", func(b []byte) ([]byte, error) { return b, nil }, nil))
	_, err := gates.Load("t.yaml", []byte(opYAML(`removed: {field: a, default: 1, custom: f}`)), &gates.Options{Funcs: reg})
	require.EqualError(t, err, `t.yaml:9:13: a: removed: give one of default, from or resolve (a default may back either up) or custom (how older versions get "a" back)`)
	_, err = gates.NewTimeline(gates.Spec{Versions: []gates.Version{
		{ID: versions.MustParse("2020-01-01"), Changes: []gates.Change{{ID: "a", Description: "d", Resources: []string{"x"},
			Ops: []gates.Op{gates.Added("f").WithDefault(func() {})}}}},
		{ID: versions.MustParse("2019-01-01")},
	}}, nil)
	require.ErrorContains(t, err, `a: added: default of "f" is not a JSON value`)
}

func TestSplitFromPath(t *testing.T) {
	for in, want := range map[string][]string{
		"assignees.0":        {"assignees", "0"},
		"assignees[0]":       {"assignees", "0"},
		"a[1][2].b":          {"a", "1", "2", "b"},
		"lines[0].price.id":  {"lines", "0", "price", "id"},
		"source":             {"source"},
		"items[x].id":        {"items[x]", "id"},
		"a[0]b":              {"a[0]b"},
		"metadata.0.nothing": {"metadata", "0", "nothing"},
	} {
		assert.Equal(t, want, gates.SplitFromPath(in), in)
	}
}

func TestDescribeReshapingOps(t *testing.T) {
	tests := []struct {
		op       gates.Op
		resource string
		want     string
	}{
		{gates.Nest("error"), "error", "Error bodies are wrapped in `error`; older versions answer them flat."},
		{gates.Nest("error", "code", "message"), "error", "`code` and `message` moved into `error`; older versions have them at the top level of the error body."},
		{gates.Nest("location", "city", "zip", "country"), "post", "`city`, `zip` and `country` moved into `post.location`; older versions have them one level up."},
		{gates.Nest("meta"), "post", "Every field moved into `post.meta`; older versions have them one level up."},
		{gates.Collapse("author", ""), "post", "`post.author` is now the embedded object; older versions have its `id` there."},
		{gates.Collapse("author", "login").WithIDField("author_login"), "post", "`post.author` is now the embedded object; older versions have its `login` there. Requests send the id as `post.author_login`."},
		{gates.Added("visibility").WithDefault("public"), "post", "`post.visibility` is new (requests from older versions get `\"public\"`)."},
		{gates.RemovedFrom("assignee", "assignees.0").WithDefault(nil), "issue", "`issue.assignee` is removed; use `issue.assignees.0` (older versions return `null` when there is none)."},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.op.Describe(tt.resource))
	}
	assert.True(t, gates.KindNest.Body())
	assert.True(t, gates.KindCollapse.Body())
	assert.True(t, gates.Nest("e").Breaking())
	assert.Equal(t, []string{"a.meta", "a.x", "a.y"}, gates.Nest("a.meta", "x", "y").Fields())
	assert.Equal(t, []string{"author", "author_id"}, gates.Collapse("author", "").WithIDField("author_id").Fields())
}

func TestMovesRequests(t *testing.T) {
	for _, tc := range []struct {
		op   gates.Op
		want bool
	}{
		{gates.RemovedFrom("card", "source"), true},
		{gates.RemovedFrom("card", "payment.source"), true},
		{gates.RemovedFrom("assignee", "assignees.0"), false},
		{gates.RemovedFrom("login", "assignees[0].login"), false},
		{gates.RemovedDefault("card", nil), false},
		{gates.Rename("source", "card"), false},
	} {
		if got := tc.op.MovesRequests(); got != tc.want {
			t.Errorf("%s %s from %q: MovesRequests() = %v, want %v", tc.op.Kind, tc.op.Field, tc.op.From, got, tc.want)
		}
	}
}

// TestRetypeConversions checks every pair of types a retype may name: any
// two different types of integer, number, string and decimal convert, but
// a string and a decimal string (both text), and nothing else does.
func TestRetypeConversions(t *testing.T) {
	types := []gates.Type{gates.Integer, gates.Number, gates.String, gates.Decimal, "boolean"}
	for _, was := range types {
		for _, now := range types {
			text := func(t gates.Type) bool { return t == gates.String || t == gates.Decimal }
			want := was != now && was != "boolean" && now != "boolean" && !(text(was) && text(now))
			t.Run(string(was)+"_to_"+string(now), func(t *testing.T) {
				_, err := gates.NewTimeline(gates.Spec{Versions: []gates.Version{
					{ID: versions.MustParse("2020-01-01"), Changes: []gates.Change{{ID: "a", Description: "d", Resources: []string{"x"},
						Ops: []gates.Op{gates.Retype("amount", was, now)}}}},
					{ID: versions.MustParse("2019-01-01")},
				}}, nil)
				if want {
					assert.NoError(t, err)
					return
				}
				require.Error(t, err)
				assert.Contains(t, err.Error(), "a: retype: cannot convert between "+string(was)+" and "+string(now))
			})
		}
	}
}

func TestKindString(t *testing.T) {
	assert.Equal(t, "rename", gates.KindRename.String())
	assert.Equal(t, "collapse", gates.KindCollapse.String())
	assert.Equal(t, "Kind(0)", gates.Kind(0).String())
	assert.Equal(t, "Kind(200)", gates.Kind(200).String())
}
