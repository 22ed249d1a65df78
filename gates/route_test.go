package gates_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/versions"
)

func loadEndpoints(t testing.TB) *gates.Timeline {
	t.Helper()
	tl, err := gates.LoadFile("testdata/endpoints.yaml", nil)
	require.NoError(t, err)
	return tl
}

// TestRoute checks each endpoint op at a version before it and at its
// version and after.
func TestRoute(t *testing.T) {
	tl := loadEndpoints(t)
	type want struct {
		absent       bool
		method, path string // when moved
	}
	tests := []struct {
		name, version, method, path string
		want                        want
	}{
		{"added: absent before", "2020-01-01", "GET", "/v1/teams", want{absent: true}},
		{"added: absent at base", "2015-01-01", "POST", "/v1/teams", want{absent: true}},
		{"added: HEAD as GET", "2020-01-01", "HEAD", "/v1/teams", want{absent: true}},
		{"added: present at its version", "2024-01-01", "GET", "/v1/teams", want{}},
		{"added: other method untouched", "2020-01-01", "DELETE", "/v1/teams", want{}},
		{"removed: served before", "2015-01-01", "GET", "/v1/recipients/rp_1", want{}},
		{"removed: absent at its version", "2020-01-01", "GET", "/v1/recipients/rp_1", want{absent: true}},
		{"removed: absent after", "2024-01-01", "GET", "/v1/recipients/rp_1", want{absent: true}},
		{"moved: old place sent on before", "2015-01-01", "GET", "/v1/customers/cus_1/cards", want{method: "GET", path: "/v1/customers/cus_1/sources"}},
		{"moved: POST sent on before", "2015-01-01", "POST", "/v1/customers/cus_9/cards", want{method: "POST", path: "/v1/customers/cus_9/sources"}},
		{"moved: HEAD sent on as HEAD", "2015-01-01", "HEAD", "/v1/customers/cus_1/cards", want{method: "HEAD", path: "/v1/customers/cus_1/sources"}},
		{"moved: new place absent before", "2015-01-01", "GET", "/v1/customers/cus_1/sources", want{absent: true}},
		{"moved: old place absent at its version", "2020-01-01", "GET", "/v1/customers/cus_1/cards", want{absent: true}},
		{"moved: new place at its version", "2020-01-01", "GET", "/v1/customers/cus_1/sources", want{}},
		{"moved: old place absent after", "2024-01-01", "POST", "/v1/customers/cus_1/cards", want{absent: true}},
		{"unrelated path", "2015-01-01", "GET", "/v1/charges", want{}},
		{"deeper path is another route", "2015-01-01", "GET", "/v1/customers/cus_1/cards/card_1", want{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tl.Route(versions.MustParse(tt.version), tt.method, tt.path)
			assert.Equal(t, tt.want.absent, d.Absent, "absent")
			if tt.want.path != "" {
				assert.True(t, d.Moved, "moved")
				assert.Equal(t, tt.want.method, d.Method)
				assert.Equal(t, tt.want.path, d.Path)
			} else {
				assert.False(t, d.Moved, "moved")
				assert.Equal(t, tt.method, d.Method)
				assert.Equal(t, tt.path, d.Path)
			}
		})
	}
	d := tl.Route(versions.MustParse("2001-01-01"), "GET", "/v1/teams")
	assert.Equal(t, [3]any{false, "GET", "/v1/teams"}, [3]any{d.Absent, d.Method, d.Path}, "a version off the timeline: nothing applies")
	assert.False(t, d.AdjustsResponse())
}

