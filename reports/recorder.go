package reports

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/verso-api/verso/gates"
	"github.com/verso-api/verso/server"
	"github.com/verso-api/verso/versions"
)

// Defaults of a Recorder.
const (
	// DefaultMaxPending bounds the counts a Recorder holds between two
	// flushes: accounts times changes, plus accounts times versions times
	// endpoints.
	DefaultMaxPending = 100_000
	// DefaultPruneEvery is how often Run prunes the store.
	DefaultPruneEvery = time.Hour
)

// RecorderOptions configure a Recorder; nil means the defaults.
type RecorderOptions struct {
	// SampleRate is the share of an account's requests recorded, from
	// just above 0 to 1. Counts are of the sampled requests.
	// Optional. Default value 1: every request.
	SampleRate float64
	// MaxPending bounds the counts held between two flushes; past it, new
	// accounts, changes and endpoints are dropped until the next flush
	// (Dropped counts them) and those already held keep counting.
	// Optional. Default value DefaultMaxPending.
	MaxPending int
	// Endpoint returns the endpoint template of a request that no router
	// named ("GET /v1/customers/:id"). It must keep no identifier.
	// Optional. Default value: the timeline's endpoint the request
	// matches, else Template.
	Endpoint func(method, path string) string
	// Now returns the current time.
	// Optional. Default value time.Now.
	Now func() time.Time
}

// Recorder gathers the evidence of which changes fired on each account's
// traffic in memory, and adds it to a Store now and then (Flush, Run), so
// that no request waits for a database write. It is a
// server.FiredRecorder: set it as server.Config.Fired (the proxy's too).
// RecordDelivery records webhook deliveries. It is safe for concurrent
// use.
type Recorder struct {
	tl        *gates.Timeline
	store     Store
	opts      RecorderOptions
	info      []changeInfo // by change index
	endpoints []gates.Endpoint
	dropped   atomic.Int64

	mu       sync.Mutex
	changes  map[changeKey]*ChangeCount
	traffic  map[trafficKey]*TrafficCount
	patterns map[patternKey]string // router pattern -> template
}

var _ server.FiredRecorder = (*Recorder)(nil)

type changeKey struct{ account, change string }

type patternKey struct{ method, pattern string }

type trafficKey struct {
	account  string
	version  versions.Version
	endpoint string
}

// maxPatterns bounds the router patterns whose templates are remembered.
const maxPatterns = 4096

// changeInfo is what the recorder needs to know of one change.
type changeInfo struct {
	id string
	// routeRequest: the change has endpoint ops, whose firing alters the
	// request's route; routeResponse: status or header ops, which alter
	// the response.
	routeRequest, routeResponse bool
	// respFields are the fields its body ops name in responses
	// ("customer.balance"); reqFields in request bodies ("balance").
	respFields, reqFields []string
}

