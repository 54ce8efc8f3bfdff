package idempotency_test

import (
	"context"
	"testing"
	"time"

	"github.com/latchkit/latch/pkg/idempotency"
)

func TestGuardWithTTL(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	g := idempotency.MustNewGuard(idempotency.Config{Store: idempotency.NewMemoryStore(idempotency.MemoryConfig{}), Now: func() time.Time { return now }})
	long := g.WithTTL(48 * time.Hour)
	if g.TTL() != idempotency.DefaultTTL || long.TTL() != 48*time.Hour || g.WithTTL(0).TTL() != idempotency.DefaultTTL {
		t.Fatalf("TTLs %v, %v, %v; want the default, 48h, the default", g.TTL(), long.TTL(), g.WithTTL(0).TTL())
	}
	runs := 0
	fn := func(context.Context) (int, error) { runs++; return runs, nil }
	for _, tc := range []struct {
		guard *idempotency.Guard
		key   string
		after time.Duration
		runs  int
	}{
		{guard: long, key: "tick", runs: 1},
		{guard: long, key: "tick", after: 7 * time.Hour, runs: 1}, // remembered past the default hour
		{guard: g, key: "tick", runs: 1},                          // and the shorter guard sees it too
		{guard: g, key: "order", runs: 2},
		{guard: g, key: "order", after: 2 * time.Hour, runs: 3}, // the original keeps its hour
	} {
		now = now.Add(tc.after)
		if _, err := idempotency.Do(context.Background(), tc.guard, idempotency.Key{ID: tc.key}, fn); err != nil {
			t.Fatal(err)
		}
		if runs != tc.runs {
			t.Fatalf("key %s after %v: %d runs, want %d", tc.key, tc.after, runs, tc.runs)
		}
	}
}
