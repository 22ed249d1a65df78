package reports

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/verso-api/verso/versions"
)

// DefaultWindow is how long evidence is kept and reported: 30 days.
const DefaultWindow = 30 * 24 * time.Hour

// DefaultMaxNames bounds the names (endpoints, fields, event types) kept
// per account, change, day and kind, and the endpoints kept per account,
// version and day: more are counted under Other.
const DefaultMaxNames = 32

// MaxNameBytes is the longest name kept: an endpoint template, a field
// path or an event type. A longer one is cut to it.
const MaxNameBytes = 200

// ErrEmptyAccount: evidence was asked or given for the empty account.
var ErrEmptyAccount = errors.New("reports: empty account")

// Store keeps the evidence of each account, per change and per day, over a
// rolling window. Every implementation is safe for concurrent use. A
// store keeps names and counts only: an endpoint template, a field path,
// an event type, never a value, a raw path or a body.
type Store interface {
	// Add adds a batch (what a Recorder gathered since its last flush) to
	// the current day of the store's clock, in one transaction. Names
	// past Options.MaxNames for a key and day are counted under Other.
	Add(ctx context.Context, b *Batch) error
	// Evidence returns the account's evidence over the window (the days
	// from now minus Options.Window on); an account with none gets an
	// empty Evidence.
	Evidence(ctx context.Context, account string) (*Evidence, error)
	// Prune deletes the evidence of the days before the window, of every
	// account, and returns how many rows (or entries) it deleted.
	Prune(ctx context.Context) (int64, error)
}

// Options configure a Store: NewMemoryStore and NewSQLStore take an
// *Options, and nil means the defaults.
type Options struct {
	// Now returns the current time.
	// Optional. Default value time.Now.
	Now func() time.Time
	// Window is how long evidence is kept: Evidence reports the days from
	// Now minus Window on, and Prune deletes older days.
	// Optional. Default value DefaultWindow (30 days).
	Window time.Duration
	// MaxNames bounds the names kept per account, change, day and kind,
	// and the endpoints kept per account, version and day.
	// Optional. Default value DefaultMaxNames.
	MaxNames int
}

func withDefaults(opts *Options) Options {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.MaxNames <= 0 {
		o.MaxNames = DefaultMaxNames
	}
	return o
}

// now returns the clock's time in UTC without a monotonic reading.
func (o Options) now() time.Time { return o.Now().UTC().Round(0) }

// day returns the day of t: days since the Unix epoch, in UTC.
func day(t time.Time) int64 { return t.Unix() / 86400 }

// firstDay is the first day of the window at now.
func (o Options) firstDay(now time.Time) int64 { return day(now.Add(-o.Window)) + 1 }

// Batch is what a Recorder gathered between two flushes.
type Batch struct {
	Changes []ChangeCount
	Traffic []TrafficCount
}

// Empty reports whether the batch holds nothing.
func (b *Batch) Empty() bool { return b == nil || len(b.Changes) == 0 && len(b.Traffic) == 0 }

// ChangeCount is what one change did to one account's traffic in a batch.
type ChangeCount struct {
	Account string
	// Change is the change's id (never its index, which shifts when a
	// version is added).
	Change string
	// Requests counts the requests it altered (body, query string, or
	// route); Responses the responses (body, status or headers);
	// Deliveries the webhook deliveries it shaped.
	Requests, Responses, Deliveries int64
	// Endpoints counts, per endpoint template ("POST /v1/customers/:id"),
	// the requests and responses it altered there; Fields, per field path
	// ("customer.balance", in the newer version's terms), how often it
	// altered one; EventTypes, per event type, the deliveries it shaped.
	Endpoints, Fields, EventTypes map[string]int64
	// First and Last are when it fired first and last in the batch.
	First, Last time.Time
}

// TrafficCount is how many requests an account sent at one version to one
// endpoint in a batch: what tells traffic at the pin from traffic that
// tries a newer version.
type TrafficCount struct {
	Account  string
	Version  versions.Version
	Endpoint string
	Requests int64
	// Header counts those of Requests that named the version in their
	// header.
	Header      int64
	First, Last time.Time
}

// Evidence is an account's evidence over a store's window.
type Evidence struct {
	Account string
	// Since is the first moment of the window.
	Since time.Time
	// Changes holds the changes that fired on the account's traffic, by
	// id.
	Changes map[string]*ChangeEvidence
	// Traffic holds the account's requests per version served, newest
	// version first.
	Traffic []VersionTraffic
}

// ChangeEvidence is what one change did to an account's traffic.
type ChangeEvidence struct {
	Change                          string
	Requests, Responses, Deliveries int64
	// Endpoints, Fields and EventTypes are sorted by count, highest first,
	// then by name.
	Endpoints, Fields, EventTypes []Name
	// OtherEndpoints, OtherFields and OtherEventTypes count what was left
	// out of the lists past Options.MaxNames.
	OtherEndpoints, OtherFields, OtherEventTypes int64
	FirstSeen, LastSeen                          time.Time
}

// VersionTraffic is an account's requests served at one version.
type VersionTraffic struct {
	Version  versions.Version
	Requests int64
	// Header counts the requests that named the version in their header
	// (a client trying it, or an SDK that always sends it).
	Header int64
	// Endpoints are sorted by count, highest first; OtherEndpoints counts
	// the requests left out past Options.MaxNames.
	Endpoints           []Name
	OtherEndpoints      int64
	FirstSeen, LastSeen time.Time
}

// Name is a name and how often it was seen.
type Name struct {
	Name  string
	Count int64
}

