package api

import (
	"context"
	"io"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/verso-api/verso/openapi"
	"github.com/verso-api/verso/storage/storagetest"
)

// webhookParams are the parameters package webhooks' handlers take on
// each of its routes (they read their own, and refuse any other on the
// routes that create or change something); the pin endpoints are in
// endpointParams.
var webhookParams = map[string][]string{
	"POST /v1/webhook_endpoints":                 {"url", "enabled_events", "api_version", "description", "signature_scheme"},
	"GET /v1/webhook_endpoints":                  {"limit", "starting_after"},
	"GET /v1/webhook_endpoints/:id":              nil,
	"POST /v1/webhook_endpoints/:id":             {"url", "enabled_events", "api_version", "description", "disabled"},
	"DELETE /v1/webhook_endpoints/:id":           nil,
	"POST /v1/webhook_endpoints/:id/roll_secret": {"expires_in"},
	"GET /v1/webhook_endpoints/:id/deliveries":   {"limit", "starting_after", "status"},
	"POST /v1/webhook_endpoints/:id/test":        {"event", "type", "api_version"},
	"POST /v1/webhook_deliveries/:id/retry":      nil,
	"POST /v1/webhook_deliveries/:id/resend":     nil,
}

// TestTakenParametersAreDocumented is the reverse of
// TestDocumentedParametersAreTaken: every parameter the demo takes on an
// endpoint (endpointParams, webhookParams, and expand where the
// endpoint's object has a field to expand) is documented on that
// endpoint at every version it is served at, under the name a client of
// that version sends. Each name a version's document lists is walked
// forward through the engine (as the middleware walks a request) to the
// name the handler reads; every parameter the handler takes must be
// reached. New names sent at an older version reach the handler too (an
// older client may send them); they are the newer versions' to document.
func TestTakenParametersAreDocumented(t *testing.T) {
	db, _ := storagetest.Backends()[0].Open(t)
	s, err := New(context.Background(), Config{DB: db, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	taken := map[string][]string{}
	for k, v := range endpointParams {
		taken[k] = v
	}
	for k, v := range webhookParams {
		taken[k] = v
	}
	for k := range s.expandRoots() {
		taken[k] = append(slices.Clone(taken[k]), "expand")
	}
	// The tables name every route of the demo under /v1.
	for _, r := range s.Echo.Routes() {
		if strings.HasPrefix(r.Path, "/v1/") && !strings.HasSuffix(r.Path, "/*") {
			_, ok := taken[r.Method+" "+r.Path]
			require.True(t, ok, "%s %s: no table says what it takes", r.Method, r.Path)
		}
	}
	tl := s.timeline
	for _, v := range tl.Versions().List() {
		t.Run(v.String(), func(t *testing.T) {
			doc, err := openapi.Derive(OpenAPI, tl, v)
			require.NoError(t, err)
			paths := gjson.GetBytes(doc, "paths")
			for route, params := range taken {
				method, path, _ := strings.Cut(route, " ")
				template := strings.ReplaceAll(path, ":id", "{id}")
				op := paths.Get(gjson.Escape(template) + "." + strings.ToLower(method))
				if !op.Exists() {
					if r := tl.Route(v, method, path); !r.Absent && !r.Moved {
						t.Errorf("%s is served at %s but not documented", route, v)
					}
					continue
				}
				resolve := func(r gjson.Result) gjson.Result {
					if ref := r.Get(`\$ref`).String(); ref != "" {
						return gjson.GetBytes(doc, strings.ReplaceAll(strings.TrimPrefix(ref, "#/"), "/", "."))
					}
					return r
				}
				reached := map[string]bool{}
				var names []string
				for _, list := range []gjson.Result{paths.Get(gjson.Escape(template) + ".parameters"), op.Get("parameters")} {
					for _, p := range list.Array() {
						p = resolve(p)
						if in := p.Get("in").String(); in == "query" || in == "path" {
							names = append(names, strings.TrimSuffix(p.Get("name").String(), "[]"))
						}
					}
				}
				resolve(op.Get(`requestBody.content.application/x-www-form-urlencoded.schema`)).Get("properties").ForEach(func(k, _ gjson.Result) bool {
					names = append(names, k.String())
					return true
				})
				for _, name := range names {
					up, err := s.Engine.UpgradeForm(url.Values{name: {"1"}}.Encode(), v, method, path)
					require.NoError(t, err, "%s at %s: %s", route, v, name)
					q, err := url.ParseQuery(up)
					require.NoError(t, err)
					for k := range q {
						k, _, _ = strings.Cut(k, "[")
						reached[k] = true
					}
				}
				for _, p := range params {
					if !reached[p] {
						t.Errorf("%s takes %s, which the document of %s does not list under any name (it lists %v)", route, p, v, names)
					}
				}
			}
		})
	}
}
