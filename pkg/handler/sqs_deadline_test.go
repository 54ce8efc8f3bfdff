package handler_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/go-cmp/cmp"

	"github.com/latchkit/latch/internal/clock/clocktest"
	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/retry"
)

// liveOnlySQS fails a call made on a context that is already done, as the
// SDK does before it sends anything: a bookkeeping call on the invocation's
// ended context never reaches SQS.
type liveOnlySQS struct{ *fakeSQS }

func (c liveOnlySQS) ChangeMessageVisibilityBatch(ctx context.Context, in *sqs.ChangeMessageVisibilityBatchInput, o ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return c.fakeSQS.ChangeMessageVisibilityBatch(ctx, in, o...)
}

func (c liveOnlySQS) SendMessage(ctx context.Context, in *sqs.SendMessageInput, o ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return c.fakeSQS.SendMessage(ctx, in, o...)
}

// TestSQSDeadlineMidBatch runs a batch whose invocation deadline lands in
// the middle of it: each record takes 3 s of a settable clock, the
// deadline is 10 s away and the margin 3 s, so three records start and the
// last two do not. Those two come back at once, reported and not
// dead-lettered even on their last attempt; the records that ran see the
// deadline less the margin.
func TestSQSDeadlineMidBatch(t *testing.T) {
	t.Parallel()
	deadline := time.Now().Add(time.Hour).Truncate(time.Second)
	clk := clocktest.New(deadline.Add(-10 * time.Second))
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	client := newFakeSQS()
	obs := &recorder{}
	var seen []time.Time
	h := handler.MustNewSQS(func(ctx context.Context, m handler.Message[order]) error {
		d, _ := ctx.Deadline()
		seen = append(seen, d)
		clk.Advance(3 * time.Second)
		return byBody(ctx, m)
	}, handler.SQSConfig{Client: client, Observer: obs, Logger: discard, Concurrency: 1, Margin: 3 * time.Second, Now: clk.Now})
	resp, err := h(ctx, sqsEvent("orders",
		msg{id: "m1", body: body("o1")},
		msg{id: "m2", body: body("bad")},
		msg{id: "m3", body: body("o3")},
		msg{id: "m4", body: body("o4"), attempt: 5}, // its last attempt: still not dead-lettered
		msg{id: "m5", body: body("o5")},
	))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(failures("m4", "m5"), resp); diff != "" {
		t.Errorf("the records not started must come back (-want +got):\n%s", diff)
	}
	want := map[string]handler.Outcome{"m1": handler.Succeeded, "m2": handler.DeadLettered, "m3": handler.Succeeded, "m4": handler.RetryScheduled, "m5": handler.RetryScheduled}
	if diff := cmp.Diff(want, obs.outcomes()); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	for _, id := range []string{"m4", "m5"} {
		r := obs.report(id)
		if !errors.Is(r.Err, handler.ErrNotStarted) || r.Class != retry.ClassRetryable || r.RetryDelay != 0 {
			t.Errorf("%s: err %v, class %v, delay %v; want ErrNotStarted, retryable, back at once", id, r.Err, r.Class, r.RetryDelay)
		}
		if v, ok := client.visibilityOf("rh-" + id); !ok || v != 0 {
			t.Errorf("%s: visibility %d (asked: %t); want 0, back at once", id, v, ok)
		}
	}
	if len(client.sent) != 1 {
		t.Errorf("%d DLQ sends; want 1 (m2's), never a record that did not run", len(client.sent))
	}
	for i, d := range seen {
		if !d.Equal(deadline.Add(-3 * time.Second)) {
			t.Errorf("record %d ran with deadline %v; want the invocation's less the margin, %v", i+1, d, deadline.Add(-3*time.Second))
		}
	}
}

// TestSQSBookkeepingOutlivesDeadline ends the invocation's context while a
// record runs (the deadline passing): the record's DLQ send and the
// visibility change of the record not started still reach SQS, on a
// context of their own.
func TestSQSBookkeepingOutlivesDeadline(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	client := liveOnlySQS{newFakeSQS()}
	obs := &recorder{}
	h := handler.MustNewSQS(func(ctx context.Context, m handler.Message[order]) error {
		cancel()
		<-ctx.Done()
		return retry.Permanent(errRejected)
	}, handler.SQSConfig{Client: client, Observer: obs, Logger: discard, Concurrency: 1})
	resp, err := h(ctx, sqsEvent("orders", msg{id: "m1", body: body("bad")}, msg{id: "m2", body: body("o2")}))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(failures("m2"), resp); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if r := obs.report("m1"); r.Outcome != handler.DeadLettered {
		t.Errorf("m1: %s (%v); want dead_lettered: the send runs on a context of its own", r.Outcome, r.Err)
	}
	if r := obs.report("m2"); r.Outcome != handler.RetryScheduled || !errors.Is(r.Err, handler.ErrNotStarted) {
		t.Errorf("m2: %s (%v); want retry_scheduled, not started", r.Outcome, r.Err)
	}
}
