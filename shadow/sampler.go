package shadow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"regexp"
	"sync"
	"sync/atomic"

	"github.com/verso-api/verso/transform"
	"github.com/verso-api/verso/versions"
)

// SamplerConfig configures a Sampler.
type SamplerConfig struct {
	// Engine renders the bodies. Required.
	Engine *transform.Engine
	// Rate is the share of submitted responses compared, in (0, 1].
	// Optional. Default value 0.01.
	Rate float64
	// Workers is how many goroutines compare in the background.
	// Optional. Default value 1.
	Workers int
	// QueueSize bounds the responses waiting for a worker; Submit drops a
	// response when the queue is full. Optional. Default value 64.
	QueueSize int
	// MaxBodySize is the largest body compared; larger ones are not
	// sampled (Submit copies a sampled body). Optional. Default value 1 MiB.
	MaxBodySize int
	// Metrics receives the comparisons, differences and drops (prom.Shadow
	// reports them to Prometheus). Optional. Default value nil: none are
	// recorded (Stats still counts them).
	Metrics Metrics
	// Logger receives one record per response that differs (Info) or
	// fails to render (Warn). Optional. Default value slog.Default().
	Logger *slog.Logger
	// Random returns a number in [0, 1) to sample with; it must be safe for
	// concurrent use. Optional. Default
	// value math/rand/v2.Float64.
	Random func() float64
}

// The defaults of SamplerConfig's optional fields.
const (
	DefaultRate        = 0.01
	DefaultWorkers     = 1
	DefaultQueueSize   = 64
	DefaultMaxBodySize = 1 << 20
)

// Metrics receives what a Sampler finds, for a metrics system: package
// prom implements it for Prometheus, so that this package does not import
// Prometheus. Its methods are called from the sampler's workers (Dropped
// from Submit) and must not block.
type Metrics interface {
	// Compared records one sampled response served at served and
	// compared with how candidate renders it, by result: "same",
	// "different" or "error" (the candidate cannot render it).
	Compared(served, candidate versions.Version, result string)
	// Differs records a path at which a compared response differs (array
	// indexes written "[]", "(root)" for the whole body), once per
	// response and path.
	Differs(served, candidate versions.Version, path string)
	// Dropped records a sampled response dropped because the queue was
	// full.
	Dropped()
}

// noMetrics is the Metrics of a Sampler configured without any.
type noMetrics struct{}

func (noMetrics) Compared(versions.Version, versions.Version, string) {}
func (noMetrics) Differs(versions.Version, versions.Version, string)  {}
func (noMetrics) Dropped()                                            {}

// SamplerStats counts what a Sampler did.
type SamplerStats struct {
	Submitted uint64 // calls to Submit
	Sampled   uint64 // responses queued for comparison
	Dropped   uint64 // sampled responses dropped because the queue was full or the sampler closed
	Compared  uint64 // responses compared
	Differed  uint64 // compared responses whose candidate rendering differs
	Failed    uint64 // responses that could not be rendered
}

// Sampler compares, in the background, a sample of live responses as served
// with how a candidate version would render them, and records the
// differences as metrics (SamplerConfig.Metrics) and slog records: an operator can tell
// an account what would change for it if it upgraded. Submit never blocks
// and never changes the response. A Sampler is safe for concurrent use.
type Sampler struct {
	cfg    SamplerConfig
	queue  chan job
	quit   chan struct{}
	wg     sync.WaitGroup
	closed atomic.Bool
	once   sync.Once

	submitted, sampled, dropped, compared, differed, failed atomic.Uint64

	m Metrics
}

type job struct {
	body              []byte
	served, candidate versions.Version
	attrs             []slog.Attr
}

