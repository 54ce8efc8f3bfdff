package handler

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-lambda-go/events"

	"github.com/latchkit/latch/pkg/idempotency"
)

// SQSTx is SQS for a record function in the transactional form: fn returns
// the DynamoDB writes that are the record's effect, computed but not
// performed, with a value; the processor commits them together with the
// record's idempotency record in one TransactWriteItems
// (idempotency.Transact). The effect is then never visible without its
// record nor twice, and a first delivery costs one round trip.
//
// fn runs on duplicates too (their own transaction is cancelled and the
// stored value returned), so it must only read and compute.
//
// then, optional, is the place for an effect that is not a DynamoDB write,
// such as publishing an event: it runs with the committed value after a
// fresh commit, and after a replay when the message is a redelivery
// (Attempt > 1), with the value first committed. Its failure is the
// record's failure; the message comes back as a redelivery whose commit is
// a replay, and then runs again, so its effect is at least once and never
// lost to a commit that went through. A duplicate sent as another message,
// on its first delivery, does not run then. A message redelivered after a
// full success (Lambda could not delete it) runs then again: make its
// effect idempotent downstream.
//
// cfg.Idempotency and cfg.Key are required, and the guard's store must
// implement idempotency.TxStore (handler.TraceStore keeps it). Everything
// else is as in SQS; a failed condition of fn's writes is retryable unless
// its Tx.ConditionFailed says otherwise.
func SQSTx[T, R any](fn func(ctx context.Context, m Message[T]) (idempotency.Tx[R], error), then func(ctx context.Context, m Message[T], v R) error, cfg SQSConfig) Func[events.SQSEvent, events.SQSEventResponse] {
	p := newSQSProcessor[T](cfg, fn == nil)
	if p.cfgErr == nil {
		p.cfgErr = txGuardError(ErrSQSConfig, cfg.Idempotency)
	}
	p.tx = func(r *sqsRun, m Message[T], key idempotency.Key) (bool, string, error) {
		var res idempotency.Result[R]
		err := p.protect(r, func() (err error) {
			res, err = idempotency.Transact(r.ctx, p.cfg.Idempotency, key, func(ctx context.Context) (idempotency.Tx[R], error) {
				return fn(ctx, m)
			})
			return err
		})
		if err == nil && then != nil && (!res.Replayed || m.Attempt > 1) {
			err = p.protect(r, func() error { return then(r.ctx, m, res.Value) })
		}
		return res.Replayed, res.KeyHash, err
	}
	return p.handle
}

// ScheduleTx is Schedule for a tick function in the transactional form:
// fn returns the DynamoDB writes that are the tick's effect, and they are
// committed with the tick's idempotency record (key Tick.Key()) in one
// transaction, so a tick's effect happens exactly once. fn runs on duplicate
// deliveries too, and must only read and compute. cfg.Idempotency is
// required, on a store that implements idempotency.TxStore.
func ScheduleTx[R any](fn func(ctx context.Context, t Tick) (idempotency.Tx[R], error), cfg ScheduleConfig) Func[json.RawMessage, struct{}] {
	cfgErr := asyncConfigError(ErrScheduleConfig, fn == nil, "tick", cfg.FailureQueue)
	if cfgErr == nil {
		cfgErr = txGuardError(ErrScheduleConfig, cfg.Idempotency)
	}
	return schedule(cfg, cfgErr, func(ctx context.Context, tick Tick) (bool, string, error) {
		res, err := idempotency.Transact(ctx, cfg.Idempotency, idempotency.Key{ID: tick.Key()},
			func(ctx context.Context) (idempotency.Tx[R], error) { return fn(ctx, tick) })
		return res.Replayed, res.KeyHash, err
	})
}

// txGuardError says why g cannot run transactional functions, as the
// config error sentinel, or nil.
func txGuardError(sentinel error, g *idempotency.Guard) error {
	switch {
	case g == nil:
		return fmt.Errorf("%w: Idempotency is nil: a transactional function commits its writes with the idempotency record", sentinel)
	case !g.CanTransact():
		return fmt.Errorf("%w: Idempotency: %w", sentinel, idempotency.ErrNoTxStore)
	}
	return nil
}