// TestRouteMovedTwice follows a client of the oldest version through two
// moves of the same endpoint.
func TestRouteMovedTwice(t *testing.T) {
	_, err := gates.NewTimeline(gates.Spec{Versions: []gates.Version{
		{ID: versions.MustParse("2024-01-01"), Changes: []gates.Change{{ID: "b", Description: "d", Ops: []gates.Op{
			gates.EndpointMoved("PUT /v3/users/:user", "POST /v2/accounts/:id"),
		}}}},
		{ID: versions.MustParse("2020-01-01"), Changes: []gates.Change{{ID: "a", Description: "d", Ops: []gates.Op{
			gates.EndpointMoved("POST /v2/accounts/:id", "POST /v1/users/:id"),
		}}}},
		{ID: versions.MustParse("2015-01-01")},
	}}, nil)
	require.Error(t, err, "parameters renamed across a move")
	assert.Contains(t, err.Error(), `must have the same path parameters`)

	tl, err := gates.NewTimeline(gates.Spec{Versions: []gates.Version{
		{ID: versions.MustParse("2024-01-01"), Changes: []gates.Change{{ID: "b", Description: "d", Ops: []gates.Op{
			gates.EndpointMoved("PUT /v3/users/:id", "POST /v2/accounts/:id"),
		}}}},
		{ID: versions.MustParse("2020-01-01"), Changes: []gates.Change{{ID: "a", Description: "d", Ops: []gates.Op{
			gates.EndpointMoved("POST /v2/accounts/:id", "POST /v1/users/:id"),
		}}}},
		{ID: versions.MustParse("2015-01-01")},
	}}, nil)
	require.NoError(t, err)
	for _, tt := range []struct{ version, method, path, wantMethod, wantPath string }{
		{"2015-01-01", "POST", "/v1/users/u1", "PUT", "/v3/users/u1"},
		{"2020-01-01", "POST", "/v2/accounts/u1", "PUT", "/v3/users/u1"},
		{"2024-01-01", "PUT", "/v3/users/u1", "PUT", "/v3/users/u1"},
	} {
		d := tl.Route(versions.MustParse(tt.version), tt.method, tt.path)
		assert.False(t, d.Absent, tt.version)
		assert.Equal(t, tt.wantMethod+" "+tt.wantPath, d.Method+" "+d.Path, tt.version)
	}
	for _, tt := range []struct{ version, method, path string }{
		{"2015-01-01", "POST", "/v2/accounts/u1"},
		{"2015-01-01", "PUT", "/v3/users/u1"},
		{"2020-01-01", "POST", "/v1/users/u1"},
		{"2020-01-01", "PUT", "/v3/users/u1"},
		{"2024-01-01", "POST", "/v2/accounts/u1"},
	} {
		assert.True(t, tl.Route(versions.MustParse(tt.version), tt.method, tt.path).Absent, "%s %s at %s", tt.method, tt.path, tt.version)
	}
}

