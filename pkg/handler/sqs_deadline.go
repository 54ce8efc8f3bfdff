package handler

import (
	"context"
	"time"

	"github.com/latchkit/latch/pkg/retry"
)

// sqsBookkeepingTimeout bounds each bookkeeping call (a dead-letter send
// with its claim, a visibility change) on its own context. Inside Lambda
// the margin is what gives them time; this bound is for a context without
// a deadline, and for a call that hangs: the guard's cleanup uses the
// same 5 s.
const sqsBookkeepingTimeout = 5 * time.Second

// recordBudget returns the context records run in and the time after which
// no record starts: the invocation's deadline less the margin (at most half
// the time left now). Without a deadline records run on ctx, with no stop.
func (p *sqsProcessor[T]) recordBudget(ctx context.Context) (context.Context, time.Time, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok {
		return ctx, time.Time{}, func() {}
	}
	margin := min(p.margin, max(deadline.Sub(p.now())/2, 0))
	stopAt := deadline.Add(-margin)
	rctx, cancel := context.WithDeadline(ctx, stopAt)
	return rctx, stopAt, cancel
}

// stopped reports whether a record whose turn comes now must not start:
// the records' context ended, or the clock reached stopAt.
func (p *sqsProcessor[T]) stopped(ctx context.Context, stopAt time.Time) bool {
	return ctx.Err() != nil || !stopAt.IsZero() && !p.now().Before(stopAt)
}

// bookkeeping returns the context of one bookkeeping call: ctx's values
// (the record's span, its logger fields) without its deadline or
// cancellation, so that a record cut short at the deadline is still sent
// to the dead-letter queue or given its visibility, under a bound of its
// own.
func bookkeeping(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), sqsBookkeepingTimeout)
}

// notStarted settles a record that was not run for lack of time: it comes
// back at once, never to the dead-letter queue, whatever its attempt.
func (p *sqsProcessor[T]) notStarted(r *sqsRun) {
	r.report.Err, r.report.Class = ErrNotStarted, retry.ClassRetryable
	bctx, cancel := bookkeeping(r.ctx)
	defer cancel()
	q, err := p.queues.get(bctx, r.it.queueARN)
	if err != nil {
		p.fail(r, "look up its queue", err)
		return
	}
	r.pending, r.queue, r.delay = true, q, 0
}
