package prom

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Webhooks are the Prometheus metrics of a webhook worker: an
// implementation of webhooks.Metrics (whose methods take standard types
// only, so that this package does not import webhooks).
//
//	m := prom.NewWebhooks(reg, func(ctx context.Context) (int, time.Time, error) {
//		st, err := store.Stats(ctx)
//		return st.Pending, st.Oldest, err
//	})
//	worker, err := webhooks.NewWorker(webhooks.Config{Store: store, Renderer: render, Metrics: m})
//
// It registers verso_webhook_deliveries_total{outcome},
// verso_webhook_attempts_total{result}, verso_webhook_delivery_attempts (a
// histogram of attempts per finished delivery),
// verso_webhook_attempt_duration_seconds, verso_webhook_deliveries_in_flight
// and, when given a queue function read at each scrape,
// verso_webhook_queue_depth and verso_webhook_oldest_undelivered_age_seconds:
// every worker sharing the database reports the same backlog.
type Webhooks struct {
	// Deliveries counts finished deliveries by outcome: delivered, or
	// failed after the retry window.
	Deliveries *prometheus.CounterVec
	// Attempts counts delivery attempts by result: 2xx, non_2xx, error or
	// render_error.
	Attempts *prometheus.CounterVec
	// AttemptsPerDelivery is the attempts a finished delivery took.
	AttemptsPerDelivery prometheus.Histogram
	// AttemptSeconds is the time one attempt took, rendering included.
	AttemptSeconds prometheus.Histogram
	// InFlightAttempts is the attempts in progress in this worker.
	InFlightAttempts prometheus.Gauge
}

// Queue reads the backlog of undelivered deliveries: how many are pending
// and when the event of the oldest happened (zero when none is).
type Queue func(ctx context.Context) (pending int, oldest time.Time, err error)

// NewWebhooks returns the metrics registered with reg (nil registers
// nothing), reusing those already registered under the same names, as
// NewMetrics does. queue, when not nil, is read at each scrape for the
// backlog gauges; the oldest delivery's age is taken with time.Now.
func NewWebhooks(reg prometheus.Registerer, queue Queue) *Webhooks {
	m := &Webhooks{
		Deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "verso_webhook_deliveries_total",
			Help: "Webhook deliveries finished, by outcome: delivered, or failed after the retry window.",
		}, []string{"outcome"}),
		Attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "verso_webhook_attempts_total",
			Help: "Webhook delivery attempts, by result: 2xx, non_2xx, error (timeout, refused) or render_error.",
		}, []string{"result"}),
		AttemptsPerDelivery: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "verso_webhook_delivery_attempts",
			Help:    "Attempts a webhook delivery took before it was delivered or failed.",
			Buckets: []float64{1, 2, 3, 4, 6, 8, 12, 16, 24},
		}),
		AttemptSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "verso_webhook_attempt_duration_seconds",
			Help:    "Time spent on one webhook delivery attempt, rendering included.",
			Buckets: prometheus.ExponentialBuckets(0.005, 3, 9),
		}),
		InFlightAttempts: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "verso_webhook_deliveries_in_flight",
			Help: "Webhook delivery attempts in progress in this worker.",
		}),
	}
	for _, o := range []string{"delivered", "failed"} {
		m.Deliveries.WithLabelValues(o)
	}
	for _, r := range []string{"2xx", "non_2xx", "error", "render_error"} {
		m.Attempts.WithLabelValues(r)
	}
	if reg == nil {
		return m
	}
	m.Deliveries = register(reg, m.Deliveries)
	m.Attempts = register(reg, m.Attempts)
	m.AttemptsPerDelivery = register(reg, m.AttemptsPerDelivery)
	m.AttemptSeconds = register(reg, m.AttemptSeconds)
	m.InFlightAttempts = register(reg, m.InFlightAttempts)
	if queue != nil {
		register(reg, &queueCollector{
			queue: queue,
			depth: prometheus.NewDesc("verso_webhook_queue_depth",
				"Webhook deliveries waiting to be delivered (pending), in every worker.", nil, nil),
			age: prometheus.NewDesc("verso_webhook_oldest_undelivered_age_seconds",
				"Age of the event of the oldest pending webhook delivery; 0 when none is pending.", nil, nil),
		})
	}
	return m
}

// Attempt counts an attempt by result and observes its duration.
func (m *Webhooks) Attempt(result string, d time.Duration) {
	m.Attempts.WithLabelValues(result).Inc()
	m.AttemptSeconds.Observe(d.Seconds())
}

// Finished counts a finished delivery by outcome and observes its
// attempts.
func (m *Webhooks) Finished(outcome string, attempts int) {
	m.Deliveries.WithLabelValues(outcome).Inc()
	m.AttemptsPerDelivery.Observe(float64(attempts))
}

// InFlight adds delta to the attempts in progress.
func (m *Webhooks) InFlight(delta int) { m.InFlightAttempts.Add(float64(delta)) }

// queueCollector reads the backlog at each scrape.
type queueCollector struct {
	queue      Queue
	depth, age *prometheus.Desc
}

func (q *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- q.depth
	ch <- q.age
}

func (q *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	pending, oldest, err := q.queue(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(q.depth, err)
		return
	}
	age := 0.0
	if !oldest.IsZero() {
		age = max(time.Since(oldest).Seconds(), 0)
	}
	ch <- prometheus.MustNewConstMetric(q.depth, prometheus.GaugeValue, float64(pending))
	ch <- prometheus.MustNewConstMetric(q.age, prometheus.GaugeValue, age)
}
