package idempotency_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchkit/latch/pkg/idempotency"
)

// inspectable is a Store whose records a test can read back; both stores
// qualify.
type inspectable interface {
	idempotency.Store
	Get(ctx context.Context, key string) (idempotency.Record, bool, error)
}

// stored is the record s holds for key, nil when it holds none.
func stored(ctx context.Context, t *testing.T, s inspectable, key string) *idempotency.Record {
	t.Helper()
	got, ok, err := s.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		return nil
	}
	return &got
}

var (
	_ inspectable         = (*idempotency.MemoryStore)(nil)
	_ inspectable         = (*idempotency.DynamoDBStore)(nil)
	_ idempotency.TxStore = (*countingStore)(nil)
	_ idempotency.Store   = (*faultyStore)(nil)
)

// countingStore decorates a Store and counts its calls: what a tracing
// decorator would look like, and the proof that a cache hit calls nothing.
type countingStore struct {
	idempotency.Store
	claims, completes, releases atomic.Int64
	commits, gets               atomic.Int64
}

// Get counts and forwards, as CommitTx.
func (s *countingStore) Get(ctx context.Context, key string) (idempotency.Record, bool, error) {
	s.gets.Add(1)
	return s.Store.(idempotency.TxStore).Get(ctx, key)
}

// CommitTx counts and forwards: a decorator keeps Transact working by
// forwarding it.
func (s *countingStore) CommitTx(ctx context.Context, c idempotency.TxCommit) (*idempotency.Record, error) {
	s.commits.Add(1)
	return s.Store.(idempotency.TxStore).CommitTx(ctx, c)
}

func (s *countingStore) Claim(ctx context.Context, c idempotency.Claim) (*idempotency.Record, error) {
	s.claims.Add(1)
	return s.Store.Claim(ctx, c)
}

func (s *countingStore) Complete(ctx context.Context, c idempotency.Completion) error {
	s.completes.Add(1)
	return s.Store.Complete(ctx, c)
}

func (s *countingStore) Release(ctx context.Context, key, owner string) error {
	s.releases.Add(1)
	return s.Store.Release(ctx, key, owner)
}

type callCounts struct{ Claims, Completes, Releases int64 }

func (s *countingStore) counts() callCounts {
	return callCounts{s.claims.Load(), s.completes.Load(), s.releases.Load()}
}

// faultyStore decorates a Store and fails the calls it is told to, the way
// a network or throttling failure would, after or instead of the real call.
type faultyStore struct {
	idempotency.Store
	claimErr, completeErr, releaseErr error
	// commitErrs fail the next CommitTx calls, one each, in order.
	commitErrs []error
	getErr     error
}

func (s *faultyStore) Get(ctx context.Context, key string) (idempotency.Record, bool, error) {
	if s.getErr != nil {
		return idempotency.Record{}, false, &idempotency.StoreError{Op: "get", Err: s.getErr}
	}
	return s.Store.(idempotency.TxStore).Get(ctx, key)
}

func (s *faultyStore) CommitTx(ctx context.Context, c idempotency.TxCommit) (*idempotency.Record, error) {
	if len(s.commitErrs) > 0 {
		err := s.commitErrs[0]
		s.commitErrs = s.commitErrs[1:]
		return nil, err
	}
	return s.Store.(idempotency.TxStore).CommitTx(ctx, c)
}

func (s *faultyStore) Claim(ctx context.Context, c idempotency.Claim) (*idempotency.Record, error) {
	if s.claimErr != nil {
		return nil, &idempotency.StoreError{Op: "claim", Err: s.claimErr}
	}
	return s.Store.Claim(ctx, c)
}

func (s *faultyStore) Complete(ctx context.Context, c idempotency.Completion) error {
	if s.completeErr != nil {
		return &idempotency.StoreError{Op: "complete", Err: s.completeErr}
	}
	return s.Store.Complete(ctx, c)
}

func (s *faultyStore) Release(ctx context.Context, key, owner string) error {
	if s.releaseErr != nil {
		return &idempotency.StoreError{Op: "release", Err: s.releaseErr}
	}
	return s.Store.Release(ctx, key, owner)
}

// The method sets pkg/retry recognises.
type retryAter interface{ RetryAt() time.Time }
type permanent interface{ Permanent() bool }
