package transform_test

import (
	"net/http"
	"testing"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/transform"
	"github.com/verso-api/verso/versions"
)

// TestErrorWrapperOfTheShape checks that changes to resource error find
// the error object where the timeline's error shape puts it: under a
// template's own wrapper, under "error" for Stripe's, the body itself for
// a flat shape.
func TestErrorWrapperOfTheShape(t *testing.T) {
	timeline := func(errors string) *transform.Engine {
		tl, err := gates.Load("t.yaml", []byte(errors+`versions:
  - version: 2024-01-01
    changes:
      - id: kind
        description: "The error member kind is renamed code."
        resources: [error]
        ops:
          - rename: {field: code, was: kind}
  - version: 2023-01-01
`), nil)
		if err != nil {
			t.Fatal(err)
		}
		return transform.New(tl, nil)
	}
	tests := []struct {
		name, errors, body, want string
	}{
		{"a template's wrapper", "errors: {template: {problem: {code: \"{code}\", message: \"{message}\"}}}\n",
			`{"problem":{"code":"resource_missing","message":"m"}}`, `{"problem":{"kind":"resource_missing","message":"m"}}`},
		{"Stripe's", "",
			`{"error":{"code":"resource_missing","message":"m"}}`, `{"error":{"kind":"resource_missing","message":"m"}}`},
		{"flat", "errors: flat\n",
			`{"message":"m","code":"resource_missing"}`, `{"message":"m","kind":"resource_missing"}`},
		{"a template at the top level", "errors: {template: {code: \"{code}\", message: \"{message}\"}}\n",
			`{"code":"resource_missing","message":"m"}`, `{"kind":"resource_missing","message":"m"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := timeline(tt.errors)
			p, err := e.Plan(versions.MustParse("2024-01-01"), versions.MustParse("2023-01-01"))
			if err != nil {
				t.Fatal(err)
			}
			out, err := p.ForStatus(http.StatusNotFound).Apply([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != tt.want {
				t.Errorf("got %s, want %s", out, tt.want)
			}
		})
	}
}
