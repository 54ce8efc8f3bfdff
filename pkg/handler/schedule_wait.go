package handler

import (
	"context"
	"errors"
	"time"

	"github.com/latchkit/latch/pkg/idempotency"
)

// How a delivery of a tick waits for another delivery that is running it.
const (
	// tickWaitMargin is left of the invocation's time when the wait gives
	// up: enough to report, log and return the retryable error before
	// Lambda's timeout would end the invocation with a worse one.
	tickWaitMargin = 2 * time.Second
	// tickPollFirst and tickPollMax bound the pause between tries: the
	// first comes soon (a short job is done in seconds), later ones less
	// often, since each try is a conditional write to the store.
	tickPollFirst = time.Second
	tickPollMax   = 15 * time.Second
	// tickLockSlack is added to a holder's lock expiry before trying again:
	// the store counts a lock live up to and including its expiry.
	tickLockSlack = 100 * time.Millisecond
)

// tickWaiter runs a tick under idempotency, waiting out a concurrent
// delivery of the same tick instead of failing at once.
//
// Schedule rules and Scheduler deliver at least once, and two deliveries of
// a tick can run at the same time. The loser of the claim used to fail with
// idempotency's in-progress error: a function error that raised the
// Errors metric and its alarm and spent one of Lambda's async retries,
// although the tick ran once. Waiting avoids the false alarm without losing
// the tick if the winner fails: the loser tries the claim again until
//
//   - the record is COMPLETED: a duplicate, the invocation succeeds;
//   - the record is released (the winner failed) or its lock expired (the
//     winner died): the loser takes the tick and runs it itself;
//   - its own time runs out (its deadline less tickWaitMargin; without a
//     deadline, the holder's lock expiry plus one try): the in-progress
//     error is returned, retryable, and Lambda's retry finds the tick done
//     or takes it.
type tickWaiter struct {
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
}

// do calls try, a claim of the tick and its run (idempotency.Do or
// Transact), until it answers anything but an in-progress error, or until
// the wait is over.
func (w tickWaiter) do(ctx context.Context, try func() (replayed bool, keyHash string, err error)) (bool, string, error) {
	interval := tickPollFirst
	var stop time.Time // set at the first conflict
	for {
		replayed, keyHash, err := try()
		var held *idempotency.InProgressError
		if !errors.As(err, &held) {
			return replayed, keyHash, err
		}
		now := w.now()
		if stop.IsZero() {
			stop = held.LockExpiry.Add(tickLockSlack + tickPollFirst)
			if deadline, ok := ctx.Deadline(); ok {
				stop = deadline.Add(-tickWaitMargin)
			}
		}
		if !now.Before(stop) {
			return replayed, keyHash, err
		}
		d := min(interval, stop.Sub(now))
		if untilExpiry := held.LockExpiry.Add(tickLockSlack).Sub(now); untilExpiry > 0 {
			d = min(d, untilExpiry)
		}
		if w.sleep(ctx, d) != nil {
			return replayed, keyHash, err
		}
		interval = min(2*interval, tickPollMax)
	}
}
