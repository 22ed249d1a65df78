package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

const tl = "../../testdata/stripe.yaml"

func runCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(&env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb}, args)
	return code, out.String(), errb.String()
}

func TestCLI(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("versions:\n  - version: 2019-10-17\n  - version: 2020-01-01\n"), 0o644)
	indexPath := filepath.Join(dir, "index.yaml")
	os.WriteFile(indexPath, []byte("versions:\n  - version: 2019-10-17\n    changes:\n      - id: a\n        description: d\n        resources: [issue]\n        ops: [{rename: {field: assignees.0.login, was: assignee}}]\n  - version: 2015-01-01\n"), 0o644)
	input := filepath.Join(dir, "in.json")
	os.WriteFile(input, []byte(`{"object":"charge","amount":"100","status":"succeeded","source":null}`), 0o644)
	tests := []struct {
		name       string
		stdin      string
		args       []string
		code       int
		out, errIs string // exact stdout; substring of stderr
	}{
		{"check", "", []string{"check", "-f", tl}, 0, "ok: ../../testdata/stripe.yaml: 10 versions (newest 2024-09-30.acacia, base 2014-12-22), 12 changes, 19 ops\n", ""},
		{"check lifecycle", "", []string{"check", "-f", "../../gates/testdata/endpoints.yaml"}, 0, `ok: ../../gates/testdata/endpoints.yaml: 3 versions (newest 2024-01-01, base 2015-01-01), 5 changes, 9 ops
2024-01-01:
  teams: ` + "`GET /v1/teams`" + ` is new; older versions answer 404.
  teams: ` + "`POST /v1/teams`" + ` is new; older versions answer 404.
  charge_created: Responds with status 201 where older versions responded 200. (POST /v1/charges)
  request_id: The ` + "`X-Request-Id`" + ` response header is now ` + "`Request-Id`" + `.
  request_id: The ` + "`X-Rate-Limit`" + ` response header is new.
2020-01-01:
  cards_are_sources: ` + "`GET /v1/customers/:customer/cards`" + ` is now ` + "`GET /v1/customers/:customer/sources`" + `.
  cards_are_sources: ` + "`POST /v1/customers/:customer/cards`" + ` is now ` + "`POST /v1/customers/:customer/sources`" + `.
  recipients_removed: ` + "`GET /v1/recipients/:id`" + ` is removed; it answers 404 from this version on.
  deprecated 2024-01-01; move to 2024-01-01
2015-01-01:
  deprecated 2020-01-01, sunset 2021-06-30 (after it: refuse); move to 2024-01-01
`, ""},
		{"check reshaping ops", "", []string{"check", "-f", "../../testdata/ops.yaml"}, 0, `ok: ../../testdata/ops.yaml: 4 versions (newest 2025-03-01, base 2023-01-01), 7 changes, 8 ops
2025-03-01:
  issue_assignee_removed: ` + "`issue.assignee` is removed; use `issue.assignees.0` (older versions return `null` when there is none)." + `
  issue_author_expanded: ` + "`issue.author` is now the embedded object; older versions have its `id` there. Requests send the id as `issue.author_id`." + `
2024-06-01:
  errors_wrapped: Error bodies are wrapped in ` + "`error`" + `; older versions answer them flat.
  issue_visibility: ` + "`issue.visibility` is new (requests from older versions get `\"public\"`)." + `
2024-01-01:
  issue_location_nested: ` + "`city` and `country` moved into `issue.location`; older versions have them one level up." + `
  comment_author_collapsed: ` + "`comment.author` is now the embedded object; older versions have its `id` there." + `
`, ""},
		{"check a path the walk cannot follow", "", []string{"check", "-f", indexPath}, 1, "", "index.yaml:7:16: a: rename: field \"assignees.0.login\": step \"0\" is an array index"},
		{"check invalid", "", []string{"check", "-f", bad}, 1, "", "bad.yaml:3:14: version 2020-01-01 is listed after 2019-10-17 but is not older"},
		{"check missing file", "", []string{"check", "-f", filepath.Join(dir, "nope.yaml")}, 1, "", "no such file"},
		{"versions", "", []string{"versions", "--timeline", tl}, 0, "2024-09-30.acacia\n2024-04-10\n2023-08-16\n2022-11-15\n2020-08-27\n2019-10-17\n2017-01-27\n2016-07-06\n2015-02-18\n2014-12-22\n", ""},
		{"render stdin", `{"object":"customer","balance":5}`, []string{"render", "-f", tl, "--to", "2019-10-17"}, 0,
			`{"object":"customer","balance":5,"tax_ids":{"object":"list","data":[],"has_more":false},"subscriptions":{"object":"list","data":[],"has_more":false},"sources":{"object":"list","data":[],"has_more":false}}` + "\n", ""},
		{"render before a rename", `{"object":"customer","balance":5}`, []string{"render", "-f", tl, "--to", "2017-01-27"}, 0,
			`{"object":"customer","account_balance":5,"subscriptions":{"object":"list","data":[],"has_more":false},"sources":{"object":"list","data":[],"has_more":false},"tax_info_verification":null,"tax_info":null}` + "\n", ""},
		{"render file, flags after", "", []string{"render", input, "-f", tl, "--to", "2016-07-06"}, 0,
			`{"object":"charge","amount":100,"status":"succeeded","source":null,"refunds":{"object":"list","data":[],"has_more":false,"total_count":0},"dispute":null}` + "\n", ""},
		{"render from", `{"object":"customer","account_balance":5}`, []string{"render", "-f", tl, "--from", "2019-09-01", "--to", "2014-12-22"}, 1, "", "--from: unknown version 2019-09-01; supported versions: 2024-09-30.acacia,"},
		{"render bad version", "{}", []string{"render", "-f", tl, "--to", "2019-13-01"}, 1, "", `--to: malformed version "2019-13-01": month out of range`},
		{"render bad json", `{"a":`, []string{"render", "-f", tl, "--to", "2019-10-17"}, 1, "", "malformed JSON"},
		{"render unconvertible", `{"object":"charge","amount":"12.5"}`, []string{"render", "-f", tl, "--to", "2019-10-17"}, 1, "", `charge.amount: cannot convert "12.5" to an integer`},
		{"render missing to", "{}", []string{"render", "-f", tl}, 2, "", "missing --to VERSION"},
		{"render two files", "{}", []string{"render", "-f", tl, "--to", "2019-10-17", "a", "b"}, 2, "", "want at most one FILE"},
		{"upgrade json", `{"account_balance":5}`, []string{"upgrade", "-f", tl, "--from", "2014-12-22", "--endpoint", "POST /v1/customers/cus_1"}, 0, `{"balance":5}` + "\n", ""},
		{"upgrade form", "account_balance=5&default_card=card_1&expand[]=sources", []string{"upgrade", "-f", tl, "--from", "2014-12-22", "--endpoint", "POST /v1/customers"}, 0, "balance=5&default_source=card_1&expand[]=sources\n", ""},
		{"upgrade typed", `{"object":"charge","amount":100,"status":"paid"}`, []string{"upgrade", "-f", tl, "--from", "2014-12-22"}, 0, `{"object":"charge","amount":"100","status":"succeeded"}` + "\n", ""},
		{"upgrade bad endpoint", "{}", []string{"upgrade", "-f", tl, "--from", "2014-12-22", "--endpoint", "/v1/x"}, 2, "", "--endpoint"},
		{"unknown flag", "", []string{"check", "--nope"}, 2, "", "flag provided but not defined"},
		{"unknown command", "", []string{"frobnicate"}, 2, "", `unknown command "frobnicate"`},
		{"no command", "", nil, 2, "", "Commands:"},
		{"help", "", []string{"render", "--help"}, 0, "", ""},
		{"keys without its subcommand", "", []string{"keys"}, 2, "", "want 'create' or 'list'"},
		{"accounts, another subcommand", "", []string{"accounts", "delete"}, 2, "", "want 'create' or 'list'"},
		{"accounts, an argument after", "", []string{"accounts", "list", "extra"}, 2, "", `unexpected argument "extra"`},
		{"webhooks without send", "", []string{"webhooks", "--db", "x"}, 2, "", "want 'send'"},
		{"webhooks send, an argument after", "", []string{"webhooks", "send", "x"}, 2, "", `unexpected argument "x"`},
		{"keys help", "", []string{"keys", "--help"}, 0, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := runCLI(t, tt.stdin, tt.args...)
			assert.Equal(t, tt.code, code, "stderr: %s", errs)
			if tt.out != "" {
				assert.Equal(t, tt.out, out)
			}
			if tt.errIs != "" {
				assert.Contains(t, errs, tt.errIs)
			}
			if code == 1 {
				assert.Equal(t, 1, strings.Count(errs, "\n"), "one line on stderr: %q", errs)
			}
			assert.NotContains(t, errs, "goroutine", "no stack trace")
		})
	}
}

