package checkpoint

import (
	"context"
	"sync"
	"time"
)

// MemoryStore is a Store in process memory with DynamoDBStore's semantics
// and time precision (milliseconds). It serves unit tests and local runs.
type MemoryStore struct {
	now func() time.Time

	mu    sync.Mutex
	items map[string]memoryItem
}

type memoryItem struct {
	cp     Checkpoint
	owner  string
	expiry time.Time // zero: released
}

var _ Store = (*MemoryStore)(nil)

// MemoryConfig configures NewMemoryStore. The zero value judges leases by
// the wall clock.
type MemoryConfig struct {
	// Now is the clock leases are judged by. Default time.Now; a test
	// injects one it advances, so that it never sleeps to expire a lease.
	Now func() time.Time
}

// NewMemoryStore returns an empty store configured by cfg.
func NewMemoryStore(cfg MemoryConfig) *MemoryStore {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &MemoryStore{now: now, items: map[string]memoryItem{}}
}

// Acquire implements Store.
func (s *MemoryStore) Acquire(_ context.Context, name string, ttl time.Duration) (Lease, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := ms(s.now())
	it, ok := s.items[name]
	if ok && it.owner != "" && !it.expiry.Before(now) {
		return Lease{}, &HeldError{Name: name, Owner: it.owner, Expiry: it.expiry}
	}
	if !ok {
		it.cp = Checkpoint{Name: name}
	}
	it.owner = newOwner()
	it.expiry = ms(now.Add(ttl))
	s.items[name] = it
	return Lease{Checkpoint: it.cp, Owner: it.owner, Expiry: it.expiry}, nil
}

// Commit implements Store.
func (s *MemoryStore) Commit(_ context.Context, l Lease, next Position) (Lease, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := ms(s.now())
	it, ok := s.items[l.Name]
	if !ok || it.owner != l.Owner || it.cp.Version != l.Version || it.expiry.Before(now) {
		return Lease{}, ErrLeaseLost
	}
	it.cp.Cursor = next.Cursor
	it.cp.Version++
	it.cp.UpdatedAt = now
	if !next.Watermark.IsZero() {
		it.cp.Watermark = ms(next.Watermark)
	}
	s.items[l.Name] = it
	return Lease{Checkpoint: it.cp, Owner: it.owner, Expiry: it.expiry}, nil
}

// Release implements Store.
func (s *MemoryStore) Release(_ context.Context, l Lease) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := s.items[l.Name]
	if !ok || it.owner != l.Owner {
		return ErrLeaseLost
	}
	it.owner, it.expiry = "", time.Time{}
	s.items[l.Name] = it
	return nil
}

// Get implements Store.
func (s *MemoryStore) Get(_ context.Context, name string) (Checkpoint, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := s.items[name]
	return it.cp, ok, nil
}
