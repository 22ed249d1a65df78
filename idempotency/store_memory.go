package idempotency

import (
	"bytes"
	"context"
	"sync"
	"time"

	"github.com/verso-api/verso/storage"
)

// MemoryStore is a Store in process memory, for tests and single-process
// servers that can lose their keys on restart. It cannot take part in a
// database transaction: Complete ignores its tx and saves at once.
type MemoryStore struct {
	mu   sync.Mutex
	keys map[Key]*memoryEntry
}

type memoryEntry struct {
	fp          Fingerprint
	token       string
	completed   bool
	lockedUntil time.Time
	expiresAt   time.Time
	res         Response
}

// NewMemoryStore returns an empty MemoryStore. No option applies to it
// yet: pass nil.
func NewMemoryStore(*Options) *MemoryStore {
	return &MemoryStore{keys: make(map[Key]*memoryEntry)}
}

// Claim implements Store.
func (s *MemoryStore) Claim(ctx context.Context, c Claim) (Record, error) {
	if err := ctx.Err(); err != nil {
		return Record{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.keys[c.Key]
	free := !ok || !e.expiresAt.After(c.Now) ||
		(!e.completed && !e.lockedUntil.After(c.Now) && e.fp == c.Fingerprint)
	if free {
		s.keys[c.Key] = &memoryEntry{
			fp:          c.Fingerprint,
			token:       c.Token,
			lockedUntil: c.LockedUntil,
			expiresAt:   c.ExpiresAt,
		}
		return Record{State: Claimed, Fingerprint: c.Fingerprint}, nil
	}
	if !e.completed {
		return Record{State: InProgress, Fingerprint: e.fp}, nil
	}
	return Record{State: Completed, Fingerprint: e.fp, Response: copyResponse(e.res)}, nil
}

// Complete implements Store. The tx is ignored: memory cannot join it.
func (s *MemoryStore) Complete(ctx context.Context, _ *storage.Tx, k Key, token string, res Response, expiresAt time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.keys[k]
	if !ok || e.completed || e.token != token {
		return ErrClaimLost
	}
	e.completed = true
	e.res = copyResponse(res)
	e.expiresAt = expiresAt
	return nil
}

// Release implements Store.
func (s *MemoryStore) Release(ctx context.Context, k Key, token string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.keys[k]; ok && !e.completed && e.token == token {
		delete(s.keys, k)
	}
	return nil
}

// Sweep implements Store.
func (s *MemoryStore) Sweep(ctx context.Context, now time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k, e := range s.keys {
		if !e.expiresAt.After(now) {
			delete(s.keys, k)
			n++
		}
	}
	return n, nil
}

func copyResponse(r Response) Response {
	return Response{Status: r.Status, Header: r.Header.Clone(), Body: bytes.Clone(r.Body)}
}
