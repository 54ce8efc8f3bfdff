package idempotency_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/latchkit/latch/internal/clock/clocktest"
	"github.com/latchkit/latch/pkg/idempotency"
)

// TestDoAtLeastOnceEdge documents the edge Do cannot close: when the
// completion write fails after the side effect, the record stays INPROGRESS,
// duplicates wait for its lock, and once the lock dies the next call runs
// the effect again. Transact closes it for effects that are DynamoDB writes,
// by committing effect and record together.
func TestDoAtLeastOnceEdge(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	mem := idempotency.NewMemoryStore(idempotency.MemoryConfig{})
	faulty := &faultyStore{Store: mem, completeErr: errors.New("completion write lost")}
	clock := clocktest.New(t0)
	g, err := idempotency.NewGuard(idempotency.Config{Store: faulty, Namespace: "edge", Now: clock.Now, LockWithoutDeadline: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	effects := 0
	effect := func(context.Context) (string, error) {
		effects++
		return "charged", nil
	}
	key := idempotency.Key{ID: "order-1"}

	if _, err := idempotency.Do(ctx, g, key, effect); !errors.As(err, new(*idempotency.StoreError)) {
		t.Fatalf("first call: %v, want the completion's *StoreError", err)
	}
	faulty.completeErr = nil

	// Before the lock dies, a duplicate is told to come back later.
	var ip *idempotency.InProgressError
	if _, err := idempotency.Do(ctx, g, key, effect); !errors.As(err, &ip) || !ip.RetryAt().Equal(t0.Add(time.Minute)) {
		t.Fatalf("duplicate under the lock: %v, want *InProgressError until %s", err, t0.Add(time.Minute))
	}
	if effects != 1 {
		t.Fatalf("effects under the lock = %d, want 1", effects)
	}

	clock.Advance(time.Minute + time.Millisecond)
	res, err := idempotency.Do(ctx, g, key, effect)
	if err != nil || res.Replayed {
		t.Fatalf("after the lock died: %+v, %v; want a fresh run", res, err)
	}
	if effects != 2 {
		t.Errorf("effects = %d, want 2: the at-least-once edge this test documents", effects)
	}
	if r, _, _ := mem.Get(ctx, g.KeyHash(key.ID)); r.Status != idempotency.StatusCompleted {
		t.Errorf("record %+v, want COMPLETED after the second run", r)
	}
}
