package shadow_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/verso-api/verso/prom"
	"github.com/verso-api/verso/shadow"
	"github.com/verso-api/verso/transform"
	"github.com/verso-api/verso/versions"
)

// blockingHandler is a slog handler whose Handle waits until released, so a
// worker that logs stays busy.
type blockingHandler struct {
	entered chan struct{}
	release chan struct{}
}

func (h *blockingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *blockingHandler) Handle(context.Context, slog.Record) error {
	h.entered <- struct{}{}
	<-h.release
	return nil
}
func (h *blockingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *blockingHandler) WithGroup(string) slog.Handler      { return h }

const customer = `{"object":"customer","id":"cus_1","balance":-500}`

func TestSamplerSubmitNeverBlocks(t *testing.T) {
	tl := load(t, "../../testdata/stripe.yaml")
	h := &blockingHandler{entered: make(chan struct{}, 1), release: make(chan struct{})}
	reg := prometheus.NewRegistry()
	s, err := shadow.NewSampler(shadow.SamplerConfig{
		Engine: transform.New(tl, nil), Rate: 1, Workers: 1, QueueSize: 1,
		Metrics: prom.NewShadow(reg), Logger: slog.New(h),
	})
	if err != nil {
		t.Fatal(err)
	}
	old := versions.MustParse("2014-12-22")
	body := []byte(customer)
	if !s.Submit(body, old, tl.Newest()) {
		t.Fatal("first Submit was not queued")
	}
	<-h.entered // the one worker is now stuck logging the first response
	if !s.Submit(body, old, tl.Newest()) {
		t.Fatal("second Submit was not queued")
	}
	// The queue is full and the worker busy: every further Submit must
	// return at once (a blocking Submit would hang this test) and drop.
	for i := range 100 {
		if s.Submit(body, old, tl.Newest()) {
			t.Fatalf("Submit %d was queued into a full queue", i)
		}
	}
	st := s.Stats()
	if st.Dropped != 100 || st.Sampled != 2 || st.Submitted != 102 {
		t.Errorf("stats = %+v", st)
	}
	if got := testutil.ToFloat64(dropCounter(t, reg)); got != 100 {
		t.Errorf("dropped metric = %v", got)
	}
	go func() {
		for range h.entered {
		}
	}()
	close(h.release)
	s.Close()
	close(h.entered)
	if st := s.Stats(); st.Compared != 2 || st.Differed != 2 {
		t.Errorf("after Close: %+v", st)
	}
}

func dropCounter(t *testing.T, reg *prometheus.Registry) prometheus.Collector {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "verso_shadow_dropped_total" {
			c := prometheus.NewCounter(prometheus.CounterOpts{Name: "x"})
			c.Add(mf.GetMetric()[0].GetCounter().GetValue())
			return c
		}
	}
	t.Fatal("no verso_shadow_dropped_total")
	return nil
}

