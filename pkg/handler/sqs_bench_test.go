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
)

// benchBatch is a batch of ten order records.
func benchBatch() events.SQSEvent {
	var msgs []msg
	for i := range 10 {
		msgs = append(msgs, msg{id: fmt.Sprint("m", i), body: body(fmt.Sprint("o-", i))})
	}
	return sqsEvent("orders", msgs...)
}

// work is the record function of the benchmarks: it touches the order so
// that the compiler keeps the call.
var sink atomic.Int64

func work(_ context.Context, m handler.Message[order]) error {
	sink.Add(int64(m.Body.Amount))
	return nil
}

// BenchmarkSQSBatch measures what the processor adds per record, a batch of
// ten at a time: "bare" decodes each body and calls the record function
// directly; the others go through handler.NewSQS. ns/record is the number to
// compare.
func BenchmarkSQSBatch(b *testing.B) {
	ev := benchBatch()
	perRecord := func(b *testing.B) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(ev.Records)), "ns/record")
	}
	b.Run("bare", func(b *testing.B) {
		b.ReportAllocs()
		ctx := context.Background()
		for b.Loop() {
			for _, r := range ev.Records {
				var m handler.Message[order]
				m.Raw, m.Attempt = r, 1
				if err := json.Unmarshal([]byte(r.Body), &m.Body); err != nil {
					b.Fatal(err)
				}
				if err := work(ctx, m); err != nil {
					b.Fatal(err)
				}
			}
		}
		perRecord(b)
	})
	run := func(b *testing.B, cfg handler.SQSConfig) {
		b.Helper()
		b.ReportAllocs()
		cfg.Client = newFakeSQS()
		h := handler.MustNewSQS(work, cfg)
		ctx := context.Background()
		for b.Loop() {
			resp, err := h(ctx, ev)
			if err != nil || len(resp.BatchItemFailures) != 0 {
				b.Fatal(err, resp)
			}
		}
		perRecord(b)
	}
	b.Run("processor/sequential", func(b *testing.B) { run(b, handler.SQSConfig{Concurrency: 1}) })
	b.Run("processor/concurrent", func(b *testing.B) { run(b, handler.SQSConfig{}) })
	// fresh keys every batch: claim, run, complete in the memory store
	var n atomic.Int64
	fresh := func(m events.SQSMessage) (idempotency.Key, error) {
		return idempotency.Key{ID: m.MessageId + "/" + strconv.FormatInt(n.Add(1), 10)}, nil
	}
	b.Run("processor+idempotency/sequential", func(b *testing.B) {
		run(b, handler.SQSConfig{Concurrency: 1, Idempotency: newGuard(b, idempotency.Config{}), Key: fresh})
	})
	b.Run("processor+idempotency/concurrent", func(b *testing.B) {
		run(b, handler.SQSConfig{Idempotency: newGuard(b, idempotency.Config{}), Key: fresh})
	})
	// the same ten keys every batch: after the first, every record is a
	// duplicate answered by the store, or by the local cache
	b.Run("processor+idempotency/duplicates", func(b *testing.B) {
		run(b, handler.SQSConfig{Concurrency: 1, Idempotency: newGuard(b, idempotency.Config{}), Key: handler.KeyMessageID})
	})
	b.Run("processor+idempotency/duplicates-cached", func(b *testing.B) {
		run(b, handler.SQSConfig{Concurrency: 1, Idempotency: newGuard(b, idempotency.Config{CacheSize: 64}), Key: handler.KeyMessageID})
	})
}
