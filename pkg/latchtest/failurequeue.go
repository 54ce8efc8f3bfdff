package latchtest

import (
	"testing"

	"github.com/latchkit/latch/pkg/handler"
)

// FailureQueueName is the queue FailureQueue sends to.
const FailureQueueName = "failures"

// FailureQueue is a fake failure queue for the asynchronous handlers
// (handler.NewSchedule, handler.NewEventBridge): an SQS fake with one queue.
type FailureQueue struct {
	// SQS is the fake behind it: Fail(OpSendMessage, err) makes sends fail.
	SQS *SQS
}

// NewFailureQueue returns an empty fake failure queue.
func NewFailureQueue() *FailureQueue {
	f := NewSQS()
	f.AddQueue(FailureQueueName, 0)
	return &FailureQueue{SQS: f}
}

// Config returns the handler.FailureQueue to put in a handler's config.
func (q *FailureQueue) Config() handler.FailureQueue {
	return handler.FailureQueue{URL: QueueURL(FailureQueueName), Client: q.SQS}
}

// Messages returns what the handler sent, in order.
func (q *FailureQueue) Messages() []Sent { return q.SQS.Sent(QueueURL(FailureQueueName)) }

// AssertHolds fails the test unless the queue received a message with this
// body (any when empty) whose reason contains reason, and returns it.
func (q *FailureQueue) AssertHolds(t testing.TB, body, reason string) Sent {
	t.Helper()
	msgs := q.Messages()
	if s, ok := findSent(msgs, body, reason); ok {
		return s
	}
	t.Fatalf("latchtest: no failure-queue message with body %q and a reason containing %q; it holds: %s", body, reason, describe(msgs))
	return Sent{}
}

// AssertEmpty fails the test if the handler sent anything to the queue.
func (q *FailureQueue) AssertEmpty(t testing.TB) {
	t.Helper()
	if msgs := q.Messages(); len(msgs) > 0 {
		t.Fatalf("latchtest: failure queue holds %d message(s): %s", len(msgs), describe(msgs))
	}
}
