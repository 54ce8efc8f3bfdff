package handler

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/latchkit/latch/pkg/retry"
)

// asyncRunner runs the one record of an asynchronous invocation (an
// EventBridge rule target, a schedule) and decides what the invocation
// answers Lambda:
//
//   - success or duplicate: nil;
//   - permanent failure with a failure queue: the event goes to the queue
//     with the reason and the invocation succeeds, so Lambda spends no
//     retry on it (DeadLettered);
//   - any other failure (retryable, no failure queue, or the send failed):
//     the error is returned and Lambda's async retries and on-failure
//     destination apply (Failed).
//
// Retryable failures are Failed rather than RetryScheduled because latch
// does not schedule the retry: Lambda does, if attempts are left.
type asyncRunner struct {
	observer Observer
	failure  FailureQueue
	log      *slog.Logger
	now      func() time.Time
}

// asyncConfigError is what every invocation of an asynchronous handler
// returns when the handler cannot run at all: its function is nil (what names
// the kind, "event" or "tick") or its failure queue is unusable. It matches
// ErrConfig and names config ("ScheduleConfig"); nil when the handler is
// fine.
func asyncConfigError(config string, fnNil bool, what string, fq FailureQueue) error {
	switch err := fq.validate(); {
	case fnNil:
		return configError("the %s function is nil", what)
	case err != nil:
		return configError("%s.%v", config, err)
	}
	return nil
}

func newAsyncRunner(obs Observer, fq FailureQueue, log *slog.Logger, now func() time.Time) asyncRunner {
	if obs == nil {
		obs = NopObserver{}
	}
	log = loggerOf(log, obs)
	if now == nil {
		now = time.Now
	}
	return asyncRunner{observer: obs, failure: fq, log: log, now: now}
}

// work is the record's processing: it says whether the result was a
// replay, and the hashed idempotency key when there is one.
type work func(ctx context.Context) (replayed bool, keyHash string, err error)

func (a asyncRunner) run(ctx context.Context, rec Delivery, payload []byte, w work) error {
	ctx = a.observer.RecordStarted(ContextWithDelivery(ctx, rec), rec)
	start := a.now()
	replayed, keyHash, err := a.protect(ctx, rec, w)
	rep := Report{Delivery: rec, KeyHash: keyHash}
	var ret error
	switch {
	case err == nil && replayed:
		rep.Outcome = Duplicate
	case err == nil:
		rep.Outcome = Succeeded
	default:
		rep.Err, rep.Class = err, retry.Classify(err)
		rep.Outcome, ret = Failed, err
		if rep.Class == retry.ClassPermanent && a.failure.URL != "" {
			if serr := a.failure.send(ctx, rec, payload, err, rep.Class, a.now()); serr != nil {
				// Nothing is dropped: the invocation fails, Lambda retries it
				// and the send with it.
				ret = fmt.Errorf("%w (and sending the event to the failure queue failed: %w)", err, serr)
				rep.Err = ret
			} else {
				rep.Outcome, ret = DeadLettered, nil
			}
		}
	}
	rep.Duration = a.now().Sub(start)
	a.observer.RecordFinished(ctx, rep)
	return ret
}

// protect runs w, turning a panic into a retryable *PanicError logged with
// its stack: the invocation fails like any retryable failure instead of
// taking the execution environment down with it.
func (a asyncRunner) protect(ctx context.Context, rec Delivery, w work) (replayed bool, keyHash string, err error) {
	defer func() {
		if v := recover(); v != nil {
			pe := &PanicError{Value: v, Stack: debug.Stack()}
			a.log.ErrorContext(ctx, "handler: event function panicked",
				slog.String("message_id", rec.ID),
				slog.String("panic", fmt.Sprint(v)),
				slog.String("stack", string(pe.Stack)))
			err = pe
		}
	}()
	return w(ctx)
}

// hashID returns the hex SHA-256 of s.
func hashID(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
