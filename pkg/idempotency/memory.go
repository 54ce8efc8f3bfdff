package idempotency

import (
	"bytes"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
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
	apply   TxApplier
	applied []types.TransactWriteItem
}

var _ TxStore = (*MemoryStore)(nil)

// TxApplier performs the writes of a transaction the MemoryStore commits,
// against whatever model of the tables a test keeps. It runs under the
// store's lock, after the record's condition passed and before the record is
// written; an error commits nothing and comes back from CommitTx as it is
// (return a *ConditionFailedError for a failed condition of writes[Index]).
// The store does not evaluate DynamoDB expressions itself: that would be a
// second DynamoDB, and the integration tests run the real one.
type TxApplier func(ctx context.Context, writes []types.TransactWriteItem) error

// NewMemoryStore returns an empty MemoryStore. It needs no clock: every claim
// carries the time it is judged at, taken from the Guard's clock.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{records: make(map[string]Record)}
}

// Claim implements Store.
func (s *MemoryStore) Claim(_ context.Context, c Claim) (*Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.records[c.KeyHash]; ok && old.Live(c.Now) {
		old.Data = bytes.Clone(old.Data)
		return &old, nil
	}
	s.records[c.KeyHash] = Record{
		KeyHash:    c.KeyHash,
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
	r, ok := s.records[c.KeyHash]
	if !ok || r.Owner != c.Owner {
		return ErrLockLost
	}
	r.Status = StatusCompleted
	r.Expiry = time.Unix(c.Expiry.Unix(), 0)
	r.LockExpiry = time.Time{}
	var tooLarge error
	if limit := memoryDataLimit(c.KeyHash); len(c.Data) > limit {
		r.Data = nil
		tooLarge = &ResultTooLargeError{KeyHash: c.KeyHash, Size: len(c.Data), Limit: limit}
	} else {
		r.Data = bytes.Clone(c.Data)
	}
	s.records[c.KeyHash] = r
	return tooLarge
}

// SetTxApplier makes CommitTx perform writes through apply. Without one,
// CommitTx keeps the writes it commits, for TxWrites to return.
func (s *MemoryStore) SetTxApplier(apply TxApplier) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apply = apply
}

// TxWrites returns the writes committed so far without a TxApplier, in
// commit order.
func (s *MemoryStore) TxWrites() []types.TransactWriteItem {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.applied)
}

// CommitTx implements TxStore: the record's condition, the applier and the
// record's write happen under one lock, so they are atomic as DynamoDB's
// transaction is. The size limit is DynamoDBStore's with the default
// attribute names.
func (s *MemoryStore) CommitTx(ctx context.Context, c TxCommit) (*Record, error) {
	if c.KeyHash != "" {
		if limit := memoryDataLimit(c.KeyHash); len(c.Data) > limit {
			return nil, tooLargeForRecord(len(c.Data), limit)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.records[c.KeyHash]; c.KeyHash != "" && ok && old.Live(c.Now) {
		old.Data = bytes.Clone(old.Data)
		return &old, nil
	}
	if s.apply != nil {
		if err := s.apply(ctx, c.Writes); err != nil {
			return nil, err
		}
	} else {
		s.applied = append(s.applied, c.Writes...)
	}
	if c.KeyHash != "" {
		s.records[c.KeyHash] = Record{
			KeyHash:    c.KeyHash,
			Status:     StatusCompleted,
			Expiry:     time.Unix(c.Expiry.Unix(), 0),
			Owner:      c.Owner,
			Validation: c.Validation,
			Data:       bytes.Clone(c.Data),
		}
	}
	return nil, nil
}

// Release implements Store.
func (s *MemoryStore) Release(_ context.Context, keyHash, owner string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.records[keyHash]; !ok || r.Owner != owner {
		return ErrLockLost
	}
	delete(s.records, keyHash)
	return nil
}

// Get returns the record stored under keyHash (the stored id, as in
// Result.KeyHash), expired or not: Transact's read when a duplicate is
// likely, and a test's inspection.
func (s *MemoryStore) Get(_ context.Context, keyHash string) (Record, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.records[keyHash]
	r.Data = bytes.Clone(r.Data)
	return r, ok, nil
}

// memoryDataLimit is the data limit DynamoDBStore would apply to key with the
// default attribute names and no sort key.
func memoryDataLimit(key string) int {
	return maxDataSize(defaultAttributeNamesLen + len(key))
}
