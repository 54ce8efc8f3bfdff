package emulator

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/latchkit/latch/internal/esm"
	"github.com/latchkit/latch/pkg/handler"
)

// SQSHandler is what the mapping invokes: the handler handler.NewSQS returns,
// or a chain around it.
type SQSHandler = handler.Func[events.SQSEvent, events.SQSEventResponse]

// Mapping configures how Poll, Drain and Run feed a queue to a handler, as
// a Lambda event source mapping with ReportBatchItemFailures on does:
// receive a batch, invoke, delete what was not reported failed. The zero
// value is Lambda's defaults, except for the wait (see WaitTime).
type Mapping struct {
	// BatchSize is the most records per invocation. Zero means 10.
	BatchSize int
	// MaxBatchingWindow is how long to keep receiving to fill a batch. Zero
	// means invoke with what the first receive returns.
	MaxBatchingWindow time.Duration
	// WaitTime is each receive's long-poll wait. Zero means one second,
	// not Lambda's twenty, so that a test's last empty poll ends soon.
	WaitTime time.Duration
	// FunctionTimeout is each invocation's deadline, as the function's
	// timeout is on Lambda. Zero means 10 seconds; negative means none.
	// An idempotency lock dies at this deadline, so a duplicate that met
	// a live lock (idempotency.ErrInProgress) comes back this soon, not
	// after the guard's LockWithoutDeadline.
	FunctionTimeout time.Duration
}

func (m Mapping) config(e *Env, q QueueRef) esm.Config {
	wait := m.WaitTime
	if wait == 0 {
		wait = time.Second
	}
	timeout := m.FunctionTimeout
	switch {
	case timeout == 0:
		timeout = 10 * time.Second
	case timeout < 0:
		timeout = 0
	}
	return esm.Config{
		Client:            e.SQS,
		QueueURL:          q.URL,
		QueueARN:          q.ARN,
		BatchSize:         m.BatchSize,
		MaxBatchingWindow: m.MaxBatchingWindow,
		WaitTime:          wait,
		FunctionTimeout:   timeout,
	}
}

// Batch is what one Poll did.
type Batch struct {
	// Event is what was invoked; no records when nothing arrived.
	Event events.SQSEvent
	// Response is the handler's answer.
	Response events.SQSEventResponse
	// InvokeErr is the handler's error or recovered panic: the whole batch
	// stayed in the queue, as on Lambda.
	InvokeErr error
	// Deleted and Kept are the message ids deleted after the invocation,
	// and those left in the queue for a retry.
	Deleted, Kept []string
}

// Poll receives one batch from q (waiting up to the mapping's WaitTime),
// invokes h with it and deletes the records h did not report. An SQS error
// fails the test; the handler's own is Batch.InvokeErr.
func (e *Env) Poll(t testing.TB, q QueueRef, h SQSHandler, m Mapping) Batch {
	t.Helper()
	b, err := esm.Poll(context.Background(), m.config(e, q), esm.Invoke(h))
	if err != nil {
		t.Fatalf("emulator: poll %s: %v", q.Name, err)
	}
	return Batch{Event: b.Event, Response: b.Response, InvokeErr: b.InvokeErr, Deleted: b.Deleted, Kept: b.Kept}
}

// Drain polls q into h until the queue holds nothing, visible or in flight,
// and returns every batch that had records. A record whose retry was
// scheduled keeps the queue non-empty until it comes back and settles, so
// keep retry backoffs short in tests (a retry.Backoff of a second or less).
// It fails the test if the queue is not empty within a minute.
func (e *Env) Drain(t testing.TB, q Queue, h SQSHandler, m Mapping) []Batch {
	t.Helper()
	return e.DrainWithin(t, q, h, m, time.Minute)
}

// DrainWithin is Drain with a deadline of its own.
func (e *Env) DrainWithin(t testing.TB, q Queue, h SQSHandler, m Mapping, limit time.Duration) []Batch {
	t.Helper()
	var batches []Batch
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		b := e.Poll(t, q.QueueRef, h, m)
		if len(b.Event.Records) > 0 {
			batches = append(batches, b)
			continue
		}
		if visible, inFlight := e.Depth(t, q.URL); visible+inFlight == 0 {
			return batches
		}
	}
	visible, inFlight := e.Depth(t, q.URL)
	t.Fatalf("emulator: queue %s not drained within %s: %d visible, %d in flight (a retry backoff longer than the deadline?)", q.Name, limit, visible, inFlight)
	return nil
}

// Run polls q into h in the background until the test ends, as a deployed
// mapping does, for tests that send while the handler runs.
func (e *Env) Run(t testing.TB, q QueueRef, h SQSHandler, m Mapping) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	cfg := m.config(e, q)
	go func() {
		defer close(done)
		_ = esm.Run(ctx, cfg, esm.Invoke(h)) // nil at cancel; Config is valid
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

// Depth returns the queue's visible and in-flight message counts (SQS's
// approximate numbers), to wait for a queue to drain with Eventually.
func (e *Env) Depth(t testing.TB, url string) (visible, inFlight int) {
	t.Helper()
	out, err := e.SQS.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url),
		AttributeNames: []types.QueueAttributeName{
			types.QueueAttributeNameApproximateNumberOfMessages,
			types.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
		},
	})
	if err != nil {
		t.Fatalf("emulator: attributes of %s: %v", url, err)
	}
	count := func(name types.QueueAttributeName) int {
		n, err := strconv.Atoi(out.Attributes[string(name)])
		if err != nil {
			t.Fatalf("emulator: %s of %s: %v", name, url, err)
		}
		return n
	}
	return count(types.QueueAttributeNameApproximateNumberOfMessages), count(types.QueueAttributeNameApproximateNumberOfMessagesNotVisible)
}
