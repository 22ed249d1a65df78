package webhooks

import "time"

// Metrics receives what a Worker does, for a metrics system: package prom
// implements it for Prometheus, so that this package does not import
// Prometheus. Its methods are called from many goroutines and must not
// block.
type Metrics interface {
	// Attempt records one delivery attempt that took d (rendering
	// included), by result: "2xx", "non_2xx", "error" (a timeout, a
	// refused connection) or "render_error".
	Attempt(result string, d time.Duration)
	// Finished records a delivery that is done, by outcome: "delivered",
	// or "failed" after the retry window, and the attempts it took.
	Finished(outcome string, attempts int)
	// InFlight adds delta (1 or -1) to the attempts in progress.
	InFlight(delta int)
}

// The results of Metrics.Attempt and the outcomes of Metrics.Finished.
const (
	Result2xx         = "2xx"
	ResultNon2xx      = "non_2xx"
	ResultError       = "error"
	ResultRenderError = "render_error"

	OutcomeDelivered = "delivered"
	OutcomeFailed    = "failed"
)

// noMetrics is the Metrics of a Worker configured without any.
type noMetrics struct{}

func (noMetrics) Attempt(string, time.Duration) {}
func (noMetrics) Finished(string, int)          {}
func (noMetrics) InFlight(int)                  {}