func TestSamplerRecordsDifferences(t *testing.T) {
	tl := load(t, "../../testdata/stripe.yaml")
	var logs bytes.Buffer
	var mu sync.Mutex
	reg := prometheus.NewRegistry()
	s, err := shadow.NewSampler(shadow.SamplerConfig{
		Engine: transform.New(tl, nil), Rate: 1, Workers: 2, Metrics: prom.NewShadow(reg),
		Logger: slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	served, candidate := versions.MustParse("2023-08-16"), versions.MustParse("2024-04-10")
	product := `{"object":"product","id":"prod_1","marketing_features":[{"name":"Fast"}]}`
	list := []byte(`{"object":"list","data":[` + product + `,` + product + `]}`)
	if !s.Submit(list, served, candidate, slog.String("account", "acct_42")) {
		t.Fatal("not queued")
	}
	// Same body at both versions: compared, no difference.
	if !s.Submit([]byte(customer), served, candidate) {
		t.Fatal("not queued")
	}
	// A version the timeline does not have: an error, logged.
	if !s.Submit(list, versions.MustParse("2018-01-01"), candidate) {
		t.Fatal("not queued")
	}
	s.Close()
	st := s.Stats()
	if st.Compared != 2 || st.Differed != 1 || st.Failed != 1 {
		t.Errorf("stats = %+v", st)
	}
	want := `
# HELP verso_shadow_differences_total Sampled responses whose candidate rendering differs from the served one at a path (array indexes as []), counted once per response and path.
# TYPE verso_shadow_differences_total counter
verso_shadow_differences_total{candidate="2024-04-10",path="data[].features",served="2023-08-16"} 1
verso_shadow_differences_total{candidate="2024-04-10",path="data[].marketing_features",served="2023-08-16"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "verso_shadow_differences_total"); err != nil {
		t.Error(err)
	}
	want = `
# HELP verso_shadow_comparisons_total Sampled responses compared with a candidate version, by result: same, different or error.
# TYPE verso_shadow_comparisons_total counter
verso_shadow_comparisons_total{candidate="2024-04-10",result="different",served="2023-08-16"} 1
verso_shadow_comparisons_total{candidate="2024-04-10",result="error",served="2018-01-01"} 1
verso_shadow_comparisons_total{candidate="2024-04-10",result="same",served="2023-08-16"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "verso_shadow_comparisons_total"); err != nil {
		t.Error(err)
	}
	mu.Lock()
	out := logs.String()
	mu.Unlock()
	for _, w := range []string{
		`level=INFO msg="shadow: candidate version differs" served=2023-08-16 candidate=2024-04-10 differences=4 paths="[data[].features data[].marketing_features]" account=acct_42`,
		`level=WARN msg="shadow: cannot render the candidate version" served=2018-01-01`,
	} {
		if !strings.Contains(out, w) {
			t.Errorf("logs lack %q:\n%s", w, out)
		}
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestSamplerSampling(t *testing.T) {
	tl := load(t, "../../testdata/stripe.yaml")
	e := transform.New(tl, nil)
	old := versions.MustParse("2014-12-22")
	for _, tc := range []struct {
		name    string
		cfg     shadow.SamplerConfig
		body    string
		served  versions.Version
		queued  bool
		wantErr string
	}{
		{name: "under the rate", cfg: shadow.SamplerConfig{Rate: 0.5, Random: func() float64 { return 0.49 }}, body: customer, served: old, queued: true},
		{name: "over the rate", cfg: shadow.SamplerConfig{Rate: 0.5, Random: func() float64 { return 0.5 }}, body: customer, served: old},
		{name: "default rate", cfg: shadow.SamplerConfig{Random: func() float64 { return 0.02 }}, body: customer, served: old},
		{name: "same version", cfg: shadow.SamplerConfig{Rate: 1}, body: customer, served: tl.Newest()},
		{name: "body too large", cfg: shadow.SamplerConfig{Rate: 1, MaxBodySize: 10}, body: customer, served: old},
		{name: "rate above one", cfg: shadow.SamplerConfig{Rate: 1.5}, wantErr: "not in (0, 1]"},
		{name: "negative rate", cfg: shadow.SamplerConfig{Rate: -1}, wantErr: "not in (0, 1]"},
		{name: "no engine", cfg: shadow.SamplerConfig{Rate: 1}, wantErr: "needs an Engine"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			if tc.name != "no engine" {
				cfg.Engine = e
			}
			cfg.Metrics = prom.NewShadow(prometheus.NewRegistry())
			cfg.Logger = slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))
			s, err := shadow.NewSampler(cfg)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if got := s.Submit([]byte(tc.body), tc.served, tl.Newest()); got != tc.queued {
				t.Errorf("Submit = %v, want %v", got, tc.queued)
			}
		})
	}
}

func TestSamplerCopiesBodyAndClose(t *testing.T) {
	tl := load(t, "../../testdata/stripe.yaml")
	reg := prometheus.NewRegistry()
	s, err := shadow.NewSampler(shadow.SamplerConfig{Engine: transform.New(tl, nil), Rate: 1, Metrics: prom.NewShadow(reg),
		Logger: slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))})
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(customer)
	s.Submit(body, versions.MustParse("2014-12-22"), tl.Newest())
	for i := range body {
		body[i] = ' ' // the caller reuses its buffer at once
	}
	s.Close()
	if st := s.Stats(); st.Differed != 1 || st.Failed != 0 {
		t.Errorf("stats = %+v: the sampler did not copy the body", st)
	}
	if s.Submit([]byte(customer), versions.MustParse("2014-12-22"), tl.Newest()) {
		t.Error("Submit after Close was queued")
	}
	s.Close() // a second Close is harmless
	// A second sampler on the same registry shares the metrics.
	s2, err := shadow.NewSampler(shadow.SamplerConfig{Engine: transform.New(tl, nil), Rate: 1, Metrics: prom.NewShadow(reg)})
	if err != nil {
		t.Fatalf("second sampler on one registry: %v", err)
	}
	s2.Close()
}

func TestSamplerConcurrentSubmit(t *testing.T) {
	tl := load(t, "../../testdata/stripe.yaml")
	s, err := shadow.NewSampler(shadow.SamplerConfig{Engine: transform.New(tl, nil), Rate: 1, Workers: 2, QueueSize: 8,
		Metrics: prom.NewShadow(prometheus.NewRegistry()), Logger: slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				s.Submit([]byte(customer), versions.MustParse("2014-12-22"), tl.Newest(), slog.Int("g", g), slog.Int("i", i))
			}
		}()
	}
	wg.Wait()
	s.Close()
	st := s.Stats()
	if st.Submitted != 400 || st.Sampled+st.Dropped != 400 || st.Compared != st.Sampled {
		t.Errorf("stats = %+v", st)
	}
}

// BenchmarkSamplerSubmit is the cost Submit adds to a response: at the
// default 1% rate most calls only draw a random number.
func BenchmarkSamplerSubmit(b *testing.B) {
	tl := load(b, "../../testdata/stripe.yaml")
	s, err := shadow.NewSampler(shadow.SamplerConfig{Engine: transform.New(tl, nil),
		Metrics: prom.NewShadow(prometheus.NewRegistry()), Logger: slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	body := []byte(customer)
	old := versions.MustParse("2014-12-22")
	b.ReportAllocs()
	for b.Loop() {
		s.Submit(body, old, tl.Newest())
	}
}
