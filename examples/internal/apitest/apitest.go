// Package apitest is the one test every example runs: the Users API over
// real HTTP on 127.0.0.1 at every version, and each version's answers
// pinned in golden files shared by all the examples, so that net/http, chi,
// Gin and echo are seen to serve exactly the same API.
package apitest

import (
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/verso-api/verso/examples/users"
	"github.com/verso-api/verso/server/servertest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// NewHandler builds an example's handler over store.
type NewHandler func(store *users.Store) (http.Handler, error)

type call struct {
	name          string
	method, path  string
	body          string
	version       string // the Api-Version header; "" for none
	auth          string // the Authorization header; "" for none
	status        int
	served        string            // the Api-Version of the response
	want          map[string]string // gjson path -> raw JSON
	absent        []string
	errs          string // where an error's members are: "error." or "" (flat)
	wantInMessage string
}

// Run checks the example built by newHandler over real HTTP.
func Run(t *testing.T, newHandler NewHandler) {
	h, err := newHandler(users.NewStore())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	// Errors are {"error":{"code","message","param"}} from 2024-01-01 (and
	// for a version the server does not know: the newest's shape), flat
	// before (errors_nested in timeline.yaml).
	const nested, flat = "error.", ""
	calls := []call{
		{name: "newest", method: "GET", path: "/v1/users/u_1", version: "2024-06-01", status: 200, served: "2024-06-01",
			want: map[string]string{"id": `"u_1"`, "full_name": `"Ana Lima"`, "age": `"41"`}, absent: []string{"name"}},
		{name: "no header: newest", method: "GET", path: "/v1/users/u_1", status: 200, served: "2024-06-01",
			want: map[string]string{"age": `"41"`}},
		{name: "2024-01-01: age an integer", method: "GET", path: "/v1/users/u_1", version: "2024-01-01", status: 200, served: "2024-01-01",
			want: map[string]string{"full_name": `"Ana Lima"`, "age": "41"}},
		{name: "2023-01-01: name, age an integer", method: "GET", path: "/v1/users/u_1", version: "2023-01-01", status: 200, served: "2023-01-01",
			want: map[string]string{"id": `"u_1"`, "name": `"Ana Lima"`, "age": "41"}, absent: []string{"full_name"}},
		{name: "list items walked back", method: "GET", path: "/v1/users", version: "2023-01-01", status: 200, served: "2023-01-01",
			want: map[string]string{"data.0.name": `"Ana Lima"`, "data.0.age": "41", "has_more": "false"}, absent: []string{"data.0.full_name"}},
		{name: "unknown user, newest", method: "GET", path: "/v1/users/u_404", version: "2024-06-01", status: 404, served: "2024-06-01", errs: nested,
			want: map[string]string{"error.code": `"resource_missing"`, "error.param": `"id"`}, wantInMessage: "u_404"},
		{name: "unknown user, 2024-01-01", method: "GET", path: "/v1/users/u_404", version: "2024-01-01", status: 404, served: "2024-01-01", errs: nested,
			want: map[string]string{"error.code": `"resource_missing"`}},
		{name: "unknown user, 2023-01-01: flat, not_found", method: "GET", path: "/v1/users/u_404", version: "2023-01-01", status: 404, served: "2023-01-01", errs: flat,
			want: map[string]string{"code": `"not_found"`, "param": `"id"`}, absent: []string{"error"}, wantInMessage: "u_404"},
		{name: "unsupported version: the newest's shape", method: "GET", path: "/v1/users/u_1", version: "1999-01-01", status: 400, errs: nested,
			want: map[string]string{"error.code": `"api_version_invalid"`}, wantInMessage: "2024-06-01"},
		{name: "a bad age, newest: the handler names age", method: "POST", path: "/v1/users", version: "2024-06-01", body: `{"name":"Bo","age":"x"}`, status: 400, served: "2024-06-01", errs: nested,
			want: map[string]string{"error.code": `"parameter_invalid"`, "error.param": `"age"`}, wantInMessage: "age"},
		{name: "a bad age, 2024-01-01: the middleware names age", method: "POST", path: "/v1/users", version: "2024-01-01", body: `{"name":"Bo","age":"x"}`, status: 400, served: "2024-01-01", errs: nested,
			want: map[string]string{"error.code": `"parameter_invalid_integer"`, "error.param": `"age"`}, wantInMessage: "age"},
		{name: "a bad age, 2023-01-01: flat", method: "POST", path: "/v1/users", version: "2023-01-01", body: `{"name":"Bo","age":"x"}`, status: 400, served: "2023-01-01", errs: flat,
			want: map[string]string{"code": `"parameter_invalid_integer"`, "param": `"age"`}, absent: []string{"error"}, wantInMessage: "age"},
		{name: "old client sends a fractional age", method: "POST", path: "/v1/users", version: "2023-01-01", body: `{"name":"Bo","age":7.5}`, status: 400, errs: flat,
			want: map[string]string{"param": `"age"`}, wantInMessage: "age"},
		{name: "old and new name at 2023-01-01", method: "POST", path: "/v1/users", version: "2023-01-01", body: `{"name":"Bo","full_name":"Bo","age":30}`, status: 400, served: "2023-01-01", errs: flat,
			want: map[string]string{"code": `"parameters_exclusive"`, "param": `"name"`}, wantInMessage: "both name and full_name"},
		{name: "old client creates", method: "POST", path: "/v1/users", version: "2023-01-01", body: `{"name":"Bo","age":30}`, status: 201, served: "2023-01-01",
			want: map[string]string{"name": `"Bo"`, "age": "30"}, absent: []string{"full_name"}},
		{name: "new client creates", method: "POST", path: "/v1/users", version: "2024-06-01", body: `{"full_name":"Cy","age":"25"}`, status: 201, served: "2024-06-01",
			want: map[string]string{"full_name": `"Cy"`, "age": `"25"`}},
		{name: "new client sends an integer age", method: "POST", path: "/v1/users", version: "2024-06-01", body: `{"full_name":"Cy","age":25}`, status: 400, errs: nested},
		{name: "first authenticated request pins the newest", method: "GET", path: "/v1/users/u_1", auth: "Bearer acct_1", status: 200, served: "2024-06-01"},
		{name: "a pinned account keeps its version", method: "GET", path: "/v1/users/u_1", auth: "Bearer acct_1", status: 200, served: "2024-06-01",
			want: map[string]string{"age": `"41"`}},
		{name: "teams exist from 2024-01-01", method: "GET", path: "/v1/teams", version: "2024-01-01", status: 200, served: "2024-01-01",
			want: map[string]string{"data.0.id": `"t_1"`}},
		{name: "teams are 404 before, flat", method: "GET", path: "/v1/teams", version: "2023-01-01", status: 404, served: "2023-01-01", errs: flat,
			want: map[string]string{"code": `"not_found"`}, wantInMessage: "Unrecognized request URL (GET: /v1/teams)"},
		{name: "bad credentials", method: "GET", path: "/v1/users/u_1", auth: "Basic x", status: 401, errs: nested,
			want: map[string]string{"error.code": `"authentication_required"`}},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			var body io.Reader
			if c.body != "" {
				body = strings.NewReader(c.body)
			}
			req, err := http.NewRequest(c.method, srv.URL+c.path, body)
			if err != nil {
				t.Fatal(err)
			}
			if c.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			if c.version != "" {
				req.Header.Set("Api-Version", c.version)
			}
			if c.auth != "" {
				req.Header.Set("Authorization", c.auth)
			}
			res, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(res.Body)
			res.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			got := string(b)
			if res.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, c.status, got)
			}
			if !gjson.Valid(got) {
				t.Fatalf("not JSON: %q", got)
			}
			if c.served != "" && res.Header.Get("Api-Version") != c.served {
				t.Errorf("Api-Version %q, want %q", res.Header.Get("Api-Version"), c.served)
			}
			for path, want := range c.want {
				if g := gjson.Get(got, path).Raw; g != want {
					t.Errorf("%s = %s, want %s in %s", path, g, want, got)
				}
			}
			for _, path := range c.absent {
				if gjson.Get(got, path).Exists() {
					t.Errorf("%s present in %s", path, got)
				}
			}
			if c.status >= 400 {
				if gjson.Get(got, c.errs+"message").String() == "" || gjson.Get(got, c.errs+"code").String() == "" {
					t.Errorf("an error without a message or a code at %q: %s", c.errs, got)
				}
				if gjson.Get(got, "type").Exists() || gjson.Get(got, "error.type").Exists() {
					t.Errorf("the API's error shape has no type: %s", got)
				}
			}
			if c.wantInMessage != "" && !strings.Contains(gjson.Get(got, c.errs+"message").String(), c.wantInMessage) {
				t.Errorf("the message does not name %q: %s", c.wantInMessage, got)
			}
		})
	}
}