func TestHelpForEveryCommand(t *testing.T) {
	for name := range commands {
		code, out, _ := runCLI(t, "", name, "--help")
		assert.Equal(t, 0, code, name)
		assert.Contains(t, out, "Usage: verso "+name, name)
	}
}

func TestStubCustom(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "custom.yaml")
	os.WriteFile(f, []byte("versions:\n  - version: 2019-10-17\n    changes:\n      - id: split\n        description: Names are split.\n        resources: [customer]\n        ops:\n          - custom: split_name\n          - rename: {field: balance, was: account_balance}\n  - version: 2015-02-18\n"), 0o644)
	code, _, errs := runCLI(t, "", "check", "-f", f)
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, `custom.yaml:8:13: split: custom: no Go function is registered as "split_name"`)
	code, out, errs := runCLI(t, "", "check", "-f", f, "--stub-custom")
	assert.Equal(t, 0, code, errs)
	assert.Contains(t, out, "2 versions")
	assert.Contains(t, errs, "warning: "+f+": custom functions and resolvers stubbed, their ops change nothing here: split_name")
	code, out, _ = runCLI(t, `{"object":"customer","balance":1}`, "render", "-f", f, "--stub-custom", "--to", "2015-02-18")
	assert.Equal(t, 0, code)
	assert.Equal(t, `{"object":"customer","account_balance":1}`+"\n", out)
}

