//go:build integration

package producer_test

import (
	"bytes"
	"context"
	"encoding/json"
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
	"github.com/aws/smithy-go"

	"github.com/latchkit/latch/internal/esm"
	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/handler/logging"
	"github.com/latchkit/latch/pkg/handler/telemetry"
	"github.com/latchkit/latch/pkg/latchtest/emulator"
	"github.com/latchkit/latch/pkg/producer"
)

// countingSQS passes every call to the emulator and counts the batch
// requests; refuse, when set, makes SQS "refuse" the entries it names in
// the first request that carries them, as SQS does with throttled entries
// (the request is sent without them and they are reported Failed).
type countingSQS struct {
	*sqs.Client
	mu       sync.Mutex
	requests int
	refuse   map[string]bool // body → refuse its next send
}

func (c *countingSQS) SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	c.mu.Lock()
	c.requests++
	refuse := c.refuse[aws.ToString(in.MessageBody)]
	delete(c.refuse, aws.ToString(in.MessageBody))
	c.mu.Unlock()
	if refuse {
		return nil, &smithy.GenericAPIError{Code: "ThrottlingException", Message: "injected", Fault: smithy.FaultServer}
	}
	return c.Client.SendMessage(ctx, in, opts...)
}

func (c *countingSQS) SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	c.mu.Lock()
	c.requests++
	var pass []types.SendMessageBatchRequestEntry
	var refused []types.BatchResultErrorEntry
	stopped := map[string]bool{} // FIFO groups refused in this request
	for _, e := range in.Entries {
		g := aws.ToString(e.MessageGroupId)
		if c.refuse[aws.ToString(e.MessageBody)] || (g != "" && stopped[g]) {
			// A refused FIFO entry takes its group's later entries of the
			// request with it, as a throttled group does.
			delete(c.refuse, aws.ToString(e.MessageBody))
			if g != "" {
				stopped[g] = true
			}
			refused = append(refused, types.BatchResultErrorEntry{Id: e.Id, Code: aws.String("ThrottlingException"), Message: aws.String("injected"), SenderFault: false})
			continue
		}
		pass = append(pass, e)
	}
	c.mu.Unlock()
	out := &sqs.SendMessageBatchOutput{}
	if len(pass) > 0 {
		cp := *in
		cp.Entries = pass
		o, err := c.Client.SendMessageBatch(ctx, &cp, opts...)
		if err != nil {
			return nil, err
		}
		out = o
	}
	out.Failed = append(out.Failed, refused...)
	return out, nil
}

// drain receives until the queue has given n messages or the deadline
// passes; it deletes what it receives.
func drain(t *testing.T, env *emulator.Env, url string, n int, within time.Duration) []types.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	var got []types.Message
	for len(got) < n && ctx.Err() == nil {
		out, err := env.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
			MessageAttributeNames:       []string{"All"},
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		})
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			t.Fatalf("receive: %v", err)
		}
		for _, m := range out.Messages {
			got = append(got, m)
			if _, err := env.SQS.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatalf("delete: %v", err)
			}
		}
	}
	return got
}