// The kinds of names kept per change.
const (
	kindEndpoint = "endpoint"
	kindField    = "field"
	kindEvent    = "event_type"
)

// other is the name under which names past MaxNames are counted.
const other = ""

// names turns counts into a list sorted by count, highest first, of at
// most max names, and the count of the others.
func names(m map[string]int64, max int) ([]Name, int64) {
	out := make([]Name, 0, len(m))
	var rest int64
	for k, n := range m {
		if k == other {
			rest += n
			continue
		}
		out = append(out, Name{k, n})
	}
	sortNames(out)
	for _, n := range out[min(max, len(out)):] {
		rest += n.Count
	}
	return out[:min(max, len(out))], rest
}

func sortNames(ns []Name) {
	slices.SortFunc(ns, func(a, b Name) int {
		if a.Count != b.Count {
			if a.Count > b.Count {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
}

// bound returns a name fit to keep: valid UTF-8 (PostgreSQL refuses
// anything else), control characters dropped, at most MaxNameBytes long
// (cut on a rune boundary).
func bound(s string) string {
	clean := func(s string) bool {
		for i := 0; i < len(s); i++ {
			if s[i] < 0x20 || s[i] >= 0x7f {
				return false
			}
		}
		return true
	}
	if len(s) <= MaxNameBytes && clean(s) {
		return s
	}
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, ""))
	for len(s) > MaxNameBytes {
		_, n := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-n]
	}
	return s
}

func minTime(a, b time.Time) time.Time {
	if a.IsZero() || !b.IsZero() && b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// checkBatch refuses a batch naming the empty account or change, or a
// negative count.
func checkBatch(b *Batch) error {
	if b == nil {
		return nil
	}
	for i := range b.Changes {
		c := &b.Changes[i]
		if c.Account == "" {
			return ErrEmptyAccount
		}
		if c.Change == "" {
			return errors.New("reports: a change count names no change")
		}
		if c.Requests < 0 || c.Responses < 0 || c.Deliveries < 0 {
			return errors.New("reports: negative count")
		}
	}
	for i := range b.Traffic {
		t := &b.Traffic[i]
		if t.Account == "" {
			return ErrEmptyAccount
		}
		if t.Version.IsZero() {
			return errors.New("reports: a traffic count names no version")
		}
		if t.Requests < 0 || t.Header < 0 || t.Header > t.Requests {
			return errors.New("reports: negative count")
		}
	}
	return nil
}

// evidence gathers the rows of an account's evidence, summed over days.
type evidence struct {
	e       *Evidence
	names   map[string]map[string]map[string]int64 // change -> kind -> name -> n
	traffic map[versions.Version]*VersionTraffic
	eps     map[versions.Version]map[string]int64
	max     int
}

func newEvidence(account string, firstDay int64, max int) *evidence {
	return &evidence{
		max:     max,
		e:       &Evidence{Account: account, Since: time.Unix(firstDay*86400, 0).UTC(), Changes: map[string]*ChangeEvidence{}, Traffic: []VersionTraffic{}},
		names:   map[string]map[string]map[string]int64{},
		traffic: map[versions.Version]*VersionTraffic{},
		eps:     map[versions.Version]map[string]int64{},
	}
}

func (ev *evidence) addChange(id string, requests, responses, deliveries int64, first, last time.Time) {
	c := ev.e.Changes[id]
	if c == nil {
		c = &ChangeEvidence{Change: id, Endpoints: []Name{}, Fields: []Name{}, EventTypes: []Name{}}
		ev.e.Changes[id] = c
	}
	c.Requests += requests
	c.Responses += responses
	c.Deliveries += deliveries
	c.FirstSeen = minTime(c.FirstSeen, first)
	c.LastSeen = maxTime(c.LastSeen, last)
}

func (ev *evidence) addName(id, kind, name string, n int64) {
	byKind := ev.names[id]
	if byKind == nil {
		byKind = map[string]map[string]int64{}
		ev.names[id] = byKind
	}
	m := byKind[kind]
	if m == nil {
		m = map[string]int64{}
		byKind[kind] = m
	}
	m[name] += n
}

func (ev *evidence) addTraffic(v versions.Version, requests, header int64, first, last time.Time) {
	t := ev.traffic[v]
	if t == nil {
		t = &VersionTraffic{Version: v}
		ev.traffic[v] = t
	}
	t.Requests += requests
	t.Header += header
	t.FirstSeen = minTime(t.FirstSeen, first)
	t.LastSeen = maxTime(t.LastSeen, last)
}

func (ev *evidence) addTrafficEndpoint(v versions.Version, name string, n int64) {
	m := ev.eps[v]
	if m == nil {
		m = map[string]int64{}
		ev.eps[v] = m
	}
	m[name] += n
}

// done sorts what was gathered and returns the Evidence.
func (ev *evidence) done() *Evidence {
	for id, byKind := range ev.names {
		c := ev.e.Changes[id]
		if c == nil {
			continue
		}
		c.Endpoints, c.OtherEndpoints = names(byKind[kindEndpoint], ev.max)
		c.Fields, c.OtherFields = names(byKind[kindField], ev.max)
		c.EventTypes, c.OtherEventTypes = names(byKind[kindEvent], ev.max)
	}
	for v, t := range ev.traffic {
		t.Endpoints, t.OtherEndpoints = names(ev.eps[v], ev.max)
		ev.e.Traffic = append(ev.e.Traffic, *t)
	}
	slices.SortFunc(ev.e.Traffic, func(a, b VersionTraffic) int { return versions.Compare(b.Version, a.Version) })
	return ev.e
}