// TestRouteResponse checks status and header ops: walked back for older
// versions, left alone at their version.
func TestRouteResponse(t *testing.T) {
	tl := loadEndpoints(t)
	tests := []struct {
		name, version, method, path string
		status, wantStatus          int
		header, wantHeader          http.Header
	}{
		{"status walked back", "2020-01-01", "POST", "/v1/charges", 201, 200,
			http.Header{"Request-Id": {"req_1"}, "X-Rate-Limit": {"100"}, "Content-Type": {"application/json"}},
			http.Header{"X-Request-Id": {"req_1"}, "Content-Type": {"application/json"}}},
		{"status only for its code", "2015-01-01", "POST", "/v1/charges", 402, 402,
			http.Header{}, http.Header{}},
		{"status only on its endpoints", "2015-01-01", "POST", "/v1/refunds", 201, 201,
			http.Header{"Request-Id": {"req_2"}}, http.Header{"X-Request-Id": {"req_2"}}},
		{"newest untouched", "2024-01-01", "POST", "/v1/charges", 201, 201,
			http.Header{"Request-Id": {"req_3"}, "X-Rate-Limit": {"100"}},
			http.Header{"Request-Id": {"req_3"}, "X-Rate-Limit": {"100"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tl.Route(versions.MustParse(tt.version), tt.method, tt.path)
			assert.Equal(t, tt.wantStatus, d.Status(tt.status))
			d.Header(tt.header)
			assert.Equal(t, tt.wantHeader, tt.header)
			assert.Equal(t, tt.version != "2024-01-01", d.AdjustsResponse())
		})
	}
}

// TestRouteBraces: endpoint ops written with {name} parameters route and
// rewrite like :name ones, and the two spellings name one endpoint.
func TestRouteBraces(t *testing.T) {
	tl, err := gates.NewTimeline(gates.Spec{Versions: []gates.Version{
		{ID: versions.MustParse("2024-01-01"), Changes: []gates.Change{{ID: "b", Description: "d", Ops: []gates.Op{
			gates.EndpointMoved("GET /v2/users/{user}/teams", "GET /v1/users/:user/teams"),
		}}}},
		{ID: versions.MustParse("2020-01-01"), Changes: []gates.Change{{ID: "a", Description: "d", Ops: []gates.Op{
			gates.EndpointAdded("GET /v1/users/{id}/teams"),
		}}}},
		{ID: versions.MustParse("2015-01-01")},
	}}, nil)
	require.NoError(t, err)
	d := tl.Route(versions.MustParse("2020-01-01"), "GET", "/v1/users/u_7/teams")
	assert.Equal(t, [3]any{false, true, "/v2/users/u_7/teams"}, [3]any{d.Absent, d.Moved, d.Path})
	assert.True(t, tl.Route(versions.MustParse("2015-01-01"), "GET", "/v1/users/u_7/teams").Absent)
	assert.True(t, tl.Route(versions.MustParse("2024-01-01"), "GET", "/v1/users/u_7/teams").Absent)

	_, err = gates.NewTimeline(gates.Spec{Versions: []gates.Version{
		{ID: versions.MustParse("2024-01-01"), Changes: []gates.Change{{ID: "b", Description: "d", Ops: []gates.Op{gates.EndpointAdded("GET /v1/teams/{id}")}}}},
		{ID: versions.MustParse("2020-01-01"), Changes: []gates.Change{{ID: "a", Description: "d", Ops: []gates.Op{gates.EndpointAdded("GET /v1/teams/:team")}}}},
		{ID: versions.MustParse("2015-01-01")},
	}}, nil)
	require.ErrorContains(t, err, "GET /v1/teams/{id} exists already since 2020-01-01")
}

func TestRouteStatusComposes(t *testing.T) {
	tl, err := gates.NewTimeline(gates.Spec{Versions: []gates.Version{
		{ID: versions.MustParse("2024-01-01"), Changes: []gates.Change{{ID: "b", Description: "d", Ops: []gates.Op{gates.Status(201, 200)}}}},
		{ID: versions.MustParse("2020-01-01"), Changes: []gates.Change{{ID: "a", Description: "d", Ops: []gates.Op{gates.Status(200, 202)}}}},
		{ID: versions.MustParse("2015-01-01")},
	}}, nil)
	require.NoError(t, err)
	for v, want := range map[string]int{"2024-01-01": 201, "2020-01-01": 200, "2015-01-01": 202} {
		d := tl.Route(versions.MustParse(v), "POST", "/x")
		assert.Equal(t, want, d.Status(201), v)
	}
}

func TestLifecycle(t *testing.T) {
	tl := loadEndpoints(t)
	assert.Equal(t, gates.SunsetRefuse, tl.AfterSunset())
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }

	newest := tl.Lifecycle(versions.MustParse("2024-01-01"))
	assert.False(t, newest.IsDeprecated())
	assert.False(t, newest.Refused(day("2099-01-01")))

	mid := tl.Lifecycle(versions.MustParse("2020-01-01"))
	assert.True(t, mid.IsDeprecated())
	assert.Equal(t, day("2024-01-01"), mid.Deprecated)
	assert.True(t, mid.Sunset.IsZero())
	assert.Equal(t, "2024-01-01", mid.Successor.String())
	assert.False(t, mid.Refused(day("2099-01-01")), "no sunset: never refused")

	base := tl.Lifecycle(versions.MustParse("2015-01-01"))
	assert.Equal(t, day("2021-06-30"), base.Sunset)
	assert.Equal(t, "2024-01-01", base.Successor.String(), "the oldest newer version that is not deprecated")
	assert.False(t, base.Refused(day("2021-06-29")))
	assert.True(t, base.Refused(day("2021-06-30")))
	base.Policy = gates.SunsetServe
	assert.False(t, base.Refused(day("2021-06-30")))
}

