package checkpoint_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/latchkit/latch/internal/clock/clocktest"
	"github.com/latchkit/latch/pkg/checkpoint"
)

// newClock is the clock a subtest's store judges leases by.
func newClock() *clocktest.Clock { return clocktest.New(time.UnixMilli(1_800_000_000_000)) }

// testStoreSemantics runs the Store contract against a store: the memory
// store in the unit tests, DynamoDBStore in the integration tests, so that
// "same semantics" is checked, not promised. newStore returns a store with
// no checkpoints, judging time by the given clock.
func testStoreSemantics(t *testing.T, newStore func(t *testing.T, now func() time.Time) checkpoint.Store) {
	const ttl = 30 * time.Second
	ctx := context.Background()
	ignoreOwner := cmpopts.IgnoreFields(checkpoint.Lease{}, "Owner")
	// acquired gives a subtest its own clock and empty store, with the
	// "feed" lease already taken at the clock's start.
	acquired := func(t *testing.T) (*clocktest.Clock, checkpoint.Store, checkpoint.Lease) {
		t.Helper()
		c := newClock()
		s := newStore(t, c.Now)
		l, err := s.Acquire(ctx, "feed", ttl)
		if err != nil {
			t.Fatal(err)
		}
		return c, s, l
	}

	t.Run("first acquire starts at the beginning", func(t *testing.T) {
		t.Parallel()
		c, _, l := acquired(t)
		want := checkpoint.Lease{Checkpoint: checkpoint.Checkpoint{Name: "feed"}, Expiry: c.Now().Add(ttl)}
		if diff := cmp.Diff(want, l, ignoreOwner); diff != "" {
			t.Errorf("lease (-want +got):\n%s", diff)
		}
		if len(l.Owner) != 32 {
			t.Errorf("owner token %q, want 32 hex digits", l.Owner)
		}
	})

	t.Run("a live lease holds off a second holder", func(t *testing.T) {
		t.Parallel()
		c, s, a := acquired(t)
		c.Advance(ttl) // the last instant of a's lease
		_, err := s.Acquire(ctx, "feed", ttl)
		var held *checkpoint.HeldError
		if !errors.As(err, &held) || !errors.Is(err, checkpoint.ErrHeld) {
			t.Fatalf("second Acquire: err = %v, want a *HeldError", err)
		}
		if held.Owner != a.Owner || !held.Expiry.Equal(a.Expiry) {
			t.Errorf("HeldError %+v, want owner %s until %v", held, a.Owner, a.Expiry)
		}
	})

	t.Run("commit moves the cursor; the next holder resumes there", func(t *testing.T) {
		t.Parallel()
		c, s, a := acquired(t)
		c.Advance(time.Second)
		wm := c.Now().Add(-time.Hour)
		a, err := s.Commit(ctx, a, checkpoint.Position{Cursor: "page-2", Watermark: wm})
		if err != nil {
			t.Fatal(err)
		}
		a, err = s.Commit(ctx, a, checkpoint.Position{Cursor: "page-3"}) // no watermark: kept
		if err != nil {
			t.Fatal(err)
		}
		want := checkpoint.Checkpoint{Name: "feed", Cursor: "page-3", Version: 2, Watermark: wm, UpdatedAt: c.Now()}
		if diff := cmp.Diff(want, a.Checkpoint); diff != "" {
			t.Errorf("after commits (-want +got):\n%s", diff)
		}
		if err := s.Release(ctx, a); err != nil {
			t.Fatal(err)
		}
		b, err := s.Acquire(ctx, "feed", ttl)
		if err != nil {
			t.Fatalf("Acquire after Release: %v", err)
		}
		if diff := cmp.Diff(want, b.Checkpoint); diff != "" {
			t.Errorf("next holder reads (-want +got):\n%s", diff)
		}
		if b.Owner == a.Owner {
			t.Error("the next holder got the same owner token")
		}
		got, ok, err := s.Get(ctx, "feed")
		if err != nil || !ok {
			t.Fatalf("Get: %v %v", ok, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Get (-want +got):\n%s", diff)
		}
	})

	t.Run("a stale holder can neither move the cursor nor release the new holder's lease", func(t *testing.T) {
		t.Parallel()
		c, s, a := acquired(t)
		a, err := s.Commit(ctx, a, checkpoint.Position{Cursor: "p1"})
		if err != nil {
			t.Fatal(err)
		}
		c.Advance(ttl + time.Millisecond) // a's lease is dead
		b, err := s.Acquire(ctx, "feed", ttl)
		if err != nil {
			t.Fatalf("takeover: %v", err)
		}
		if b.Cursor != "p1" {
			t.Errorf("new holder starts at %q, want p1", b.Cursor)
		}
		if _, err := s.Commit(ctx, a, checkpoint.Position{Cursor: "stale"}); !errors.Is(err, checkpoint.ErrLeaseLost) {
			t.Errorf("stale Commit: err = %v, want ErrLeaseLost", err)
		}
		if err := s.Release(ctx, a); !errors.Is(err, checkpoint.ErrLeaseLost) {
			t.Errorf("stale Release: err = %v, want ErrLeaseLost", err)
		}
		b, err = s.Commit(ctx, b, checkpoint.Position{Cursor: "p2"})
		if err != nil {
			t.Fatalf("new holder's Commit after the stale attempts: %v", err)
		}
		got, _, _ := s.Get(ctx, "feed")
		if got.Cursor != "p2" || got.Version != 2 {
			t.Errorf("checkpoint %+v, want cursor p2 at version 2", got)
		}
		if _, err := s.Acquire(ctx, "feed", ttl); !errors.Is(err, checkpoint.ErrHeld) {
			t.Errorf("the stale Release freed the new holder's lease: Acquire err = %v", err)
		}
	})

	t.Run("a holder whose lease died cannot commit even when nobody took over", func(t *testing.T) {
		t.Parallel()
		c, s, a := acquired(t)
		c.Advance(ttl + time.Millisecond)
		if _, err := s.Commit(ctx, a, checkpoint.Position{Cursor: "late"}); !errors.Is(err, checkpoint.ErrLeaseLost) {
			t.Errorf("Commit after expiry: err = %v, want ErrLeaseLost", err)
		}
		got, _, _ := s.Get(ctx, "feed")
		if got.Cursor != "" || got.Version != 0 {
			t.Errorf("checkpoint moved: %+v", got)
		}
	})

	t.Run("a commit from an old read is refused", func(t *testing.T) {
		t.Parallel()
		_, s, a := acquired(t)
		if _, err := s.Commit(ctx, a, checkpoint.Position{Cursor: "p1"}); err != nil {
			t.Fatal(err)
		}
		// a is the lease as read before the first commit: version 0.
		if _, err := s.Commit(ctx, a, checkpoint.Position{Cursor: "p1-again"}); !errors.Is(err, checkpoint.ErrLeaseLost) {
			t.Errorf("second commit from version 0: err = %v, want ErrLeaseLost", err)
		}
	})

	t.Run("checkpoints are independent by name", func(t *testing.T) {
		t.Parallel()
		c := newClock()
		s := newStore(t, c.Now)
		if _, err := s.Acquire(ctx, "a", ttl); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Acquire(ctx, "b", ttl); err != nil {
			t.Errorf("Acquire b while a is held: %v", err)
		}
		if _, ok, err := s.Get(ctx, "c"); ok || err != nil {
			t.Errorf("Get of an unknown name: %v %v", ok, err)
		}
	})

	t.Run("concurrent acquires: exactly one wins", func(t *testing.T) {
		t.Parallel()
		c := newClock()
		s := newStore(t, c.Now)
		var wins, held atomic.Int32
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				_, err := s.Acquire(ctx, "feed", ttl)
				switch {
				case err == nil:
					wins.Add(1)
				case errors.Is(err, checkpoint.ErrHeld):
					held.Add(1)
				default:
					t.Errorf("Acquire: %v", err)
				}
			})
		}
		wg.Wait()
		if wins.Load() != 1 || held.Load() != 7 {
			t.Errorf("%d wins, %d held; want 1 and 7", wins.Load(), held.Load())
		}
	})
}
