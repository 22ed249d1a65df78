package transform_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/tools/txtar"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/transform"
	"github.com/verso-api/verso/versions"
)

// usersEngine is the engine of ../testdata/users.yaml, an API whose
// objects have no type field.
func usersEngine(t testing.TB) *transform.Engine {
	t.Helper()
	tl, err := gates.LoadFile("../testdata/users.yaml", nil)
	require.NoError(t, err)
	return transform.New(tl, nil)
}

// TestGoldenEndpoints renders the response of each
// ../testdata/golden/users/*.txtar (its comment's first line is "METHOD
// PATH STATUS") at every version of ../testdata/users.yaml with
// ResponsePlan and compares with the file's VERSION.json sections (run
// with -update to rewrite them). Each rendering walked forward again gives
// back the input: forward(back(x)) == x.
func TestGoldenEndpoints(t *testing.T) {
	e := usersEngine(t)
	newest := e.Timeline().Newest()
	files, err := filepath.Glob("../testdata/golden/users/*.txtar")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(file)
			require.NoError(t, err)
			first, _, _ := strings.Cut(string(ar.Comment), "\n")
			f := strings.Fields(first)
			require.Len(t, f, 3, "the comment starts with METHOD PATH STATUS")
			method, path := f[0], f[1]
			status, err := strconv.Atoi(f[2])
			require.NoError(t, err)
			want := map[string][]byte{}
			var input []byte
			for _, f := range ar.Files {
				if f.Name == "input.json" {
					input = f.Data
				} else {
					want[f.Name] = f.Data
				}
			}
			require.NotNil(t, input, "no input.json")
			out := &txtar.Archive{Comment: ar.Comment, Files: []txtar.File{{Name: "input.json", Data: input}}}
			for _, v := range e.Timeline().Versions().List() {
				got := walkResponse(t, e, newest, v, method, path, status, input)
				require.True(t, json.Valid(got), "%s: output is not valid JSON", v)
				again := walkResponse(t, e, v, newest, method, path, status, got)
				assert.Equal(t, string(input), string(again), "forward(back(x)) at %s", v)
				name := v.String() + ".json"
				out.Files = append(out.Files, txtar.File{Name: name, Data: got})
				if !*update {
					require.Contains(t, want, name, "missing section; run go test ./transform -update")
					assert.Equal(t, string(want[name]), string(got), "%s at %s", file, v)
				}
			}
			if *update {
				require.NoError(t, os.WriteFile(file, txtar.Format(out), 0o644))
			}
		})
	}
}

// walkResponse walks body as the middleware does: the plan for the
// endpoint, then the one for the status; no plan leaves it as it is.
func walkResponse(t *testing.T, e *transform.Engine, from, to versions.Version, method, path string, status int, body []byte) []byte {
	t.Helper()
	p, err := e.ResponsePlan(from, to, method, path)
	require.NoError(t, err)
	sp := p.ForStatus(status)
	if sp == nil {
		return body
	}
	out, err := sp.Apply(body)
	require.NoError(t, err)
	return out
}

