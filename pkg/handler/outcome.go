package handler

import (
	"context"
	"time"

	"github.com/latchkit/latch/pkg/retry"
)

// Outcome is what happened to one record. The values are stable: they are
// log field values, metric names and trace annotations.
type Outcome string

const (
	// Succeeded: the record function ran and returned nil.
	Succeeded Outcome = "succeeded"
	// Duplicate: the idempotency record said the work was already done; the
	// record function did not run.
	Duplicate Outcome = "duplicate"
	// RetryScheduled: a retryable failure; the record comes back after
	// Report.RetryDelay.
	RetryScheduled Outcome = "retry_scheduled"
	// DeadLettered: a permanent failure, or the last attempt of a retryable
	// one; latch sent the record to the dead-letter queue with the reason.
	DeadLettered Outcome = "dead_lettered"
	// Failed: the record failed and latch could not schedule its retry or
	// dead-letter it; the event source's own redrive applies.
	Failed Outcome = "failed"
)

// Record identifies the record a handler is about to run.
type Record struct {
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
	// log it only when asked to (TelemetryConfig.LogBodies); empty when the
	// event source handler does not pass it on.
	Body string
}

// Report says how a record ended.
type Report struct {
	Record
	Outcome Outcome
	// Err is the failure, nil on Succeeded and Duplicate.
	Err error
	// Class is Err's class; meaningful only when Err is not nil.
	Class retry.Class
	// RetryDelay is when the record comes back, on RetryScheduled.
	RetryDelay time.Duration
	// KeyHash is the hashed idempotency key, empty without idempotency.
	KeyHash string
	// Duration is how long the record took, handler and bookkeeping.
	Duration time.Duration
}

// Observer is told about every record: logs, metrics and traces plug in
// here. RecordStarted returns the context the record runs in (a trace
// subsegment, say); RecordFinished gets that context back with the report.
// Implementations must be safe for concurrent use: records run in parallel.
type Observer interface {
	RecordStarted(ctx context.Context, r Record) context.Context
	RecordFinished(ctx context.Context, r Report)
}

// NopObserver observes nothing. It is the default.
type NopObserver struct{}

// RecordStarted returns ctx unchanged.
func (NopObserver) RecordStarted(ctx context.Context, _ Record) context.Context { return ctx }

// RecordFinished does nothing.
func (NopObserver) RecordFinished(context.Context, Report) {}

var _ Observer = NopObserver{}
