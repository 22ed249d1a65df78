package webhooks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
	"github.com/verso-api/verso/versions"
	"github.com/verso-api/verso/webhooks/signature"
)

// Renderer renders a stored event, in the newest schema, in the API
// version to, for a delivery to an endpoint of account. ctx is the
// delivery's: a renderer whose walk calls resolvers (a removed field put
// back from the account's data) passes it on, with the account, as
// transform.Plan.ApplyContext takes it. The transform engine provides the
// walk; a renderer must be safe for concurrent use. The worker sets the
// "api_version" field of what it returns to to.
//
//	Renderer: func(ctx context.Context, account string, event []byte, to versions.Version) ([]byte, error) {
//		return engine.Back(event, to)
//	},
type Renderer func(ctx context.Context, account string, event []byte, to versions.Version) ([]byte, error)

// firstAttemptKey marks the context of a delivery's first attempt.
type firstAttemptKey struct{}

// FirstAttempt reports whether ctx, the context a Renderer gets, is that
// of a delivery's first attempt: false for its retries and for test sends
// (SendTest). A renderer that counts deliveries (which changes shaped an
// account's events, for its upgrade report) counts each once.
func FirstAttempt(ctx context.Context) bool {
	first, _ := ctx.Value(firstAttemptKey{}).(bool)
	return first
}

// Headers the worker sends with every delivery besides the signature.
const (
	EventIDHeader = "Verso-Event-Id"         // the event id, stable across retries
	AttemptHeader = "Verso-Delivery-Attempt" // 1 for the first attempt
)

// Errors returned by the Worker.
var (
	ErrRunning = errors.New("webhooks: worker is already running")
	ErrRender  = errors.New("webhooks: cannot render the event")
	ErrConfig  = errors.New("webhooks: invalid worker config")
)

// Backoff is the retry schedule: the n-th failed attempt is retried after
// min(Initial * Factor^(n-1), Max), scaled by a random factor in
// [1-Jitter, 1+Jitter]. A delivery whose next attempt would come later than
// MaxAge after its event is marked failed instead.
type Backoff struct {
	Initial time.Duration // Optional. Default value 1 minute.
	Factor  float64       // Optional. Default value 2.
	Max     time.Duration // Optional. Default value 6 hours.
	Jitter  float64       // Optional. Default value 0.2; negative for none.
	MaxAge  time.Duration // Optional. Default value 72 hours.
}

// DefaultBackoff returns the default retry schedule: three days, after 1,
// 2, 4, ... minutes, then every 6 hours.
func DefaultBackoff() Backoff {
	return Backoff{Initial: time.Minute, Factor: 2, Max: 6 * time.Hour, Jitter: 0.2, MaxAge: 72 * time.Hour}
}

func (b Backoff) withDefaults() Backoff {
	def := DefaultBackoff()
	if b.Initial <= 0 {
		b.Initial = def.Initial
	}
	if b.Factor < 1 {
		b.Factor = def.Factor
	}
	if b.Max <= 0 {
		b.Max = def.Max
	}
	if b.Max < b.Initial {
		b.Max = b.Initial
	}
	if b.Jitter == 0 {
		b.Jitter = def.Jitter
	}
	if b.Jitter > 1 {
		b.Jitter = 1
	}
	if b.MaxAge <= 0 {
		b.MaxAge = def.MaxAge
	}
	return b
}

// Delay returns the wait after the n-th failed attempt (n >= 1), with r in
// [0, 1) choosing the jitter.
func (b Backoff) Delay(n int, r float64) time.Duration {
	b = b.withDefaults()
	d := float64(b.Initial) * math.Pow(b.Factor, float64(max(n, 1)-1))
	d = min(d, float64(b.Max))
	if j := b.Jitter; j > 0 {
		d *= 1 - j + 2*j*r
	}
	return time.Duration(d)
}