// NewRecorder returns a Recorder for the changes of tl that flushes to
// store; nil opts means the defaults.
func NewRecorder(tl *gates.Timeline, store Store, opts *RecorderOptions) (*Recorder, error) {
	if tl == nil {
		return nil, errors.New("reports: recorder has no timeline")
	}
	if store == nil {
		return nil, errors.New("reports: recorder has no store")
	}
	var o RecorderOptions
	if opts != nil {
		o = *opts
	}
	switch {
	case o.SampleRate == 0:
		o.SampleRate = 1
	case o.SampleRate < 0 || o.SampleRate > 1:
		return nil, errors.New("reports: SampleRate must be in (0, 1]")
	}
	if o.MaxPending <= 0 {
		o.MaxPending = DefaultMaxPending
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	r := &Recorder{tl: tl, store: store, opts: o, patterns: map[patternKey]string{}}
	r.reset()
	seen := map[gates.Endpoint]bool{}
	r.info = make([]changeInfo, tl.NumChanges())
	for i := range r.info {
		c := tl.ChangeAt(i)
		r.info[i] = infoOf(c)
		for _, ep := range c.Endpoints {
			if !seen[ep] {
				seen[ep] = true
				r.endpoints = append(r.endpoints, ep)
			}
		}
		for _, op := range c.Ops {
			for _, ep := range []gates.Endpoint{op.Endpoint, op.WasEndpoint} {
				if ep.Path != "" && !seen[ep] {
					seen[ep] = true
					r.endpoints = append(r.endpoints, ep)
				}
			}
		}
	}
	return r, nil
}

func infoOf(c *gates.Change) changeInfo {
	in := changeInfo{id: c.ID}
	add := func(list []string, f string) []string {
		for _, x := range list {
			if x == f {
				return list
			}
		}
		return append(list, f)
	}
	for _, op := range c.Ops {
		switch {
		case op.Kind.Endpoint():
			in.routeRequest = true
		case op.Kind.Response():
			in.routeResponse = true
		case op.Kind.Body() && op.Field != "":
			if len(c.Resources) == 0 {
				in.respFields = add(in.respFields, op.Field)
			}
			for _, res := range c.Resources {
				in.respFields = add(in.respFields, res+"."+op.Field)
			}
			if len(c.Endpoints) > 0 {
				in.reqFields = add(in.reqFields, op.Field)
			}
		}
	}
	return in
}

func (r *Recorder) reset() {
	r.changes = map[changeKey]*ChangeCount{}
	r.traffic = map[trafficKey]*TrafficCount{}
}

// Sample implements server.FiredRecorder: it reports whether to record a
// request, at Options.SampleRate.
func (r *Recorder) Sample() bool {
	return r.opts.SampleRate >= 1 || rand.Float64() < r.opts.SampleRate
}

// Dropped returns how many counts were dropped since the recorder was
// made because MaxPending was reached.
func (r *Recorder) Dropped() int64 { return r.dropped.Load() }

// Record implements server.FiredRecorder: it counts the request at its
// version and endpoint, and each change that fired on it.
func (r *Recorder) Record(x *server.Exchange) {
	if x.Account == "" || x.Version.IsZero() {
		return
	}
	now := r.opts.Now().UTC().Round(0)
	r.mu.Lock()
	defer r.mu.Unlock()
	ep := r.endpoint(x.Method, x.Path, x.Pattern)
	r.countTraffic(x.Account, x.Version, ep, x.Source == server.SourceHeader, now)
	for i := range x.Route.All() {
		r.countChange(x, i, ep, now)
	}
	for i := range x.Request.All() {
		if !x.Route.Has(i) {
			r.countChange(x, i, ep, now)
		}
	}
	for i := range x.Response.All() {
		if !x.Route.Has(i) && !x.Request.Has(i) {
			r.countChange(x, i, ep, now)
		}
	}
}

// countChange counts change i of x. r.mu is held.
func (r *Recorder) countChange(x *server.Exchange, i int, ep string, now time.Time) {
	if i >= len(r.info) {
		return
	}
	in := &r.info[i]
	c := r.change(x.Account, in.id, now)
	if c == nil {
		return
	}
	req := x.Request.Has(i) || x.Route.Has(i) && in.routeRequest
	resp := x.Response.Has(i) || x.Route.Has(i) && in.routeResponse
	if req {
		c.Requests++
		for _, f := range in.reqFields {
			c.Fields[f]++
		}
	}
	if resp {
		c.Responses++
		for _, f := range in.respFields {
			c.Fields[f]++
		}
	}
	c.Endpoints[ep]++
}

// change returns the pending count of an account's change, made when
// there is room. r.mu is held.
func (r *Recorder) change(account, id string, now time.Time) *ChangeCount {
	k := changeKey{account, id}
	c := r.changes[k]
	if c == nil {
		if len(r.changes)+len(r.traffic) >= r.opts.MaxPending {
			r.dropped.Add(1)
			return nil
		}
		c = &ChangeCount{Account: account, Change: id, First: now,
			Endpoints: map[string]int64{}, Fields: map[string]int64{}, EventTypes: map[string]int64{}}
		r.changes[k] = c
	}
	c.Last = now
	return c
}

// countTraffic counts a request at v on ep. r.mu is held.
func (r *Recorder) countTraffic(account string, v versions.Version, ep string, header bool, now time.Time) {
	k := trafficKey{account, v, ep}
	t := r.traffic[k]
	if t == nil {
		if len(r.changes)+len(r.traffic) >= r.opts.MaxPending {
			r.dropped.Add(1)
			return
		}
		t = &TrafficCount{Account: account, Version: v, Endpoint: ep, First: now}
		r.traffic[k] = t
	}
	t.Requests++
	if header {
		t.Header++
	}
	t.Last = now
}

// endpoint returns the template of a request: the router's pattern, else
// Options.Endpoint, else the timeline's endpoint it matches, else
// Template. r.mu is held.
func (r *Recorder) endpoint(method, path, pattern string) string {
	if pattern != "" {
		k := patternKey{method, pattern}
		if t, ok := r.patterns[k]; ok {
			return t
		}
		t := fromPattern(method, pattern)
		if len(r.patterns) < maxPatterns {
			r.patterns[k] = t
		}
		return t
	}
	if r.opts.Endpoint != nil {
		return bound(r.opts.Endpoint(method, path))
	}
	m := method
	if m == "HEAD" {
		m = "GET"
	}
	for _, ep := range r.endpoints {
		if ep.Method != "*" && ep.Match(m, path) {
			return ep.String()
		}
	}
	return Template(method, path)
}

// RecordDelivery records a webhook delivery to account of an event of
// type eventType, which the changes in fired shaped (rendered with
// transform.Engine.RenderFired in the endpoint's version).
func (r *Recorder) RecordDelivery(account, eventType string, fired *gates.Fired) {
	if account == "" || fired == nil || fired.Empty() {
		return
	}
	now := r.opts.Now().UTC().Round(0)
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range fired.All() {
		if i >= len(r.info) {
			continue
		}
		in := &r.info[i]
		c := r.change(account, in.id, now)
		if c == nil {
			continue
		}
		c.Deliveries++
		if eventType != "" {
			c.EventTypes[eventType]++
		}
		for _, f := range in.respFields {
			c.Fields[f]++
		}
	}
}

// Flush adds what was gathered since the last flush to the store. On
// error the counts are kept for the next flush.
func (r *Recorder) Flush(ctx context.Context) error {
	r.mu.Lock()
	changes, traffic := r.changes, r.traffic
	r.reset()
	r.mu.Unlock()
	if len(changes) == 0 && len(traffic) == 0 {
		return nil
	}
	b := &Batch{Changes: make([]ChangeCount, 0, len(changes)), Traffic: make([]TrafficCount, 0, len(traffic))}
	for _, c := range changes {
		b.Changes = append(b.Changes, *c)
	}
	for _, t := range traffic {
		b.Traffic = append(b.Traffic, *t)
	}
	if err := r.store.Add(ctx, b); err != nil {
		r.mu.Lock()
		for k, c := range changes {
			r.merge(k, c)
		}
		for k, t := range traffic {
			if cur := r.traffic[k]; cur != nil {
				cur.Requests += t.Requests
				cur.Header += t.Header
				cur.First = minTime(cur.First, t.First)
				cur.Last = maxTime(cur.Last, t.Last)
			} else {
				r.traffic[k] = t
			}
		}
		r.mu.Unlock()
		return err
	}
	return nil
}

// merge puts back a count that could not be flushed. r.mu is held.
func (r *Recorder) merge(k changeKey, c *ChangeCount) {
	cur := r.changes[k]
	if cur == nil {
		r.changes[k] = c
		return
	}
	cur.Requests += c.Requests
	cur.Responses += c.Responses
	cur.Deliveries += c.Deliveries
	for _, p := range [][2]map[string]int64{{cur.Endpoints, c.Endpoints}, {cur.Fields, c.Fields}, {cur.EventTypes, c.EventTypes}} {
		for name, n := range p[1] {
			p[0][name] += n
		}
	}
	cur.First = minTime(cur.First, c.First)
	cur.Last = maxTime(cur.Last, c.Last)
}

// Run flushes every interval and prunes the store every
// DefaultPruneEvery, until ctx is done; then it flushes once more with a
// fresh context and returns. Errors are passed to onErr when it is not
// nil.
func (r *Recorder) Run(ctx context.Context, every time.Duration, onErr func(error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	report := func(err error) {
		if err != nil && onErr != nil {
			onErr(err)
		}
	}
	var pruned time.Time
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			report(r.Flush(fctx))
			cancel()
			return
		case <-t.C:
			report(r.Flush(ctx))
			if now := r.opts.Now(); now.Sub(pruned) >= DefaultPruneEvery {
				_, err := r.store.Prune(ctx)
				report(err)
				pruned = now
			}
		}
	}
}