func TestLoadEndpointOps(t *testing.T) {
	tl := loadEndpoints(t)
	c, ok := tl.Change("cards_are_sources")
	require.True(t, ok)
	require.Len(t, c.Ops, 3)
	assert.Equal(t, gates.KindEndpointMoved, c.Ops[1].Kind)
	assert.Equal(t, "GET /v1/customers/:customer/sources", c.Ops[1].Endpoint.String())
	assert.Equal(t, "GET /v1/customers/:customer/cards", c.Ops[1].WasEndpoint.String())
	assert.Equal(t, 31, c.Ops[1].Pos.Line)
	assert.True(t, c.IsBreaking())
	teams, _ := tl.Change("teams")
	assert.False(t, teams.IsBreaking(), "adding endpoints breaks nobody")
	assert.Equal(t, "`GET /v1/teams` is new; older versions answer 404.", teams.Ops[0].Describe(""))
	rid, _ := tl.Change("request_id")
	assert.Equal(t, "The `X-Request-Id` response header is now `Request-Id`.", rid.Ops[0].Describe(""))
	assert.Equal(t, gates.HeaderAdded("X-Rate-Limit"), gates.Op{Kind: rid.Ops[1].Kind, Header: rid.Ops[1].Header})

	// The same timeline declared in Go routes the same way.
	gotl, err := gates.NewTimeline(gates.Spec{AfterSunset: gates.SunsetRefuse, Versions: []gates.Version{
		{ID: versions.MustParse("2024-01-01"), Changes: []gates.Change{
			{ID: "teams", Description: "d", Ops: []gates.Op{gates.EndpointAdded("GET /v1/teams"), gates.EndpointAdded("POST /v1/teams")}},
			{ID: "charge_created", Description: "d", Endpoints: []gates.Endpoint{{Method: "POST", Path: "/v1/charges"}}, Ops: []gates.Op{gates.Status(201, 200)}},
			{ID: "request_id", Description: "d", Ops: []gates.Op{gates.HeaderRename("Request-Id", "X-Request-Id"), gates.HeaderAdded("X-Rate-Limit")}},
		}},
		{ID: versions.MustParse("2020-01-01"), Deprecated: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), Changes: []gates.Change{
			{ID: "cards_are_sources", Description: "d", Ops: []gates.Op{
				gates.EndpointMoved("GET /v1/customers/:customer/sources", "GET /v1/customers/:customer/cards"),
				gates.EndpointMoved("POST /v1/customers/:customer/sources", "POST /v1/customers/:customer/cards"),
			}},
			{ID: "recipients_removed", Description: "d", Ops: []gates.Op{gates.EndpointRemoved("GET /v1/recipients/:id")}},
		}},
		{ID: versions.MustParse("2015-01-01"), Deprecated: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), Sunset: time.Date(2021, 6, 30, 0, 0, 0, 0, time.UTC)},
	}}, nil)
	require.NoError(t, err)
	for _, v := range []string{"2015-01-01", "2020-01-01", "2024-01-01"} {
		for _, r := range [][2]string{{"GET", "/v1/teams"}, {"GET", "/v1/recipients/r"}, {"GET", "/v1/customers/c/cards"}, {"POST", "/v1/customers/c/sources"}, {"POST", "/v1/charges"}} {
			a := tl.Route(versions.MustParse(v), r[0], r[1])
			b := gotl.Route(versions.MustParse(v), r[0], r[1])
			assert.Equal(t, [4]any{a.Absent, a.Moved, a.Method, a.Path}, [4]any{b.Absent, b.Moved, b.Method, b.Path}, "%s %v", v, r)
			assert.Equal(t, a.Status(201), b.Status(201))
		}
		assert.Equal(t, tl.Lifecycle(versions.MustParse(v)), gotl.Lifecycle(versions.MustParse(v)))
	}
}