// Config configures a Worker. Store and Renderer are required.
type Config struct {
	// Store holds the deliveries. Required.
	Store *SQLStore
	// Renderer renders events in each endpoint's version. Required.
	Renderer Renderer
	// Client sends the requests. Optional. Default value: a client that
	// does not follow redirects (a 3xx is a failed attempt), uses no proxy
	// and, unless the Store allows private addresses
	// (Options.AllowPrivate), refuses to connect to a loopback,
	// private, link-local, multicast, unspecified or reserved address,
	// checked at dial time so that DNS rebinding does not get through. A
	// Client given here must do its own checks.
	Client *http.Client
	// Timeout bounds one attempt, from connecting to reading the status.
	// Optional. Default value 30 seconds.
	Timeout time.Duration
	// Backoff is the retry schedule; its zero fields take their defaults.
	// Optional. Default value DefaultBackoff().
	Backoff Backoff
	// Concurrency bounds the requests in flight from this worker.
	// Optional. Default value 64.
	Concurrency int
	// PerEndpoint bounds this worker's requests in flight to one
	// endpoint, so that a slow or dead endpoint holds at most that many of
	// the Concurrency slots.
	// Optional. Default value Concurrency/4.
	PerEndpoint int
	// PerAccount bounds this worker's requests in flight to one account's
	// endpoints, so that an account with many slow endpoints cannot hold
	// the slots other accounts need.
	// Optional. Default value Concurrency/2, and at least PerEndpoint.
	PerAccount int
	// BatchSize bounds the outcomes recorded in one transaction.
	// Optional. Default value 256.
	BatchSize int
	// PollInterval is how often the worker looks for due deliveries when
	// it has nothing to do (Notify wakes it sooner).
	// Optional. Default value 1 second.
	PollInterval time.Duration
	// Lease is how long a claimed delivery stays invisible to other
	// workers; if this worker dies, the delivery is retried after it.
	// Optional. Default value Timeout + 30 seconds; at least Timeout + 1s.
	Lease time.Duration
	// Clock tells the time for schedules and signatures.
	// Optional. Default value time.Now.
	Clock func() time.Time
	// Metrics receives the worker's attempts and outcomes (prom.Webhooks
	// reports them to Prometheus).
	// Optional. Default value nil: none are recorded.
	Metrics Metrics
	// Logger logs failed attempts and database errors.
	// Optional. Default value slog.Default().
	Logger *slog.Logger
	// UserAgent is sent with every delivery.
	// Optional. Default value "verso-webhooks/1".
	UserAgent string
}

// The defaults of Config's optional fields.
const (
	DefaultTimeout      = 30 * time.Second
	DefaultConcurrency  = 64
	DefaultBatchSize    = 256
	DefaultPollInterval = time.Second
	DefaultUserAgent    = "verso-webhooks/1"
)

// Worker delivers pending deliveries: it claims due ones with a lease,
// renders each event in its endpoint's version, signs it and POSTs it,
// then records the outcome and schedules a retry. Several workers, in one
// process or several, can share a SQLStore; delivery is at least once.
type Worker struct {
	cfg     Config
	store   *SQLStore
	now     func() time.Time
	m       Metrics
	wake    chan struct{}
	running atomic.Bool
	log     *slog.Logger
}

// NewWorker checks cfg, fills in the defaults and registers the metrics.
func NewWorker(cfg Config) (*Worker, error) {
	if cfg.Store == nil {
		return nil, fmt.Errorf("%w: Store is required", ErrConfig)
	}
	if cfg.Renderer == nil {
		return nil, fmt.Errorf("%w: Renderer is required", ErrConfig)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	cfg.Backoff = cfg.Backoff.withDefaults()
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.PerEndpoint <= 0 {
		cfg.PerEndpoint = max(cfg.Concurrency/4, 1)
	}
	cfg.PerEndpoint = min(cfg.PerEndpoint, cfg.Concurrency)
	if cfg.PerAccount <= 0 {
		cfg.PerAccount = max(cfg.Concurrency/2, cfg.PerEndpoint)
	}
	cfg.PerAccount = min(max(cfg.PerAccount, cfg.PerEndpoint), cfg.Concurrency)
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.Lease <= 0 {
		cfg.Lease = cfg.Timeout + 30*time.Second
	}
	// A claimed delivery must be able to wait a little and still finish
	// its request before its lease runs out.
	cfg.Lease = max(cfg.Lease, cfg.Timeout+time.Second)
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = DefaultUserAgent
	}
	if cfg.Client == nil {
		cfg.Client = newClient(cfg.Store.allowPrivate)
		if t, ok := cfg.Client.Transport.(*http.Transport); ok {
			// Keep a connection per request in flight to one receiver
			// host (several endpoints may share one), or every request
			// past the second opens a new one.
			t.MaxIdleConnsPerHost = cfg.Concurrency
			t.MaxIdleConns = max(t.MaxIdleConns, cfg.Concurrency)
		}
	}
	w := &Worker{cfg: cfg, store: cfg.Store, now: cfg.Clock, wake: make(chan struct{}, 1), log: cfg.Logger, m: cfg.Metrics}
	if w.m == nil {
		w.m = noMetrics{}
	}
	return w, nil
}

