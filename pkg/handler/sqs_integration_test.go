//go:build integration

package handler_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/latchkit/latch/internal/esm"
	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/latchtest/emulator"
	"github.com/latchkit/latch/pkg/retry"
)

// timedSQS is the real client, with the times of the calls that matter to
// the visibility test written down.
type timedSQS struct {
	*sqs.Client
	mu         sync.Mutex
	visibility []visibilityCall
	received   map[string][]time.Time // message id → when a receive returned it
}

type visibilityCall struct {
	start, end time.Time
	seconds    map[string]int32 // receipt handle → visibility asked
}

func (c *timedSQS) ChangeMessageVisibilityBatch(ctx context.Context, in *sqs.ChangeMessageVisibilityBatchInput, opts ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error) {
	call := visibilityCall{start: time.Now(), seconds: map[string]int32{}}
	out, err := c.Client.ChangeMessageVisibilityBatch(ctx, in, opts...)
	call.end = time.Now()
	for _, e := range in.Entries {
		call.seconds[aws.ToString(e.ReceiptHandle)] = e.VisibilityTimeout
	}
	c.mu.Lock()
	c.visibility = append(c.visibility, call)
	c.mu.Unlock()
	return out, err
}

func (c *timedSQS) ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	out, err := c.Client.ReceiveMessage(ctx, in, opts...)
	now := time.Now()
	if err == nil {
		c.mu.Lock()
		if c.received == nil {
			c.received = map[string][]time.Time{}
		}
		for _, m := range out.Messages {
			c.received[aws.ToString(m.MessageId)] = append(c.received[aws.ToString(m.MessageId)], now)
		}
		c.mu.Unlock()
	}
	return out, err
}

func sendBodies(t *testing.T, env *emulator.Env, url, group string, bodies ...string) []string {
	t.Helper()
	var ids []string
	for i, b := range bodies {
		in := &sqs.SendMessageInput{
			QueueUrl:    aws.String(url),
			MessageBody: aws.String(b),
			MessageAttributes: map[string]types.MessageAttributeValue{
				"tenant": {DataType: aws.String("String"), StringValue: aws.String("acme")},
			},
		}
		if group != "" {
			in.MessageGroupId = aws.String(group)
			in.MessageDeduplicationId = aws.String(fmt.Sprint(group, i, b))
		}
		out, err := env.SQS.SendMessage(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, aws.ToString(out.MessageId))
	}
	return ids
}

// drive polls through the ESM until done says so, or fails the test.
func drive(t *testing.T, cfg esm.Config, h handler.Func[events.SQSEvent, events.SQSEventResponse], timeout time.Duration, done func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !done() {
		if time.Now().After(deadline) {
			t.Fatalf("not done within %v", timeout)
		}
		if _, err := esm.Poll(context.Background(), cfg, esm.Invoke(h)); err != nil {
			t.Fatalf("poll: %v", err)
		}
	}
}

// receiveAll drains a queue with short polls and deletes nothing.
func receiveAll(t *testing.T, env *emulator.Env, url string) []types.Message {
	t.Helper()
	var msgs []types.Message
	for {
		out, err := env.SQS.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
			MessageAttributeNames:       []string{"All"},
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
			VisibilityTimeout:           60,
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			return msgs
		}
		msgs = append(msgs, out.Messages...)
	}
}

func attr(m types.Message, name string) string {
	v := m.MessageAttributes[name]
	return aws.ToString(v.StringValue)
}

