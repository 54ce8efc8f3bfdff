//go:build integration

package dlq_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/latchkit/latch/internal/dlq"
	"github.com/latchkit/latch/internal/esm"
	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/latchtest/emulator"
	"github.com/latchkit/latch/pkg/retry"
)

var errRejected = errors.New("order rejected")

// deadLetter sends bodies to q (in group, for FIFO) and runs latch's SQS
// processor on them through the local event source mapping with a record
// function that fails permanently, so latch dead-letters every one with its
// reason, exactly as in a deployed function.
func deadLetter(t *testing.T, env *emulator.Env, q emulator.Queue, group string, bodies ...string) {
	t.Helper()
	ctx := context.Background()
	for i, b := range bodies {
		in := &sqs.SendMessageInput{
			QueueUrl: aws.String(q.URL), MessageBody: aws.String(b),
			MessageAttributes: map[string]types.MessageAttributeValue{"tenant": {DataType: aws.String("String"), StringValue: aws.String("acme")}},
		}
		if group != "" {
			in.MessageGroupId, in.MessageDeduplicationId = aws.String(group), aws.String(fmt.Sprint(group, i))
		}
		if _, err := env.SQS.SendMessage(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	cfg := esm.Config{Client: env.SQS, QueueURL: q.URL, QueueARN: q.ARN, WaitTime: -1}
	deadline := time.Now().Add(30 * time.Second)
	for handled := 0; handled < len(bodies); {
		if time.Now().After(deadline) {
			t.Fatalf("dead-lettered %d of %d", handled, len(bodies))
		}
		b, err := esm.Poll(ctx, cfg, rejecting(env))
		if err != nil {
			t.Fatal(err)
		}
		handled += len(b.Deleted)
	}
}

func depth(t *testing.T, env *emulator.Env, url string) int {
	t.Helper()
	out, err := env.SQS.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(url),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessages},
	})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	fmt.Sscan(out.Attributes[string(types.QueueAttributeNameApproximateNumberOfMessages)], &n)
	return n
}

// drain receives and deletes everything in a queue, in receive order.
func drain(t *testing.T, env *emulator.Env, url string) []types.Message {
	t.Helper()
	var all []types.Message
	for {
		out, err := env.SQS.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 30,
			MessageAttributeNames:       []string{"All"},
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			return all
		}
		for _, m := range out.Messages {
			if _, err := env.SQS.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
		all = append(all, out.Messages...)
	}
}

func bodies(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf(`{"order_id":"o-%02d"}`, i)
	}
	return out
}

