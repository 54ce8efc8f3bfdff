package handler

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/latchkit/latch/pkg/idempotency"
)

// recordGuard is the per-record pipeline the batch processors share (SQS,
// Kinesis, DynamoDB Streams): derive the record's idempotency key, run the
// record function under the guard, or in its transactional form, and turn
// a panic anywhere in that into a *PanicError. What a failure then means
// (a visibility change, a dead letter, a stopped shard) is each
// processor's own; how a record runs is not, so it is written once.
type recordGuard[M any] struct {
	fn func(context.Context, M) error
	// tx, when set, runs the record in the transactional form instead of
	// fn (see txRecord); it fills rep.KeyHash.
	tx    func(ctx context.Context, rep *Report, m M, key idempotency.Key) (replayed bool, err error)
	guard *idempotency.Guard
	log   *slog.Logger
}

// run runs m, keyed by key when there is a guard, and fills rep's Key and
// KeyHash. duplicate is true when the guard answered from a completed
// record instead of running fn.
func (g recordGuard[M]) run(ctx context.Context, rep *Report, m M, key func() (idempotency.Key, error)) (duplicate bool, err error) {
	if g.guard == nil {
		return false, recoverPanic(ctx, g.log, rep.ID, func() error { return g.fn(ctx, m) })
	}
	var k idempotency.Key
	if err := recoverPanic(ctx, g.log, rep.ID, func() (err error) { k, err = key(); return err }); err != nil {
		return false, err
	}
	rep.KeyDisplay = k.Display
	if g.tx != nil {
		replayed, err := g.tx(ctx, rep, m, k)
		return replayed && err == nil, err
	}
	res, err := idempotency.Do(ctx, g.guard, k, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, recoverPanic(ctx, g.log, rep.ID, func() error { return g.fn(ctx, m) })
	})
	rep.KeyHash = res.KeyHash
	return res.Replayed && err == nil, err
}

// txRecord is recordGuard.tx for a record function in the transactional
// form: fn's writes commit with the record's idempotency record in one
// idempotency.Transact, then then (optional) runs with the committed value
// after a fresh commit, and after a replay when again says the record is
// being delivered again (so an effect whose first run failed is retried,
// at least once and never lost to a commit that went through). expect,
// when not nil, says a record is likely a duplicate (an SQS redelivery):
// Transact then reads its idempotency record before computing
// (idempotency.ExpectDuplicate). Stream sources pass nil: their retries
// cannot be told from first deliveries, and reading first on every record
// would add a call to every first one.
func txRecord[M, R any](g *idempotency.Guard, log *slog.Logger, fn func(context.Context, M) (idempotency.Tx[R], error), then func(context.Context, M, R) error, again, expect func(M) bool) func(context.Context, *Report, M, idempotency.Key) (bool, error) {
	return func(ctx context.Context, rep *Report, m M, key idempotency.Key) (bool, error) {
		var res idempotency.Result[R]
		tctx := ctx
		if expect != nil && expect(m) {
			tctx = idempotency.ExpectDuplicate(ctx)
		}
		err := recoverPanic(ctx, log, rep.ID, func() (err error) {
			res, err = idempotency.Transact(tctx, g, key, func(ctx context.Context) (idempotency.Tx[R], error) {
				return fn(ctx, m)
			})
			return err
		})
		rep.KeyHash = res.KeyHash
		if err == nil && then != nil && (!res.Replayed || again(m)) {
			err = recoverPanic(ctx, log, rep.ID, func() error { return then(ctx, m, res.Value) })
		}
		return res.Replayed, err
	}
}

// recoverPanic runs f, turning a panic into a *PanicError logged with its
// stack and the record's id: the record fails like any retryable failure
// instead of taking the execution environment, and the rest of its batch,
// down with it.
func recoverPanic(ctx context.Context, log *slog.Logger, id string, f func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			pe := &PanicError{Value: v, Stack: debug.Stack()}
			log.ErrorContext(ctx, "handler: record function panicked",
				slog.String("message_id", id),
				slog.String("panic", fmt.Sprint(v)),
				slog.String("stack", string(pe.Stack)))
			err = pe
		}
	}()
	return f()
}