func TestIntegrationRetryThenSucceed(t *testing.T) {
	t.Parallel()
	env := emulator.New(t)
	// The queue's own timeout is long: a record back within seconds is
	// back because latch changed its visibility.
	q := env.Queue(t, emulator.QueueSpec{MaxReceiveCount: 5, VisibilityTimeout: 30 * time.Second})
	client := &timedSQS{Client: env.SQS}
	var (
		mu       sync.Mutex
		attempts []int
	)
	log := &reportLog{}
	h := handler.MustNewSQS(func(_ context.Context, m handler.Message[order]) error {
		mu.Lock()
		attempts = append(attempts, m.Attempt)
		mu.Unlock()
		if m.Attempt <= 2 {
			return errFlaky
		}
		return nil
	}, handler.SQSConfig{Client: client, Observer: log, Backoff: retry.Backoff{Base: time.Second, Max: 4 * time.Second, Jitter: -1}})
	id := sendBodies(t, env, q.URL, "", body("o-1"))[0]

	cfg := esm.Config{Client: client, QueueURL: q.URL, WaitTime: time.Second}
	drive(t, cfg, h, 30*time.Second, func() bool { return log.count(handler.Succeeded) == 1 })

	if diff := cmp.Diff([]int{1, 2, 3}, attempts); diff != "" {
		t.Errorf("attempts (-want +got):\n%s", diff)
	}
	var outcomes []handler.Outcome
	for _, r := range log.of(id) {
		outcomes = append(outcomes, r.Outcome)
	}
	if diff := cmp.Diff([]handler.Outcome{handler.RetryScheduled, handler.RetryScheduled, handler.Succeeded}, outcomes); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	client.mu.Lock()
	defer client.mu.Unlock()
	if len(client.visibility) != 2 || len(client.received[id]) != 3 {
		t.Fatalf("%d visibility changes, %d receives; want 2 and 3", len(client.visibility), len(client.received[id]))
	}
	for i, want := range []time.Duration{time.Second, 2 * time.Second} {
		call := client.visibility[i]
		var secs int32
		for _, s := range call.seconds {
			secs = s
		}
		if time.Duration(secs)*time.Second != want {
			t.Errorf("retry %d: visibility %ds, want %v", i+1, secs, want)
		}
		back := client.received[id][i+1]
		// invisible for the whole delay: it cannot come back before the
		// change started plus the delay, and it comes back soon after it ended
		if early := call.start.Add(want).Sub(back); early > 50*time.Millisecond {
			t.Errorf("retry %d: back %v before its delay of %v ran out", i+1, early, want)
		}
		if late := back.Sub(call.end.Add(want)); late > 3*time.Second {
			t.Errorf("retry %d: back %v after its delay of %v ran out", i+1, late, want)
		}
	}
	env.AssertQueueEmpty(t, q.URL)
	env.AssertQueueEmpty(t, q.DLQ.URL)
}

func TestIntegrationRetryableExhaustedGoesToDLQ(t *testing.T) {
	t.Parallel()
	env := emulator.New(t)
	q := env.Queue(t, emulator.QueueSpec{MaxReceiveCount: 3, VisibilityTimeout: 30 * time.Second})
	log := &reportLog{}
	calls := 0
	h := handler.MustNewSQS(func(context.Context, handler.Message[order]) error { calls++; return errFlaky },
		handler.SQSConfig{Client: env.SQS, Observer: log, Backoff: retry.Backoff{Base: time.Second, Max: time.Second, Jitter: -1}})
	id := sendBodies(t, env, q.URL, "", body("o-2"))[0]
	start := time.Now()
	drive(t, esm.Config{Client: env.SQS, QueueURL: q.URL, WaitTime: time.Second}, h, 30*time.Second,
		func() bool { return log.count(handler.DeadLettered) == 1 })
	if calls != 3 {
		t.Errorf("record function ran %d times, want maxReceiveCount = 3", calls)
	}
	env.AssertQueueEmpty(t, q.URL)
	dlq := receiveAll(t, env, q.DLQ.URL)
	if len(dlq) != 1 {
		t.Fatalf("DLQ holds %d messages, want 1", len(dlq))
	}
	m := dlq[0]
	if aws.ToString(m.Body) != body("o-2") {
		t.Errorf("DLQ body %q", aws.ToString(m.Body))
	}
	want := map[string]string{
		handler.DLQAttrError:        "downstream unavailable",
		handler.DLQAttrErrorClass:   "retryable",
		handler.DLQAttrReceiveCount: "3",
		handler.DLQAttrSourceQueue:  q.ARN,
		"tenant":                    "acme",
	}
	got := map[string]string{}
	for k := range want {
		got[k] = attr(m, k)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("DLQ attributes (-want +got):\n%s", diff)
	}
	at, err := time.Parse(time.RFC3339Nano, attr(m, handler.DLQAttrFailedAt))
	if err != nil || at.Before(start.Add(-time.Second)) || at.After(time.Now()) {
		t.Errorf("failed_at %q (%v)", attr(m, handler.DLQAttrFailedAt), err)
	}
	if rs := log.of(id); len(rs) != 3 || rs[2].Outcome != handler.DeadLettered || rs[2].Attempt != 3 {
		t.Errorf("reports %+v", rs)
	}
}

