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

	"github.com/latchkit/latch/internal/awstest"
	"github.com/latchkit/latch/internal/dlq"
	"github.com/latchkit/latch/internal/esm"
	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/retry"
)

var errRejected = errors.New("order rejected")

// deadLetter sends bodies to q (in group, for FIFO) and runs latch's SQS
// processor on them through the local event source mapping with a record
// function that fails permanently, so latch dead-letters every one with its
// reason, exactly as in a deployed function.
func deadLetter(t *testing.T, env *awstest.Env, q awstest.Queue, group string, bodies ...string) {
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
	h := handler.MustNewSQS(func(_ context.Context, m handler.Message[string]) error {
		return retry.Permanent(fmt.Errorf("%s: %w", m.Body, errRejected))
	}, handler.SQSConfig{Client: env.SQS})
	cfg := esm.Config{Client: env.SQS, QueueURL: q.URL, QueueARN: q.ARN, WaitTime: -1}
	deadline := time.Now().Add(30 * time.Second)
	for handled := 0; handled < len(bodies); {
		if time.Now().After(deadline) {
			t.Fatalf("dead-lettered %d of %d", handled, len(bodies))
		}
		b, err := esm.Poll(ctx, cfg, esm.Invoke(handler.Func[events.SQSEvent, events.SQSEventResponse](h)))
		if err != nil {
			t.Fatal(err)
		}
		handled += len(b.Deleted)
	}
}

func depth(t *testing.T, env *awstest.Env, url string) int {
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
func drain(t *testing.T, env *awstest.Env, url string) []types.Message {
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
	env := awstest.New(t)
	q := env.Queue(t, awstest.QueueSpec{MaxReceiveCount: 5})
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
	env := awstest.New(t)
	q := env.Queue(t, awstest.QueueSpec{MaxReceiveCount: 5})
	sent := bodies(3)
	deadLetter(t, env, q, "", sent...)
	ctx := context.Background()

	// A destination that no longer exists: every send fails.
	gone, err := env.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(awstest.UniqueName(t, "gone"))})
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
	env := awstest.New(t)
	q := env.Queue(t, awstest.QueueSpec{FIFO: true, MaxReceiveCount: 5})
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
