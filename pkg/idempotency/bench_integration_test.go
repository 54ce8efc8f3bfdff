//go:build integration

package idempotency_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/latchkit/latch/pkg/idempotency"
	"github.com/latchkit/latch/pkg/latchtest/emulator"
)

// BenchmarkDoDynamoDB measures wall time per call against DynamoDB Local:
// "first" is claim + complete (two round trips), "duplicate" one claim that
// returns the stored record, "cached" the local cache (no round trip).
func BenchmarkDoDynamoDB(b *testing.B) {
	stack := emulator.New(b)
	store, _ := dynamoStore(b, stack, idempotency.DynamoDBConfig{})
	ctx := context.Background()
	fn := func(context.Context) (string, error) { return "ok", nil }

	b.Run("first", func(b *testing.B) {
		g := guardOn(b, store, nil, idempotency.Config{Namespace: emulator.UniqueName(b, "first")})
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			res, err := idempotency.Do(ctx, g, idempotency.Key{ID: strconv.Itoa(i)}, fn)
			if err != nil || res.Replayed {
				b.Fatal(res, err)
			}
			i++
		}
	})
	for _, bc := range []struct {
		name  string
		cache int
	}{{"duplicate", 0}, {"cached", 16}} {
		b.Run(bc.name, func(b *testing.B) {
			g := guardOn(b, store, nil, idempotency.Config{Namespace: emulator.UniqueName(b, bc.name), CacheSize: bc.cache})
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
			}
		})
	}
}
