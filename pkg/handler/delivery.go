package handler

import (
	"context"
	"time"
)

// Delivery identifies the record a handler is about to run.
type Delivery struct {
	// Source is the event source: "aws:sqs", "aws.events", "aws.scheduler".
	Source string
	// ID is the message id (SQS) or event id (EventBridge).
	ID string
	// Attempt is 1 on first delivery (SQS ApproximateReceiveCount).
	Attempt int
	// CorrelationID ties the record to the request that caused it, when the
	// event carries one.
	CorrelationID string
	// Body is the record's payload (SQS body, EventBridge detail). Observers
	// log it only when asked to (telemetry.Config.LogBodies); empty when the
	// event source handler does not pass it on.
	Body string
	// Shard, SequenceNumber and IteratorAge place a stream record (Kinesis,
	// DynamoDB Streams) in its stream; all zero for other sources. Shard is
	// the Kinesis shard id, taken from the record's event id; DynamoDB
	// Streams records do not name their shard, and leave it empty.
	Shard          string
	SequenceNumber string
	// IteratorAge is how long the record had been in the stream when it
	// started to run (now less its approximate arrival or creation time):
	// per record, what Lambda's IteratorAge metric reports for the last
	// record of a batch. Zero when the record carries no time.
	IteratorAge time.Duration
}

type deliveryKey struct{}

// DeliveryFromContext returns the record being processed, as its trigger
// described it (message id, attempt, correlation id). The SQS, EventBridge
// and Schedule triggers put it in the context each record runs in, before
// the Observer sees it; a logger from package logging adds its id and
// correlation id to every line logged with that context.
func DeliveryFromContext(ctx context.Context) (Delivery, bool) {
	d, ok := ctx.Value(deliveryKey{}).(Delivery)
	return d, ok
}

// ContextWithDelivery returns a copy of ctx that carries d, as the
// triggers do for each record; tests and other event sources use it to act
// as one.
func ContextWithDelivery(ctx context.Context, d Delivery) context.Context {
	return context.WithValue(ctx, deliveryKey{}, d)
}