func TestIntegrationPermanentAndUndecodableGoToDLQAtOnce(t *testing.T) {
	t.Parallel()
	env := emulator.New(t)
	q := env.Queue(t, emulator.QueueSpec{MaxReceiveCount: 5})
	calls := 0
	h := handler.MustNewSQS(func(_ context.Context, m handler.Message[order]) error {
		calls++
		return retry.Permanent(fmt.Errorf("order %s: %w", m.Body.ID, errRejected))
	}, handler.SQSConfig{Client: env.SQS})
	sendBodies(t, env, q.URL, "", body("o-3"), `{"order_id": 3, "amount": "lots"}`)
	b, err := esm.Poll(context.Background(), esm.Config{Client: env.SQS, QueueURL: q.URL, WaitTime: time.Second, BatchSize: 2, MaxBatchingWindow: 2 * time.Second}, esm.Invoke(h))
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Event.Records) != 2 || len(b.Deleted) != 2 || b.InvokeErr != nil {
		t.Fatalf("batch of %d, deleted %d, error %v; want both handled in one attempt", len(b.Event.Records), len(b.Deleted), b.InvokeErr)
	}
	if calls != 1 {
		t.Errorf("record function ran %d times, want 1 (the undecodable body never reaches it)", calls)
	}
	env.AssertQueueEmpty(t, q.URL)
	reasons := map[string]string{}
	for _, m := range receiveAll(t, env, q.DLQ.URL) {
		if attr(m, handler.DLQAttrErrorClass) != "permanent" || attr(m, handler.DLQAttrReceiveCount) != "1" {
			t.Errorf("DLQ message %q: class %q, receive count %q", aws.ToString(m.Body), attr(m, handler.DLQAttrErrorClass), attr(m, handler.DLQAttrReceiveCount))
		}
		reasons[aws.ToString(m.Body)] = attr(m, handler.DLQAttrError)
	}
	if got := reasons[body("o-3")]; got != "order o-3: order rejected" {
		t.Errorf("permanent reason %q", got)
	}
	if got := reasons[`{"order_id": 3, "amount": "lots"}`]; !strings.Contains(got, "decode SQS body") || !strings.Contains(got, "order_id") {
		t.Errorf("undecodable reason %q", got)
	}
}

