//go:build integration

package handler_test

import (
	"strconv"
	"testing"

	"github.com/latchkit/latch/pkg/idempotency"
	"github.com/latchkit/latch/pkg/latchtest/emulator"
)

// BenchmarkManagedInstancesSQSDynamoDB is BenchmarkManagedInstancesSQS
// with the guard on DynamoDB Local: two round trips per new record, so
// concurrency hides latency that the memory store does not have.
func BenchmarkManagedInstancesSQSDynamoDB(b *testing.B) {
	env := emulator.New(b)
	for _, conc := range []int{1, 8, 64} {
		b.Run("dynamodb-local/concurrency="+strconv.Itoa(conc), func(b *testing.B) {
			store := idempotency.MustNewDynamoDBStore(env.DynamoDB, idempotency.DynamoDBConfig{Table: env.Table(b)})
			benchManagedInstances(b, conc, store)
		})
	}
}
