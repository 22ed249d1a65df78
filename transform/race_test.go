//go:build race

package transform_test

// raceEnabled: the race detector makes sync.Pool drop items at random, so
// a walk may find no pooled walker and allocate one.
const raceEnabled = true
