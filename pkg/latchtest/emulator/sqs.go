package emulator

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/latchkit/latch/pkg/handler"
)

// QueueSpec describes a test queue and its dead-letter queue.
type QueueSpec struct {
	FIFO bool
	// MaxReceiveCount is the RedrivePolicy's; default 3.
	MaxReceiveCount int
	// VisibilityTimeout is the source queue's; default 30s.
	VisibilityTimeout time.Duration
	// ContentBasedDeduplication for FIFO queues; default off.
	ContentBasedDeduplication bool
}

// QueueRef names a created queue.
type QueueRef struct {
	Name string
	URL  string
	ARN  string
}

// Queue is a source queue with its dead-letter queue.
type Queue struct {
	QueueRef
	DLQ             QueueRef
	MaxReceiveCount int
}

// Queue creates a uniquely named queue whose RedrivePolicy points at a
// uniquely named DLQ of the same kind; both are deleted at cleanup.
func (e *Env) Queue(t testing.TB, spec QueueSpec) Queue {
	t.Helper()
	if spec.MaxReceiveCount == 0 {
		spec.MaxReceiveCount = 3
	}
	if spec.VisibilityTimeout == 0 {
		spec.VisibilityTimeout = 30 * time.Second
	}
	base := UniqueName(t, "q")
	dlq := e.createQueue(t, base+"-dlq", spec.FIFO, map[string]string{
		string(types.QueueAttributeNameMessageRetentionPeriod): strconv.Itoa(14 * 24 * 3600),
	}, spec.ContentBasedDeduplication)
	policy, _ := json.Marshal(map[string]any{"deadLetterTargetArn": dlq.ARN, "maxReceiveCount": spec.MaxReceiveCount})
	src := e.createQueue(t, base, spec.FIFO, map[string]string{
		string(types.QueueAttributeNameVisibilityTimeout): strconv.Itoa(int(spec.VisibilityTimeout / time.Second)),
		string(types.QueueAttributeNameRedrivePolicy):     string(policy),
	}, spec.ContentBasedDeduplication)
	return Queue{QueueRef: src, DLQ: dlq, MaxReceiveCount: spec.MaxReceiveCount}
}

func (e *Env) createQueue(t testing.TB, name string, fifo bool, attrs map[string]string, contentDedup bool) QueueRef {
	t.Helper()
	if fifo {
		name += ".fifo"
		attrs[string(types.QueueAttributeNameFifoQueue)] = "true"
		if contentDedup {
			attrs[string(types.QueueAttributeNameContentBasedDeduplication)] = "true"
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	out, err := e.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		t.Fatalf("emulator: create queue %s: %v", name, err)
	}
	url := aws.ToString(out.QueueUrl)
	t.Cleanup(func() {
		ctx, cancel := cleanupCtx()
		defer cancel()
		if _, err := e.SQS.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(url)}); err != nil {
			t.Logf("emulator: delete queue %s: %v", name, err)
		}
	})
	got, err := e.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(url),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn},
	})
	if err != nil {
		t.Fatalf("emulator: queue ARN of %s: %v", name, err)
	}
	return QueueRef{Name: name, URL: url, ARN: got.Attributes[string(types.QueueAttributeNameQueueArn)]}
}

// AssertQueueEmpty fails the test unless the queue holds nothing, visible
// or in flight: every message was deleted, none waits for a retry.
func (e *Env) AssertQueueEmpty(t testing.TB, url string) {
	t.Helper()
	if visible, inFlight := e.Depth(t, url); visible != 0 || inFlight != 0 {
		t.Errorf("queue %s holds %d visible and %d in-flight message(s), want none", url, visible, inFlight)
	}
}

// Send sends body to the queue and returns the message id. On a FIFO queue
// the message goes to group "group-1" with its id as deduplication id
// unless the queue deduplicates by content; use e.SQS for anything else.
func (e *Env) Send(t testing.TB, url, body string) string {
	t.Helper()
	in := &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(body)}
	if strings.HasSuffix(url, ".fifo") {
		in.MessageGroupId = aws.String("group-1")
		in.MessageDeduplicationId = aws.String(UniqueName(t, "dedup"))
	}
	out, err := e.SQS.SendMessage(context.Background(), in)
	if err != nil {
		t.Fatalf("emulator: send to %s: %v", url, err)
	}
	return aws.ToString(out.MessageId)
}

// DeadLetter is a message found in a dead-letter queue, with latch's
// reason attributes read out (empty when the queue's own redrive moved it
// there, which sets none).
type DeadLetter struct {
	MessageID string
	Body      string
	// Error, Class and SourceMessageID are handler.DLQAttrError,
	// DLQAttrErrorClass and DLQAttrSourceMessageID: the reason, and the id
	// the record had in its source queue (the one outcome logs name).
	Error, Class, SourceMessageID string
	// Attributes are all of the message's attributes.
	Attributes map[string]types.MessageAttributeValue
}

// AssertDeadLettered polls the dead-letter queue at url until it holds a
// message with this body (any when empty) whose latch.error reason
// contains reason, and returns it; the test fails after ten seconds
// without one. Every message it looks at is made visible again at once, so
// the queue is left as it was found.
func (e *Env) AssertDeadLettered(t testing.TB, url, body, reason string) DeadLetter {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(10 * time.Second)
	var seen []string
	for time.Now().Before(deadline) {
		out, err := e.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:              aws.String(url),
			MaxNumberOfMessages:   10,
			WaitTimeSeconds:       1,
			MessageAttributeNames: []string{"All"},
		})
		if err != nil {
			t.Fatalf("emulator: receive from %s: %v", url, err)
		}
		var found *DeadLetter
		for _, m := range out.Messages {
			d := DeadLetter{MessageID: aws.ToString(m.MessageId), Body: aws.ToString(m.Body), Attributes: m.MessageAttributes}
			d.Error = aws.ToString(m.MessageAttributes[handler.DLQAttrError].StringValue)
			d.Class = aws.ToString(m.MessageAttributes[handler.DLQAttrErrorClass].StringValue)
			d.SourceMessageID = aws.ToString(m.MessageAttributes[handler.DLQAttrSourceMessageID].StringValue)
			if found == nil && (body == "" || d.Body == body) && strings.Contains(d.Error, reason) {
				found = &d
			} else {
				seen = append(seen, d.Body+" ("+d.Error+")")
			}
			if _, err := e.SQS.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
				QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0,
			}); err != nil {
				t.Fatalf("emulator: hand back a message of %s: %v", url, err)
			}
		}
		if found != nil {
			return *found
		}
	}
	t.Fatalf("emulator: no message with body %q and a reason containing %q in %s within 10s; seen: %q", body, reason, url, seen)
	return DeadLetter{}
}
