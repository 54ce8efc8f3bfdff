package idempotency_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/latchkit/latch/pkg/idempotency"
)

var sink idempotency.Result[string]

// BenchmarkDo measures the guard's overhead on the memory store against the
// bare function: "first" is a full claim-run-complete, "duplicate" a replay
// answered by the store, "cached" a replay answered by the local cache.
func BenchmarkDo(b *testing.B) {
	ctx := context.Background()
	fn := func(context.Context) (string, error) { return "ok", nil }

	b.Run("bare", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			v, err := fn(ctx)
			sink = idempotency.Result[string]{Value: v}
			if err != nil {
				b.Fatal(err)
			}
		}
	})

	b.Run("first", func(b *testing.B) {
		// A fixed set of keys, each expired again by the time it comes
		// round: every call claims, runs and completes, and the store stays
		// small however large b.N grows.
		now := t0
		g := idempotency.MustNewGuard(idempotency.Config{
			Store: idempotency.NewMemoryStore(idempotency.MemoryConfig{}), Namespace: "bench", Now: func() time.Time { return now },
		})
		ids := make([]string, 1024)
		for i := range ids {
			ids[i] = "order-" + strconv.Itoa(i)
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if i%len(ids) == 0 {
				now = now.Add(2 * time.Hour)
			}
			res, err := idempotency.Do(ctx, g, idempotency.Key{ID: ids[i%len(ids)]}, fn)
			if err != nil || res.Replayed {
				b.Fatal(res, err)
			}
			sink = res
			i++
		}
	})

	for _, bc := range []struct {
		name  string
		cache int
	}{{"duplicate", 0}, {"cached", 16}} {
		b.Run(bc.name, func(b *testing.B) {
			g := idempotency.MustNewGuard(idempotency.Config{
				Store: idempotency.NewMemoryStore(idempotency.MemoryConfig{}), Namespace: "bench", CacheSize: bc.cache, Now: func() time.Time { return t0 },
			})
			key := idempotency.Key{ID: "order-1", Payload: []byte(`{"amount":5}`)}
			if _, err := idempotency.Do(ctx, g, key, fn); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				res, err := idempotency.Do(ctx, g, key, fn)
				if err != nil || !res.Replayed {
					b.Fatal(res, err)
				}
				sink = res
			}
		})
	}
}
