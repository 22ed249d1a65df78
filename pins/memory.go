package pins

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/verso-api/verso/versions"
)

// MemoryStore is a Store held in memory: for tests and single-process servers that
// may forget their pins on restart.
type MemoryStore struct {
	opts     Options
	mu       sync.RWMutex
	pins     map[string]Pin
	history  map[string][]Change
	requests map[requestKey]int64
	usage    map[usageKey]int64
}

type usageKey struct {
	servedKey
	day int64 // Unix seconds
}

type requestKey struct {
	v    versions.Version
	hour int64 // Unix seconds
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty in-memory Store; nil opts means the
// defaults.
func NewMemoryStore(opts *Options) *MemoryStore {
	return &MemoryStore{
		opts:     withDefaults(opts),
		pins:     make(map[string]Pin),
		history:  make(map[string][]Change),
		requests: make(map[requestKey]int64),
		usage:    make(map[usageKey]int64),
	}
}

// Get implements Store.
func (m *MemoryStore) Get(ctx context.Context, account string) (Pin, error) {
	if err := checkAccount(account); err != nil {
		return Pin{}, err
	}
	m.mu.RLock()
	p, ok := m.pins[account]
	m.mu.RUnlock()
	if !ok {
		return Pin{}, ErrNotPinned
	}
	return p, nil
}

// PinIfAbsent implements Store.
func (m *MemoryStore) PinIfAbsent(ctx context.Context, account string, v versions.Version) (Pin, bool, error) {
	if err := checkArgs(account, v); err != nil {
		return Pin{}, false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if p, ok := m.pins[account]; ok {
		return p, false, nil
	}
	now := m.opts.now()
	p := Pin{Account: account, Version: v, PinnedAt: now}
	m.pins[account] = p
	m.history[account] = append(m.history[account], Change{Account: account, Kind: Pinned, To: v, At: now})
	return p, true, nil
}

// Upgrade implements Store.
func (m *MemoryStore) Upgrade(ctx context.Context, account string, to versions.Version) (Pin, error) {
	if err := checkArgs(account, to); err != nil {
		return Pin{}, err
	}
	return m.move(account, func(p Pin) (Pin, Change, error) { return upgrade(p, to, m.opts.now()) })
}

// Rollback implements Store.
func (m *MemoryStore) Rollback(ctx context.Context, account string) (Pin, error) {
	if err := checkAccount(account); err != nil {
		return Pin{}, err
	}
	return m.move(account, func(p Pin) (Pin, Change, error) { return rollback(p, m.opts.RollbackWindow, m.opts.now()) })
}

func (m *MemoryStore) move(account string, f func(Pin) (Pin, Change, error)) (Pin, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.pins[account]
	if !ok {
		return Pin{}, ErrNotPinned
	}
	p, c, err := f(p)
	if err != nil {
		return p, err
	}
	m.pins[account] = p
	m.history[account] = append(m.history[account], c)
	return p, nil
}

// History implements Store.
func (m *MemoryStore) History(ctx context.Context, account string) ([]Change, error) {
	if err := checkAccount(account); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	return slices.Clone(m.history[account]), nil
}

// CountRequests implements Store.
func (m *MemoryStore) CountRequests(ctx context.Context, served []Served) error {
	perVersion, perAccount, err := sumServed(served)
	if err != nil {
		return err
	}
	now := m.opts.now()
	h, d := hour(now).Unix(), day(now).Unix()
	m.mu.Lock()
	defer m.mu.Unlock()
	for v, n := range perVersion {
		m.requests[requestKey{v, h}] += n
	}
	for k, n := range perAccount {
		m.usage[usageKey{k, d}] += n
	}
	cut := now.Add(-m.opts.Retention)
	for k := range m.requests {
		if k.hour < hour(cut).Unix() {
			delete(m.requests, k)
		}
	}
	for k := range m.usage {
		if k.day < day(cut).Unix() {
			delete(m.usage, k)
		}
	}
	return nil
}

// Census implements Store.
func (m *MemoryStore) Census(ctx context.Context, since time.Time) ([]Count, error) {
	from, fromDay := hour(since).Unix(), day(since).Unix()
	m.mu.RLock()
	defer m.mu.RUnlock()
	by := map[versions.Version]*Count{}
	get := func(v versions.Version) *Count {
		c := by[v]
		if c == nil {
			c = &Count{Version: v}
			by[v] = c
		}
		return c
	}
	for _, p := range m.pins {
		get(p.Version).Accounts++
	}
	for k, n := range m.requests {
		if k.hour >= from {
			get(k.v).Requests += n
		}
	}
	active := map[servedKey]bool{}
	for k := range m.usage {
		if k.day >= fromDay && !active[k.servedKey] {
			active[k.servedKey] = true
			get(k.v).Active++
		}
	}
	out := make([]Count, 0, len(by))
	for _, c := range by {
		out = append(out, *c)
	}
	sortCensus(out)
	return out, nil
}

// Users implements Store.
func (m *MemoryStore) Users(ctx context.Context, v versions.Version, since time.Time, limit int) ([]Served, error) {
	if v.IsZero() {
		return nil, ErrZeroVersion
	}
	from := day(since).Unix()
	m.mu.RLock()
	by := map[string]int64{}
	for k, n := range m.usage {
		if k.v == v && k.day >= from {
			by[k.account] += n
		}
	}
	m.mu.RUnlock()
	out := make([]Served, 0, len(by))
	for a, n := range by {
		out = append(out, Served{Version: v, Account: a, Requests: n})
	}
	return sortUsers(out, limit), nil
}

// MoveAll implements Store.
func (m *MemoryStore) MoveAll(ctx context.Context, from, to versions.Version) (int, error) {
	if from.IsZero() || to.IsZero() {
		return 0, ErrZeroVersion
	}
	if from == to {
		return 0, ErrSameVersion
	}
	now := m.opts.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for a, p := range m.pins {
		if p.Version != from {
			continue
		}
		p, c := retire(p, to, now)
		m.pins[a] = p
		m.history[a] = append(m.history[a], c)
		n++
	}
	return n, nil
}

// Set implements Store.
func (m *MemoryStore) Set(ctx context.Context, account string, v versions.Version) (Pin, error) {
	if err := checkArgs(account, v); err != nil {
		return Pin{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	p, _ := m.set(account, v, m.opts.now())
	return p, nil
}

// SetMany implements Store.
func (m *MemoryStore) SetMany(ctx context.Context, as []Assignment) (int, error) {
	as, err := lastAssignments(as)
	if err != nil {
		return 0, err
	}
	now := m.opts.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, a := range as {
		if _, ok := m.set(a.Account, a.Version, now); ok {
			n++
		}
	}
	return n, nil
}

// set sets a pin with m.mu held.
func (m *MemoryStore) set(account string, v versions.Version, now time.Time) (Pin, bool) {
	p, exists := m.pins[account]
	if !exists {
		p.Account = account
	}
	p, c, ok := set(p, exists, v, now)
	if ok {
		m.pins[account] = p
		m.history[account] = append(m.history[account], c)
	}
	return p, ok
}
