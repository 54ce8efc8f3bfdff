package handler

import (
	"context"
	"log/slog"
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
	// Blocked: the record did not run, because an earlier record of its
	// FIFO message group failed in the same batch (Err is
	// ErrGroupBlocked, naming that record; Class is retry.ClassNone). It
	// comes back, in order, after the record that blocked it. It is not a
	// failure of its own: alarm on RetryScheduled, DeadLettered and Failed.
	Blocked Outcome = "blocked"
)

// Report says how a record ended.
type Report struct {
	Delivery
	Outcome Outcome
	// Err is the failure, nil on Succeeded and Duplicate.
	Err error
	// Class is Err's class: retry.ClassNone (the zero value) when Err is
	// nil, and on Blocked, where the record did not fail itself.
	Class retry.Class
	// RetryDelay is when the record comes back, on RetryScheduled; zero
	// otherwise (a Blocked record comes back after its blocker).
	RetryDelay time.Duration
	// KeyHash is the hashed idempotency key, empty without idempotency.
	KeyHash string
	// Key is the idempotency key's display form (idempotency.Key.Display,
	// e.g. from KeyFunc.WithDisplay): what a person searches the logs for.
	// Empty unless the key function chose one; the table never stores it.
	KeyDisplay string
	// Duration is how long the record took, handler and bookkeeping.
	Duration time.Duration
}

// LoggerObserver is an Observer that lends its logger to the triggers, for
// the lines only they can write (a recovered panic with its stack, a failed
// dead-letter send) when their config names no Logger: those lines then
// reach the same JSON log as the outcome lines. *telemetry.Telemetry is
// one. It is declared so that a reader of Observer finds the optional
// method here, rather than in a type assertion.
type LoggerObserver interface {
	Observer
	Logger() *slog.Logger
}

// Observer is told about every record: logs, metrics and traces plug in
// here (package telemetry has the full implementation). RecordStarted
// returns the context the record runs in (a trace span, say);
// RecordFinished gets that context back with the report. Implementations
// must be safe for concurrent use: records run in parallel.
//
// An Observer that also has a Logger method (a LoggerObserver) lends
// that logger to the triggers.
type Observer interface {
	RecordStarted(ctx context.Context, r Delivery) context.Context
	RecordFinished(ctx context.Context, r Report)
}

// NopObserver observes nothing. It is the default.
type NopObserver struct{}

// RecordStarted returns ctx unchanged.
func (NopObserver) RecordStarted(ctx context.Context, _ Delivery) context.Context { return ctx }

// RecordFinished does nothing.
func (NopObserver) RecordFinished(context.Context, Report) {}

var _ Observer = NopObserver{}

// loggerOf is the logger a trigger writes its own lines with: the one its
// config names, else the observer's, else slog.Default().
func loggerOf(configured *slog.Logger, obs Observer) *slog.Logger {
	if configured != nil {
		return configured
	}
	if l, ok := obs.(LoggerObserver); ok {
		if lg := l.Logger(); lg != nil {
			return lg
		}
	}
	return slog.Default()
}