// Notify wakes the worker to look for due deliveries now rather than at
// its next poll; call it after committing a transaction that recorded
// events. It never blocks.
func (w *Worker) Notify() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx is cancelled, then waits for the attempts in
// flight to stop: their requests are cancelled and their deliveries given
// back, due at once and with no attempt counted, so that a restarted
// worker resumes them. Run returns nil after a cancellation; it returns
// ErrRunning if the worker is already running.
//
// The worker claims due deliveries in batches ahead of need, sends each
// within its caps (Concurrency, PerEndpoint, PerAccount requests in
// flight), and records the outcomes in the background, up to BatchSize in
// one statement or transaction.
func (w *Worker) Run(ctx context.Context) error {
	if !w.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer w.running.Store(false)
	r := newRun(w)
	go func() {
		defer close(r.finisher)
		w.record(r.results, r.recorded)
	}()
	timer := time.NewTimer(w.cfg.PollInterval)
	defer timer.Stop()
	mayClaim := true // false after a claim found nothing, until something changes
	for {
		r.dispatch(ctx)
		if mayClaim && !r.claiming && ctx.Err() == nil {
			mayClaim = r.claim(ctx)
		}
		timer.Reset(w.cfg.PollInterval)
		select {
		case <-ctx.Done():
			r.stop()
			return nil
		case jobs := <-r.claimed:
			r.claiming = false
			r.take(jobs)
			mayClaim = len(jobs) > 0
		case j := <-r.sent:
			r.done(j, true)
			mayClaim = true
		case n := <-r.recorded:
			r.unrecorded -= n
		case <-w.wake:
			mayClaim = true
		case <-timer.C:
			mayClaim = true
		}
	}
}

// run is the state of one Run: the deliveries claimed and waiting
// (buffered), those whose request is in flight, and those whose outcome
// is not yet written.
//
// Claims run in the background, ahead of need: up to 4*Concurrency
// deliveries are held (claimed and leased) at once, at most half of them
// for one account and a quarter for one endpoint, and a held delivery
// starts as soon as a slot within the caps (Concurrency, PerEndpoint,
// PerAccount requests in flight) is free. An account or an endpoint at its
// cap keeps its other deliveries in the database, where they do not stand
// in the way of anyone else's. A held delivery whose lease would run out
// before its request could end is given back rather than sent, so that
// waiting in the buffer never makes another node send it too.
type run struct {
	w                 *Worker
	buffered          []job
	heldEP, heldAcct  map[string]int // claimed and not yet sent, in flight included
	inEP, inAcct      map[string]int // in flight
	held, inflight    int
	unrecorded        int // claimed and outcome not yet written
	claiming          bool
	failures          int // claims failed in a row (logClaim)
	claimed           chan []job
	sent              chan job
	results           chan attempt
	recorded          chan int
	finisher          chan struct{}
	maxHeld, maxUnrec int
	minBatch          int
}

func newRun(w *Worker) *run {
	c := w.cfg.Concurrency
	r := &run{
		w:      w,
		heldEP: map[string]int{}, heldAcct: map[string]int{},
		inEP: map[string]int{}, inAcct: map[string]int{},
		claimed:  make(chan []job, 1),
		maxHeld:  4 * c,
		maxUnrec: 5 * c,
		minBatch: max(1, c/4),
		finisher: make(chan struct{}),
	}
	r.sent = make(chan job, r.maxUnrec)
	r.results = make(chan attempt, r.maxUnrec)
	r.recorded = make(chan int, r.maxUnrec)
	return r
}

