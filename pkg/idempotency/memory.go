package idempotency

import (
	"bytes"
	"context"
	"sync"
	"time"
)

// MemoryStore is a Store in process memory with the same semantics as
// DynamoDBStore: the same conditions, the same time precision, the same size
// limit (computed with the default attribute names). It serves unit tests and
// local runs. Like a DynamoDB table before its TTL sweep, it keeps expired
// records until a claim replaces them. The zero value is not usable; call
// NewMemoryStore.
type MemoryStore struct {
	mu      sync.Mutex
	records map[string]Record
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty MemoryStore. It needs no clock: every claim
// carries the time it is judged at, taken from the Guard's clock.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{records: make(map[string]Record)}
}

// Claim implements Store.
func (s *MemoryStore) Claim(_ context.Context, c Claim) (*Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.records[c.Key]; ok && old.Live(c.Now) {
		old.Data = bytes.Clone(old.Data)
		return &old, nil
	}
	s.records[c.Key] = Record{
		Key:        c.Key,
		Status:     StatusInProgress,
		Expiry:     time.Unix(c.Expiry.Unix(), 0),
		LockExpiry: time.UnixMilli(c.LockExpiry.UnixMilli()),
		Owner:      c.Owner,
		Validation: c.Validation,
	}
	return nil, nil
}

// Complete implements Store.
func (s *MemoryStore) Complete(_ context.Context, c Completion) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.records[c.Key]
	if !ok || r.Owner != c.Owner {
		return ErrLockLost
	}
	r.Status = StatusCompleted
	r.Expiry = time.Unix(c.Expiry.Unix(), 0)
	r.LockExpiry = time.Time{}
	var tooLarge error
	if limit := memoryDataLimit(c.Key); len(c.Data) > limit {
		r.Data = nil
		tooLarge = &ResultTooLargeError{KeyHash: c.Key, Size: len(c.Data), Limit: limit}
	} else {
		r.Data = bytes.Clone(c.Data)
	}
	s.records[c.Key] = r
	return tooLarge
}

// Release implements Store.
func (s *MemoryStore) Release(_ context.Context, key, owner string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.records[key]; !ok || r.Owner != owner {
		return ErrLockLost
	}
	delete(s.records, key)
	return nil
}

// Get returns the record stored under key (the stored id, as in
// Result.KeyHash), expired or not, for tests and inspection.
func (s *MemoryStore) Get(_ context.Context, key string) (Record, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.records[key]
	r.Data = bytes.Clone(r.Data)
	return r, ok, nil
}

// memoryDataLimit is the data limit DynamoDBStore would apply to key with the
// default attribute names and no sort key.
func memoryDataLimit(key string) int {
	return maxDataSize(defaultAttributeNamesLen + len(key))
}
