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
//
// A request costs one map lookup (its account, version and route) and a
// counter per change that fired; names (the endpoint templates, and the
// fields and endpoints of each change) are worked out when flushing.
type Recorder struct {
	tl        *gates.Timeline
	store     Store
	opts      RecorderOptions
	info      []changeInfo // by change index
	endpoints []gates.Endpoint
	epNames   []string // endpoints[i].String()
	dropped   atomic.Int64

	mu         sync.Mutex
	pending    map[trafficKey]*pendingTraffic
	deliveries map[deliveryKey]*pendingDeliveries
}

var _ server.FiredRecorder = (*Recorder)(nil)

// trafficKey is an account, a version and a route: a router's pattern
// and the request's method (pattern set), else an endpoint template.
type trafficKey struct {
	account       string
	version       versions.Version
	method, route string
	pattern       bool
}

type deliveryKey struct{ account, eventType string }

// pendingTraffic is what a Recorder holds of an account's requests at one
// version and endpoint since its last flush.
type pendingTraffic struct {
	requests, header int64
	first, last      int64 // Unix nanoseconds
	changes          []tally
	// fields tally the field slots that fired (tally.change is the slot),
	// in requests and responses.
	fields []tally
	// sig holds the sets of the last exchange (route, request, response,
	// request fields, response fields), and repeats how many exchanges
	// since sigAt had those sets and are not tallied yet: a route mostly
	// fires the same changes, and comparing five sets costs less than
	// tallying them.
	sig          [5]gates.Fired
	repeats      int64
	sigAt, sigTo int64
}

// pendingDeliveries is what a Recorder holds of an account's deliveries
// of one event type since its last flush.
type pendingDeliveries struct{ changes, fields []tally }

// tally counts one change: the requests and responses it altered (or the
// deliveries it shaped), and when.
type tally struct {
	change      int // index in the timeline
	req, resp   int64
	n           int64 // exchanges (or deliveries) it fired in
	first, last int64
}

// fire counts n exchanges (or deliveries), between first and last, in
// which change i fired, in ts. at is where to look first, and is set past
// where i was: the changes of an exchange come in increasing order, and
// the same route mostly fires the same changes, so that ts is walked once.
func fire(ts []tally, i int, req, resp bool, n, first, last int64, at *int) []tally {
	k := -1
	if *at < len(ts) && ts[*at].change == i {
		k = *at
	} else {
		for j := range ts {
			if ts[j].change == i {
				k = j
				break
			}
		}
	}
	if k < 0 {
		ts = append(ts, tally{change: i, first: first})
		k = len(ts) - 1
	}
	t := &ts[k]
	if req {
		t.req += n
	}
	if resp {
		t.resp += n
	}
	t.n += n
	t.first, t.last = min(t.first, first), max(t.last, last)
	*at = k + 1
	return ts
}

// changeInfo is what the recorder needs to know of one change.
type changeInfo struct {
	id string
	// routeRequest: the change has endpoint ops, whose firing alters the
	// request's route; routeResponse: status or header ops, which alter
	// the response.
	routeRequest, routeResponse bool
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
	r := &Recorder{tl: tl, store: store, opts: o}
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
	for _, ep := range r.endpoints {
		r.epNames = append(r.epNames, ep.String())
	}
	return r, nil
}

func infoOf(c *gates.Change) changeInfo {
	in := changeInfo{id: c.ID}
	for _, op := range c.Ops {
		switch {
		case op.Kind.Endpoint():
			in.routeRequest = true
		case op.Kind.Response():
			in.routeResponse = true
		}
	}
	return in
}

func (r *Recorder) reset() {
	r.pending = map[trafficKey]*pendingTraffic{}
	r.deliveries = map[deliveryKey]*pendingDeliveries{}
}

// Sample implements server.FiredRecorder: it reports whether to record a
// request, at Options.SampleRate.
func (r *Recorder) Sample() bool {
	return r.opts.SampleRate >= 1 || rand.Float64() < r.opts.SampleRate
}

// Dropped returns how many requests and deliveries were left out since
// the recorder was made because MaxPending was reached.
func (r *Recorder) Dropped() int64 { return r.dropped.Load() }

