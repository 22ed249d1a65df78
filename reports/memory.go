package reports

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/verso-api/verso/versions"
)

// MemoryStore is a Store in memory, for tests and for servers that may
// forget their evidence when they stop. It is safe for concurrent use.
type MemoryStore struct {
	opts     Options
	mu       sync.Mutex
	accounts map[string]*memAccount
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty MemoryStore; nil opts means the
// defaults.
func NewMemoryStore(opts *Options) *MemoryStore {
	return &MemoryStore{opts: withDefaults(opts), accounts: map[string]*memAccount{}}
}

type memAccount struct {
	changes map[changeDay]*memChange
	traffic map[versionDay]*memTraffic
}

type changeDay struct {
	change string
	day    int64
}

type versionDay struct {
	version versions.Version
	day     int64
}

type memChange struct {
	requests, responses, deliveries int64
	endpoints, fields, events       map[string]int64
	first, last                     time.Time
}

type memTraffic struct {
	requests, header int64
	endpoints        map[string]int64
	first, last      time.Time
}

// Add implements Store.
func (s *MemoryStore) Add(ctx context.Context, b *Batch) error {
	if err := checkBatch(b); err != nil {
		return err
	}
	if b.Empty() {
		return nil
	}
	d := day(s.opts.now())
	max := s.opts.MaxNames
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range b.Changes {
		c := &b.Changes[i]
		a := s.account(c.Account)
		k := changeDay{bound(c.Change), d}
		m := a.changes[k]
		if m == nil {
			m = &memChange{endpoints: map[string]int64{}, fields: map[string]int64{}, events: map[string]int64{}}
			a.changes[k] = m
		}
		m.requests += c.Requests
		m.responses += c.Responses
		m.deliveries += c.Deliveries
		addNames(m.endpoints, c.Endpoints, max)
		addNames(m.fields, c.Fields, max)
		addNames(m.events, c.EventTypes, max)
		m.first = minTime(m.first, c.First.UTC())
		m.last = maxTime(m.last, c.Last.UTC())
	}
	for i := range b.Traffic {
		t := &b.Traffic[i]
		a := s.account(t.Account)
		k := versionDay{t.Version, d}
		m := a.traffic[k]
		if m == nil {
			m = &memTraffic{endpoints: map[string]int64{}}
			a.traffic[k] = m
		}
		m.requests += t.Requests
		m.header += t.Header
		addNames(m.endpoints, map[string]int64{t.Endpoint: t.Requests}, max)
		m.first = minTime(m.first, t.First.UTC())
		m.last = maxTime(m.last, t.Last.UTC())
	}
	return nil
}

func (s *MemoryStore) account(id string) *memAccount {
	a := s.accounts[id]
	if a == nil {
		a = &memAccount{changes: map[changeDay]*memChange{}, traffic: map[versionDay]*memTraffic{}}
		s.accounts[id] = a
	}
	return a
}

// addNames adds counts to m, keeping at most max names besides other.
func addNames(m map[string]int64, counts map[string]int64, max int) {
	for _, name := range sortedKeys(counts) {
		n := counts[name]
		name = bound(name)
		if _, ok := m[name]; ok || name == other {
			m[name] += n
			continue
		}
		kept := len(m)
		if _, ok := m[other]; ok {
			kept--
		}
		if kept < max {
			m[name] = n
		} else {
			m[other] += n
		}
	}
}

// Evidence implements Store.
func (s *MemoryStore) Evidence(ctx context.Context, account string) (*Evidence, error) {
	if account == "" {
		return nil, ErrEmptyAccount
	}
	now := s.opts.now()
	first := s.opts.firstDay(now)
	e := newEvidence(account, first, s.opts.MaxNames)
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[account]
	if a == nil {
		return e.done(), nil
	}
	for k, m := range a.changes {
		if k.day < first {
			continue
		}
		e.addChange(k.change, m.requests, m.responses, m.deliveries, m.first, m.last)
		for kind, names := range map[string]map[string]int64{kindEndpoint: m.endpoints, kindField: m.fields, kindEvent: m.events} {
			for name, n := range names {
				e.addName(k.change, kind, name, n)
			}
		}
	}
	for k, m := range a.traffic {
		if k.day < first {
			continue
		}
		e.addTraffic(k.version, m.requests, m.header, m.first, m.last)
		for name, n := range m.endpoints {
			e.addTrafficEndpoint(k.version, name, n)
		}
	}
	return e.done(), nil
}

// Prune implements Store.
func (s *MemoryStore) Prune(ctx context.Context) (int64, error) {
	first := s.opts.firstDay(s.opts.now())
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for id, a := range s.accounts {
		for k := range a.changes {
			if k.day < first {
				delete(a.changes, k)
				n++
			}
		}
		for k := range a.traffic {
			if k.day < first {
				delete(a.traffic, k)
				n++
			}
		}
		if len(a.changes) == 0 && len(a.traffic) == 0 {
			delete(s.accounts, id)
		}
	}
	return n, nil
}

func sortedKeys(m map[string]int64) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
