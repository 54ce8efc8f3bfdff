package handler

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/latchkit/latch/pkg/idempotency"
	"github.com/latchkit/latch/pkg/retry"
)

// sqsProcessor is the state behind one SQS handler: its config and what it
// learns about its queues, kept for the life of the execution environment.
type sqsProcessor[T any] struct {
	// guarded runs each record: the record function (or, from NewSQSTx,
	// its transactional form) under the idempotency guard.
	guarded     recordGuard[Message[T]]
	cfg         SQSConfig
	queues      *sqsQueues
	obs         Observer
	log         *slog.Logger
	now         func() time.Time
	concurrency int
	margin      time.Duration
}

// sqsRun is one record's progress through one invocation.
type sqsRun struct {
	it     *sqsItem
	ctx    context.Context // from Observer.RecordStarted
	start  time.Time
	report Report
	// pending: a retryable failure waiting for its visibility change, to
	// queue.url, of delay.
	pending bool
	queue   *sqsQueue
	delay   time.Duration
	// blocked: not run, behind a failed record of its FIFO group.
	blocked bool
}

// done reports whether the record is finished with, for its FIFO group:
// it succeeded, was a duplicate, or is safely in the dead-letter queue.
func (r *sqsRun) done() bool {
	switch r.report.Outcome {
	case Succeeded, Duplicate, DeadLettered:
		return true
	}
	return false
}

// reported reports whether the record goes into batchItemFailures.
func (r *sqsRun) reported() bool {
	switch r.report.Outcome {
	case RetryScheduled, Failed, Blocked:
		return true
	}
	return false
}

func (p *sqsProcessor[T]) handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	items, err := parseSQSEvent(ev)
	if err != nil {
		return resp, err
	}
	if err := p.checkQueues(ctx, items); err != nil {
		return resp, err
	}
	runs := make([]*sqsRun, len(items))
	for i, it := range items {
		runs[i] = &sqsRun{it: it}
	}
	rctx, stopAt, cancel := p.recordBudget(ctx)
	defer cancel()
	p.runAll(rctx, runs, stopAt)
	p.scheduleRetries(ctx, runs)
	for _, r := range runs {
		if r.reported() {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.it.msg.MessageId})
		}
	}
	return resp, nil
}

// checkQueues looks up, before any record runs, every source queue of the
// batch not looked up yet, when the dead-letter queue must come from its
// RedrivePolicy (SQSConfig.DLQURL empty): a queue without one is a config
// error for the whole batch (see SQSConfig), found on the first invocation
// rather than on the first failure. After a cold start's first batch the
// queues are known, and this costs nothing.
func (p *sqsProcessor[T]) checkQueues(ctx context.Context, items []*sqsItem) error {
	if p.cfg.DLQURL != "" {
		return nil
	}
	seen := ""
	for _, it := range items {
		if it.queueARN == seen {
			continue // a batch comes from one queue; skip the map lookups
		}
		seen = it.queueARN
		if _, err := p.queues.get(ctx, it.queueARN); err != nil {
			return err
		}
	}
	return nil
}

// runAll runs the batch: every record of a standard queue on its own, every
// FIFO message group in order, at most p.concurrency at once. No record
// starts at or after stopAt (zero: no stop).
func (p *sqsProcessor[T]) runAll(ctx context.Context, runs []*sqsRun, stopAt time.Time) {
	var (
		groups [][]*sqsRun
		index  = map[[2]string]int{}
	)
	for _, r := range runs {
		if !r.it.fifo {
			groups = append(groups, []*sqsRun{r})
			continue
		}
		k := [2]string{r.it.queueARN, r.it.group}
		i, ok := index[k]
		if !ok {
			i = len(groups)
			index[k] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], r)
	}
	if len(groups) == 1 || p.concurrency == 1 {
		for _, g := range groups {
			p.runGroup(ctx, g, stopAt)
		}
		return
	}
	sem := make(chan struct{}, p.concurrency)
	var wg sync.WaitGroup
	for _, g := range groups {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			p.runGroup(ctx, g, stopAt)
		})
	}
	wg.Wait()
}