func TestResponsePlan(t *testing.T) {
	e := usersEngine(t)
	v := versions.MustParse
	newest := e.Timeline().Newest()
	tests := []struct {
		name          string
		to            string
		method, path  string
		nilPlan       bool // nothing applies whatever the status
		ok, err, errs bool // ForStatus(200) and ForStatus(404) are not nil
	}{
		{name: "newest", to: "2024-06-01", method: "GET", path: "/v1/users/u_1", nilPlan: true},
		{name: "named endpoint", to: "2024-01-01", method: "GET", path: "/v1/users/u_1", ok: true},
		{name: "named endpoint, :id template", to: "2024-01-01", method: "POST", path: "/v1/users/u_1", ok: true},
		{name: "other method", to: "2024-01-01", method: "DELETE", path: "/v1/users/u_1", nilPlan: true},
		{name: "other endpoint", to: "2024-01-01", method: "GET", path: "/v1/teams/t_1", nilPlan: true},
		{name: "other endpoint, error ops", to: "2023-01-01", method: "GET", path: "/v1/teams/t_1", errs: true},
		{name: "named endpoint, error ops", to: "2023-01-01", method: "GET", path: "/v1/users", ok: true, errs: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := e.ResponsePlan(newest, v(tt.to), tt.method, tt.path)
			require.NoError(t, err)
			if tt.nilPlan {
				assert.Nil(t, p)
				return
			}
			require.NotNil(t, p)
			assert.Equal(t, tt.ok, p.ForStatus(200) != nil, "ForStatus(200)")
			assert.Equal(t, tt.errs, p.ForStatus(404) != nil, "ForStatus(404)")
			again, err := e.ResponsePlan(newest, v(tt.to), tt.method, tt.path)
			require.NoError(t, err)
			assert.Same(t, p, again, "cached")
		})
	}
	_, err := e.ResponsePlan(newest, v("2020-01-01"), "GET", "/")
	require.ErrorIs(t, err, versions.ErrUnknownVersion)

	// The pair's plan (no endpoint) knows nothing of endpoint ops but
	// walks error bodies.
	p, err := e.Plan(newest, v("2023-01-01"))
	require.NoError(t, err)
	assert.True(t, p.Empty())
	assert.Nil(t, p.ForStatus(200))
	out, err := p.ForStatus(404).Apply([]byte(`{"error":{"code":"resource_missing"}}`))
	require.NoError(t, err)
	assert.Equal(t, `{"error":{"code":"not_found"}}`, string(out))
}

func TestResponsePlanAllocs(t *testing.T) {
	e := usersEngine(t)
	newest, base := e.Timeline().Newest(), e.Timeline().Versions().Base()
	for _, path := range []string{"/v1/users/u_1", "/v1/teams/t_1"} {
		if _, err := e.ResponsePlan(newest, base, "GET", path); err != nil {
			t.Fatal(err)
		}
		n := testing.AllocsPerRun(100, func() {
			if _, err := e.ResponsePlan(newest, base, "GET", path); err != nil {
				panic(err)
			}
		})
		assert.Zero(t, n, "ResponsePlan %s allocates once cached", path)
	}
	body := []byte(`{"id":"t_1","name":"x"}`)
	n := testing.AllocsPerRun(100, func() {
		if _, err := e.Upgrade(body, base, "POST", "/v1/teams"); err != nil {
			panic(err)
		}
	})
	assert.Zero(t, n, "Upgrade on an endpoint no change names allocates")
}

// TestPlansConcurrent compiles and reads the route caches from many
// goroutines (run with -race).
func TestPlansConcurrent(t *testing.T) {
	e := usersEngine(t)
	newest := e.Timeline().Newest()
	vs := e.Timeline().Versions().List()
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				v := vs[(g+i)%len(vs)]
				path := []string{"/v1/users", "/v1/users/u_" + strconv.Itoa(i), "/v1/teams/t_1"}[i%3]
				p, err := e.ResponsePlan(newest, v, "GET", path)
				if err != nil {
					t.Error(err)
					return
				}
				if sp := p.ForStatus(200); sp != nil {
					if _, err := sp.Apply([]byte(`{"full_name":"A","age":"1"}`)); err != nil {
						t.Error(err)
					}
				}
				if _, err := e.Upgrade([]byte(`{"name":"A","age":1}`), v, "POST", "/v1/users"); err != nil && v != newest {
					var pe *transform.ParamError
					if !errors.As(err, &pe) {
						t.Error(err)
					}
				}
			}
		}()
	}
	wg.Wait()
}

