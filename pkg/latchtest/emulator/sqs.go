//go:build integration

package awstest

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
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
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	out, err := e.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		t.Fatalf("awstest: create queue %s: %v", name, err)
	}
	url := aws.ToString(out.QueueUrl)
	t.Cleanup(func() {
		ctx, cancel := cleanupCtx()
		defer cancel()
		if _, err := e.SQS.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(url)}); err != nil {
			t.Logf("awstest: delete queue %s: %v", name, err)
		}
	})
	got, err := e.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(url),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn},
	})
	if err != nil {
		t.Fatalf("awstest: queue ARN of %s: %v", name, err)
	}
	return QueueRef{Name: name, URL: url, ARN: got.Attributes[string(types.QueueAttributeNameQueueArn)]}
}

// AssertQueueEmpty fails the test unless the queue holds nothing, visible
// or in flight: every message was deleted, none waits for a retry.
func (e *Env) AssertQueueEmpty(t testing.TB, url string) {
	t.Helper()
	out, err := e.SQS.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url),
		AttributeNames: []types.QueueAttributeName{
			types.QueueAttributeNameApproximateNumberOfMessages,
			types.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
		},
	})
	if err != nil {
		t.Fatalf("awstest: attributes of %s: %v", url, err)
	}
	for k, v := range out.Attributes {
		if v != "0" {
			t.Errorf("queue %s: %s = %s, want 0", url, k, v)
		}
	}
}