func TestListAndRedriveStandard(t *testing.T) {
	t.Parallel()
	env := emulator.New(t)
	q := env.Queue(t, emulator.QueueSpec{MaxReceiveCount: 5})
	sent := bodies(13) // more than one receive batch
	deadLetter(t, env, q, "", sent...)
	ctx := context.Background()

	for _, ref := range []string{q.DLQ.URL, q.DLQ.Name, q.DLQ.ARN} {
		if got, err := dlq.QueueURL(ctx, env.SQS, ref); err != nil || got != q.DLQ.URL {
			t.Errorf("QueueURL(%s) = %q, %v; want %s", ref, got, err, q.DLQ.URL)
		}
	}
	if _, err := dlq.QueueURL(ctx, env.SQS, "no-such-queue-"+q.Name); err == nil || !errors.Is(err, dlq.ErrNoQueue) {
		t.Errorf("QueueURL(missing) = %v", err)
	}

	// Listing twice shows all of them both times: nothing is consumed, and
	// every message is visible again at once.
	for round := 1; round <= 2; round++ {
		l, err := dlq.List(ctx, env.SQS, q.DLQ.URL, 0)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range l.Messages {
			got = append(got, m.Body)
			if !m.ByLatch() || m.ErrorClass != "permanent" || m.Attempts != 1 || m.SourceQueue != q.ARN ||
				m.Error != m.Body+": order rejected" || m.FailedAt.IsZero() || time.Since(m.FailedAt) > time.Minute {
				t.Errorf("round %d: message %+v lacks latch's reason", round, m)
			}
			if diff := cmp.Diff(map[string]string{"tenant": "acme"}, stringAttrs(m.Attributes)); diff != "" {
				t.Errorf("attributes (-want +got):\n%s", diff)
			}
		}
		sort.Strings(got)
		if diff := cmp.Diff(sent, got); diff != "" {
			t.Errorf("round %d: listed bodies (-want +got):\n%s", round, diff)
		}
		if n := depth(t, env, q.DLQ.URL); n != len(sent) {
			t.Errorf("round %d: %d visible after listing, want %d", round, n, len(sent))
		}
	}
	if l, err := dlq.List(ctx, env.SQS, q.DLQ.URL, 4); err != nil || len(l.Messages) != 4 {
		t.Errorf("List max 4: %v, %v", l, err)
	}

	// A dry run moves nothing.
	dry, err := dlq.Redrive(ctx, env.SQS, q.DLQ.URL, dlq.RedriveOptions{DryRun: true})
	if err != nil || len(dry.Moved) != len(sent) || dry.Moved[0].To != q.URL || dry.Moved[0].NewID != "" {
		t.Fatalf("dry run: %+v, %v", dry, err)
	}
	if n := depth(t, env, q.DLQ.URL); n != len(sent) {
		t.Errorf("%d in the DLQ after a dry run, want %d", n, len(sent))
	}

	// Redrive five, then the rest, to the source found in latch's attribute.
	first, err := dlq.Redrive(ctx, env.SQS, q.DLQ.URL, dlq.RedriveOptions{Max: 5})
	if err != nil || first.Err() != nil || len(first.Moved) != 5 {
		t.Fatalf("redrive 5: %+v, %v", first, err)
	}
	if n := depth(t, env, q.DLQ.URL); n != len(sent)-5 {
		t.Errorf("%d left in the DLQ, want %d", n, len(sent)-5)
	}
	rest, err := dlq.Redrive(ctx, env.SQS, q.DLQ.URL, dlq.RedriveOptions{})
	if err != nil || rest.Err() != nil || len(rest.Moved) != len(sent)-5 {
		t.Fatalf("redrive rest: %+v, %v", rest, err)
	}
	if n := depth(t, env, q.DLQ.URL); n != 0 {
		t.Errorf("%d left in the DLQ, want 0", n)
	}
	var back []string
	for _, m := range drain(t, env, q.URL) {
		back = append(back, aws.ToString(m.Body))
		attrs := map[string]string{}
		for k, v := range m.MessageAttributes {
			attrs[k] = aws.ToString(v.StringValue)
		}
		if diff := cmp.Diff(map[string]string{"tenant": "acme"}, attrs); diff != "" {
			t.Errorf("redriven message attributes (-want +got), latch's reason must be gone:\n%s", diff)
		}
	}
	sort.Strings(back)
	if diff := cmp.Diff(sent, back); diff != "" {
		t.Errorf("source queue after redrive (-want +got):\n%s", diff)
	}
}

func stringAttrs(m map[string]types.MessageAttributeValue) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = aws.ToString(v.StringValue)
	}
	return out
}

func TestRedriveLosesNothingWhenTheSendFails(t *testing.T) {
	t.Parallel()
	env := emulator.New(t)
	q := env.Queue(t, emulator.QueueSpec{MaxReceiveCount: 5})
	sent := bodies(3)
	deadLetter(t, env, q, "", sent...)
	ctx := context.Background()

	// A destination that no longer exists: every send fails.
	gone, err := env.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(emulator.UniqueName(t, "gone"))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.SQS.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: gone.QueueUrl}); err != nil {
		t.Fatal(err)
	}
	res, err := dlq.Redrive(ctx, env.SQS, q.DLQ.URL, dlq.RedriveOptions{To: aws.ToString(gone.QueueUrl)})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Moved) != 0 || len(res.Failed) != len(sent) || res.Err() == nil {
		t.Fatalf("redrive to a deleted queue: moved %d, failed %d", len(res.Moved), len(res.Failed))
	}
	if n := depth(t, env, q.DLQ.URL); n != len(sent) {
		t.Errorf("%d visible in the DLQ after failed sends, want all %d", n, len(sent))
	}

	// A message that names no source cannot go anywhere without --to.
	if _, err := env.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(q.DLQ.URL), MessageBody: aws.String("orphan")}); err != nil {
		t.Fatal(err)
	}
	res, err = dlq.Redrive(ctx, env.SQS, q.DLQ.URL, dlq.RedriveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Moved) != len(sent) || len(res.Failed) != 1 || res.Failed[0].Message.Body != "orphan" ||
		!strings.Contains(res.Failed[0].Err.Error(), "--to") {
		t.Fatalf("moved %d, failed %+v", len(res.Moved), res.Failed)
	}
	if n := depth(t, env, q.DLQ.URL); n != 1 {
		t.Errorf("%d visible in the DLQ, want the orphan", n)
	}
	res, err = dlq.Redrive(ctx, env.SQS, q.DLQ.URL, dlq.RedriveOptions{To: q.Name})
	if err != nil || len(res.Moved) != 1 || res.Err() != nil {
		t.Fatalf("redrive --to: %+v, %v", res, err)
	}
	if got := len(drain(t, env, q.URL)); got != len(sent)+1 {
		t.Errorf("%d messages back in the source, want %d", got, len(sent)+1)
	}
}