func TestQueueBatchesBySizeOnTheEmulator(t *testing.T) {
	t.Parallel()
	env := emulator.New(t)
	q := env.Queue(t, emulator.QueueSpec{})
	ctx := context.Background()
	if _, err := env.SQS.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{
		QueueUrl: aws.String(q.URL), Attributes: map[string]string{"MaximumMessageSize": "1048576"},
	}); err != nil {
		t.Fatal(err)
	}
	var values []string
	for i := range 7 {
		values = append(values, fmt.Sprintf("%d-%s", i, strings.Repeat("x", 300_000)))
	}

	// Ten 300 KB messages cut by count alone are one request over 1 MiB:
	// the emulator refuses it as SQS does. This is what packing prevents.
	var entries []types.SendMessageBatchRequestEntry
	for i, v := range values {
		entries = append(entries, types.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), MessageBody: aws.String(v)})
	}
	if _, err := env.SQS.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(q.URL), Entries: entries}); err == nil || !strings.Contains(err.Error(), "BatchRequestTooLong") {
		t.Fatalf("unpacked batch: err = %v, want BatchRequestTooLong (else this test proves nothing)", err)
	}

	c := &countingSQS{Client: env.SQS}
	pq := producer.MustNewQueue(c, producer.QueueConfig[string]{URL: q.URL, Encode: raw})
	res, err := pq.SendBatch(ctx, values)
	if err != nil {
		t.Fatalf("SendBatch: %v", err)
	}
	if c.requests != 3 {
		t.Errorf("%d requests for seven 300 KB messages, want 3 (3+3+1)", c.requests)
	}
	got := drain(t, env, q.URL, len(values), 30*time.Second)
	if len(got) != len(values) {
		t.Fatalf("queue gave %d messages, want %d", len(got), len(values))
	}
	for i, r := range res {
		if r.MessageID == "" {
			t.Errorf("value %d: no message id", i)
		}
	}

	// Over the queue's limit: refused before the call, with the numbers.
	if _, err := env.SQS.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{
		QueueUrl: aws.String(q.URL), Attributes: map[string]string{"MaximumMessageSize": "1024"},
	}); err != nil {
		t.Fatal(err)
	}
	small := producer.MustNewQueue(c, producer.QueueConfig[string]{URL: q.URL, Encode: raw})
	before := c.requests
	_, err = small.Send(ctx, strings.Repeat("z", 1025))
	if !errors.Is(err, producer.ErrTooLarge) || !strings.Contains(err.Error(), "1024") {
		t.Errorf("1025-byte message to a 1024-byte queue: err = %v, want ErrTooLarge naming 1024", err)
	}
	if c.requests != before {
		t.Error("the too-large message was sent anyway")
	}
}

func TestQueueFIFORetriesAndDeduplicatesOnTheEmulator(t *testing.T) {
	t.Parallel()
	env := emulator.New(t)
	q := env.Queue(t, emulator.QueueSpec{FIFO: true})
	// Entries "customer/seq": three customers, eight orders each, in order.
	var values []string
	for seq := range 8 {
		for _, cust := range []string{"c1", "c2", "c3"} {
			values = append(values, fmt.Sprintf("%s/%d", cust, seq))
		}
	}
	c := &countingSQS{Client: env.SQS, refuse: map[string]bool{"c1/0": true, "c2/3": true}}
	w := &waits{}
	pq := producer.MustNewQueue(c, producer.QueueConfig[string]{URL: q.URL,
		Encode: raw, GroupID: group, IdempotencyKey: func(s string) string { return "order-" + s },
		Retry: producer.RetryConfig{Sleep: w.wait},
	})
	ctx := context.Background()
	res, err := pq.SendBatch(ctx, values)
	if err != nil {
		t.Fatalf("SendBatch: %v", err)
	}
	if res[0].Attempts != 2 {
		t.Errorf("refused entry c1/0: %d attempts, want 2", res[0].Attempts)
	}
	// The handler "runs again" after it sent: the same values, the same
	// deduplication ids. SQS drops every copy.
	if _, err := pq.SendBatch(ctx, values); err != nil {
		t.Fatalf("second SendBatch: %v", err)
	}
	got := drain(t, env, q.URL, len(values), 30*time.Second)
	if len(got) != len(values) {
		t.Fatalf("queue gave %d messages, want %d", len(got), len(values))
	}
	if extra := drain(t, env, q.URL, 1, 3*time.Second); len(extra) != 0 {
		t.Errorf("a copy got through SQS deduplication: %s", aws.ToString(extra[0].Body))
	}
	next := map[string]int{}
	for _, m := range got {
		body := aws.ToString(m.Body)
		cust, seqText, _ := strings.Cut(body, "/")
		var seq int
		fmt.Sscan(seqText, &seq)
		if seq != next[cust] {
			t.Errorf("customer %s: got order %d, want %d (group order broken)", cust, seq, next[cust])
		}
		next[cust] = seq + 1
		if g := m.Attributes["MessageGroupId"]; g != cust {
			t.Errorf("message %s in group %q, want %q", body, g, cust)
		}
	}
}

