package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDocsCommands(t *testing.T) {
	dir := t.TempDir()
	notSpec := filepath.Join(dir, "not.json")
	require.NoError(t, os.WriteFile(notSpec, []byte(`{"swagger":"2.0"}`), 0o644))
	removedTL := filepath.Join(dir, "removed.yaml")
	require.NoError(t, os.WriteFile(removedTL, []byte("versions:\n  - version: 2020-01-01\n    changes:\n      - id: recipients_removed\n        description: Recipients are removed.\n        ops:\n          - endpoint_removed: \"GET /v1/recipients/{id}\"\n  - version: 2019-01-01\n"), 0o644))
	removedSpec := filepath.Join(dir, "removed.json")
	require.NoError(t, os.WriteFile(removedSpec, []byte(`{"openapi":"3.0.3","info":{"title":"R","version":"2020-01-01"},"paths":{}}`), 0o644))
	badSamples := filepath.Join(dir, "bad.jsonl")
	require.NoError(t, os.WriteFile(badSamples, []byte("{\"object\":\"customer\"}\nnot json\n"), 0o644))
	tests := []struct {
		name   string
		args   []string
		stdin  string
		code   int
		out    []string // substrings of stdout
		errOut string   // substring of stderr
	}{
		{"changelog md", []string{"changelog", "-f", tl}, "", 0, []string{"# Stripe-like Payments: Changelog", "`customer.account_balance` is now `customer.balance`."}, ""},
		{"changelog html", []string{"changelog", "-f", tl, "--format", "html"}, "", 0, []string{"<!doctype html>", `id="v2019-10-17"`}, ""},
		{"changelog json range", []string{"changelog", "-f", tl, "--from", "2019-10-17", "--to", "2020-08-27", "--format", "json"}, "", 0, []string{`"customer_lists_not_expanded"`}, ""},
		{"changelog from after to", []string{"changelog", "-f", tl, "--from", "2022-11-15", "--to", "2019-10-17"}, "", 1, nil, "2022-11-15"},
		{"changelog bad format", []string{"changelog", "-f", tl, "--format", "pdf"}, "", 2, nil, "--format"},
		{"guide", []string{"changelog", "-f", tl, "--guide", "--from", "2019-10-17", "--samples", "../../changelog/samples"}, "", 0, []string{"`charge.refunds` is removed"}, ""},
		{"guide needs from", []string{"changelog", "-f", tl, "--guide"}, "", 2, nil, "--guide needs --from"},
		{"guide bad samples", []string{"changelog", "-f", tl, "--guide", "--from", "2019-10-17", "--samples", badSamples}, "", 1, nil, "bad.jsonl:2"},
		{"openapi", []string{"openapi", "-f", "../../testdata/stripe.yaml", "--spec", "../../openapi/testdata/spec.json", "--to", "2019-10-17"}, "", 0, []string{`"openapi"`, `"2019-10-17"`}, ""},
		{"openapi reports disagreements", []string{"openapi", "-f", "../../testdata/stripe.yaml", "--spec", "../../openapi/testdata/spec.json", "--to", "2014-12-22"}, "", 0, []string{`"default_card"`}, "disagreement: ../../testdata/stripe.yaml:105:9: customer_sources (2015-02-18): endpoint POST /v1/customers: no request body"},
		{"openapi check", []string{"openapi", "-f", "../../testdata/stripe.yaml", "--spec", "../../openapi/testdata/spec.json", "--check"}, "", 1, []string{"customer_sources (2015-02-18): POST /v1/customers/{customer} (application/x-www-form-urlencoded): rename: sources is not in the schema"}, "disagrees with the timeline in"},
		{"openapi check a removed endpoint it cannot document", []string{"openapi", "-f", removedTL, "--spec", removedSpec, "--check"}, "", 1, []string{"removed.yaml:7:13: recipients_removed (2020-01-01): endpoint GET /v1/recipients/{id}: endpoint_removed: cannot be documented at 2019-01-01"}, "disagrees with the timeline in 1 places"},
		{"openapi check with to", []string{"openapi", "-f", tl, "--spec", notSpec, "--check", "--to", "2019-10-17"}, "", 2, nil, "leave out --to"},
		{"openapi not a spec", []string{"openapi", "-f", tl, "--spec", notSpec, "--to", "2019-10-17"}, "", 1, nil, "not.json"},
		{"openapi unknown version", []string{"openapi", "-f", tl, "--spec", notSpec, "--to", "2019-10-18"}, "", 1, nil, "unknown version"},
		{"shadow broken edit fails", []string{"shadow", "--old", "../../testdata/stripe.yaml", "--new", "../../shadow/testdata/broken_rename.yaml", "../../changelog/samples"}, "", 1, []string{"change customer_balance (changed at 2019-10-17", "+ (customer) acct_balance: -500 [at 4 versions, 2017-01-27 to 2014-12-22; 4 differences in customer.json]"}, "changes what pinned versions return"},
		{"shadow removed version fails", []string{"shadow", "--old", "../../testdata/stripe.yaml", "--new", "../../shadow/testdata/removed_version.yaml", "../../changelog/samples"}, "", 1, []string{"FAIL: removed version 2016-07-06"}, "it removes 1 versions (--allow-removed)"},
		{"shadow same timeline passes", []string{"shadow", "--old", "../../testdata/stripe.yaml", "--new", "../../testdata/stripe.yaml", "../../changelog/samples/refund.json"}, "", 0, []string{"ok: no existing version's output changed"}, ""},
		{"shadow uncovered fails", []string{"shadow", "--old", "../../testdata/stripe.yaml", "--new", "../../shadow/testdata/uncovered.yaml", "../../changelog/samples"}, "", 1, []string{"charge_disputed (changed at 2017-01-27, ../../shadow/testdata/uncovered.yaml:"}, "no sample covers 1 edited fields (--allow-uncovered)"},
		{"shadow uncovered allowed", []string{"shadow", "--old", "../../testdata/stripe.yaml", "--new", "../../shadow/testdata/uncovered.yaml", "--allow-uncovered", "../../changelog/samples"}, "", 0, []string{"allowed: not covered"}, ""},
		{"shadow additive passes", []string{"shadow", "--old", "../../testdata/stripe.yaml", "--new", "../../shadow/testdata/additive.yaml", "--format", "json", "../../changelog/samples"}, "", 0, []string{`"findings"`}, ""},
		{"shadow samples not json", []string{"shadow", "--old", tl, "--new", tl, badSamples}, "", 1, nil, "bad.jsonl:2"},
		{"shadow usage", []string{"shadow", "--old", tl}, "", 2, nil, "--new"},
		{"diff", []string{"diff", "-f", tl, "--from", "2014-12-22", "--to", "2024-09-30.acacia"}, `{"object":"customer","balance":5}`, 0, []string{"- account_balance: 5", "+ balance: 5"}, ""},
		{"diff json", []string{"diff", "-f", tl, "--from", "2014-12-22", "--to", "2019-10-17", "--format", "json"}, `{"object":"customer","balance":5}`, 0, []string{`"path"`}, ""},
		{"diff not json", []string{"diff", "-f", tl, "--from", "2014-12-22", "--to", "2019-10-17"}, `nope`, 1, nil, "malformed JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := runCLI(t, tt.stdin, tt.args...)
			assert.Equal(t, tt.code, code, "stderr: %s\nstdout: %.500s", errs, out)
			for _, s := range tt.out {
				assert.Contains(t, out, s)
			}
			if tt.errOut != "" {
				assert.Contains(t, errs, tt.errOut)
			}
			if strings.Contains(strings.Join(tt.args, " "), "--format json") && code == 0 {
				assert.True(t, json.Valid([]byte(out)), "valid JSON output")
			}
		})
	}
}