// runGroup runs records in order until one is not done. The rest are not
// run: they fail with ErrGroupBlocked and are made visible again at once.
// That does not let them overtake the record that blocked them: SQS
// delivers nothing of a FIFO group while one of its messages is in flight,
// and the blocker stays in flight for its own delay. (Giving them the
// blocker's delay instead would tie them with it, and an emulator that
// breaks the tie by the wrong message would reorder the group.)
//
// Once stopAt is reached the group's remaining records are not started
// (ErrNotStarted): they come back at once, in order.
func (p *sqsProcessor[T]) runGroup(ctx context.Context, group []*sqsRun, stopAt time.Time) {
	blockedBy := ""
	for _, r := range group {
		r.report.Delivery = r.it.record()
		r.ctx = p.obs.RecordStarted(ContextWithDelivery(ctx, r.report.Delivery), r.report.Delivery)
		r.start = p.now()
		if p.stopped(ctx, stopAt) {
			p.notStarted(r)
			continue
		}
		if blockedBy != "" {
			p.settle(r, fmt.Errorf("%w (message %s)", ErrGroupBlocked, blockedBy), false, true)
			continue
		}
		dup, err := p.call(r)
		p.settle(r, err, dup, false)
		if !r.done() {
			blockedBy = r.it.msg.MessageId
		}
	}
}

// call decodes the record and runs it through the shared record pipeline
// (recordGuard). The body is decoded first: a body that cannot decode
// fails for good without claiming its key.
func (p *sqsProcessor[T]) call(r *sqsRun) (duplicate bool, err error) {
	m := Message[T]{Raw: *r.it.msg, Attempt: r.it.attempt}
	if err := recoverPanic(r.ctx, p.log, r.it.msg.MessageId, func() error { return decodeBody(r.it.msg.Body, &m.Body, "SQS body") }); err != nil {
		return false, err
	}
	return p.guarded.run(r.ctx, &r.report, m, func() (idempotency.Key, error) { return p.cfg.Key(*r.it.msg) })
}

// decodeBody fills *dst from a record's payload (an SQS body, Kinesis
// data): as is for string and []byte, else as JSON. Any decode failure is
// permanent: the payload will not change. what names the payload in the
// error.
func decodeBody[T any, B string | []byte](body B, dst *T, what string) error {
	switch d := any(dst).(type) {
	case *string:
		*d = string(body)
		return nil
	case *[]byte:
		*d = []byte(body)
		return nil
	}
	if err := json.Unmarshal([]byte(body), dst); err != nil {
		return retry.Permanent(fmt.Errorf("handler: decode %s into %T: %w", what, *dst, err))
	}
	return nil
}

// settle decides what happens to a record that has run (or was skipped
// behind a failed record of its group): finished now, or pending a
// visibility change.
func (p *sqsProcessor[T]) settle(r *sqsRun, err error, duplicate, skipped bool) {
	if err == nil {
		r.report.Outcome = Succeeded
		if duplicate {
			r.report.Outcome = Duplicate
		}
		p.finish(r)
		return
	}
	r.report.Err = err
	r.report.Class = retry.Classify(err)
	bctx, cancel := bookkeeping(r.ctx)
	defer cancel()
	q, qerr := p.queues.get(bctx, r.it.queueARN)
	switch {
	case qerr != nil:
		p.fail(r, "look up its queue", qerr)
	case r.report.Class == retry.ClassPermanent, r.it.attempt >= q.lastAttempt:
		p.deadLetter(bctx, r, q)
	case skipped:
		// Not a failure of its own: no class, and back at once to queue up
		// behind its blocker (see runGroup).
		r.report.Class = retry.ClassNone
		r.pending, r.queue, r.delay, r.blocked = true, q, 0, true
	default:
		r.pending, r.queue = true, q
		r.delay = p.cfg.Backoff.Delay(err, r.it.attempt)
	}
}

// fail finishes a record as Failed: it stays in the queue and SQS's own
// visibility timeout and redrive apply. what and err say which bookkeeping
// step failed; they are logged and join the record's error.
func (p *sqsProcessor[T]) fail(r *sqsRun, what string, err error) {
	p.log.ErrorContext(r.ctx, "handler: could not "+what+"; the record stays in the queue",
		slog.String("message_id", r.it.msg.MessageId), slog.Any("error", err))
	r.report.Err = fmt.Errorf("%w; and could not %s: %w", r.report.Err, what, err)
	r.report.Outcome = Failed
	p.finish(r)
}

// finish tells the observer how the record ended.
func (p *sqsProcessor[T]) finish(r *sqsRun) {
	r.pending = false
	r.report.Duration = p.now().Sub(r.start)
	p.obs.RecordFinished(r.ctx, r.report)
}
