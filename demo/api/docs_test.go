package api_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/verso-api/verso/demo/api"
	"github.com/verso-api/verso/storage/storagetest"
)

// get fetches a page of the demo with method (GET or HEAD), no API key.
func (a *app) page(t *testing.T, method, path string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, a.url+path, nil)
	require.NoError(t, err)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, res.Header, string(body)
}

func TestDocsPages(t *testing.T) {
	a := start(t, storagetest.Backends()[0], api.Config{})
	for _, tc := range []struct {
		name, method, path string
		status             int
		ctype              string
		want               []string // substrings of the body
		absent             []string
	}{
		{name: "reference", method: "GET", path: "/docs", status: 200, ctype: "text/html",
			want: []string{"Version <code>" + stable + "</code> (the newest stable version: new accounts get it)", "The <code>charge</code> object", `<a href="/docs?version=2014-12-22">2014-12-22</a>`,
				"POST</span> <code>/v1/payment_intents/{id}/confirm</code>", `<a href="#object-charge">list of charge</a>`,
				`<a href="/openapi.json?version=` + stable + `">`, `<a class="skip" href="#content">`, `<input id="q" type="search"`, `class="legend`},
			absent: []string{"Upgrade from this version", `class="banner`}},
		{name: "reference of the preview", method: "GET", path: "/docs?version=" + newest, status: 200, ctype: "text/html",
			want: []string{`<p class="banner warn" role="note"><strong>Preview.</strong>`, `<a href="/docs?version=` + stable + `">` + stable + `</a>`,
				`<a href="/changelog#change-amount_as_string"><code>amount_as_string</code></a>`}},
		{name: "reference of a deprecated version", method: "GET", path: "/docs?version=2014-12-22", status: 200, ctype: "text/html",
			want: []string{`<p class="banner deprecated" role="note"><strong>Deprecated</strong> since 2015-02-18; its sunset is 2027-06-30`,
				`<a href="/changelog/guide?from=2014-12-22">Upgrade from this version</a> to ` + stable}},
		{name: "reference of an old version", method: "GET", path: "/docs?version=2014-12-22", status: 200, ctype: "text/html",
			want:   []string{"<code>account_balance</code>", "<code>cards</code>", "<code>paid</code>", `aria-current="page">2014-12-22`},
			absent: []string{"<code>latest_charge</code>"}},
		{name: "reference head", method: "HEAD", path: "/docs?version=2019-10-17", status: 200, ctype: "text/html"},
		{name: "reference unknown version", method: "GET", path: "/docs?version=1999-01-01", status: 400, ctype: "text/html",
			want: []string{"<h1>400 Bad Request</h1>", "1999-01-01 is not a version of this API"}},
		{name: "openapi", method: "GET", path: "/openapi.json?version=2019-12-03", status: 200, ctype: "application/json",
			want: []string{`"version": "2019-12-03"`, `"tax_ids"`}, absent: []string{`"tax_info"`}},
		{name: "openapi default", method: "GET", path: "/openapi.json", status: 200, ctype: "application/json",
			want: []string{`"version": "` + stable + `"`, `"url":"http://127.0.0.1:`}, absent: []string{"4242"}},
		{name: "openapi bad version", method: "GET", path: "/openapi.json?version=x", status: 400, ctype: "application/json",
			want: []string{`"param":"version"`}},
		{name: "changelog", method: "GET", path: "/changelog", status: 200, ctype: "text/html",
			want: []string{`id="v2019-10-17"`, `id="v` + oldest + `"`, `<a class="skip" href="#content">`,
				`<a href="/changelog/guide?from=2019-10-17">Upgrade guide from 2019-10-17</a>`, `<span class="badge behavior">Preview</span>`}},
		{name: "changelog head", method: "HEAD", path: "/changelog", status: 200, ctype: "text/html"},
		{name: "changelog range", method: "GET", path: "/changelog?from=2017-01-27&to=2020-08-27&format=json", status: 200, ctype: "application/json",
			want: []string{`"version": "2020-08-27"`, `"version": "2019-10-17"`}, absent: []string{`"version": "2017-01-27"`, `"version": "2022-11-15"`}},
		{name: "changelog markdown", method: "GET", path: "/changelog?to=2015-02-18&format=md", status: 200, ctype: "text/markdown",
			want: []string{"## 2015-02-18"}, absent: []string{"## 2016-07-06"}},
		{name: "changelog unknown version", method: "GET", path: "/changelog?from=2019-10-18", status: 400, ctype: "text/html",
			want: []string{"<h1>400 Bad Request</h1>", "supported versions"}},
		{name: "changelog unknown version as JSON", method: "GET", path: "/changelog?from=2019-10-18&format=json", status: 400, ctype: "application/json",
			want: []string{`"param":"from"`, "supported versions"}},
		{name: "changelog backwards", method: "GET", path: "/changelog?from=2020-08-27&to=2019-10-17&format=md", status: 400, ctype: "application/json",
			want: []string{"from must not be newer than to"}},
		{name: "changelog bad format", method: "GET", path: "/changelog?format=pdf", status: 400, ctype: "application/json",
			want: []string{`"param":"format"`}},
		{name: "guide", method: "GET", path: "/changelog/guide?from=2019-10-17&to=2022-11-15", status: 200, ctype: "text/html",
			want: []string{"Upgrading from 2019-10-17 to 2022-11-15", "What to do:", "Example <code>customer.json</code>"}},
		{name: "guide to newest", method: "GET", path: "/changelog/guide?from=2014-12-22&format=md", status: 200, ctype: "text/markdown",
			want: []string{"Upgrading from 2014-12-22 to " + stable, "**What to do:** Send `source` instead of `card`."}, absent: []string{newest, "Stop sending `card`"}},
		{name: "guide head", method: "HEAD", path: "/changelog/guide?from=2019-10-17", status: 200, ctype: "text/html"},
		{name: "guide needs from", method: "GET", path: "/changelog/guide?format=json", status: 400, ctype: "application/json",
			want: []string{`"param":"from"`}},
		{name: "guide needs from, as a page", method: "GET", path: "/changelog/guide", status: 400, ctype: "text/html",
			want: []string{"Missing required param: from."}},
		{name: "guide hostile version", method: "GET", path: "/changelog/guide?from=%3Cscript%3E", status: 400, ctype: "text/html",
			want: []string{"&lt;script&gt;"}, absent: []string{"<script>"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, h, body := a.page(t, tc.method, tc.path)
			assert.Equal(t, tc.status, status, body)
			assert.Contains(t, h.Get("Content-Type"), tc.ctype)
			if tc.method == "HEAD" {
				assert.Empty(t, body)
			}
			if tc.status >= 400 && tc.ctype == "application/json" {
				assert.True(t, gjson.Valid(body) && gjson.Get(body, "error.type").String() == "invalid_request_error", body)
			}
			for _, w := range tc.want {
				assert.Contains(t, body, w)
			}
			for _, w := range tc.absent {
				assert.NotContains(t, body, w)
			}
		})
	}
}