func TestDocsSite(t *testing.T) {
	out := t.TempDir()
	code, stdout, stderr := runCLI(t, "", "docs", "-f", "../../demo/api/timeline.yaml", "--spec", "../../demo/api/openapi.yaml", "--out", out, "--samples", "../../changelog/samples")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "wrote the reference of 42 versions")
	assert.Regexp(t, `disagreement: \.\./\.\./demo/api/timeline\.yaml:[0-9]+:[0-9]+: customer_sources \(2015-02-18\): POST /v1/customers \(application/x-www-form-urlencoded\): rename: sources is not in the schema`, stderr)
	for name, want := range map[string][]string{
		"index.html":                     []string{"(the newest stable version", `<a href="2014-12-22.html">2014-12-22</a>`, `<a href="openapi-2026-11-18.endive.json">`},
		"guide-2014-12-22.html":          []string{"Upgrading from 2014-12-22 to 2026-11-18.endive"},
		"2014-12-22.html":                []string{"<code>account_balance</code>", `aria-current="page">2014-12-22`, `<summary>Example <code>charge</code> at 2014-12-22</summary>`, `&#34;status&#34;: &#34;paid&#34;`},
		"2019-10-17.html":                []string{`<a href="changelog.html#change-customer_balance"><code>customer_balance</code></a>`},
		"openapi-2016-07-06.json":        []string{`"version": "2016-07-06"`},
		"changelog.html":                 []string{`id="change-customer_balance"`, `<a href="guide-2019-10-17.html">`},
		"openapi-2014-12-22.json":        []string{`"default_card"`},
		"9999-12-31.preview.html":        []string{"The <code>refund</code> object"},
		"openapi-2024-09-30.acacia.json": []string{`"invoice"`},
	} {
		b, err := os.ReadFile(filepath.Join(out, name))
		require.NoError(t, err)
		for _, w := range want {
			if !strings.Contains(string(b), w) {
				t.Errorf("%s lacks %s", name, w)
			}
		}
	}
	code, _, stderr = runCLI(t, "", "docs", "-f", "../../demo/api/timeline.yaml", "--out", out)
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "--spec")
	// A document whose objects cannot be told apart is refused, saying why.
	bare := filepath.Join(t.TempDir(), "bare.json")
	require.NoError(t, os.WriteFile(bare, []byte(`{"openapi":"3.0.3","info":{"title":"T","version":"9999-12-31.preview"},"paths":{},"components":{"schemas":{"Thing":{"type":"object"}}}}`), 0o644))
	code, _, stderr = runCLI(t, "", "docs", "-f", "../../demo/api/timeline.yaml", "--spec", bare, "--out", t.TempDir())
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "no object schemas: no schema in components.schemas has an x-resourceId")
}
