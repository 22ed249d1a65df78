//go:build race

package echohttp_test

// raceEnabled: the race detector makes sync.Pool drop items at random.
const raceEnabled = true
