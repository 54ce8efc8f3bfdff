package esm

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"
)

// misordering is a FIFO queue that misbehaves as moto can: it returns a
// group's later messages while earlier ones are in flight. It records the
// visibility changes asked of it.
type misordering struct {
	scripted
	handedBack map[string]int32 // message id → visibility timeout
}

func (m *misordering) ChangeMessageVisibilityBatch(_ context.Context, in *sqs.ChangeMessageVisibilityBatchInput, _ ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := &sqs.ChangeMessageVisibilityBatchOutput{}
	for _, e := range in.Entries {
		m.handedBack[aws.ToString(e.ReceiptHandle)] = e.VisibilityTimeout
		out.Successful = append(out.Successful, types.ChangeMessageVisibilityBatchResultEntry{Id: e.Id})
	}
	return out, nil
}

func fifoMsgs(group string, ids ...string) []types.Message {
	var out []types.Message
	for _, id := range ids {
		out = append(out, types.Message{
			MessageId: aws.String(id), ReceiptHandle: aws.String(id), Body: aws.String(id),
			Attributes: map[string]string{"MessageGroupId": group},
		})
	}
	return out
}

func TestInFlightHoldsBackAGroupBehindAKilledBatch(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	inflight := NewInFlight()
	inflight.now = func() time.Time { return now }
	c := &misordering{handedBack: map[string]int32{}, scripted: scripted{answers: [][]types.Message{
		fifoMsgs("alice", "a1", "a2", "a3", "a4", "a5"),
		// moto after the kill: one record of the killed batch, two newer of
		// its group, and another group's.
		append(fifoMsgs("alice", "a3", "a6", "a7"), fifoMsgs("bob", "b1")...),
		// after the visibility timeout: the whole group, in order.
		fifoMsgs("alice", "a1", "a2", "a3", "a4", "a5", "a6", "a7"),
	}}}
	cfg := Config{Client: c, QueueURL: "u", QueueARN: "arn:aws:sqs:eu-west-1:123456789012:q.fifo", BatchSize: 10, VisibilityTimeout: 30 * time.Second, InFlight: inflight}
	var invoked [][]string
	killed := true
	fn := func(_ context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		var bodies []string
		for _, r := range ev.Records {
			bodies = append(bodies, r.Body)
		}
		invoked = append(invoked, bodies)
		if killed {
			killed = false
			return events.SQSEventResponse{}, errors.New("Runtime.ExitError: signal: killed")
		}
		return events.SQSEventResponse{}, nil
	}
	ctx := context.Background()
	b, err := Poll(ctx, cfg, fn)
	if err != nil || len(b.Kept) != 5 || inflight.Len() != 5 {
		t.Fatalf("killed batch: %+v, %v; in flight %d", b, err, inflight.Len())
	}
	now = now.Add(5 * time.Second)
	b, err = Poll(ctx, cfg, fn)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a3", "a6", "a7"}, b.Held); diff != "" {
		t.Errorf("held (-want +got):\n%s", diff)
	}
	// Handed back at once (see handBack).
	if diff := cmp.Diff(map[string]int32{"a3": 0, "a6": 0, "a7": 0}, c.handedBack); diff != "" {
		t.Errorf("handed back (-want +got):\n%s", diff)
	}
	now = now.Add(26 * time.Second)
	if _, err := Poll(ctx, cfg, fn); err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"a1", "a2", "a3", "a4", "a5"}, {"b1"}, {"a1", "a2", "a3", "a4", "a5", "a6", "a7"}}
	if diff := cmp.Diff(want, invoked); diff != "" {
		t.Errorf("invocations (-want +got):\n%s", diff)
	}
	if n := inflight.Len(); n != 0 {
		t.Errorf("%d in flight after every message was deleted", n)
	}
}

func TestInFlightAdmit(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	f := NewInFlight()
	f.now = func() time.Time { return now }
	ids := func(msgs []types.Message) []string {
		var out []string
		for _, m := range msgs {
			out = append(out, aws.ToString(m.MessageId))
		}
		return out
	}
	for i, step := range []struct {
		advance    time.Duration
		receive    []types.Message
		deleted    []string
		take, hold []string
	}{
		{receive: fifoMsgs("g", "1", "2"), take: []string{"1", "2"}},
		// 1 and 2 in flight: a later message of g waits; h does not.
		{advance: time.Second, receive: append(fifoMsgs("g", "3"), fifoMsgs("h", "x")...), take: []string{"x"}, hold: []string{"3"}},
		// 1 deleted, 2 still in flight: g still waits.
		{deleted: []string{"1"}, receive: fifoMsgs("g", "3"), hold: []string{"3"}},
		// 2 deleted too: g goes on.
		{deleted: []string{"2"}, receive: fifoMsgs("g", "3"), take: []string{"3"}},
		// 3 never deleted and visible again, but not in this receive: 4
		// waits for it.
		{advance: 11 * time.Second, receive: fifoMsgs("g", "4"), hold: []string{"4"}},
		// The emulator returns them the wrong way round: invoked in order.
		{advance: time.Second, receive: fifoMsgs("g", "4", "3"), take: []string{"3", "4"}},
		// Neither deleted, and gone for good (moved to a DLQ, say): after
		// a second visibility timeout they hold nothing back.
		{advance: 21 * time.Second, receive: fifoMsgs("g", "5"), take: []string{"5"}},
	} {
		now = now.Add(step.advance)
		f.done(step.deleted)
		take, hold := f.admit(step.receive, 10*time.Second)
		if diff := cmp.Diff(step.take, ids(take)); diff != "" {
			t.Errorf("step %d: taken (-want +got):\n%s", i, diff)
		}
		if diff := cmp.Diff(step.hold, ids(hold)); diff != "" {
			t.Errorf("step %d: held (-want +got):\n%s", i, diff)
		}
	}
	if n, b, due := f.Stats(); n != 1 || b != 1 || !due.Equal(now.Add(10*time.Second)) {
		t.Errorf("Stats = %d, %d, %v; want 1, 1, %v", n, b, due, now.Add(10*time.Second))
	}
}