// Record implements server.FiredRecorder: it counts the request at its
// version and endpoint, and each change that fired on it.
func (r *Recorder) Record(x *server.Exchange) {
	if x.Account == "" || x.Version.IsZero() {
		return
	}
	now := r.opts.Now().UnixNano()
	k := trafficKey{account: x.Account, version: x.Version, method: x.Method, route: x.Pattern, pattern: true}
	if x.Pattern == "" {
		k.method, k.route, k.pattern = "", r.template(x.Method, x.Path), false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.pending[k]
	if p == nil {
		if len(r.pending)+len(r.deliveries) >= r.opts.MaxPending {
			r.dropped.Add(1)
			return
		}
		p = &pendingTraffic{first: now}
		r.pending[k] = p
	}
	p.requests++
	if x.Source == server.SourceHeader {
		p.header++
	}
	p.last = now
	if p.repeats > 0 && p.sig[0].Equal(&x.Route) && p.sig[1].Equal(&x.Request) && p.sig[2].Equal(&x.Response) &&
		p.sig[3].Equal(&x.RequestFields) && p.sig[4].Equal(&x.ResponseFields) {
		p.repeats++
		p.sigTo = now
		return
	}
	r.fold(p)
	for i, f := range [...]*gates.Fired{&x.Route, &x.Request, &x.Response, &x.RequestFields, &x.ResponseFields} {
		p.sig[i].Reset()
		p.sig[i].Union(f)
	}
	p.repeats, p.sigAt, p.sigTo = 1, now, now
}

// fold tallies the exchanges p holds as repeats of its sets: each change
// once, in the parts it altered (the route's changes: endpoint ops alter
// the request, status and header ops the response; then the request's,
// then the response's), and each field slot. r.mu is held, or p is no
// longer shared.
func (r *Recorder) fold(p *pendingTraffic) {
	n, first, last := p.repeats, p.sigAt, p.sigTo
	if n == 0 {
		return
	}
	p.repeats = 0
	routeSet, reqSet, respSet := &p.sig[0], &p.sig[1], &p.sig[2]
	at := 0
	route, req := !routeSet.Empty(), !reqSet.Empty()
	if route {
		for i := range routeSet.All() {
			if i < len(r.info) {
				in := &r.info[i]
				p.changes = fire(p.changes, i, in.routeRequest || reqSet.Has(i), in.routeResponse || respSet.Has(i), n, first, last, &at)
			}
		}
	}
	if req {
		for i := range reqSet.All() {
			if i < len(r.info) && !(route && routeSet.Has(i)) {
				p.changes = fire(p.changes, i, true, respSet.Has(i), n, first, last, &at)
			}
		}
	}
	for i := range respSet.All() {
		if i < len(r.info) && !(route && routeSet.Has(i)) && !(req && reqSet.Has(i)) {
			p.changes = fire(p.changes, i, false, true, n, first, last, &at)
		}
	}
	at = 0
	for i := range p.sig[3].All() {
		p.fields = fire(p.fields, i, true, false, n, first, last, &at)
	}
	for i := range p.sig[4].All() {
		p.fields = fire(p.fields, i, false, true, n, first, last, &at)
	}
}

// RecordDelivery records a webhook delivery to account of an event of
// type eventType, which the changes in fired shaped, and the field slots
// in fields (nil for none) of their ops: rendered with
// transform.Engine.RenderFired in the endpoint's version, fired tracking
// fields (gates.Fired.TrackFields).
//
//	var fired, fields gates.Fired
//	fired.TrackFields(&fields)
//	body, err := engine.RenderFired(event, timeline.Newest(), endpointVersion, &fired)
//	recorder.RecordDelivery(account, eventType, &fired, &fields)
func (r *Recorder) RecordDelivery(account, eventType string, fired, fields *gates.Fired) {
	if account == "" || fired == nil || fired.Empty() {
		return
	}
	now := r.opts.Now().UnixNano()
	r.mu.Lock()
	defer r.mu.Unlock()
	k := deliveryKey{account, eventType}
	d := r.deliveries[k]
	if d == nil {
		if len(r.pending)+len(r.deliveries) >= r.opts.MaxPending {
			r.dropped.Add(1)
			return
		}
		d = &pendingDeliveries{}
		r.deliveries[k] = d
	}
	at := 0
	for i := range fired.All() {
		if i < len(r.info) {
			d.changes = fire(d.changes, i, false, true, 1, now, now, &at)
		}
	}
	if fields != nil {
		at = 0
		for i := range fields.All() {
			d.fields = fire(d.fields, i, false, true, 1, now, now, &at)
		}
	}
}

// batch turns what is pending into a Batch: one ChangeCount per account
// and change, its names worked out from the tallies.
func (r *Recorder) batch(pending map[trafficKey]*pendingTraffic, deliveries map[deliveryKey]*pendingDeliveries) *Batch {
	b := &Batch{Traffic: make([]TrafficCount, 0, len(pending))}
	type key struct {
		account string
		change  int
	}
	counts := map[key]*ChangeCount{}
	// field adds the count of a slot's tally to its change's fields.
	field := func(account string, t *tally) {
		s, ok := r.tl.FieldSlotAt(t.change)
		if !ok || s.Field == "" {
			return
		}
		if c := counts[key{account, s.Change}]; c != nil {
			c.Fields[s.Name()] += t.n
		}
	}
	get := func(account string, t *tally) *ChangeCount {
		k := key{account, t.change}
		c := counts[k]
		if c == nil {
			c = &ChangeCount{Account: account, Change: r.info[t.change].id,
				Endpoints: map[string]int64{}, Fields: map[string]int64{}, EventTypes: map[string]int64{}}
			counts[k] = c
		}
		c.First = minTime(c.First, time.Unix(0, t.first).UTC())
		c.Last = maxTime(c.Last, time.Unix(0, t.last).UTC())
		return c
	}
	// Routes become templates here: two patterns may name one.
	type tkey struct {
		account  string
		version  versions.Version
		endpoint string
	}
	traffic := map[tkey]*TrafficCount{}
	templates := map[[2]string]string{}
	for k, p := range pending {
		r.fold(p)
		ep := k.route
		if k.pattern {
			ep = templates[[2]string{k.method, k.route}]
			if ep == "" {
				ep = fromPattern(k.method, k.route)
				templates[[2]string{k.method, k.route}] = ep
			}
		}
		first, last := time.Unix(0, p.first).UTC(), time.Unix(0, p.last).UTC()
		tk := tkey{k.account, k.version, ep}
		if tc := traffic[tk]; tc != nil {
			tc.Requests += p.requests
			tc.Header += p.header
			tc.First, tc.Last = minTime(tc.First, first), maxTime(tc.Last, last)
		} else {
			traffic[tk] = &TrafficCount{Account: k.account, Version: k.version, Endpoint: ep,
				Requests: p.requests, Header: p.header, First: first, Last: last}
		}
		for i := range p.changes {
			t := &p.changes[i]
			c := get(k.account, t)
			c.Requests += t.req
			c.Responses += t.resp
			c.Endpoints[ep] += t.n
		}
		for i := range p.fields {
			field(k.account, &p.fields[i])
		}
	}
	for k, d := range deliveries {
		for i := range d.changes {
			t := &d.changes[i]
			c := get(k.account, t)
			c.Deliveries += t.n
			if k.eventType != "" {
				c.EventTypes[k.eventType] += t.n
			}
		}
		for i := range d.fields {
			field(k.account, &d.fields[i])
		}
	}
	for _, c := range counts {
		b.Changes = append(b.Changes, *c)
	}
	for _, tc := range traffic {
		b.Traffic = append(b.Traffic, *tc)
	}
	return b
}

// Flush adds what was gathered since the last flush to the store. On
// error it is kept for the next flush.
func (r *Recorder) Flush(ctx context.Context) error {
	r.mu.Lock()
	pending, deliveries := r.pending, r.deliveries
	r.reset()
	r.mu.Unlock()
	if len(pending) == 0 && len(deliveries) == 0 {
		return nil
	}
	if err := r.store.Add(ctx, r.batch(pending, deliveries)); err != nil {
		r.mu.Lock()
		for k, p := range pending {
			cur := r.pending[k]
			if cur == nil {
				r.pending[k] = p
				continue
			}
			cur.requests += p.requests
			cur.header += p.header
			cur.first = min(cur.first, p.first)
			cur.last = max(cur.last, p.last)
			cur.changes = mergeTallies(cur.changes, p.changes)
			cur.fields = mergeTallies(cur.fields, p.fields)
		}
		for k, d := range deliveries {
			cur := r.deliveries[k]
			if cur == nil {
				r.deliveries[k] = d
				continue
			}
			cur.changes = mergeTallies(cur.changes, d.changes)
			cur.fields = mergeTallies(cur.fields, d.fields)
		}
		r.mu.Unlock()
		return err
	}
	return nil
}

// mergeTallies adds the tallies of from to ts.
func mergeTallies(ts, from []tally) []tally {
	for _, f := range from {
		found := false
		for j := range ts {
			if ts[j].change == f.change {
				t := &ts[j]
				t.req += f.req
				t.resp += f.resp
				t.n += f.n
				t.first = min(t.first, f.first)
				t.last = max(t.last, f.last)
				found = true
				break
			}
		}
		if !found {
			ts = append(ts, f)
		}
	}
	return ts
}

// template returns the template of a request no router named:
// Options.Endpoint's, else the timeline's endpoint it matches, else
// Template's.
func (r *Recorder) template(method, path string) string {
	if r.opts.Endpoint != nil {
		return bound(r.opts.Endpoint(method, path))
	}
	m := method
	if m == "HEAD" {
		m = "GET"
	}
	for i, ep := range r.endpoints {
		if ep.Method != "*" && ep.Match(m, path) {
			return r.epNames[i]
		}
	}
	return Template(method, path)
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
