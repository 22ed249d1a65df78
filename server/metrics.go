package server

import (
	"log/slog"
	"time"

	"github.com/verso-api/verso/versions"
)

// Metrics receives what the versioning middleware counts: which versions
// are still served (what an operator needs before retiring one), refused
// versions, new pins, and what walking bodies costs. Package prom
// implements it with Prometheus; any other backend is a few lines. Its
// methods are called on the request's goroutine and must be safe for
// concurrent use and quick.
type Metrics interface {
	// Request counts a request served at version v, chosen by source, that
	// ended with status.
	Request(v versions.Version, source Source, status int)
	// InvalidVersion counts a request refused for a malformed or
	// unsupported version.
	InvalidVersion()
	// PinCreated counts an account pinned on its first request.
	PinCreated()
	// Walk records one body of n bytes walked in direction dir, which took
	// d and failed with err when err is not nil.
	Walk(dir Direction, n int, d time.Duration, err error)
}

// Sampler takes successful responses walked back, to compare them in the
// background with their rendering in a candidate version (shadow testing).
// *shadow.Sampler implements it. Submit must not block, must not keep
// body after it returns (copy it), and must never change the response.
type Sampler interface {
	Submit(body []byte, served, candidate versions.Version, attrs ...slog.Attr) bool
}

// Source says how the version of a request was chosen.
type Source uint8

// The sources of a request's version.
const (
	// SourceHeader: the request's version header.
	SourceHeader Source = iota
	// SourcePin: the account's pin.
	SourcePin
	// SourceNewPin: the account had no pin and was pinned to the default
	// version (Config.DefaultVersion) by this request, answered with a
	// success.
	SourceNewPin
	// SourceDefault: no header and no pin: the default version
	// (Config.DefaultVersion, else the newest that is not a preview).
	SourceDefault
)

var sourceNames = [...]string{"header", "pin", "new_pin", "default"}

// String returns "header", "pin", "new_pin" or "default".
func (s Source) String() string {
	if int(s) < len(sourceNames) {
		return sourceNames[s]
	}
	return "unknown"
}

// Direction is the direction a body was walked in.
type Direction uint8

// The directions of a walk.
const (
	// DirectionRequest: a request walked forward to the newest version.
	DirectionRequest Direction = iota
	// DirectionResponse: a response walked back to the client's version.
	DirectionResponse
)

// String returns "request" or "response".
func (d Direction) String() string {
	if d == DirectionResponse {
		return "response"
	}
	return "request"
}