func TestLoadEndpointErrors(t *testing.T) {
	const two = "  - version: 2015-01-01\n"
	change := func(ops string) string {
		return base + "  - version: 2019-10-17\n    changes:\n      - id: a\n        description: d\n        ops:\n" + ops + two
	}
	tests := []struct{ name, yaml, want string }{
		{"bad endpoint", change("          - endpoint_added: \"FETCH /v1/x\"\n"),
			`t.yaml:8:29: a: endpoint_added: endpoint: endpoint "FETCH /v1/x": unknown method "FETCH"`},
		{"any method", change("          - endpoint_removed: {endpoint: \"* /v1/x\"}\n"),
			`t.yaml:8:42: a: endpoint_removed: endpoint "* /v1/x": name one method, not *`},
		{"operation not a mapping", change("          - endpoint_removed: {endpoint: \"GET /v1/x\", operation: get}\n"),
			`t.yaml:8:66: a: endpoint_removed: operation: want a mapping (the endpoint's OpenAPI operation object), got "get"`},
		{"operation on endpoint_added", change("          - endpoint_added: {endpoint: \"GET /v1/x\", operation: {summary: s}}\n"),
			`t.yaml:8:53: a: endpoint_added: unknown key "operation" (allowed: endpoint)`},
		{"moved without was", change("          - endpoint_moved: {endpoint: \"GET /v1/x\"}\n"),
			`t.yaml:8:13: a: endpoint_moved: missing key "was"`},
		{"moved onto itself", change("          - endpoint_moved: {endpoint: \"GET /v1/x/:id\", was: \"GET /v1/x/:xid\"}\n"),
			`t.yaml:8:13: a: endpoint_moved: endpoint and was are both "GET /v1/x/:id"`},
		{"moved loses a parameter", change("          - endpoint_moved: {endpoint: \"GET /v1/x\", was: \"GET /v1/y/:id\"}\n"),
			`t.yaml:8:13: a: endpoint_moved: "GET /v1/y/:id" and "GET /v1/x" must have the same path parameters, so that a request at the old place can be sent on to the new one`},
		{"empty segment", change("          - endpoint_added: \"GET /v1//x\"\n"),
			`t.yaml:8:13: a: endpoint_added: endpoint "GET /v1//x": empty path segment`},
		{"status not a code", change("          - status: {code: 201, was: ok}\n"),
			`t.yaml:8:38: a: status: was: want an HTTP status code (100 to 599), got "ok"`},
		{"status out of range", change("          - status: {code: 2010, was: 200}\n"),
			`t.yaml:8:28: a: status: code: want an HTTP status code (100 to 599), got "2010"`},
		{"status same", change("          - status: {code: 200, was: 200}\n"),
			`t.yaml:8:13: a: status: code and was are both 200`},
		{"bad header", change("          - header_rename: {name: \"Request Id\", was: X-Request-Id}\n"),
			`t.yaml:8:13: a: header_rename: name "Request Id" is not a valid HTTP header name`},
		{"header same", change("          - header_rename: {name: request-id, was: Request-Id}\n"),
			`t.yaml:8:13: a: header_rename: name and was are both "request-id"`},
		{"added twice", base + "  - version: 2020-01-01\n    changes:\n      - {id: b, description: d, ops: [endpoint_added: \"GET /v1/x\"]}\n  - version: 2019-10-17\n    changes:\n      - {id: a, description: d, ops: [endpoint_added: \"GET /v1/x\"]}\n" + two,
			"t.yaml:5:39: b: endpoint_added: GET /v1/x exists already since 2019-10-17 (endpoint_added of change a); it must be removed in between to be added again"},
		{"removed twice", base + "  - version: 2020-01-01\n    changes:\n      - {id: b, description: d, ops: [endpoint_moved: {endpoint: \"GET /v2/x/:id\", was: \"GET /v1/x/:id\"}]}\n  - version: 2019-10-17\n    changes:\n      - {id: a, description: d, ops: [endpoint_removed: \"GET /v1/x/:xid\"]}\n" + two,
			"t.yaml:5:39: b: endpoint_moved: GET /v1/x/:id no longer exists since 2019-10-17 (endpoint_removed of change a)"},
		{"twice in one version", change("          - endpoint_added: \"GET /v1/x\"\n          - endpoint_removed: \"GET /v1/x\"\n"),
			"t.yaml:9:13: a: endpoint_removed: GET /v1/x is also changed by endpoint_added of change a in the same version"},
		{"deprecated newest", base + "  - version: 2019-10-17\n    deprecated: 2020-01-01\n" + two,
			"t.yaml:3:14: version 2019-10-17 is the newest and cannot be deprecated or sunset: there would be no version to move to"},
		{"sunset without deprecation", base + "  - version: 2019-10-17\n  - version: 2015-01-01\n    sunset: 2020-01-01\n",
			"t.yaml:4:14: version 2015-01-01 has a sunset but is not deprecated: give `deprecated` too"},
		{"sunset before deprecation", base + "  - version: 2019-10-17\n  - version: 2015-01-01\n    deprecated: 2020-01-01\n    sunset: 2019-12-31\n",
			"t.yaml:4:14: version 2015-01-01: sunset 2019-12-31 is before its deprecation 2020-01-01"},
		{"bad date", base + "  - version: 2019-10-17\n  - version: 2015-01-01\n    deprecated: 2020-02-30\n",
			`t.yaml:5:17: deprecated: date "2020-02-30": want YYYY-MM-DD or an RFC 3339 time`},
		{"bad policy", "after_sunset: drop\n" + base[7:] + "  - version: 2019-10-17\n",
			`t.yaml:1:15: after_sunset: unknown after_sunset policy "drop" (want serve or refuse)`},
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

func TestRouteAllocs(t *testing.T) {
	tl := loadEndpoints(t)
	old, newest := versions.MustParse("2015-01-01"), versions.MustParse("2024-01-01")
	h := http.Header{"Request-Id": {"req_1"}}
	n := testing.AllocsPerRun(100, func() {
		d := tl.Route(newest, "POST", "/v1/charges/ch_1/capture")
		_ = d.Status(200)
		d = tl.Route(old, "GET", "/v1/customers/cus_1/sources")
		d = tl.Route(old, "POST", "/v1/charges")
		_ = d.Status(201)
		d.Header(h)
		h["Request-Id"] = h["X-Request-Id"]
		delete(h, "X-Request-Id")
	})
	assert.Zero(t, n, "routing, status and header walk-back allocate nothing")
}

func BenchmarkRoute(b *testing.B) {
	tl := loadEndpoints(b)
	for _, bc := range []struct{ name, version, method, path string }{
		{"newest", "2024-01-01", "POST", "/v1/charges/ch_1/capture"},
		{"old", "2015-01-01", "GET", "/v1/charges/ch_1"},
		{"absent", "2015-01-01", "GET", "/v1/customers/cus_1/sources"},
		{"moved", "2015-01-01", "GET", "/v1/customers/cus_1/cards"},
	} {
		v := versions.MustParse(bc.version)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				d := tl.Route(v, bc.method, bc.path)
				_ = d.Status(200)
			}
		})
	}
}
