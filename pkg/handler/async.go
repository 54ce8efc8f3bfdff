package handler

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
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
// replay, and fills the report's idempotency key (Key, KeyHash) when there
// is one.
type work func(ctx context.Context, rep *Report) (replayed bool, err error)

// run runs w as the record rec and decides what the invocation answers
// (see asyncRunner). payload is what goes to the failure queue; it is
// made only when one is sent.
func (a asyncRunner) run(ctx context.Context, rec Delivery, payload func() []byte, w work) error {
	ctx = a.observer.RecordStarted(ContextWithDelivery(ctx, rec), rec)
	start := a.now()
	rep := Report{Delivery: rec}
	var replayed bool
	err := recoverPanic(ctx, a.log, rec.ID, func() (err error) {
		replayed, err = w(ctx, &rep)
		return err
	})
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
			if serr := a.failure.send(ctx, rec, payload(), err, rep.Class, a.now()); serr != nil {
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

// hashID returns the hex SHA-256 of s.
func hashID(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
