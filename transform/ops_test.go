package transform_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/transform"
	"github.com/verso-api/verso/versions"
)

var (
	vNew  = versions.MustParse("2024-01-01")
	vBase = versions.MustParse("2020-01-01")
)

// oneOp builds a two-version timeline whose newest version made one change
// to type "thing" with the given ops.
func oneOp(t testing.TB, reg *gates.Registry, ops ...gates.Op) *transform.Engine {
	t.Helper()
	tl, err := gates.NewTimeline(gates.Spec{Versions: []gates.Version{
		{ID: vNew, Changes: []gates.Change{{
			ID: "the_change", Description: "A change.", Resources: []string{"thing"},
			Endpoints: []gates.Endpoint{{Method: "POST", Path: "/v1/things/:id"}},
			Ops:       ops,
		}}},
		{ID: vBase},
	}}, &gates.Options{Funcs: reg})
	require.NoError(t, err)
	return transform.New(tl, nil)
}

func TestOps(t *testing.T) {
	reg := gates.NewRegistry()
	require.NoError(t, reg.Register("cents", func(obj []byte) ([]byte, error) {
		var m map[string]any
		if err := json.Unmarshal(obj, &m); err != nil {
			return nil, err
		}
		if a, ok := m["amount"].(float64); ok {
			m["amount_cents"] = a
		}
		return json.Marshal(m)
	}, func(obj []byte) ([]byte, error) {
		var m map[string]any
		if err := json.Unmarshal(obj, &m); err != nil {
			return nil, err
		}
		delete(m, "amount_cents")
		return json.Marshal(m)
	}))
	tests := []struct {
		name string
		op   gates.Op
		now  string // newest schema
		was  string // what the base version returns for it
		// req is an old client's request body and up is what the handler
		// sees; empty means the same as was -> now.
		req, up string
	}{
		{
			name: "rename keeps place",
			op:   gates.Rename("balance", "account_balance"),
			now:  `{"object":"thing","balance":5,"x":1}`,
			was:  `{"object":"thing","account_balance":5,"x":1}`,
		},
		{
			name: "rename into nested object",
			op:   gates.Rename("address.city", "city"),
			now:  `{"object":"thing","address":{"city":"Paris","zip":"75001"}}`,
			was:  `{"object":"thing","address":{"zip":"75001"},"city":"Paris"}`,
			req:  `{"city":"Lyon"}`,
			up:   `{"address":{"city":"Lyon"}}`,
		},
		{
			name: "rename inside array of objects",
			op:   gates.Rename("items[].price", "items[].plan"),
			now:  `{"object":"thing","items":[{"price":"p1"},{"price":"p2","q":1},7]}`,
			was:  `{"object":"thing","items":[{"plan":"p1"},{"plan":"p2","q":1},7]}`,
		},
		{
			name: "added is dropped going back",
			op:   gates.Added("latest"),
			now:  `{"object":"thing","latest":"ch_1","id":"t_1"}`,
			was:  `{"object":"thing","id":"t_1"}`,
			req:  `{"latest":"ch_1"}`,
			up:   `{"latest":"ch_1"}`,
		},
		{
			name: "removed with default",
			op:   gates.RemovedDefault("charges", map[string]any{"object": "list", "data": []any{}}),
			now:  `{"object":"thing","id":"t_1"}`,
			was:  `{"object":"thing","id":"t_1","charges":{"data":[],"object":"list"}}`,
		},
		{
			name: "removed with default keeps a present value",
			op:   gates.RemovedDefault("charges", nil),
			now:  `{"object":"thing","charges":1}`,
			was:  `{"object":"thing","charges":1}`,
			req:  `{"charges":1,"id":"t"}`,
			up:   `{"id":"t"}`,
		},
		{
			name: "removed from another path",
			op:   gates.RemovedFrom("card", "source"),
			now:  `{"object":"thing","source":{"id":"card_1","object":"card"}}`,
			was:  `{"object":"thing","source":{"id":"card_1","object":"card"},"card":{"id":"card_1","object":"card"}}`,
			// An old client's request names the field the newer version
			// takes at from.
			req: `{"card":"tok_visa","amount":5}`,
			up:  `{"source":"tok_visa","amount":5}`,
		},
		{
			name: "removed from a nested path",
			op:   gates.RemovedFrom("card", "payment.source"),
			now:  `{"object":"thing","payment":{"source":"tok"}}`,
			was:  `{"object":"thing","payment":{"source":"tok"},"card":"tok"}`,
			req:  `{"card":"tok_visa"}`,
			up:   `{"payment":{"source":"tok_visa"}}`,
		},
		{
			name: "removed from an array element is dropped from requests",
			op:   gates.RemovedFrom("assignee", "assignees.0").WithDefault(nil),
			now:  `{"object":"thing","assignees":["a"]}`,
			was:  `{"object":"thing","assignees":["a"],"assignee":"a"}`,
			req:  `{"assignee":"b"}`,
			up:   `{}`,
		},
		{
			name: "removed from an absent path does nothing",
			op:   gates.RemovedFrom("card", "source"),
			now:  `{"object":"thing"}`,
			was:  `{"object":"thing"}`,
		},
		{
			name: "removed with custom function",
			op:   gates.RemovedCustom("amount_cents", "cents"),
			now:  `{"amount":5,"object":"thing"}`,
			was:  `{"amount":5,"amount_cents":5,"object":"thing"}`,
		},
		{
			name: "retype integer to string, beyond float64",
			op:   gates.Retype("amount", gates.Integer, gates.String),
			now:  `{"object":"thing","amount":"12345678901234567890123"}`,
			was:  `{"object":"thing","amount":12345678901234567890123}`,
		},
		{
			name: "retype negative and null",
			op:   gates.Retype("amount", gates.Integer, gates.String),
			now:  `{"object":"thing","amount":"-42","other":{"object":"thing","amount":null}}`,
			was:  `{"object":"thing","amount":-42,"other":{"object":"thing","amount":null}}`,
		},
		{
			name: "retype number to decimal string",
			op:   gates.Retype("rate", gates.Number, gates.Decimal),
			now:  `{"object":"thing","rate":"0.000012345678901234567"}`,
			was:  `{"object":"thing","rate":0.000012345678901234567}`,
		},
		{
			name: "retype nested",
			op:   gates.Retype("totals.amount", gates.Integer, gates.String),
			now:  `{"object":"thing","totals":{"amount":"7"}}`,
			was:  `{"object":"thing","totals":{"amount":7}}`,
		},
		{
			name: "enum",
			op:   gates.Enum("status", map[string]string{"succeeded": "paid"}),
			now:  `{"object":"thing","status":"succeeded"}`,
			was:  `{"object":"thing","status":"paid"}`,
		},
		{
			name: "enum leaves other values",
			op:   gates.Enum("status", map[string]string{"succeeded": "paid"}),
			now:  `{"object":"thing","status":"failed"}`,
			was:  `{"object":"thing","status":"failed"}`,
		},
		{
			name: "custom",
			op:   gates.Custom("cents"),
			now:  `{"amount":5,"object":"thing"}`,
			was:  `{"amount":5,"amount_cents":5,"object":"thing"}`,
		},
		{
			name: "behavior changes no body",
			op:   gates.Behavior(),
			now:  `{"object":"thing","amount":5}`,
			was:  `{"object":"thing","amount":5}`,
		},
		{
			name: "nest listed members",
			op:   gates.Nest("location", "city", "country"),
			now:  `{"object":"thing","id":"t","location":{"city":"Lyon","country":"FR"},"x":1}`,
			was:  `{"object":"thing","id":"t","city":"Lyon","country":"FR","x":1}`,
		},
		{
			name: "nest keeps the wrapper's other members",
			op:   gates.Nest("location", "city"),
			now:  `{"object":"thing","location":{"city":"Lyon","geo":1}}`,
			was:  `{"object":"thing","city":"Lyon","location":{"geo":1}}`,
			req:  `{"city":"Lyon","location":{"geo":1}}`,
			up:   `{"location":{"city":"Lyon","geo":1}}`,
		},
		{
			name: "nest every member but the type",
			op:   gates.Nest("meta"),
			now:  `{"object":"thing","meta":{"a":1,"b":[2]}}`,
			was:  `{"object":"thing","a":1,"b":[2]}`,
			req:  `{"a":1,"b":[2]}`,
			up:   `{"meta":{"a":1,"b":[2]}}`,
		},
		{
			name: "nest under a path, in each element",
			op:   gates.Nest("lines[].price", "amount"),
			now:  `{"object":"thing","lines":[{"id":"l1","price":{"amount":5}},{"id":"l2"}]}`,
			was:  `{"object":"thing","lines":[{"id":"l1","amount":5},{"id":"l2"}]}`,
		},
		{
			name: "nest leaves a wrapper that is not an object",
			op:   gates.Nest("location", "city"),
			now:  `{"object":"thing","location":"Lyon","city":"x"}`,
			was:  `{"object":"thing","location":"Lyon","city":"x"}`,
			req:  `{"location":"Lyon","city":"x"}`,
			up:   `{"location":"Lyon","city":"x"}`,
		},
		{
			name: "collapse to the id",
			op:   gates.Collapse("author", ""),
			now:  `{"object":"thing","author":{"id":"a_1","name":"Ann"},"n":1}`,
			was:  `{"object":"thing","author":"a_1","n":1}`,
			req:  `{"author":"a_1","n":1}`,
			up:   `{"author":{"id":"a_1"},"n":1}`,
		},
		{
			name: "collapse by another key, forward to an id field",
			op:   gates.Collapse("author", "login").WithIDField("author_login"),
			now:  `{"object":"thing","author":{"login":"ann","name":"Ann"}}`,
			was:  `{"object":"thing","author":"ann"}`,
			req:  `{"title":"t","author":"ann"}`,
			up:   `{"title":"t","author_login":"ann"}`,
		},
		{
			name: "collapse leaves other values",
			op:   gates.Collapse("author", ""),
			now:  `{"object":"thing","author":null,"other":{"object":"thing","author":{"name":"no id"}}}`,
			was:  `{"object":"thing","author":null,"other":{"object":"thing","author":{"name":"no id"}}}`,
			req:  `{"author":{"id":"a_2"},"x":null}`,
			up:   `{"author":{"id":"a_2"},"x":null}`,
		},
		{
			name: "added with a default",
			op:   gates.Added("visibility").WithDefault("public"),
			now:  `{"object":"thing","visibility":"private"}`,
			was:  `{"object":"thing"}`,
			req:  `{"title":"t"}`,
			up:   `{"title":"t","visibility":"public"}`,
		},
		{
			name: "added with a default keeps a value sent",
			op:   gates.Added("visibility").WithDefault("public"),
			now:  `{"object":"thing","visibility":"private"}`,
			was:  `{"object":"thing"}`,
			req:  `{"visibility":"private"}`,
			up:   `{"visibility":"private"}`,
		},
		{
			name: "removed from an array's first element",
			op:   gates.RemovedFrom("assignee", "assignees.0").WithDefault(nil),
			now:  `{"object":"thing","assignees":[{"login":"ann"},{"login":"bo"}]}`,
			was:  `{"object":"thing","assignees":[{"login":"ann"},{"login":"bo"}],"assignee":{"login":"ann"}}`,
			req:  `{"assignee":"ann","title":"t"}`,
			up:   `{"title":"t"}`,
		},
		{
			name: "removed from an empty array falls back to the default",
			op:   gates.RemovedFrom("assignee", "assignees.0").WithDefault(nil),
			now:  `{"object":"thing","assignees":[]}`,
			was:  `{"object":"thing","assignees":[],"assignee":null}`,
		},
		{
			name: "removed from an absent path falls back to the default",
			op:   gates.RemovedFrom("assignee", "assignees.0").WithDefault(nil),
			now:  `{"object":"thing"}`,
			was:  `{"object":"thing","assignee":null}`,
		},
		{
			name: "removed from a bracket index, deeper",
			op:   gates.RemovedFrom("second", "assignees[1].login"),
			now:  `{"object":"thing","assignees":[{"login":"ann"},{"login":"bo"}]}`,
			was:  `{"object":"thing","assignees":[{"login":"ann"},{"login":"bo"}],"second":"bo"}`,
		},
		{
			name: "removed from nested arrays",
			op:   gates.RemovedFrom("corner", "grid.1.0"),
			now:  `{"object":"thing","grid":[[1,2],[3,4]]}`,
			was:  `{"object":"thing","grid":[[1,2],[3,4]],"corner":3}`,
		},
		{
			name: "removed from an index of an object's member",
			op:   gates.RemovedFrom("zero", "metadata.0"),
			now:  `{"object":"thing","metadata":{"0":"z"}}`,
			was:  `{"object":"thing","metadata":{"0":"z"},"zero":"z"}`,
		},
		{
			name: "other types are untouched",
			op:   gates.Rename("balance", "account_balance"),
			now:  `{"object":"other","balance":5}`,
			was:  `{"object":"other","balance":5}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := oneOp(t, reg, tt.op)
			back, err := e.Back([]byte(tt.now), vBase)
			require.NoError(t, err)
			assert.JSONEq(t, tt.was, string(back), "back")
			if tt.op.Kind != gates.KindCustom && tt.op.Kind != gates.KindRemoved && tt.op.Kind != gates.KindAdded {
				assert.Equal(t, compact(t, tt.was), string(back), "key order")
			}
			// Requests: an old client's body walked forward.
			req, up := tt.req, tt.up
			if req == "" {
				req, up = tt.was, tt.now
				if tt.op.Kind == gates.KindAdded || tt.op.Kind == gates.KindRemoved || tt.op.Kind == gates.KindCustom {
					return
				}
				if tt.name == "other types are untouched" {
					up = tt.was
				}
			}
			got, err := e.Upgrade([]byte(req), vBase, "POST", "/v1/things/t_1")
			require.NoError(t, err)
			assert.JSONEq(t, up, string(got), "forward")
			// Another endpoint is not touched.
			same, err := e.Upgrade([]byte(req), vBase, "POST", "/v1/others")
			require.NoError(t, err)
			assert.Equal(t, req, string(same))
		})
	}
}

func compact(t testing.TB, s string) string {
	var m json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(s), &m))
	b, err := json.Marshal(m)
	require.NoError(t, err)
	return string(b)
}

func TestRetypeErrors(t *testing.T) {
	tests := []struct {
		name string
		op   gates.Op
		body string
		want string
	}{
		{"letters to integer", gates.Retype("amount", gates.Integer, gates.String), `{"object":"thing","amount":"12a"}`, `thing.amount: cannot convert "12a" to an integer`},
		{"fraction to integer", gates.Retype("amount", gates.Integer, gates.String), `{"object":"thing","amount":"1.5"}`, `thing.amount: cannot convert "1.5" to an integer`},
		{"bool to integer", gates.Retype("amount", gates.Integer, gates.String), `{"object":"thing","amount":true}`, `thing.amount: cannot convert a boolean to an integer`},
		{"object to number", gates.Retype("amount", gates.Number, gates.String), `{"object":"thing","amount":{"a":1}}`, `thing.amount: cannot convert an object to a number`},
		{"empty to number", gates.Retype("amount", gates.Number, gates.String), `{"object":"thing","amount":""}`, `thing.amount: cannot convert "" to a number`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := oneOp(t, nil, tt.op)
			_, err := e.Back([]byte(tt.body), vBase)
			require.Error(t, err)
			var te *transform.Error
			require.ErrorAs(t, err, &te)
			assert.Equal(t, tt.want, err.Error())
		})
	}
}

func TestRetypeExact(t *testing.T) {
	e := oneOp(t, nil, gates.Retype("amount", gates.Integer, gates.String))
	for _, digits := range []string{"0", "7", "-1", "9007199254740993", "12345678901234567890123", "-98765432109876543210987654321"} {
		back, err := e.Back([]byte(`{"object":"thing","amount":"`+digits+`"}`), vBase)
		require.NoError(t, err)
		assert.Equal(t, `{"object":"thing","amount":`+digits+`}`, string(back))
		fwd, err := e.Render(back, vBase, vNew)
		require.NoError(t, err)
		assert.Equal(t, `{"object":"thing","amount":"`+digits+`"}`, string(fwd))
	}
	// Leading zeros and an integral fraction are made canonical.
	back, err := e.Back([]byte(`{"object":"thing","amount":"007.00"}`), vBase)
	require.NoError(t, err)
	assert.Equal(t, `{"object":"thing","amount":7}`, string(back))
}

func TestFindsObjectsAtAnyDepth(t *testing.T) {
	e := oneOp(t, nil, gates.Rename("balance", "account_balance"))
	tests := []struct{ name, in, want string }{
		{"list data", `{"object":"list","data":[{"object":"thing","balance":1},{"object":"thing","balance":2}],"has_more":false}`,
			`{"object":"list","data":[{"object":"thing","account_balance":1},{"object":"thing","account_balance":2}],"has_more":false}`},
		{"expanded sub-object", `{"object":"charge","customer":{"balance":3,"object":"thing"}}`,
			`{"object":"charge","customer":{"account_balance":3,"object":"thing"}}`},
		{"event data.object and previous_attributes", `{"object":"event","data":{"object":{"object":"thing","balance":4},"previous_attributes":{"balance":3}}}`,
			`{"object":"event","data":{"object":{"object":"thing","account_balance":4},"previous_attributes":{"account_balance":3}}}`},
		{"top-level array", `[{"object":"thing","balance":1},{"balance":2}]`, `[{"object":"thing","account_balance":1},{"balance":2}]`},
		{"nested typed in typed", `{"object":"thing","balance":1,"child":{"object":"thing","balance":2}}`,
			`{"object":"thing","account_balance":1,"child":{"object":"thing","account_balance":2}}`},
		{"object key after fields", `{"balance":1,"object":"thing"}`, `{"account_balance":1,"object":"thing"}`},
		{"object field not a string", `{"object":{"balance":1},"balance":2}`, `{"object":{"balance":1},"balance":2}`},
		{"scalar document", `42`, `42`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := e.Back([]byte(tt.in), vBase)
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(out))
		})
	}
}

func TestPreviousAttributesArePartial(t *testing.T) {
	e := oneOp(t, nil, gates.RemovedDefault("charges", nil), gates.Rename("balance", "account_balance"))
	in := `{"object":"event","data":{"object":{"object":"thing","balance":4},"previous_attributes":{"balance":3}}}`
	out, err := e.Back([]byte(in), vBase)
	require.NoError(t, err)
	assert.Equal(t, `{"object":"event","data":{"object":{"object":"thing","account_balance":4,"charges":null},"previous_attributes":{"account_balance":3}}}`, string(out))
}

func TestWhitespaceKept(t *testing.T) {
	e := oneOp(t, nil, gates.Rename("balance", "account_balance"), gates.Added("latest"))
	in := "{\n  \"object\": \"thing\",\n  \"balance\": 5,\n  \"note\" :\t\"a b\",\n  \"latest\": null\n}\n"
	out, err := e.Back([]byte(in), vBase)
	require.NoError(t, err)
	assert.Equal(t, "{\n  \"object\": \"thing\",\n  \"account_balance\": 5,\n  \"note\" :\t\"a b\"\n}\n", string(out))
}

func TestUntouchedBodyIsReturnedAsIs(t *testing.T) {
	e := oneOp(t, nil, gates.Rename("balance", "account_balance"))
	in := []byte(`{"object":"other","data":[1,2,{"x":"y"}]}`)
	out, err := e.Back(in, vBase)
	require.NoError(t, err)
	assert.Equal(t, &in[0], &out[0], "no copy when nothing changes")
	same, err := e.Back(in, vNew)
	require.NoError(t, err)
	assert.Equal(t, string(in), string(same))
}

func TestMalformed(t *testing.T) {
	e := oneOp(t, nil, gates.Rename("balance", "account_balance"))
	deep := make([]byte, 0, 2000)
	for i := 0; i < 1000; i++ {
		deep = append(deep, '[')
	}
	for i := 0; i < 1000; i++ {
		deep = append(deep, ']')
	}
	for _, in := range []string{``, ` `, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `[1,]`, `{"a":tru}`, `"abc`, `{"a":"\x"}`, `01`, `1.`, `-`, `{} {}`, "\"a\x01\"", `{"object":"thing","balance":1`} {
		_, err := e.Back([]byte(in), vBase)
		require.ErrorIs(t, err, transform.ErrSyntax, "%q", in)
	}
	_, err := e.Back(deep, vBase)
	require.ErrorIs(t, err, transform.ErrTooDeep)
	_, err = e.Back([]byte(`{}`), versions.MustParse("2021-01-01"))
	require.ErrorIs(t, err, versions.ErrUnknownVersion)
}

func TestRenderForwardResponses(t *testing.T) {
	e := oneOp(t, nil, gates.Rename("balance", "account_balance"), gates.Retype("amount", gates.Integer, gates.String))
	out, err := e.Render([]byte(`{"object":"thing","account_balance":5,"amount":10}`), vBase, vNew)
	require.NoError(t, err)
	assert.Equal(t, `{"object":"thing","balance":5,"amount":"10"}`, string(out))
}

func TestCustomFunctionErrors(t *testing.T) {
	reg := gates.NewRegistry()
	require.NoError(t, reg.Register("bad", func([]byte) ([]byte, error) { return []byte(`{"a":`), nil }, nil))
	require.NoError(t, reg.Register("array", func([]byte) ([]byte, error) { return []byte(`[1]`), nil }, nil))
	for _, name := range []string{"bad", "array"} {
		e := oneOp(t, reg, gates.Custom(name))
		_, err := e.Back([]byte(`{"object":"thing"}`), vBase)
		require.Error(t, err)
	}
}
