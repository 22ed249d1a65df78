//go:build !race

package echohttp_test

const raceEnabled = false
