package producer_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/latchkit/latch/pkg/producer"
)

// BenchmarkQueueRequestsPerMessage measures what batching saves: SQS
// requests per enqueued message (requests/msg) for one Send per message
// and for SendBatch, with small bodies and with 300 KB bodies (three to a
// 1 MiB request). The fake answers at once, so ns/op is latch's own cost.
func BenchmarkQueueRequestsPerMessage(b *testing.B) {
	small := make([]string, 100)
	big := make([]string, 10)
	for i := range small {
		small[i] = fmt.Sprintf(`{"order":"o-%d","customer":"c-%d"}`, i, i%7)
	}
	for i := range big {
		big[i] = fmt.Sprintf("%d-%s", i, strings.Repeat("x", 300_000))
	}
	for _, tc := range []struct {
		name   string
		values []string
		batch  bool
	}{
		{"single/small", small, false},
		{"batch/small", small, true},
		{"single/300KB", big, false},
		{"batch/300KB", big, true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			fake := &fakeSQS{maxSize: "1048576"}
			q := producer.MustNewQueue(fake, producer.QueueConfig[string]{URL: stdURL, Encode: raw})
			ctx := context.Background()
			msgs, requests := 0, 0
			b.ReportAllocs()
			for b.Loop() {
				if tc.batch {
					if _, err := q.SendBatch(ctx, tc.values); err != nil {
						b.Fatal(err)
					}
				} else {
					for _, v := range tc.values {
						if _, err := q.Send(ctx, v); err != nil {
							b.Fatal(err)
						}
					}
				}
				msgs += len(tc.values)
				fake.mu.Lock()
				requests += len(fake.calls)
				fake.calls, fake.sent, fake.seen = fake.calls[:0], fake.sent[:0], nil
				fake.mu.Unlock()
			}
			b.ReportMetric(float64(requests)/float64(msgs), "requests/msg")
		})
	}
}