// Golden pins the answers of the example built by newHandler at every
// version, over real HTTP on 127.0.0.1, in the golden files every example
// shares (internal/apitest/testdata/versions), errors included; `go test
// ./... -update` rewrites them.
func Golden(t *testing.T, newHandler NewHandler) {
	engine, err := users.Engine()
	if err != nil {
		t.Fatal(err)
	}
	_, file, _, _ := runtime.Caller(0)
	opts := &servertest.Options{Dir: filepath.Join(filepath.Dir(file), "testdata", "versions"), Update: *update}
	for _, c := range []struct {
		name, method, path, body string
	}{
		{"get_user", "GET", "/v1/users/u_1", ""},
		{"list_users", "GET", "/v1/users", ""},
		{"missing_user", "GET", "/v1/users/u_404", ""},
		{"list_teams", "GET", "/v1/teams", ""},
		{"create_bad_age", "POST", "/v1/users", `{"name":"Bo","age":"x"}`},
		{"create_old_and_new_name", "POST", "/v1/users", `{"name":"Bo","full_name":"Bo","age":30}`},
	} {
		h, err := newHandler(users.NewStore())
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(h)
		servertest.EveryVersion(t, servertest.Remote(srv.URL, srv.Client()), engine.Timeline(), c.name, func() *http.Request {
			var body io.Reader
			if c.body != "" {
				body = strings.NewReader(c.body)
			}
			r := httptest.NewRequest(c.method, c.path, body)
			if c.body != "" {
				r.Header.Set("Content-Type", "application/json")
			}
			return r
		}, opts)
		srv.Close()
	}
	// A version the server does not know is answered in the newest's shape.
	h, err := newHandler(users.NewStore())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	req, err := http.NewRequest("GET", srv.URL+"/v1/users/u_1", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Api-Version", "1999-01-01")
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	servertest.Check(t, filepath.Join(opts.Dir, "unsupported_version.golden"),
		servertest.Render(res.StatusCode, res.Header, b, "Api-Version", nil, nil), *update)
}