func TestQueueCorrelationReachesTheConsumer(t *testing.T) {
	t.Parallel()
	env := emulator.New(t)
	q := env.Queue(t, emulator.QueueSpec{})
	const trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
	ctx := handler.ContextWithInvocation(context.Background(), handler.Invocation{RequestID: "producer-req-1", TraceHeader: trace})
	pq := producer.MustNewQueue(env.SQS, producer.QueueConfig[map[string]string]{URL: q.URL})
	if _, err := pq.Send(ctx, map[string]string{"order": "o-1"}); err != nil {
		t.Fatal(err)
	}

	var logs bytes.Buffer
	tel, err := telemetry.New(telemetry.Config{
		Logger: logging.NewLogger(logging.Config{Writer: &logs}), Tracer: handler.NopTracer{},
	})
	if err != nil {
		t.Fatal(err)
	}
	var gotTrace string
	consumer := handler.MustNewSQS(func(_ context.Context, m handler.Message[map[string]string]) error {
		gotTrace = m.Raw.Attributes[producer.TraceHeaderAttribute]
		return nil
	}, handler.SQSConfig{Client: env.SQS, Observer: tel})
	cctx := handler.ContextWithInvocation(context.Background(), handler.Invocation{RequestID: "consumer-req"})
	b, err := esm.Poll(cctx, esm.Config{Client: env.SQS, QueueURL: q.URL, WaitTime: 5 * time.Second},
		func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
			return consumer(ctx, ev)
		})
	if err != nil || len(b.Event.Records) != 1 {
		t.Fatalf("poll: %v, %d records", err, len(b.Event.Records))
	}
	var line map[string]any
	if err := json.Unmarshal(bytes.TrimSpace(logs.Bytes()), &line); err != nil {
		t.Fatalf("outcome line %q: %v", logs.String(), err)
	}
	if got := line[logging.KeyCorrelationID]; got != "producer-req-1" {
		t.Errorf("consumer's outcome line has correlation_id %v, want the producer's request id (line: %s)", got, logs.String())
	}
	if gotTrace != trace {
		t.Errorf("consumer saw AWSTraceHeader %q, want %q", gotTrace, trace)
	}
}

// TestQueueInvalidTextOnTheEmulator is the acceptance run's finding: a
// body with a byte that is not UTF-8, beside two valid ones. Unchecked,
// the SDK sends U+FFFD in its place, the emulator stores that, the checksum
// check fails the whole call and every entry was retried: 15 messages. Now
// the bad entry is refused before any request, and two messages arrive.
func TestQueueInvalidTextOnTheEmulator(t *testing.T) {
	t.Parallel()
	env := emulator.New(t)
	q := env.Queue(t, emulator.QueueSpec{})
	ctx := context.Background()
	pq := producer.MustNewQueue(env.SQS, producer.QueueConfig[string]{URL: q.URL, Encode: raw})
	res, err := pq.SendBatch(ctx, []string{"ok 1", "bad \xff body", "ok 2"})
	if !errors.Is(err, producer.ErrNotSent) || !errors.Is(res[1].Err, producer.ErrInvalidText) || res[0].Err != nil || res[2].Err != nil {
		t.Fatalf("err %v, results %+v; want entry 1 refused, the others sent", err, res)
	}
	got := drain(t, env, q.URL, 2, 30*time.Second)
	if len(got) != 2 {
		t.Fatalf("queue gave %d messages, want 2", len(got))
	}
	env.AssertQueueEmpty(t, q.URL)
}
