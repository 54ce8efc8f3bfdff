package emulator_test

import (
	"context"
	"testing"

	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/idempotency"
	"github.com/latchkit/latch/pkg/latchtest/emulator"
)

// An integration test of an SQS handler on the emulators: a table and a
// queue of its own, a message driven through the handler as Lambda's event
// source mapping would, and the queue empty afterwards. The example has no
// Output: it needs the emulators running ('latch emulators exec -- go
// test -tags integration ./...'), so go test compiles it but does not run
// it; inside a test function it is exactly what a user writes.
func Example() {
	testChargeOnce := func(t *testing.T) {
		env := emulator.New(t) // skips, or fails under LATCH_REQUIRE_EMULATORS, without emulators
		store := idempotency.MustNewDynamoDBStore(env.DynamoDB, idempotency.DynamoDBConfig{Table: env.Table(t)})
		q := env.Queue(t, emulator.QueueSpec{MaxReceiveCount: 3})
		h := handler.MustNewSQS(func(ctx context.Context, m handler.Message[map[string]any]) error {
			return nil // charge the invoice here
		}, handler.SQSConfig{
			Client:      env.SQS,
			Idempotency: idempotency.MustNewGuard(idempotency.Config{Store: store}),
			Key:         handler.KeyJSONField("id"),
		})
		env.Send(t, q.URL, `{"id":"inv-1","cents":500}`)
		env.Drain(t, q, h, emulator.Mapping{})
		env.AssertQueueEmpty(t, q.URL)
	}
	_ = testChargeOnce
}
