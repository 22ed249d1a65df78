// Package prom reports the versioning middleware's metrics to Prometheus:
// an implementation of server.Metrics in a package of its own, so that a
// program that does not use Prometheus does not link it.
//
//	m := prom.NewMetrics(prometheus.DefaultRegisterer)
//	mw := server.MiddlewareWithConfig(server.Config{Engine: engine, Metrics: m})
//
// It registers verso_requests_total{version,source,code},
// verso_invalid_version_requests_total, verso_pins_created_total,
// verso_walk_duration_seconds{direction}, verso_walked_bytes_total{direction}
// and verso_walk_errors_total{direction}: the requests still served at a
// version tell an operator whether it can be retired.
package prom

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/verso-api/verso/server"
	"github.com/verso-api/verso/versions"
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
	// cells caches, per version, the counters of Requests by source and
	// status class, so that counting a request allocates nothing.
	cells sync.Map // versions.Version -> *versionCells
}

var _ server.Metrics = (*Metrics)(nil)

type direction struct {
	seconds prometheus.Observer
	bytes   prometheus.Counter
	errors  prometheus.Counter
}

// NewMetrics returns the metrics registered with reg; a nil reg registers
// nothing (the metrics still count, for tests). Metrics already registered
// with reg under the same names are reused, so two servers in one process
// may share them. NewMetrics panics only when reg refuses the metrics for
// another reason (a name taken by a different metric), as MustRegister
// does.
//
//	m := prom.NewMetrics(prometheus.DefaultRegisterer)
//	versioning, err := server.Config{Engine: engine, Metrics: m}.ToMiddleware()
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
	panic(fmt.Errorf("prom: registering metrics: %w", err))
}

// Walk records one walk of n bytes that took d.
func (m *Metrics) Walk(dir server.Direction, n int, d time.Duration, err error) {
	x := &m.dirs[dir&1]
	x.seconds.Observe(d.Seconds())
	x.bytes.Add(float64(n))
	if err != nil {
		x.errors.Inc()
	}
}

// InvalidVersion counts a request refused for its version.
func (m *Metrics) InvalidVersion() { m.InvalidVersions.Inc() }

// PinCreated counts an account pinned on its first request.
func (m *Metrics) PinCreated() { m.PinsCreated.Inc() }

var classNames = [5]string{"1xx", "2xx", "3xx", "4xx", "5xx"}

const numSources = 4

type versionCells [numSources][len(classNames)]atomic.Pointer[counterCell]

type counterCell struct{ c prometheus.Counter }

// Request counts a request served at v, chosen by source, that ended with
// status.
func (m *Metrics) Request(v versions.Version, source server.Source, status int) {
	class := status/100 - 1
	if class < 0 || class >= len(classNames) {
		class = len(classNames) - 1
	}
	if source >= numSources {
		source = server.SourceDefault
	}
	vc, ok := m.cells.Load(v)
	if !ok {
		vc, _ = m.cells.LoadOrStore(v, new(versionCells))
	}
	cell := &vc.(*versionCells)[source][class]
	c := cell.Load()
	if c == nil {
		c = &counterCell{m.Requests.WithLabelValues(v.String(), source.String(), classNames[class])}
		cell.Store(c)
	}
	c.c.Inc()
}
