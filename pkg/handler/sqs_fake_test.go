package handler_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/latchkit/latch/pkg/handler"
)

// fakeSQS is an in-memory stand-in for the four SQS calls the processor
// makes, for unit tests that must run with nothing else running. It records
// every call; the integration tests run the same paths against moto.
type fakeSQS struct {
	mu     sync.Mutex
	queues map[string]map[string]string // queue name → attributes
	calls  map[string]int
	// visibility holds every visibility change asked for, per call.
	visibility [][]types.ChangeMessageVisibilityBatchRequestEntry
	sent       []*sqs.SendMessageInput
	// failures to inject
	sendErr       error
	visibilityErr error
	visibilityBad map[string]bool // receipt handles whose change fails
	lookupErr     error
}

var _ handler.SQSClient = (*fakeSQS)(nil)

const (
	testRegion  = "us-east-1"
	testAccount = "123456789012"
)

func testARN(name string) string { return "arn:aws:sqs:" + testRegion + ":" + testAccount + ":" + name }
func testURL(name string) string {
	return "https://sqs." + testRegion + ".amazonaws.com/" + testAccount + "/" + name
}

// newFakeSQS returns a fake with one queue, "orders", whose RedrivePolicy
// names "orders-dlq" with maxReceiveCount 5: the processor looks up a
// queue's policy on its first invocation, so a test's queue must exist.
func newFakeSQS() *fakeSQS {
	f := &fakeSQS{queues: map[string]map[string]string{}, calls: map[string]int{}, visibilityBad: map[string]bool{}}
	f.addQueue("orders", 5)
	return f
}

// addQueue adds a source queue with a DLQ and the given maxReceiveCount
// (0: no RedrivePolicy, no DLQ).
func (f *fakeSQS) addQueue(name string, maxReceiveCount int) {
	f.queues[name] = map[string]string{}
	if maxReceiveCount > 0 {
		dlq := strings.TrimSuffix(name, ".fifo") + "-dlq"
		if strings.HasSuffix(name, ".fifo") {
			dlq += ".fifo"
		}
		f.queues[dlq] = map[string]string{}
		f.queues[name]["RedrivePolicy"] = fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":%d}`, testARN(dlq), maxReceiveCount)
	}
}

func (f *fakeSQS) count(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

func (f *fakeSQS) GetQueueUrl(_ context.Context, in *sqs.GetQueueUrlInput, _ ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["GetQueueUrl"]++
	if f.lookupErr != nil {
		return nil, f.lookupErr
	}
	name := aws.ToString(in.QueueName)
	if _, ok := f.queues[name]; !ok || aws.ToString(in.QueueOwnerAWSAccountId) != testAccount {
		return nil, &types.QueueDoesNotExist{Message: aws.String(name)}
	}
	return &sqs.GetQueueUrlOutput{QueueUrl: aws.String(testURL(name))}, nil
}

func (f *fakeSQS) GetQueueAttributes(_ context.Context, in *sqs.GetQueueAttributesInput, _ ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["GetQueueAttributes"]++
	name := aws.ToString(in.QueueUrl)[strings.LastIndex(aws.ToString(in.QueueUrl), "/")+1:]
	attrs, ok := f.queues[name]
	if !ok {
		return nil, &types.QueueDoesNotExist{}
	}
	return &sqs.GetQueueAttributesOutput{Attributes: attrs}, nil
}

func (f *fakeSQS) ChangeMessageVisibilityBatch(_ context.Context, in *sqs.ChangeMessageVisibilityBatchInput, _ ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["ChangeMessageVisibilityBatch"]++
	if len(in.Entries) > 10 {
		return nil, errors.New("TooManyEntriesInBatchRequest")
	}
	f.visibility = append(f.visibility, in.Entries)
	if f.visibilityErr != nil {
		return nil, f.visibilityErr
	}
	out := &sqs.ChangeMessageVisibilityBatchOutput{}
	for _, e := range in.Entries {
		if f.visibilityBad[aws.ToString(e.ReceiptHandle)] {
			out.Failed = append(out.Failed, types.BatchResultErrorEntry{Id: e.Id, Code: aws.String("ReceiptHandleIsInvalid"), Message: aws.String("stale"), SenderFault: true})
			continue
		}
		out.Successful = append(out.Successful, types.ChangeMessageVisibilityBatchResultEntry{Id: e.Id})
	}
	return out, nil
}

func (f *fakeSQS) SendMessage(_ context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["SendMessage"]++
	if f.sendErr != nil {
		return nil, f.sendErr
	}
	if len(in.MessageAttributes) > 10 {
		return nil, errors.New("too many message attributes")
	}
	if strings.HasSuffix(aws.ToString(in.QueueUrl), ".fifo") != (in.MessageGroupId != nil) {
		return nil, errors.New("MessageGroupId is required for FIFO queues and only for them")
	}
	f.sent = append(f.sent, in)
	return &sqs.SendMessageOutput{MessageId: aws.String(fmt.Sprintf("dlq-%d", len(f.sent)))}, nil
}

// visibilityOf returns the visibility timeout asked for the receipt handle,
// and whether one was.
func (f *fakeSQS) visibilityOf(receipt string) (int32, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, call := range f.visibility {
		for _, e := range call {
			if aws.ToString(e.ReceiptHandle) == receipt {
				return e.VisibilityTimeout, true
			}
		}
	}
	return 0, false
}

// msg is a test record: id, body, receive count, FIFO group.
type msg struct {
	id, body string
	attempt  int
	group    string
	attrs    map[string]events.SQSMessageAttribute
}

func sqsEvent(queue string, msgs ...msg) events.SQSEvent {
	var ev events.SQSEvent
	for _, m := range msgs {
		attempt := m.attempt
		if attempt == 0 {
			attempt = 1
		}
		rec := events.SQSMessage{
			MessageId:         m.id,
			ReceiptHandle:     "rh-" + m.id,
			Body:              m.body,
			Attributes:        map[string]string{"ApproximateReceiveCount": fmt.Sprint(attempt), "SentTimestamp": "1767225600000"},
			MessageAttributes: m.attrs,
			EventSourceARN:    testARN(queue),
			EventSource:       "aws:sqs",
			AWSRegion:         testRegion,
		}
		if m.group != "" {
			rec.Attributes["MessageGroupId"] = m.group
			rec.Attributes["MessageDeduplicationId"] = "dedup-" + m.id
		}
		ev.Records = append(ev.Records, rec)
	}
	return ev
}

// recorder is an Observer that keeps every report, in finishing order.
type recorder struct {
	mu      sync.Mutex
	started []handler.Delivery
	reports map[string]handler.Report
}

type recorderKey struct{}

func (o *recorder) RecordStarted(ctx context.Context, r handler.Delivery) context.Context {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.started = append(o.started, r)
	return context.WithValue(ctx, recorderKey{}, r.ID)
}

func (o *recorder) RecordFinished(ctx context.Context, r handler.Report) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if got := ctx.Value(recorderKey{}); got != r.ID {
		panic(fmt.Sprintf("RecordFinished for %s got the context of %v", r.ID, got))
	}
	if o.reports == nil {
		o.reports = map[string]handler.Report{}
	}
	if _, dup := o.reports[r.ID]; dup {
		panic("RecordFinished twice for " + r.ID)
	}
	o.reports[r.ID] = r
}

func (o *recorder) outcomes() map[string]handler.Outcome {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := map[string]handler.Outcome{}
	for id, r := range o.reports {
		out[id] = r.Outcome
	}
	return out
}

func (o *recorder) report(id string) handler.Report {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.reports[id]
}