// NewSampler starts a Sampler's workers. Close stops them.
func NewSampler(cfg SamplerConfig) (*Sampler, error) {
	if cfg.Engine == nil {
		return nil, errors.New("shadow: sampler needs an Engine")
	}
	if cfg.Rate == 0 {
		cfg.Rate = DefaultRate
	}
	if cfg.Rate < 0 || cfg.Rate > 1 {
		return nil, fmt.Errorf("shadow: sample rate %v is not in (0, 1]", cfg.Rate)
	}
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = DefaultQueueSize
	}
	if cfg.MaxBodySize <= 0 {
		cfg.MaxBodySize = DefaultMaxBodySize
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Random == nil {
		cfg.Random = rand.Float64
	}
	s := &Sampler{cfg: cfg, queue: make(chan job, cfg.QueueSize), quit: make(chan struct{}), m: cfg.Metrics}
	if s.m == nil {
		s.m = noMetrics{}
	}
	for range cfg.Workers {
		s.wg.Add(1)
		go s.work()
	}
	return s, nil
}

// Submit offers a response: body in the newest schema, the version it was
// served in and the candidate version to compare with. A sampled body is
// copied, so the caller may reuse body at once. attrs are added to the log
// record (the account, the request path). Submit never blocks: it reports
// whether the response was queued, and drops it when the queue is full.
func (s *Sampler) Submit(body []byte, served, candidate versions.Version, attrs ...slog.Attr) bool {
	s.submitted.Add(1)
	if s.closed.Load() || served == candidate || len(body) > s.cfg.MaxBodySize || s.cfg.Random() >= s.cfg.Rate {
		return false
	}
	j := job{body: append([]byte(nil), body...), served: served, candidate: candidate, attrs: attrs}
	select {
	case s.queue <- j:
		s.sampled.Add(1)
		return true
	default:
		s.dropped.Add(1)
		s.m.Dropped()
		return false
	}
}

// Close stops accepting responses, waits for the queued ones to be
// compared and stops the workers.
func (s *Sampler) Close() {
	s.once.Do(func() {
		s.closed.Store(true)
		close(s.quit)
	})
	s.wg.Wait()
}

// Stats returns the sampler's counters.
func (s *Sampler) Stats() SamplerStats {
	return SamplerStats{
		Submitted: s.submitted.Load(), Sampled: s.sampled.Load(), Dropped: s.dropped.Load(),
		Compared: s.compared.Load(), Differed: s.differed.Load(), Failed: s.failed.Load(),
	}
}

func (s *Sampler) work() {
	defer s.wg.Done()
	for {
		select {
		case j := <-s.queue:
			s.compare(j)
		case <-s.quit:
			for {
				select {
				case j := <-s.queue:
					s.compare(j)
				default:
					return
				}
			}
		}
	}
}

var indexes = regexp.MustCompile(`\[[0-9]+\]`)

func (s *Sampler) compare(j job) {
	sv, cv := j.served.String(), j.candidate.String()
	diffs, err := DiffVersions(s.cfg.Engine, j.body, j.served, j.candidate)
	if err != nil {
		s.failed.Add(1)
		s.m.Compared(j.served, j.candidate, "error")
		s.cfg.Logger.LogAttrs(context.Background(), slog.LevelWarn, "shadow: cannot render the candidate version",
			append([]slog.Attr{slog.String("served", sv), slog.String("candidate", cv), slog.String("error", err.Error())}, j.attrs...)...)
		return
	}
	s.compared.Add(1)
	if len(diffs) == 0 {
		s.m.Compared(j.served, j.candidate, "same")
		return
	}
	s.differed.Add(1)
	s.m.Compared(j.served, j.candidate, "different")
	paths := make([]string, 0, len(diffs))
	seen := map[string]bool{}
	for _, d := range diffs {
		p := indexes.ReplaceAllString(d.Path, "[]")
		if p == "" {
			p = "(root)"
		}
		if !seen[p] {
			seen[p] = true
			paths = append(paths, p)
			s.m.Differs(j.served, j.candidate, p)
		}
	}
	const maxLogged = 20
	logged := paths
	if len(logged) > maxLogged {
		logged = logged[:maxLogged]
	}
	s.cfg.Logger.LogAttrs(context.Background(), slog.LevelInfo, "shadow: candidate version differs",
		append([]slog.Attr{slog.String("served", sv), slog.String("candidate", cv),
			slog.Int("differences", len(diffs)), slog.Any("paths", logged)}, j.attrs...)...)
}
