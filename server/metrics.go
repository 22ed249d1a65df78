package server

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the Prometheus metrics of the versioning middleware. They
// tell an operator which versions are still in use before retiring one, and
// what walking bodies costs. One Metrics may serve several middlewares.
type Metrics struct {
	// Requests counts requests by the version served, how it was chosen
	// (source: "header", "pin", "new_pin" or "default") and status class
	// (code: "2xx" ... "5xx"): verso_requests_total.
	Requests *prometheus.CounterVec
	// InvalidVersions counts requests refused for a malformed or
	// unsupported version: verso_invalid_version_requests_total.
	InvalidVersions prometheus.Counter
	// PinsCreated counts accounts pinned on their first request:
	// verso_pins_created_total.
	PinsCreated prometheus.Counter
	// WalkSeconds is the time spent walking bodies, by direction ("request"
	// forward, "response" back): verso_walk_duration_seconds.
	WalkSeconds *prometheus.HistogramVec
	// WalkedBytes counts the bytes of the bodies walked, by direction:
	// verso_walked_bytes_total.
	WalkedBytes *prometheus.CounterVec
	// WalkErrors counts bodies that could not be walked, by direction:
	// verso_walk_errors_total.
	WalkErrors *prometheus.CounterVec

	dirs [2]direction
}

type direction struct {
	seconds prometheus.Observer
	bytes   prometheus.Counter
	errors  prometheus.Counter
}

const (
	dirRequest  = 0
	dirResponse = 1
)

// NewMetrics returns the metrics registered with reg; a nil reg registers
// nothing (the metrics still count, for tests). Metrics already registered
// with reg under the same names are reused, so two servers in one process
// may share them. NewMetrics panics only when reg refuses the metrics for
// another reason (a name taken by a different metric), as MustRegister
// does.
//
//	m := server.NewMetrics(prometheus.DefaultRegisterer)
//	e.Use(server.VersioningWithConfig(server.VersioningConfig{Engine: engine, Metrics: m}))
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "verso_requests_total",
			Help: "Requests by the API version served, how the version was chosen, and status class.",
		}, []string{"version", "source", "code"}),
		InvalidVersions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "verso_invalid_version_requests_total",
			Help: "Requests refused because they named a malformed or unsupported API version.",
		}),
		PinsCreated: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "verso_pins_created_total",
			Help: "Accounts pinned to the newest API version on their first request.",
		}),
		WalkSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "verso_walk_duration_seconds",
			Help:    "Time spent walking bodies between API versions, by direction.",
			Buckets: []float64{1e-6, 5e-6, 1e-5, 5e-5, 1e-4, 5e-4, 1e-3, 5e-3, 1e-2, 5e-2},
		}, []string{"direction"}),
		WalkedBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "verso_walked_bytes_total",
			Help: "Bytes of bodies walked between API versions, by direction.",
		}, []string{"direction"}),
		WalkErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "verso_walk_errors_total",
			Help: "Bodies that could not be walked between API versions, by direction.",
		}, []string{"direction"}),
	}
	if reg != nil {
		m.Requests = register(reg, m.Requests)
		m.InvalidVersions = register(reg, m.InvalidVersions)
		m.PinsCreated = register(reg, m.PinsCreated)
		m.WalkSeconds = register(reg, m.WalkSeconds)
		m.WalkedBytes = register(reg, m.WalkedBytes)
		m.WalkErrors = register(reg, m.WalkErrors)
	}
	for i, name := range []string{"request", "response"} {
		m.dirs[i] = direction{
			seconds: m.WalkSeconds.WithLabelValues(name),
			bytes:   m.WalkedBytes.WithLabelValues(name),
			errors:  m.WalkErrors.WithLabelValues(name),
		}
	}
	return m
}

func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	err := reg.Register(c)
	if err == nil {
		return c
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing
		}
	}
	panic(fmt.Errorf("server: registering metrics: %w", err))
}

// walked records one walk of n bytes that took d.
func (m *Metrics) walked(dir int, n int, d time.Duration, err error) {
	if m == nil {
		return
	}
	x := &m.dirs[dir]
	x.seconds.Observe(d.Seconds())
	x.bytes.Add(float64(n))
	if err != nil {
		x.errors.Inc()
	}
}

// How the version of a request was chosen, the "source" label.
const (
	sourceHeader = iota
	sourcePin
	sourceNewPin
	sourceDefault
	numSources
)

var sourceNames = [numSources]string{"header", "pin", "new_pin", "default"}

var classNames = [5]string{"1xx", "2xx", "3xx", "4xx", "5xx"}

// requestCounters caches the counters of one middleware, indexed by the
// version's place on its timeline, the source and the status class, so
// that counting a request allocates nothing.
type requestCounters struct {
	m        *Metrics
	versions []string
	cells    []atomic.Pointer[counterCell]
}

type counterCell struct{ c prometheus.Counter }

func newRequestCounters(m *Metrics, versions []string) *requestCounters {
	if m == nil {
		return nil
	}
	return &requestCounters{m: m, versions: versions,
		cells: make([]atomic.Pointer[counterCell], len(versions)*numSources*len(classNames))}
}

// inc counts a request served at the version with index vi.
func (rc *requestCounters) inc(vi, source, status int) {
	if rc == nil || vi < 0 || vi >= len(rc.versions) {
		return
	}
	class := status/100 - 1
	if class < 0 || class >= len(classNames) {
		class = len(classNames) - 1
	}
	i := (vi*numSources+source)*len(classNames) + class
	cell := rc.cells[i].Load()
	if cell == nil {
		cell = &counterCell{rc.m.Requests.WithLabelValues(rc.versions[vi], sourceNames[source], classNames[class])}
		rc.cells[i].Store(cell)
	}
	cell.c.Inc()
}
