package handler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/latchkit/latch/pkg/idempotency"
)

// deadLetterKeyPrefix starts the idempotency key of a source message's
// dead-lettering. The key lives in the guard's namespace beside the
// records' own keys; the prefix keeps it apart from any key a KeyFunc
// derives from a body or an attribute.
const deadLetterKeyPrefix = "latch.dead-letter#"

// deadLetterKey is the key of one source message's dead-lettering: its
// queue and its message id, which SQS keeps across redeliveries and
// changes on a redrive (a redriven message that fails again is a new
// dead-lettering).
func deadLetterKey(it *sqsItem) idempotency.Key {
	return idempotency.Key{
		ID:      deadLetterKeyPrefix + it.queueARN + "#" + it.msg.MessageId,
		Display: "dead-letter of message " + it.msg.MessageId,
	}
}

// deadLetter sends the record to the DLQ and finishes it, once per source
// message when the processor has a guard: the send runs under
// idempotency.Do on deadLetterKey, so a later delivery of the same message
// (SQS delivers at least once; a process killed between the send and the
// delete) finds the completed claim and is only deleted, and one that
// arrives during the send finds it in progress and comes back when the
// claim's lock dies. Without a guard the send is unconditional: a message
// delivered twice may reach the DLQ twice.
//
// The claim's cost is on this path only: a conditional put and an update
// (two writes) per dead-lettered message, one conditional put per later
// delivery, none when the guard's cache answers.
//
// The store down (the claim fails): the dead-lettering waits for it, as a
// retryable failure with the backoff, until the queue's last attempt,
// where the record is sent without the claim; a copy is possible then, a
// loss is not, and SQS's own redrive would have dropped the reason.
//
// ctx is a bookkeeping context (see bookkeeping).
func (p *sqsProcessor[T]) deadLetter(ctx context.Context, r *sqsRun, q *sqsQueue) {
	if p.cfg.Idempotency == nil {
		p.sendDeadLetter(ctx, r, q)
		return
	}
	var ran, sent bool
	res, err := idempotency.Do(ctx, p.cfg.Idempotency, deadLetterKey(r.it), func(ctx context.Context) (string, error) {
		ran = true
		id, dropped, err := deadLetter(ctx, p.cfg.Client, q, r.it, r.report.Err, r.report.Class, p.now())
		sent = err == nil
		p.logDropped(r, dropped)
		return id, err
	})
	var storeErr *idempotency.StoreError
	switch {
	case sent:
		if err != nil {
			// In the DLQ; only the claim's completion failed. A later
			// delivery waits for the claim's lock and may send a copy.
			p.log.WarnContext(r.ctx, "handler: record dead-lettered, but its dead-letter claim was not completed; a redelivery may send a copy",
				slog.String("message_id", r.it.msg.MessageId), slog.Any("error", err))
		}
		p.deadLettered(r)
	case err == nil && res.Replayed:
		r.report.Err = fmt.Errorf("%w; already in the dead-letter queue as message %s, sent by an earlier delivery: this one is only deleted", r.report.Err, res.Value)
		p.deadLettered(r)
	case errors.Is(err, idempotency.ErrInProgress):
		// Another delivery of this message is sending it now.
		r.report.Err = fmt.Errorf("%w; and its dead-lettering is under way in another delivery: %w", r.report.Err, err)
		r.pending, r.queue = true, q
		r.delay = p.cfg.Backoff.Delay(err, r.it.attempt)
	case !ran && errors.As(err, &storeErr) && r.it.attempt < q.lastAttempt:
		r.report.Err = fmt.Errorf("%w; dead-lettering waits for the idempotency store: %w", r.report.Err, err)
		r.pending, r.queue = true, q
		r.delay = p.cfg.Backoff.Delay(err, r.it.attempt)
	case !ran && errors.As(err, &storeErr):
		p.log.WarnContext(r.ctx, "handler: idempotency store unavailable on the last attempt; dead-lettering without a claim, a redelivery may send a copy",
			slog.String("message_id", r.it.msg.MessageId), slog.Any("error", err))
		p.sendDeadLetter(ctx, r, q)
	default:
		p.fail(r, "send it to the dead-letter queue", err)
	}
}

// sendDeadLetter sends the record to the DLQ without a claim.
func (p *sqsProcessor[T]) sendDeadLetter(ctx context.Context, r *sqsRun, q *sqsQueue) {
	_, dropped, err := deadLetter(ctx, p.cfg.Client, q, r.it, r.report.Err, r.report.Class, p.now())
	p.logDropped(r, dropped)
	if err != nil {
		p.fail(r, "send it to the dead-letter queue", err)
		return
	}
	p.deadLettered(r)
}

func (p *sqsProcessor[T]) logDropped(r *sqsRun, dropped []string) {
	if len(dropped) > 0 {
		p.log.WarnContext(r.ctx, "handler: message attributes left off the dead-letter copy (SQS allows 10)",
			slog.String("message_id", r.it.msg.MessageId), slog.Any("attributes", dropped))
	}
}

func (p *sqsProcessor[T]) deadLettered(r *sqsRun) {
	r.report.Outcome = DeadLettered
	p.finish(r)
}