func TestRedriveFIFOKeepsGroupsInOrder(t *testing.T) {
	t.Parallel()
	env := emulator.New(t)
	q := env.Queue(t, emulator.QueueSpec{FIFO: true, MaxReceiveCount: 5})
	deadLetter(t, env, q, "alice", "a1", "a2", "a3")
	deadLetter(t, env, q, "bob", "b1", "b2")
	ctx := context.Background()

	l, err := dlq.List(ctx, env.SQS, q.DLQ.URL, 0)
	if err != nil {
		t.Fatal(err)
	}
	groups := map[string]string{}
	for _, m := range l.Messages {
		groups[m.Body] = m.GroupID
	}
	if diff := cmp.Diff(map[string]string{"a1": "alice", "a2": "alice", "a3": "alice", "b1": "bob", "b2": "bob"}, groups); diff != "" {
		t.Errorf("listed groups (-want +got):\n%s", diff)
	}
	res, err := dlq.Redrive(ctx, env.SQS, q.DLQ.URL, dlq.RedriveOptions{})
	if err != nil || res.Err() != nil || len(res.Moved) != 5 {
		t.Fatalf("redrive: %+v, %v", res, err)
	}
	order := map[string][]string{}
	for _, m := range drain(t, env, q.URL) {
		g := m.Attributes[string(types.MessageSystemAttributeNameMessageGroupId)]
		order[g] = append(order[g], aws.ToString(m.Body))
	}
	if diff := cmp.Diff(map[string][]string{"alice": {"a1", "a2", "a3"}, "bob": {"b1", "b2"}}, order); diff != "" {
		t.Errorf("source queue by group, in order (-want +got):\n%s", diff)
	}
}

// copyInDLQ sends the DLQ's messages in again with the same attributes,
// as a process killed between latch's DLQ send and the delete of the
// original does on its next delivery of the record.
func copyInDLQ(t *testing.T, env *emulator.Env, q emulator.Queue) {
	t.Helper()
	ctx := context.Background()
	out, err := env.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(q.DLQ.URL), MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 1,
		MessageAttributeNames: []string{"All"},
	})
	if err != nil || len(out.Messages) == 0 {
		t.Fatalf("receive from the DLQ: %d messages, %v", len(out.Messages), err)
	}
	for _, m := range out.Messages {
		if _, err := env.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(q.DLQ.URL), MessageBody: m.Body, MessageAttributes: m.MessageAttributes}); err != nil {
			t.Fatal(err)
		}
		if _, err := env.SQS.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(q.DLQ.URL), ReceiptHandle: m.ReceiptHandle}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCopiesListedAndMovedOnce(t *testing.T) {
	t.Parallel()
	env := emulator.New(t)
	q := env.Queue(t, emulator.QueueSpec{MaxReceiveCount: 5})
	sent := bodies(3)
	deadLetter(t, env, q, "", sent...)
	copyInDLQ(t, env, q)
	ctx := context.Background()
	if n := depth(t, env, q.DLQ.URL); n != 6 {
		t.Fatalf("%d in the DLQ, want 3 messages and a copy of each", n)
	}
	l, err := dlq.List(ctx, env.SQS, q.DLQ.URL, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Messages) != 3 || l.Copies != 3 {
		t.Fatalf("listed %d messages and %d copies, want 3 and 3", len(l.Messages), l.Copies)
	}
	for _, m := range l.Messages {
		if len(m.CopyIDs) != 1 || m.SourceID == m.ID || m.SourceID == "" {
			t.Errorf("message %s (source %s): copies %v, want one, and a source id of its own", m.ID, m.SourceID, m.CopyIDs)
		}
	}
	res, err := dlq.Redrive(ctx, env.SQS, q.DLQ.URL, dlq.RedriveOptions{})
	if err != nil || res.Err() != nil || len(res.Moved) != 3 || len(res.Copies) != 3 {
		t.Fatalf("redrive: moved %d, copies deleted %d, %v, %v", len(res.Moved), len(res.Copies), err, res.Err())
	}
	if n := depth(t, env, q.DLQ.URL); n != 0 {
		t.Errorf("%d left in the DLQ, want 0", n)
	}
	var back []string
	for _, m := range drain(t, env, q.URL) {
		back = append(back, aws.ToString(m.Body))
	}
	sort.Strings(back)
	if diff := cmp.Diff(sent, back); diff != "" {
		t.Errorf("source queue after redrive: each message once (-want +got):\n%s", diff)
	}
}