// TestStubResolvers: a resolver no Go code registers is refused like a
// custom function, and stubbed by --stub-custom (the default is put
// back); the demo API's resolvers are known to the command line.
func TestStubResolvers(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "resolve.yaml")
	os.WriteFile(f, []byte("versions:\n  - version: 2019-10-17\n    changes:\n      - id: lines\n        description: Invoices no longer embed lines.\n        resources: [invoice, charge]\n        ops:\n          - removed: {field: lines, resolve: invoice_lines, default: []}\n          - removed: {field: refunds, resolve: charge_refunds, default: null}\n  - version: 2015-02-18\n"), 0o644)
	code, _, errs := runCLI(t, "", "check", "-f", f)
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, `resolve.yaml:8:13: lines: removed: no resolver is registered as "invoice_lines"`)
	assert.NotContains(t, errs, "charge_refunds")
	code, _, errs = runCLI(t, "", "check", "-f", f, "--stub-custom")
	assert.Equal(t, 0, code, errs)
	assert.Contains(t, errs, ": custom functions and resolvers stubbed, their ops change nothing here: invoice_lines")
	code, out, errs := runCLI(t, `{"id":"in_1","object":"invoice"}`, "render", "-f", f, "--stub-custom", "--to", "2015-02-18")
	assert.Equal(t, 0, code, errs)
	assert.Equal(t, `{"id":"in_1","object":"invoice","refunds":null,"lines":[]}`+"\n", out, "the demo's resolver outside a request knows nothing: the default")
}
