// Package suite runs the conformance suites of verso's stores (pinstest,
// idemtest, ratelimittest) as named subtests, one short function each.
package suite

import "testing"

// Test is one test of a suite, run on the backend B a store's test hands
// the suite.
type Test[B any] struct {
	Name string
	Func func(t *testing.T, b B)
}

// Run runs each test as a subtest named after it.
func Run[B any](t *testing.T, tests []Test[B], b B) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.Name, func(t *testing.T) { tt.Func(t, b) })
	}
}