func TestRedrivePicksByIDAndClass(t *testing.T) {
	t.Parallel()
	env := emulator.New(t)
	q := env.Queue(t, emulator.QueueSpec{MaxReceiveCount: 5})
	deadLetter(t, env, q, "", bodies(4)...)
	ctx := context.Background()
	l, err := dlq.List(ctx, env.SQS, q.DLQ.URL, 0)
	if err != nil || len(l.Messages) != 4 {
		t.Fatalf("list: %v, %v", l, err)
	}
	pick := l.Messages[2]
	res, err := dlq.Redrive(ctx, env.SQS, q.DLQ.URL, dlq.RedriveOptions{IDs: []string{pick.SourceID}})
	if err != nil || res.Err() != nil || len(res.Moved) != 1 || res.Moved[0].Message.Body != pick.Body || res.Skipped != 3 {
		t.Fatalf("redrive by id: %+v, %v", res, err)
	}
	res, err = dlq.Redrive(ctx, env.SQS, q.DLQ.URL, dlq.RedriveOptions{Class: "retryable"})
	if err != nil || len(res.Moved) != 0 || res.Skipped != 3 {
		t.Fatalf("redrive of another class: %+v, %v", res, err)
	}
	res, err = dlq.Redrive(ctx, env.SQS, q.DLQ.URL, dlq.RedriveOptions{Class: "permanent"})
	if err != nil || res.Err() != nil || len(res.Moved) != 3 {
		t.Fatalf("redrive by class: %+v, %v", res, err)
	}
	if got := len(drain(t, env, q.URL)); got != 4 {
		t.Errorf("%d back in the source, want 4", got)
	}
}

// rejecting is latch's SQS processor with a record function that fails
// every message permanently, so that latch dead-letters it with its reason.
func rejecting(env *emulator.Env) esm.Invoke {
	h := handler.MustNewSQS(func(_ context.Context, m handler.Message[string]) error {
		return retry.Permanent(fmt.Errorf("%s: %w", m.Body, errRejected))
	}, handler.SQSConfig{Client: env.SQS})
	return esm.Invoke(handler.Func[events.SQSEvent, events.SQSEventResponse](h))
}

// rejectAll runs q's consumer until ctx ends, failing every message
// permanently so that it goes back to the DLQ at once. The channel gets
// what the consumer returned.
func rejectAll(ctx context.Context, env *emulator.Env, q emulator.Queue) <-chan error {
	consumer := make(chan error, 1)
	go func() {
		consumer <- esm.Run(ctx, esm.Config{Client: env.SQS, QueueURL: q.URL, QueueARN: q.ARN, WaitTime: time.Second}, rejecting(env))
	}()
	return consumer
}

// TestRedriveWithConsumerRunning redrives while the queue's consumer runs
// and fails every message again at once: the redrive must move each
// message that was there once, end, and leave each message in the DLQ once.
func TestRedriveWithConsumerRunning(t *testing.T) {
	t.Parallel()
	env := emulator.New(t)
	q := env.Queue(t, emulator.QueueSpec{MaxReceiveCount: 5, VisibilityTimeout: 2 * time.Second})
	sent := bodies(40)
	deadLetter(t, env, q, "", sent...)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	consumer := rejectAll(ctx, env, q)

	rctx, rcancel := context.WithTimeout(ctx, time.Minute)
	defer rcancel()
	res, err := dlq.Redrive(rctx, env.SQS, q.DLQ.URL, dlq.RedriveOptions{})
	if err != nil || res.Err() != nil {
		t.Fatalf("redrive: %v, %v", err, res.Err())
	}
	var movedBodies []string
	for _, m := range res.Moved {
		movedBodies = append(movedBodies, m.Message.Body)
	}
	sort.Strings(movedBodies)
	if diff := cmp.Diff(sent, movedBodies); diff != "" {
		t.Errorf("moved bodies: want each message that was there once (-want +got):\n%s", diff)
	}
	t.Logf("moved %d; %d came back while the redrive ran", len(res.Moved), res.Returned)

	// The consumer dead-letters each moved message again: the DLQ ends
	// with each body, the source queue empty. (Each body once, but for
	// moto's own copies: its deletes race with the redrive's sends to the
	// same queue and can bring a deleted message back, which the consumer
	// then dead-letters a second time. Redrive's part, each message moved
	// once, is checked above.)
	deadline := time.Now().Add(45 * time.Second)
	for (depth(t, env, q.DLQ.URL) < len(sent) || size(t, env, q.URL) > 0) && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	cancel()
	if err := <-consumer; err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, m := range drain(t, env, q.DLQ.URL) {
		seen[aws.ToString(m.Body)]++
	}
	var got []string
	for b, n := range seen {
		got = append(got, b)
		if n > 1 {
			t.Logf("%s is in the DLQ %d times (moto brought a deleted message back)", b, n)
		}
	}
	sort.Strings(got)
	if diff := cmp.Diff(sent, got); diff != "" {
		t.Errorf("DLQ after the redrive and the consumer (-want +got):\n%s", diff)
	}
	env.AssertQueueEmpty(t, q.URL)
}