// claim starts a claim in the background when there is room for a batch
// worth a round trip. It reports whether claiming may still be useful.
func (r *run) claim(ctx context.Context) bool {
	room := min(r.maxHeld-r.held, r.maxUnrec-r.unrecorded)
	if room <= 0 || (room < r.minBatch && r.held > 0) {
		return false
	}
	c := caps{
		limit:       room,
		perEndpoint: r.maxHeld / 4,
		perAccount:  r.maxHeld / 2,
		busyEP:      maps.Clone(r.heldEP),
		busyAcct:    maps.Clone(r.heldAcct),
	}
	r.claiming = true
	go func() {
		now := r.w.now()
		jobs, err := r.w.store.claim(ctx, now, now.Add(r.w.cfg.Lease), newID("lease_"), c)
		if ctx.Err() == nil {
			r.logClaim(err)
		}
		r.claimed <- jobs
	}()
	return true
}

// logClaim logs the claims that fail once when they start failing, and
// once when a claim succeeds again with how many failed in between, not
// at every poll while the store is away. Claims run one at a time, each
// started after the previous one's result was taken, so failures needs
// no lock.
func (r *run) logClaim(err error) {
	switch {
	case err != nil:
		r.failures++
		if r.failures == 1 {
			r.w.log.Error("webhooks: claim deliveries: failing; logged again when a claim succeeds", "err", err)
		}
	case r.failures > 0:
		r.w.log.Warn("webhooks: claim deliveries: recovered", "failed_claims", r.failures)
		r.failures = 0
	}
}

// take holds freshly claimed deliveries.
func (r *run) take(jobs []job) {
	for _, j := range jobs {
		r.heldEP[j.endpoint.ID]++
		r.heldAcct[j.account]++
		r.held++
		r.unrecorded++
	}
	r.buffered = append(r.buffered, jobs...)
}

// dispatch starts every held delivery that a free slot within the caps
// allows, oldest claimed first.
func (r *run) dispatch(ctx context.Context) {
	cfg := r.w.cfg
	keep := r.buffered[:0]
	now := r.w.now()
	for _, j := range r.buffered {
		if now.Add(cfg.Timeout).After(j.leaseUntil) {
			r.done(j, false)
			r.results <- attempt{j: j, now: now} // no outcome: given back
			continue
		}
		if r.inflight >= cfg.Concurrency || r.inEP[j.endpoint.ID] >= cfg.PerEndpoint || r.inAcct[j.account] >= cfg.PerAccount {
			keep = append(keep, j)
			continue
		}
		r.inEP[j.endpoint.ID]++
		r.inAcct[j.account]++
		r.inflight++
		r.w.m.InFlight(1)
		go func() {
			a := r.w.deliver(ctx, j)
			r.sent <- j
			r.results <- a
		}()
	}
	clear(r.buffered[len(keep):])
	r.buffered = keep
}

// done lets go of a held delivery, and frees its slot if its request was
// in flight.
func (r *run) done(j job, inflight bool) {
	if inflight {
		r.inflight--
		r.w.m.InFlight(-1)
		dec(r.inEP, j.endpoint.ID)
		dec(r.inAcct, j.account)
	}
	r.held--
	dec(r.heldEP, j.endpoint.ID)
	dec(r.heldAcct, j.account)
}

func dec(m map[string]int, k string) {
	if m[k]--; m[k] <= 0 {
		delete(m, k)
	}
}

// stop gives back the held deliveries not started, waits for the requests
// in flight (cancelled with ctx) and for every outcome to be written.
func (r *run) stop() {
	if r.claiming {
		r.take(<-r.claimed)
	}
	now := r.w.now()
	for _, j := range r.buffered {
		r.done(j, false)
		r.results <- attempt{j: j, now: now} // no outcome: given back
	}
	r.buffered = nil
	for r.unrecorded > 0 {
		select {
		case j := <-r.sent:
			r.done(j, true)
		case n := <-r.recorded:
			r.unrecorded -= n
		}
	}
	close(r.results)
	<-r.finisher
}

