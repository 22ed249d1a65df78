package webhooks

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the worker's Prometheus collectors.
type metrics struct {
	deliveries  *prometheus.CounterVec // finished deliveries by outcome
	attempts    *prometheus.CounterVec // attempts by result
	attemptsPer prometheus.Histogram   // attempts a finished delivery took
	duration    prometheus.Histogram   // seconds per attempt
	inflight    prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer, s *Store, now func() time.Time) (*metrics, error) {
	m := &metrics{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "verso_webhook_deliveries_total",
			Help: "Webhook deliveries finished, by outcome: delivered, or failed after the retry window.",
		}, []string{"outcome"}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "verso_webhook_attempts_total",
			Help: "Webhook delivery attempts, by result: 2xx, non_2xx, error (timeout, refused) or render_error.",
		}, []string{"result"}),
		attemptsPer: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "verso_webhook_delivery_attempts",
			Help:    "Attempts a webhook delivery took before it was delivered or failed.",
			Buckets: []float64{1, 2, 3, 4, 6, 8, 12, 16, 24},
		}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "verso_webhook_attempt_duration_seconds",
			Help:    "Time spent on one webhook delivery attempt, rendering included.",
			Buckets: prometheus.ExponentialBuckets(0.005, 3, 9),
		}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "verso_webhook_deliveries_in_flight",
			Help: "Webhook delivery attempts in progress in this worker.",
		}),
	}
	for _, o := range []string{"delivered", "failed"} {
		m.deliveries.WithLabelValues(o)
	}
	for _, r := range []string{"2xx", "non_2xx", "error", "render_error"} {
		m.attempts.WithLabelValues(r)
	}
	if reg == nil {
		return m, nil
	}
	q := &queueCollector{
		store: s,
		now:   now,
		depth: prometheus.NewDesc("verso_webhook_queue_depth",
			"Webhook deliveries waiting to be delivered (pending), in every worker.", nil, nil),
		age: prometheus.NewDesc("verso_webhook_oldest_undelivered_age_seconds",
			"Age of the event of the oldest pending webhook delivery; 0 when none is pending.", nil, nil),
	}
	for _, c := range []prometheus.Collector{m.deliveries, m.attempts, m.attemptsPer, m.duration, m.inflight, q} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("webhooks: register metrics: %w", err)
		}
	}
	return m, nil
}

// queueCollector reads the backlog from the database at each scrape, so
// that every worker sharing the database reports the same figures.
type queueCollector struct {
	store      *Store
	now        func() time.Time
	depth, age *prometheus.Desc
}

func (q *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- q.depth
	ch <- q.age
}

func (q *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := q.store.Stats(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(q.depth, err)
		return
	}
	age := 0.0
	if !st.Oldest.IsZero() {
		age = max(q.now().Sub(st.Oldest).Seconds(), 0)
	}
	ch <- prometheus.MustNewConstMetric(q.depth, prometheus.GaugeValue, float64(st.Pending))
	ch <- prometheus.MustNewConstMetric(q.age, prometheus.GaugeValue, age)
}