// size counts a queue's messages, visible or not.
func size(t *testing.T, env *emulator.Env, url string) int {
	t.Helper()
	out, err := env.SQS.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url),
		AttributeNames: []types.QueueAttributeName{
			types.QueueAttributeNameApproximateNumberOfMessages, types.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, v := range out.Attributes {
		var k int
		fmt.Sscan(v, &k)
		n += k
	}
	return n
}

// TestRedriveLargeMessages redrives messages near SQS's size limit: ten
// per SendMessageBatch would be over its 1 MiB request limit
// (BatchRequestTooLong), so batches are cut by size too.
func TestRedriveLargeMessages(t *testing.T) {
	t.Parallel()
	env := emulator.New(t)
	q := env.Queue(t, emulator.QueueSpec{MaxReceiveCount: 5})
	ctx := context.Background()
	const n, size = 7, 250_000
	for i := range n {
		body := fmt.Sprintf("%02d", i) + strings.Repeat("x", size)
		_, err := env.SQS.SendMessage(ctx, &sqs.SendMessageInput{
			QueueUrl: aws.String(q.DLQ.URL), MessageBody: aws.String(body),
			MessageAttributes: map[string]types.MessageAttributeValue{
				handler.DLQAttrSourceQueue: {DataType: aws.String("String"), StringValue: aws.String(q.ARN)},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	res, err := dlq.Redrive(ctx, env.SQS, q.DLQ.URL, dlq.RedriveOptions{})
	if err != nil || res.Err() != nil || len(res.Moved) != n {
		t.Fatalf("redrive: moved %d of %d, %v, %v", len(res.Moved), n, err, res.Err())
	}
	if got := len(drain(t, env, q.URL)); got != n {
		t.Errorf("%d back in the source, want %d", got, n)
	}
}

// TestRedriveLeavesWhatItMovedWhenItComesBack has the consumer's new DLQ
// copies reach the redrive before some of the messages that were there at
// the start (those were in flight elsewhere, as on SQS, which returns
// messages in no particular order): the redrive leaves the copies alone
// rather than moving a message twice.
func TestRedriveLeavesWhatItMovedWhenItComesBack(t *testing.T) {
	t.Parallel()
	env := emulator.New(t)
	q := env.Queue(t, emulator.QueueSpec{MaxReceiveCount: 5, VisibilityTimeout: 2 * time.Second})
	sent := bodies(15)
	deadLetter(t, env, q, "", sent...)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Five of them are in flight elsewhere when the redrive starts.
	out, err := env.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(q.DLQ.URL), MaxNumberOfMessages: 5, VisibilityTimeout: 4})
	if err != nil || len(out.Messages) != 5 {
		t.Fatalf("receive 5: %d, %v", len(out.Messages), err)
	}
	consumer := rejectAll(ctx, env, q)
	// Moved messages come back before the redrive is done.
	res, err := dlq.Redrive(ctx, env.SQS, q.DLQ.URL, dlq.RedriveOptions{})
	cancel()
	if cerr := <-consumer; cerr != nil {
		t.Fatal(cerr)
	}
	if err != nil || res.Err() != nil {
		t.Fatalf("redrive: %v, %v", err, res.Err())
	}
	count := map[string]int{}
	for _, m := range res.Moved {
		count[m.Message.Body]++
		if count[m.Message.Body] > 1 {
			t.Errorf("%s moved %d times", m.Message.Body, count[m.Message.Body])
		}
	}
	t.Logf("moved %d, %d came back and were left", len(res.Moved), res.Returned)
	if len(res.Moved) < 10 {
		t.Errorf("moved %d, want at least the 10 that were visible", len(res.Moved))
	}
}