// record writes the outcomes that arrive on results, as many as are
// waiting (up to BatchSize) in one transaction, and reports on recorded how
// many it wrote. It returns when results is closed.
func (w *Worker) record(results <-chan attempt, recorded chan<- int) {
	batch := make([]attempt, 0, w.cfg.BatchSize)
	for a := range results {
		batch = append(batch[:0], a)
	more:
		for len(batch) < w.cfg.BatchSize {
			select {
			case a, ok := <-results:
				if !ok {
					break more
				}
				batch = append(batch, a)
			default:
				break more
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		held, err := w.store.finish(ctx, batch)
		cancel()
		if err != nil {
			// The leases run out and the deliveries are attempted again.
			w.log.Error("webhooks: record attempts", "attempts", len(batch), "err", err)
		}
		for i, a := range batch {
			if err != nil || !held[i] {
				continue // someone else owns the outcome now
			}
			switch a.o.state {
			case StateDelivered:
				w.m.Finished(OutcomeDelivered, a.j.attempt)
			case StateFailed:
				w.m.Finished(OutcomeFailed, a.j.attempt)
			}
		}
		recorded <- len(batch)
	}
}

// deliver makes one attempt at a claimed delivery and returns its outcome.
func (w *Worker) deliver(ctx context.Context, j job) attempt {
	sctx := ctx
	if j.attempt == 1 {
		sctx = context.WithValue(ctx, firstAttemptKey{}, true)
	}
	status, err := w.send(sctx, &j.endpoint, j.body, j.endpoint.APIVersion, j.attempt)
	now := w.now()
	if err != nil && ctx.Err() != nil {
		// Stopping: the attempt was cut short by us, not the receiver.
		return attempt{j: j, now: now}
	}
	o := outcome{state: StateDelivered, status: status}
	if err != nil {
		o.err = err.Error()
		o.next = now.Add(w.cfg.Backoff.Delay(j.attempt, rand.Float64()))
		o.state = StatePending
		if o.next.Sub(j.windowStart) > w.cfg.Backoff.MaxAge {
			o.state = StateFailed
		}
		w.log.Info("webhooks: delivery attempt failed", "delivery", j.id, "event", j.eventID,
			"endpoint", j.endpoint.ID, "attempt", j.attempt, "err", err, "state", o.state)
	}
	return attempt{j: j, now: now, o: o}
}

// AttemptError is a failed attempt: a status other than 2xx, a timeout or
// a connection error.
type AttemptError struct {
	Status int   // the response's status, 0 if there was none
	Err    error // the transport error, nil if there was a response
}

// Error says what happened in words safe to show the endpoint's owner:
// "timed out", "connection failed", "address not allowed" or the
// receiver's status; never the network error itself, which would tell
// an account about the server's network.
func (e *AttemptError) Error() string {
	var ne net.Error
	switch {
	case e.Err == nil:
		return "receiver answered " + strconv.Itoa(e.Status) + " " + http.StatusText(e.Status)
	case errors.Is(e.Err, ErrForbiddenAddress):
		return "address not allowed: webhooks must reach a public address"
	case errors.Is(e.Err, context.DeadlineExceeded), errors.As(e.Err, &ne) && ne.Timeout():
		return "timed out"
	}
	return "connection failed"
}

func (e *AttemptError) Unwrap() error { return e.Err }

// renderError is an event the Renderer could not render in a version; it
// wraps ErrRender and the Renderer's error.
type renderError struct {
	v   versions.Version
	err error
}

func (e *renderError) Error() string   { return "webhooks: " + e.userMessage() }
func (e *renderError) Unwrap() []error { return []error{ErrRender, e.err} }

// userMessage says what failed to the endpoint's owner.
func (e *renderError) userMessage() string {
	return "cannot render the event in " + e.v.String() + ": " + e.err.Error()
}

// render renders the event in v for a delivery to an endpoint of account,
// and stamps it with v.
func (w *Worker) render(ctx context.Context, account string, event []byte, v versions.Version) ([]byte, error) {
	out, err := w.cfg.Renderer(ctx, account, event, v)
	if err != nil {
		return nil, &renderError{v: v, err: err}
	}
	if gjson.GetBytes(out, "api_version").Str == v.String() {
		return out, nil
	}
	out, err = sjson.SetBytes(out, "api_version", v.String())
	if err != nil {
		return nil, &renderError{v: v, err: err}
	}
	return out, nil
}

// send renders, signs and POSTs one event to ep and returns the status.
// It returns an *AttemptError when the receiver did not take the event.
func (w *Worker) send(ctx context.Context, ep *Endpoint, event []byte, v versions.Version, attempt int) (int, error) {
	start := time.Now()
	body, err := w.render(ctx, ep.Account, event, v)
	if err != nil {
		w.m.Attempt(ResultRenderError, time.Since(start))
		return 0, err
	}
	req, err := w.request(ctx, ep, body, attempt)
	if err != nil {
		w.m.Attempt(ResultError, time.Since(start))
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, w.cfg.Timeout)
	defer cancel()
	resp, err := w.cfg.Client.Do(req.WithContext(ctx))
	if err != nil {
		w.m.Attempt(ResultError, time.Since(start))
		return 0, &AttemptError{Err: err}
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		w.m.Attempt(ResultNon2xx, time.Since(start))
		return resp.StatusCode, &AttemptError{Status: resp.StatusCode}
	}
	w.m.Attempt(Result2xx, time.Since(start))
	return resp.StatusCode, nil
}

func (w *Worker) request(ctx context.Context, ep *Endpoint, body []byte, attempt int) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("webhooks: endpoint %s: %w", ep.ID, err)
	}
	id := gjson.GetBytes(body, "id").String()
	now := w.now()
	secrets := ep.secrets(now)
	switch ep.Scheme {
	case SchemeStandard:
		h, err := signature.SignStandard(secrets[0], id, now, body)
		if err != nil {
			return nil, fmt.Errorf("webhooks: endpoint %s: %w", ep.ID, err)
		}
		for _, old := range secrets[1:] {
			o, err := signature.SignStandard(old, id, now, body)
			if err != nil {
				return nil, fmt.Errorf("webhooks: endpoint %s: previous secret: %w", ep.ID, err)
			}
			h.Set(signature.StandardSignature, h.Get(signature.StandardSignature)+" "+o.Get(signature.StandardSignature))
		}
		for k, v := range h {
			req.Header[k] = v
		}
	default:
		sig := signature.Sign(secrets[0], now, body)
		for _, old := range secrets[1:] {
			_, v1, _ := strings.Cut(signature.Sign(old, now, body), ",")
			sig += "," + v1
		}
		req.Header.Set(signature.Header, sig)
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", w.cfg.UserAgent)
	req.Header.Set(EventIDHeader, id)
	req.Header.Set(AttemptHeader, strconv.Itoa(attempt))
	return req, nil
}

// TestResult is the outcome of a test send.
type TestResult struct {
	EventID    string
	APIVersion versions.Version
	Status     int    // the receiver's status, 0 if there was no response
	Error      string // why the receiver did not take it; empty on a 2xx
}

// SendTest sends event, a JSON event in the newest schema, to the
// account's endpoint once, rendered in v (the endpoint's own version when
// v is zero), signed with the endpoint's secret. The endpoint and the
// delivery queue are left unchanged. An event without an "id" gets a fresh
// one. The error reports what kept the event from being sent (no such
// endpoint, a version the renderer refuses); the receiver's answer, good
// or bad, is in the result.
func (w *Worker) SendTest(ctx context.Context, account, endpointID string, event []byte, v versions.Version) (TestResult, error) {
	ep, err := w.store.endpointWithSecret(ctx, account, endpointID)
	if err != nil {
		return TestResult{}, err
	}
	if v.IsZero() {
		v = ep.APIVersion
	}
	if !gjson.ValidBytes(event) || !gjson.ParseBytes(event).IsObject() {
		return TestResult{}, invalid("test event must be a JSON object")
	}
	id := gjson.GetBytes(event, "id").String()
	if id == "" {
		id = NewEventID()
		if event, err = sjson.SetBytes(event, "id", id); err != nil {
			return TestResult{}, invalid("test event: %v", err)
		}
	}
	res := TestResult{EventID: id, APIVersion: v}
	status, err := w.send(ctx, ep, event, v, 1)
	res.Status = status
	var ae *AttemptError
	switch {
	case errors.As(err, &ae):
		res.Error = ae.Error()
	case err != nil:
		return res, err
	}
	return res, nil
}

// SendTestEvent sends the account's stored event eventID as SendTest does.
func (w *Worker) SendTestEvent(ctx context.Context, account, endpointID, eventID string, v versions.Version) (TestResult, error) {
	ev, err := w.store.GetEvent(ctx, account, eventID)
	if err != nil {
		return TestResult{}, err
	}
	return w.SendTest(ctx, account, endpointID, ev.Body, v)
}

// Resend queues the account's delivery again (see SQLStore.Resend) and wakes
// the worker.
func (w *Worker) Resend(ctx context.Context, account, deliveryID string) error {
	if err := w.store.Resend(ctx, account, deliveryID); err != nil {
		return err
	}
	w.Notify()
	return nil
}
