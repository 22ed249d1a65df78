package prom

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/verso-api/verso/versions"
)

// Shadow are the Prometheus metrics of a shadow sampler: an implementation
// of shadow.Metrics (whose methods take standard and versions types only,
// so that this package does not import shadow).
//
//	sampler, err := shadow.NewSampler(shadow.SamplerConfig{Engine: engine, Metrics: prom.NewShadow(reg)})
//
// It registers verso_shadow_comparisons_total{served,candidate,result},
// verso_shadow_differences_total{served,candidate,path} and
// verso_shadow_dropped_total.
type Shadow struct {
	// Comparisons counts sampled responses compared with a candidate
	// version, by result: same, different or error.
	Comparisons *prometheus.CounterVec
	// Differences counts, per path, the responses whose candidate
	// rendering differs there.
	Differences *prometheus.CounterVec
	// Drops counts sampled responses dropped because the queue was full.
	Drops prometheus.Counter
}

// NewShadow returns the metrics registered with reg (nil registers
// nothing), reusing those already registered under the same names, as
// NewMetrics does.
func NewShadow(reg prometheus.Registerer) *Shadow {
	m := &Shadow{
		Differences: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "verso_shadow_differences_total",
			Help: "Sampled responses whose candidate rendering differs from the served one at a path (array indexes as []), counted once per response and path.",
		}, []string{"served", "candidate", "path"}),
		Comparisons: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "verso_shadow_comparisons_total",
			Help: "Sampled responses compared with a candidate version, by result: same, different or error.",
		}, []string{"served", "candidate", "result"}),
		Drops: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "verso_shadow_dropped_total",
			Help: "Sampled responses dropped because the shadow queue was full.",
		}),
	}
	if reg != nil {
		m.Differences = register(reg, m.Differences)
		m.Comparisons = register(reg, m.Comparisons)
		m.Drops = register(reg, m.Drops)
	}
	return m
}

// Compared counts a comparison by result.
func (m *Shadow) Compared(served, candidate versions.Version, result string) {
	m.Comparisons.WithLabelValues(served.String(), candidate.String(), result).Inc()
}

// Differs counts a response differing at path.
func (m *Shadow) Differs(served, candidate versions.Version, path string) {
	m.Differences.WithLabelValues(served.String(), candidate.String(), path).Inc()
}

// Dropped counts a dropped response.
func (m *Shadow) Dropped() { m.Drops.Inc() }