func TestIntegrationDLQSendFailsKeepsRecord(t *testing.T) {
	t.Parallel()
	env := emulator.New(t)
	q := env.Queue(t, emulator.QueueSpec{MaxReceiveCount: 5, VisibilityTimeout: time.Second})
	missing := strings.TrimSuffix(q.DLQ.URL, q.DLQ.Name) + emulator.UniqueName(t, "missing")
	log := &reportLog{}
	h := handler.MustNewSQS(func(context.Context, handler.Message[order]) error { return retry.Permanent(errRejected) },
		handler.SQSConfig{Client: env.SQS, DLQURL: missing, Observer: log, Logger: discard})
	id := sendBodies(t, env, q.URL, "", body("o-4"))[0]
	b, err := esm.Poll(context.Background(), esm.Config{Client: env.SQS, QueueURL: q.URL, WaitTime: time.Second}, esm.Invoke(h))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{id}, b.Kept); diff != "" || len(b.Deleted) != 0 {
		t.Fatalf("kept (-want +got):\n%s; deleted %v", diff, b.Deleted)
	}
	rs := log.of(id)
	var qne *types.QueueDoesNotExist
	if len(rs) != 1 || rs[0].Outcome != handler.Failed || !errors.As(rs[0].Err, &qne) {
		t.Fatalf("reports %+v; want one failed with QueueDoesNotExist", rs)
	}
	// still in the source queue: back after the queue's 1s timeout
	var back []types.Message
	for deadline := time.Now().Add(10 * time.Second); len(back) == 0 && time.Now().Before(deadline); {
		back = receiveAll(t, env, q.URL)
	}
	if len(back) != 1 || aws.ToString(back[0].MessageId) != id || back[0].Attributes["ApproximateReceiveCount"] != "2" {
		t.Fatalf("source queue gave back %d messages, want the record on its second receive", len(back))
	}
	env.AssertQueueEmpty(t, q.DLQ.URL)
}

func TestIntegrationFIFOGroups(t *testing.T) {
	t.Parallel()
	// a3 must wait behind a2's retry; LocalStack hands it out meanwhile.
	emulator.SkipOnGap(t, emulator.GapFIFOInFlight)
	env := emulator.New(t)
	q := env.Queue(t, emulator.QueueSpec{FIFO: true, MaxReceiveCount: 5, VisibilityTimeout: 30 * time.Second})
	var (
		mu  sync.Mutex
		ran = map[string][]string{}
	)
	log := &reportLog{}
	h := handler.MustNewSQS(func(_ context.Context, m handler.Message[order]) error {
		g := m.Raw.Attributes["MessageGroupId"]
		mu.Lock()
		ran[g] = append(ran[g], fmt.Sprint(m.Body.ID, "#", m.Attempt))
		mu.Unlock()
		if m.Body.ID == "a2" && m.Attempt == 1 {
			return errFlaky
		}
		return nil
	}, handler.SQSConfig{Client: env.SQS, Observer: log, Backoff: retry.Backoff{Base: time.Second, Jitter: -1}})
	a := sendBodies(t, env, q.URL, "A", body("a1"), body("a2"), body("a3"))
	sendBodies(t, env, q.URL, "B", body("b1"), body("b2"), body("b3"))

	cfg := esm.Config{Client: env.SQS, QueueURL: q.URL, WaitTime: time.Second}
	first, err := esm.Poll(context.Background(), cfg, esm.Invoke(h))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("first batch: %d records", len(first.Event.Records))
	drive(t, cfg, h, 30*time.Second, func() bool { return log.count(handler.Succeeded) == 6 })

	want := map[string][]string{"A": {"a1#1", "a2#1", "a2#2", "a3#2"}, "B": {"b1#1", "b2#1", "b3#1"}}
	if diff := cmp.Diff(want, ran); diff != "" {
		t.Errorf("runs per group (-want +got):\n%s", diff)
	}
	if rs := log.of(a[2]); len(rs) != 2 || !errors.Is(rs[0].Err, handler.ErrGroupBlocked) || rs[0].Outcome != handler.Blocked {
		t.Errorf("a3 reports %+v; want blocked behind a2, then succeeded", rs)
	}
	env.AssertQueueEmpty(t, q.URL)
	env.AssertQueueEmpty(t, q.DLQ.URL)
}

// of returns the reports of the record with the id.
func (l *reportLog) of(id string) []handler.Report {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []handler.Report
	for _, r := range l.reports {
		if r.ID == id {
			out = append(out, r)
		}
	}
	return out
}

// count returns how many reports had the outcome.
func (l *reportLog) count(o handler.Outcome) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, r := range l.reports {
		if r.Outcome == o {
			n++
		}
	}
	return n
}
