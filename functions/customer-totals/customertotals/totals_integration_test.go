//go:build integration

package customertotals_test

import (
	"context"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/latchkit/latch/functions/customer-totals/customertotals"
	"github.com/latchkit/latch/functions/internal/functest"
	"github.com/latchkit/latch/pkg/function"
	"github.com/latchkit/latch/pkg/latchtest/emulator"
)

type total struct{ Cents, Orders string }

func totals(t *testing.T, e *emulator.Env, table string) map[string]total {
	t.Helper()
	got := map[string]total{}
	for _, it := range e.Items(t, table) {
		c, _ := emulator.Scalar(it["customerId"])
		cents, _ := emulator.Scalar(it["totalCents"])
		n, _ := emulator.Scalar(it["orders"])
		got[c] = total{cents, n}
	}
	return got
}

// TestSampleBatch runs the function on events/dynamodb-orders-stream.json
// with a failure injected at its second record: the batch stops there and
// reports that record's sequence number; Lambda then sends the batch again
// from it, and again whole (as after a function error): every order is
// counted once.
func TestSampleBatch(t *testing.T) {
	e := emulator.New(t)
	table := e.TableWith(t, emulator.TableSpec{PartitionKey: "customerId", TTLAttribute: "-"})
	h, log := functest.Build(t, customertotals.Build, map[string]string{
		function.EnvIdempotencyTable:     e.Table(t),
		function.EnvIdempotencyNamespace: "customer-totals",
		customertotals.EnvTotalsTable:    table,
		customertotals.EnvFailEvery:      "2",
	})
	ev := functest.Event[events.DynamoDBEvent](t, "dynamodb-orders-stream.json")
	ctx := context.Background()

	resp, err := h(ctx, ev)
	if err != nil || len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != ev.Records[1].Change.SequenceNumber {
		t.Fatalf("first delivery: %+v, %v; want the second record reported", resp, err)
	}
	if diff := cmp.Diff(map[string]total{"c-42": {"1999", "1"}}, totals(t, e, table)); diff != "" {
		t.Errorf("totals after the failure (-want +got):\n%s", diff)
	}
	// From the failed record, as Lambda restarts; then the whole batch.
	retried := events.DynamoDBEvent{Records: ev.Records[1:]}
	// The injected failure strikes every second record the process sees
	// (duplicates too: the transactional form computes them again), so a
	// retry may meet it again and is sent again from the reported record,
	// as Lambda would.
	for _, batch := range []events.DynamoDBEvent{retried, ev} {
		for try := 1; ; try++ {
			resp, err := h(ctx, batch)
			if err == nil && len(resp.BatchItemFailures) == 0 {
				break
			}
			if err != nil || try == 5 {
				t.Fatalf("retry %d: %+v, %v", try, resp, err)
			}
			for i, r := range batch.Records {
				if r.Change.SequenceNumber == resp.BatchItemFailures[0].ItemIdentifier {
					batch = events.DynamoDBEvent{Records: batch.Records[i:]}
					break
				}
			}
		}
	}
	want := map[string]total{"c-42": {"3449", "3"}, "c-7": {"4500", "1"}}
	if diff := cmp.Diff(want, totals(t, e, table)); diff != "" {
		t.Errorf("totals (-want +got):\n%s", diff)
	}
	if n := log.Count(); n["succeeded"] != 4 || n["failed"] < 1 || n["blocked"] < 2 {
		t.Errorf("outcome lines %v: want 4 succeeded, the injected failures and the records blocked behind them", n)
	}
}
