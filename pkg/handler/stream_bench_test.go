package handler_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/idempotency"
	"github.com/latchkit/latch/pkg/latchtest"
)

// The stream benchmarks use BenchmarkSQSBatch's batch (ten orders) and
// sub-benchmark names, so that ns/record and allocs/op of the three
// processors line up, name for name, in benchstat: what a stream record
// costs over an SQS record, and over decoding it and calling the function
// directly ("bare").

type orderImage struct {
	OrderID string `dynamodbav:"order_id"`
	Amount  int    `dynamodbav:"amount"`
}

func benchKinesis() events.KinesisEvent {
	var ps []latchtest.Put
	for i := range 10 {
		ps = append(ps, latchtest.Put{Data: body(fmt.Sprint("o-", i)), PartitionKey: fmt.Sprint("c-", i%3)})
	}
	return latchtest.KinesisEvent("orders", ps...)
}

func benchDynamoDB() events.DynamoDBEvent {
	var cs []latchtest.ItemChange
	for i := range 10 {
		id := fmt.Sprint("o-", i)
		cs = append(cs, latchtest.ItemChange{Keys: map[string]string{"order_id": id}, New: orderImage{OrderID: id, Amount: 1}})
	}
	return latchtest.DynamoDBEvent("orders", cs...)
}

// freshKey keys every record anew on each call: claim, run and complete in
// the memory store every time, as a first delivery does.
func freshKey[R any](id func(R) string) func(R) (idempotency.Key, error) {
	var n atomic.Int64
	return func(r R) (idempotency.Key, error) {
		return idempotency.Key{ID: id(r) + "/" + strconv.FormatInt(n.Add(1), 10)}, nil
	}
}

func BenchmarkKinesisBatch(b *testing.B) {
	ev := benchKinesis()
	fn := func(_ context.Context, r handler.KinesisRecord[order]) error {
		sink.Add(int64(r.Data.Amount))
		return nil
	}
	b.Run("bare", func(b *testing.B) {
		b.ReportAllocs()
		ctx := context.Background()
		for b.Loop() {
			for _, r := range ev.Records {
				m := handler.KinesisRecord[order]{Raw: r}
				if err := json.Unmarshal(r.Kinesis.Data, &m.Data); err != nil {
					b.Fatal(err)
				}
				if err := fn(ctx, m); err != nil {
					b.Fatal(err)
				}
			}
		}
		perRecord(b, len(ev.Records))
	})
	run := func(b *testing.B, cfg handler.KinesisConfig) {
		benchBatches(b, handler.MustNewKinesis(fn, cfg), ev, len(ev.Records),
			func(r events.KinesisEventResponse) int { return len(r.BatchItemFailures) })
	}
	eventID := func(r events.KinesisEventRecord) string { return r.EventID }
	b.Run("processor/sequential", func(b *testing.B) { run(b, handler.KinesisConfig{}) })
	b.Run("processor+idempotency/sequential", func(b *testing.B) {
		run(b, handler.KinesisConfig{Idempotency: newGuard(b, idempotency.Config{}), Key: freshKey(eventID)})
	})
	b.Run("processor+idempotency/concurrent", func(b *testing.B) {
		run(b, handler.KinesisConfig{Idempotency: newGuard(b, idempotency.Config{}), Key: freshKey(eventID), Concurrency: handler.DefaultSQSConcurrency})
	})
	b.Run("processor+idempotency/duplicates", func(b *testing.B) {
		run(b, handler.KinesisConfig{Idempotency: newGuard(b, idempotency.Config{})})
	})
}

func BenchmarkDynamoDBStreamBatch(b *testing.B) {
	ev := benchDynamoDB()
	fn := func(_ context.Context, c handler.Change[orderImage]) error {
		sink.Add(int64(c.New.Amount))
		return nil
	}
	run := func(b *testing.B, cfg handler.DynamoDBStreamConfig) {
		benchBatches(b, handler.MustNewDynamoDBStream(fn, cfg), ev, len(ev.Records),
			func(r events.DynamoDBEventResponse) int { return len(r.BatchItemFailures) })
	}
	eventID := func(r events.DynamoDBEventRecord) string { return r.EventID }
	b.Run("processor/sequential", func(b *testing.B) { run(b, handler.DynamoDBStreamConfig{}) })
	b.Run("processor+idempotency/sequential", func(b *testing.B) {
		run(b, handler.DynamoDBStreamConfig{Idempotency: newGuard(b, idempotency.Config{}), Key: freshKey(eventID)})
	})
	b.Run("processor+idempotency/duplicates", func(b *testing.B) {
		run(b, handler.DynamoDBStreamConfig{Idempotency: newGuard(b, idempotency.Config{})})
	})
}

// benchBatches invokes h with ev in a loop, failing on any failed record,
// and reports ns/record for a batch of n records.
func benchBatches[E, R any](b *testing.B, h handler.Func[E, R], ev E, n int, failed func(R) int) {
	b.Helper()
	b.ReportAllocs()
	ctx := context.Background()
	for b.Loop() {
		resp, err := h(ctx, ev)
		if err != nil || failed(resp) != 0 {
			b.Fatal(err, resp)
		}
	}
	perRecord(b, n)
}

// perRecord reports the time per record of batches of n records.
func perRecord(b *testing.B, n int) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
}
