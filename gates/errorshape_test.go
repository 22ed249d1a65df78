package gates_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/verso-api/verso/apierror"
	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/versions"
)

const oneVersion = "versions:\n  - version: 2024-01-01\n"

func TestErrorShapeLoaded(t *testing.T) {
	e := apierror.New(404, apierror.TypeInvalidRequest, "resource_missing", "No such book.").WithParam("id")
	tests := []struct {
		name, yaml, shape, contentType, body string
	}{
		{"absent: Stripe's", oneVersion, "stripe", "application/json",
			`{"error":{"type":"invalid_request_error","code":"resource_missing","message":"No such book.","param":"id"}}`},
		{"stripe", "errors: stripe\n" + oneVersion, "stripe", "application/json",
			`{"error":{"type":"invalid_request_error","code":"resource_missing","message":"No such book.","param":"id"}}`},
		{"flat", "errors: flat\n" + oneVersion, "flat", "application/json",
			`{"message":"No such book.","code":"resource_missing","type":"invalid_request_error","param":"id"}`},
		{"problem", "errors: problem\n" + oneVersion, "problem", "application/problem+json",
			`{"type":"about:blank","title":"Not Found","status":404,"detail":"No such book.","code":"resource_missing","param":"id"}`},
		{"problem with a type base", "errors: {shape: problem, type_base: \"https://books.example/errors/\"}\n" + oneVersion, "problem", "application/problem+json",
			`{"type":"https://books.example/errors/resource_missing","title":"Not Found","status":404,"detail":"No such book.","code":"resource_missing","param":"id"}`},
		{"template", "errors:\n  template:\n    error:\n      message: \"{message}\"\n      kind: \"{code}\"\n      http: \"{status}\"\n      retry: false\n" + oneVersion, "template", "application/json",
			`{"error":{"message":"No such book.","kind":"resource_missing","http":404,"retry":false}}`},
		{"template with a media type", "errors: {template: {msg: \"{message}\"}, content_type: application/vnd.books+json}\n" + oneVersion, "template", "application/vnd.books+json",
			`{"msg":"No such book."}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tl, err := gates.Load("t.yaml", []byte(tt.yaml), nil)
			require.NoError(t, err)
			s := tl.ErrorShape()
			assert.Equal(t, tt.shape, s.Name())
			assert.Equal(t, tt.contentType, s.ContentType())
			assert.Equal(t, tt.body, string(s.Marshal(e)))
		})
	}
	t.Run("declared in Go", func(t *testing.T) {
		tl, err := gates.NewTimeline(gates.Spec{ErrorShape: apierror.Flat(), Versions: []gates.Version{{ID: versions.MustParse("2024-01-01")}}}, nil)
		require.NoError(t, err)
		assert.Equal(t, "flat", tl.ErrorShape().Name())
	})
}

func TestErrorShapeRefused(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown name", "errors: xml\n" + oneVersion,
			`t.yaml:1:9: errors: unknown error shape "xml" (want stripe, problem or flat, or a mapping with a template)`},
		{"empty name", "errors: \"\"\n" + oneVersion,
			`t.yaml:1:9: errors: unknown error shape "" (want stripe, problem or flat, or a mapping with a template)`},
		{"unknown key", "errors: {shape: flat, wrapper: error}\n" + oneVersion,
			`t.yaml:1:23: errors: unknown key "wrapper" (allowed: shape, type_base, template, content_type)`},
		{"neither shape nor template", "errors: {type_base: \"https://x/\"}\n" + oneVersion,
			`t.yaml:1:9: errors: want shape (stripe, problem or flat) or template`},
		{"both", "errors: {shape: flat, template: {m: \"{message}\"}}\n" + oneVersion,
			`t.yaml:1:17: errors: give shape or template, not both`},
		{"type_base on flat", "errors: {shape: flat, type_base: \"https://x/\"}\n" + oneVersion,
			`t.yaml:1:34: errors: type_base is for the problem shape, not flat`},
		{"type_base not a URI", "errors: {shape: problem, type_base: errors}\n" + oneVersion,
			`t.yaml:1:37: errors: type_base "errors" is not a URI (the type of a problem is type_base followed by its code)`},
		{"content_type on a built-in shape", "errors: {shape: problem, content_type: application/json}\n" + oneVersion,
			`t.yaml:1:40: errors: content_type is for a template; the built-in shapes have their own`},
		{"template not a mapping", "errors: {template: \"{message}\"}\n" + oneVersion,
			`t.yaml:1:20: errors: template: want a mapping (the error body, with placeholders such as "{message}"), got "{message}"`},
		{"unquoted placeholder", "errors:\n  template:\n    error: {message: {message}}\n" + oneVersion,
			`t.yaml:3:22: errors: template: put {message} in quotes, "{message}": unquoted, YAML reads it as a mapping`},
		{"unknown placeholder", "errors: {template: {m: \"{mesage}\"}}\n" + oneVersion,
			`t.yaml:1:20: errors: invalid error template: unknown placeholder {mesage} (want one of {code}, {message}, {param}, {status}, {title}, {type})`},
		{"no placeholder", "errors: {template: {ok: false}}\n" + oneVersion,
			`t.yaml:1:20: errors: invalid error template: no placeholder (one of {code}, {message}, {param}, {status}, {title}, {type})`},
		{"array in a template", "errors: {template: {m: [\"{message}\"]}}\n" + oneVersion,
			`t.yaml:1:20: errors: invalid error template: arrays are not supported in an error template`},
		{"content type not JSON", "errors: {template: {m: \"{message}\"}, content_type: text/plain}\n" + oneVersion,
			`t.yaml:1:52: errors: content_type "text/plain" is not JSON (want application/json or application/*+json)`},
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
