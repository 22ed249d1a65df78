package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestEndpointScopedCLI renders and upgrades bodies of an API whose
// changes are scoped by endpoint (../../testdata/users.yaml): --endpoint
// applies them, --status walks an error body, and when nothing in the
// timeline changed a body, standard error says so and the exit status is
// still 0.
func TestEndpointScopedCLI(t *testing.T) {
	const users = "../../testdata/users.yaml"
	user := `{"id":"u_1","full_name":"Ann","age":"41"}`
	tests := []struct {
		name        string
		stdin       string
		args        []string
		code        int
		out, stderr string // exact
	}{
		{"render without --endpoint", user, []string{"render", "-f", users, "--to", "2023-01-01"}, 0, user + "\n",
			`verso render: nothing in the timeline changed this body between 2024-06-01 and 2023-01-01; its objects were found by their "object" field, and the changes scoped by endpoint apply only with --endpoint "METHOD /path"` + "\n"},
		{"render with --endpoint", user, []string{"render", "-f", users, "--to", "2023-01-01", "--endpoint", "GET /v1/users/u_1"}, 0,
			`{"id":"u_1","name":"Ann","age":41}` + "\n", ""},
		{"render a list with --endpoint", `{"data":[` + user + `],"has_more":false}`, []string{"render", "-f", users, "--to", "2024-01-01", "--endpoint", "GET /v1/users"}, 0,
			`{"data":[{"id":"u_1","full_name":"Ann","age":41}],"has_more":false}` + "\n", ""},
		{"render an error with --status", `{"error":{"code":"resource_missing","param":"id"}}`, []string{"render", "-f", users, "--to", "2023-01-01", "--status", "404"}, 0,
			`{"error":{"code":"not_found","field":"id"}}` + "\n", ""},
		{"render on an endpoint no change names", user, []string{"render", "-f", users, "--to", "2023-01-01", "--endpoint", "GET /v1/teams/t_1"}, 0, user + "\n",
			"verso render: nothing in the timeline changed this body between 2024-06-01 and 2023-01-01 on GET /v1/teams/t_1\n"},
		{"render at the same version", user, []string{"render", "-f", users, "--to", "2024-06-01", "--endpoint", "GET /v1/users/u_1"}, 0, user + "\n",
			"verso render: nothing in the timeline changed this body between 2024-06-01 and 2024-06-01: they are the same version\n"},
		{"render bad status", user, []string{"render", "-f", users, "--to", "2023-01-01", "--status", "42"}, 2, "", "verso render: --status: want an HTTP status code (100 to 599)\n"},
		{"render bad endpoint", user, []string{"render", "-f", users, "--to", "2023-01-01", "--endpoint", "* /v1/users"}, 2, "", "verso render: --endpoint: name one method, not *\n"},
		{"upgrade with --endpoint", `{"name":"Bo","age":30}`, []string{"upgrade", "-f", users, "--from", "2023-01-01", "--endpoint", "POST /v1/users"}, 0,
			`{"full_name":"Bo","age":"30"}` + "\n", ""},
		{"upgrade on an endpoint no change names", `{"name":"Bo"}`, []string{"upgrade", "-f", users, "--from", "2023-01-01", "--endpoint", "POST /v1/teams"}, 0,
			`{"name":"Bo"}` + "\n", "verso upgrade: nothing in the timeline changed this body between 2023-01-01 and 2024-06-01 on POST /v1/teams\n"},
		{"upgrade without --endpoint", `{"name":"Bo"}`, []string{"upgrade", "-f", users, "--from", "2023-01-01"}, 0,
			`{"name":"Bo"}` + "\n", `verso upgrade: nothing in the timeline changed this body between 2023-01-01 and 2024-06-01; its objects were found by their "object" field, and the changes scoped by endpoint apply only with --endpoint "METHOD /path"` + "\n"},
		{"upgrade both names", `{"name":"Bo","full_name":"Bo"}`, []string{"upgrade", "-f", users, "--from", "2023-01-01", "--endpoint", "POST /v1/users"}, 1, "",
			"verso upgrade: name and full_name are the old and the new name of one field: send one of them\n"},
		{"upgrade a form", "name=Bo&age=30", []string{"upgrade", "-f", users, "--from", "2023-01-01", "--endpoint", "POST /v1/users"}, 0,
			"full_name=Bo&age=30\n", ""},
		{"upgrade a reshaped request", `{"title":"t","author":"u_1","city":"Lyon"}`, []string{"upgrade", "-f", "../../testdata/ops.yaml", "--from", "2023-01-01", "--endpoint", "POST /v1/issues"}, 0,
			`{"title":"t","author_id":"u_1","location":{"city":"Lyon"},"visibility":"public"}` + "\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := runCLI(t, tt.stdin, tt.args...)
			assert.Equal(t, tt.code, code, "stderr: %s", errs)
			assert.Equal(t, tt.out, out)
			if tt.code == 2 {
				// A usage error is followed by the usage.
				assert.True(t, strings.HasPrefix(errs, tt.stderr+"Usage: verso "), "stderr: %s", errs)
				return
			}
			assert.Equal(t, tt.stderr, errs)
		})
	}
}

// TestProxyCustomOp starts verso proxy on a timeline with custom ops: it
// refuses it, saying that the proxy cannot run Go functions and which
// declarative ops may do instead.
func TestProxyCustomOp(t *testing.T) {
	f := filepath.Join(t.TempDir(), "custom.yaml")
	os.WriteFile(f, []byte("versions:\n  - version: 2019-10-17\n    changes:\n      - id: author\n        description: d\n        resources: [post]\n        ops:\n          - custom: expand_author\n          - removed: {field: first, custom: first_tag}\n  - version: 2015-02-18\n"), 0o644)
	code, out, errs := runCLI(t, "", "proxy", "--upstream", "http://127.0.0.1:9", "-f", f)
	assert.Equal(t, 1, code)
	assert.Empty(t, out)
	assert.Contains(t, errs, `custom.yaml:8:13: author: custom: verso proxy cannot run Go functions (the timeline names "expand_author"); declare the change with declarative ops instead: rename`)
	assert.Contains(t, errs, "nest (fields moved into or out of an object), collapse (an embedded object that older versions had as its id)")
	assert.NotContains(t, errs, "Registry")
	code, _, errs = runCLI(t, "", "check", "-f", f)
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, `no Go function is registered as "expand_author"`, "Go programs are told to register it")
	code, _, errs = runCLI(t, "", "check", "--all", "-f", f)
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, `first_tag`)
}
