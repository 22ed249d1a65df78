package prom_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/verso-api/verso/prom"
	"github.com/verso-api/verso/shadow"
	"github.com/verso-api/verso/webhooks"
)

// The metrics implement the interfaces of the packages they report for,
// which prom itself does not import.
var (
	_ webhooks.Metrics = (*prom.Webhooks)(nil)
	_ shadow.Metrics   = (*prom.Shadow)(nil)
)

func TestWebhooks(t *testing.T) {
	reg := prometheus.NewRegistry()
	oldest := time.Now().Add(-90 * time.Second)
	var queueErr error
	m := prom.NewWebhooks(reg, func(context.Context) (int, time.Time, error) { return 3, oldest, queueErr })
	m.InFlight(1)
	m.Attempt(webhooks.ResultNon2xx, 20*time.Millisecond)
	m.Attempt(webhooks.Result2xx, 30*time.Millisecond)
	m.InFlight(-1)
	m.Finished(webhooks.OutcomeDelivered, 2)

	if got := testutil.ToFloat64(m.Attempts.WithLabelValues("non_2xx")); got != 1 {
		t.Errorf("non_2xx attempts = %v", got)
	}
	if got := testutil.ToFloat64(m.Deliveries.WithLabelValues("delivered")); got != 1 {
		t.Errorf("delivered = %v", got)
	}
	if got := testutil.ToFloat64(m.InFlightAttempts); got != 0 {
		t.Errorf("in flight = %v", got)
	}
	if n := testutil.CollectAndCount(m.AttemptSeconds); n != 1 {
		t.Errorf("attempt durations: %d series", n)
	}
	err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP verso_webhook_queue_depth Webhook deliveries waiting to be delivered (pending), in every worker.
# TYPE verso_webhook_queue_depth gauge
verso_webhook_queue_depth 3
`), "verso_webhook_queue_depth")
	if err != nil {
		t.Error(err)
	}
	if age := gauge(t, reg, "verso_webhook_oldest_undelivered_age_seconds"); age < 90 || age > 3600 {
		t.Errorf("oldest age = %v, want about 90", age)
	}
	// A second worker on the registry shares the metrics.
	if again := prom.NewWebhooks(reg, nil); again.Attempts != m.Attempts {
		t.Error("the second NewWebhooks did not reuse the registered counters")
	}
	queueErr = errors.New("database down")
	if _, err := reg.Gather(); err == nil {
		t.Error("a queue that fails gathered without error")
	}
}

func TestShadow(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := prom.NewShadow(reg)
	m.Dropped()
	m.Dropped()
	if got := testutil.ToFloat64(m.Drops); got != 2 {
		t.Errorf("drops = %v", got)
	}
	if prom.NewShadow(reg).Drops != m.Drops {
		t.Error("the second NewShadow did not reuse the registered counter")
	}
}

// gauge returns the value of the gauge named name in reg.
func gauge(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}