func TestTypeField(t *testing.T) {
	y := "type_field: kind\nversions:\n  - version: 2024-01-01\n    changes:\n      - id: a\n        description: d\n        resources: [user]\n        ops:\n          - rename: {field: full_name, was: name}\n  - version: 2023-01-01\n"
	tl, err := gates.Load("t.yaml", []byte(y), nil)
	require.NoError(t, err)
	base := versions.MustParse("2023-01-01")
	tests := []struct {
		name      string
		opts      *transform.Options
		body, out string
	}{
		{"timeline's field", nil, `{"kind":"user","full_name":"A","object":"x"}`, `{"kind":"user","name":"A","object":"x"}`},
		{"nested, in a list", nil, `{"items":[{"kind":"user","full_name":"A"}],"owner":{"kind":"user","full_name":"B"}}`, `{"items":[{"kind":"user","name":"A"}],"owner":{"kind":"user","name":"B"}}`},
		{"object is no type field here", nil, `{"object":"user","full_name":"A"}`, `{"object":"user","full_name":"A"}`},
		{"Options override", &transform.Options{TypeField: "type"}, `{"type":"user","full_name":"A"}`, `{"type":"user","name":"A"}`},
		{"Options override, timeline's field ignored", &transform.Options{TypeField: "type"}, `{"kind":"user","full_name":"A"}`, `{"kind":"user","full_name":"A"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := transform.New(tl, tt.opts)
			out, err := e.Back([]byte(tt.body), base)
			require.NoError(t, err)
			assert.Equal(t, tt.out, string(out))
		})
	}
}

func TestUpgradeChecksOldTypes(t *testing.T) {
	e := usersEngine(t)
	v2023, v2024 := versions.MustParse("2023-01-01"), versions.MustParse("2024-01-01")
	tests := []struct {
		name         string
		v            versions.Version
		method, path string
		form         bool
		body         string
		want         string // the walked body, or
		param, got   string // the ParamError
		wantType     gates.Type
	}{
		{name: "integer", v: v2023, method: "POST", path: "/v1/users", body: `{"name":"Bo","age":30}`, want: `{"full_name":"Bo","age":"30"}`},
		{name: "null", v: v2023, method: "POST", path: "/v1/users", body: `{"name":"Bo","age":null}`, want: `{"full_name":"Bo","age":null}`},
		{name: "word", v: v2023, method: "POST", path: "/v1/users", body: `{"name":"Bo","age":"seven"}`, param: "age", got: `"seven"`, wantType: gates.Integer},
		{name: "fraction", v: v2023, method: "POST", path: "/v1/users", body: `{"name":"Bo","age":7.5}`, param: "age", got: `7.5`, wantType: gates.Integer},
		{name: "new type at old version", v: v2023, method: "POST", path: "/v1/users", body: `{"name":"Bo","age":"41"}`, param: "age", got: `"41"`, wantType: gates.Integer},
		{name: "boolean", v: v2023, method: "POST", path: "/v1/users/u_1", body: `{"age":true}`, param: "age", got: `a boolean`, wantType: gates.Integer},
		{name: "object", v: v2023, method: "POST", path: "/v1/users", body: `{"age":{"years":7}}`, param: "age", got: `an object`, wantType: gates.Integer},
		{name: "nested", v: v2023, method: "POST", path: "/v1/users", body: `{"address":{"zip":"1100"}}`, param: "address[zip]", got: `"1100"`, wantType: gates.Integer},
		{name: "middle version", v: v2024, method: "POST", path: "/v1/users", body: `{"full_name":"Bo","age":30}`, want: `{"full_name":"Bo","age":"30"}`},
		{name: "middle version, word", v: v2024, method: "POST", path: "/v1/users", body: `{"full_name":"Bo","age":"x"}`, param: "age", got: `"x"`, wantType: gates.Integer},
		{name: "endpoint no change names", v: v2023, method: "POST", path: "/v1/teams", body: `{"age":"x"}`, want: `{"age":"x"}`},
		{name: "form", v: v2023, method: "POST", path: "/v1/users", form: true, body: `name=Bo&age=30`, want: `full_name=Bo&age=30`},
		{name: "form word", v: v2023, method: "POST", path: "/v1/users", form: true, body: `name=Bo&age=x`, param: "age", got: `"x"`, wantType: gates.Integer},
		{name: "form fraction", v: v2023, method: "POST", path: "/v1/users", form: true, body: `age=7.5`, param: "age", got: `"7.5"`, wantType: gates.Integer},
		{name: "form nested", v: v2023, method: "POST", path: "/v1/users", form: true, body: `address[zip]=x1`, param: "address[zip]", got: `"x1"`, wantType: gates.Integer},
		{name: "query", v: v2023, method: "GET", path: "/v1/users", form: true, body: `age=forty`, param: "age", got: `"forty"`, wantType: gates.Integer},
		{name: "query integer", v: v2023, method: "GET", path: "/v1/users", form: true, body: `age=41&limit=3`, want: `age=41&limit=3`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out string
			var err error
			if tt.form {
				out, err = e.UpgradeForm(tt.body, tt.v, tt.method, tt.path)
			} else {
				var b []byte
				b, err = e.Upgrade([]byte(tt.body), tt.v, tt.method, tt.path)
				out = string(b)
			}
			if tt.param == "" {
				require.NoError(t, err)
				assert.Equal(t, tt.want, out)
				return
			}
			var pe *transform.ParamError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, transform.ParamError{Param: tt.param, Want: tt.wantType, Got: tt.got}, *pe)
			assert.Equal(t, fmt.Sprintf("%s: want an integer, got %s", tt.param, tt.got), err.Error())
		})
	}
}

// TestParamInArrays names a bad value inside arrays of objects by its
// index, as form bodies do.
func TestParamInArrays(t *testing.T) {
	tl, err := gates.NewTimeline(gates.Spec{Versions: []gates.Version{
		{ID: versions.MustParse("2024-01-01"), Changes: []gates.Change{{
			ID: "qty", Description: "d", Endpoints: []gates.Endpoint{{Method: "POST", Path: "/v1/orders"}},
			Ops: []gates.Op{gates.Retype("lines[].item.qty", gates.Integer, gates.String), gates.Retype("price", gates.Decimal, gates.Number)},
		}}},
		{ID: versions.MustParse("2023-01-01")},
	}}, nil)
	require.NoError(t, err)
	e := transform.New(tl, nil)
	base := versions.MustParse("2023-01-01")
	_, err = e.Upgrade([]byte(`{"lines":[{"item":{"qty":1}},{"item":{"qty":"2"}}]}`), base, "POST", "/v1/orders")
	var pe *transform.ParamError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "lines[1][item][qty]", pe.Param)
	_, err = e.Upgrade([]byte(`{"price":12.5}`), base, "POST", "/v1/orders")
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, transform.ParamError{Param: "price", Want: gates.Decimal, Got: "12.5"}, *pe)
	out, err := e.Upgrade([]byte(`{"price":"12.50","lines":[{"item":{"qty":3}}]}`), base, "POST", "/v1/orders")
	require.NoError(t, err)
	assert.Equal(t, `{"price":12.50,"lines":[{"item":{"qty":"3"}}]}`, string(out))
}

// FuzzWalkEndpoint walks arbitrary bytes through the users timeline's
// endpoint-scoped and error plans, back and forward, and as a JSON and a
// form request: no panic, valid output, and only syntax, form or
// conversion errors.
func FuzzWalkEndpoint(f *testing.F) {
	for _, s := range []string{
		`{"id":"u_1","full_name":"A","age":"41","address":{"zip":"1"}}`,
		`{"data":[{"full_name":"A","age":"4"},7,[1]],"data":{}}`,
		`[{"age":"1"},{"age":{"x":1}}]`,
		`{"error":{"code":"resource_missing","param":"id"}}`, `{"error":7,"code":"resource_missing"}`, `[]`, `"x"`,
		`name=Bo&age=30&address[zip]=1100`, `age=x`, `age[]=1`, `address=1&address[zip]=2`,
	} {
		f.Add([]byte(s), uint8(0))
	}
	e := usersEngine(f)
	newest := e.Timeline().Newest()
	vs := e.Timeline().Versions().List()
	paths := []string{"/v1/users", "/v1/users/u_1", "/v1/teams"}
	f.Fuzz(func(t *testing.T, body []byte, sel uint8) {
		path := paths[int(sel)%len(paths)]
		status := []int{200, 404}[int(sel>>4)%2]
		v := vs[1+int(sel>>5)%(len(vs)-1)]
		for _, pair := range [][2]versions.Version{{newest, v}, {v, newest}} {
			p, err := e.ResponsePlan(pair[0], pair[1], "GET", path)
			if err != nil {
				t.Fatal(err)
			}
			sp := p.ForStatus(status)
			if sp == nil {
				continue
			}
			out, err := sp.Apply(body)
			if err != nil {
				var te *transform.Error
				var pe *transform.ParamError
				if json.Valid(body) && e.Valid(body) == nil && !errors.As(err, &te) && !errors.As(err, &pe) {
					t.Fatalf("valid JSON refused: %v\n%s", err, body)
				}
				continue
			}
			if !json.Valid(out) {
				t.Fatalf("invalid output:\nin:  %s\nout: %s", body, out)
			}
		}
		if form, err := e.UpgradeForm(string(body), v, "POST", "/v1/users"); err != nil {
			var pe *transform.ParamError
			if !errors.Is(err, transform.ErrForm) && !errors.As(err, &pe) {
				t.Fatalf("form %q refused with %v", body, err)
			}
		} else if _, err := transform.FormToJSON(form); err != nil {
			t.Fatalf("form %q walked to %q, which does not parse: %v", body, form, err)
		}
		out, err := e.Upgrade(body, v, "POST", "/v1/users")
		if err != nil {
			var pe *transform.ParamError
			if json.Valid(body) && e.Valid(body) == nil && !errors.As(err, &pe) {
				t.Fatalf("valid JSON refused: %v\n%s", err, body)
			}
			return
		}
		if !json.Valid(out) || (!bytes.Equal(out, body) && !json.Valid(body)) {
			t.Fatalf("invalid upgrade:\nin:  %s\nout: %s", body, out)
		}
	})
}

// genUser builds a random newest-schema user of ../testdata/users.yaml,
// with fields the changes cover and fields none touches.
func genUser(r *rand.Rand) map[string]any {
	u := map[string]any{"id": fmt.Sprintf("u_%d", r.IntN(1000))}
	if r.IntN(2) == 0 {
		u["full_name"] = []string{"Ana", "Bo", ""}[r.IntN(3)]
	}
	switch r.IntN(3) {
	case 0:
		u["age"] = strconv.Itoa(r.IntN(120))
	case 1:
		u["age"] = nil
	}
	if r.IntN(2) == 0 {
		u["address"] = map[string]any{"zip": strconv.Itoa(1000 + r.IntN(9000)), "city": "Lisbon"}
	}
	if r.IntN(3) == 0 {
		u["tags"] = []any{"a", map[string]any{"age": "x"}}
	}
	return u
}

// TestRoundTripEndpoints checks forward(back(x)) == x on random bodies of
// every shape the users timeline walks: an object, a list under "data", a
// top-level array, and error bodies with and without an "error" member.
func TestRoundTripEndpoints(t *testing.T) {
	e := usersEngine(t)
	newest := e.Timeline().Newest()
	r := rand.New(rand.NewPCG(3, 4))
	changed := 0
	for i := 0; i < 300; i++ {
		var body any
		path, status := "/v1/users", 200
		switch r.IntN(5) {
		case 0:
			body, path = genUser(r), "/v1/users/u_1"
		case 1:
			body = map[string]any{"data": []any{genUser(r), genUser(r)}, "has_more": r.IntN(2) == 0}
		case 2:
			body = []any{genUser(r), genUser(r), 7}
		case 3:
			body, status = map[string]any{"error": map[string]any{"code": []string{"resource_missing", "parameter_invalid"}[r.IntN(2)], "param": "id"}}, 404
		default:
			body, status = map[string]any{"code": "resource_missing", "param": "age"}, 400
		}
		x, err := json.Marshal(body)
		require.NoError(t, err)
		for _, v := range e.Timeline().Versions().List() {
			old := walkResponse(t, e, newest, v, "GET", path, status, x)
			again := walkResponse(t, e, v, newest, "GET", path, status, old)
			require.Equal(t, string(x), string(again), "at %s (GET %s %d):\n  x=%s\nold=%s", v, path, status, x, old)
			if string(old) != string(x) {
				changed++
			}
		}
	}
	assert.Greater(t, changed, 300, "walking back changed few bodies: the test would prove little")
}
