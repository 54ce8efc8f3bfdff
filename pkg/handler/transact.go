package handler

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-lambda-go/events"

	"github.com/latchkit/latch/pkg/idempotency"
)

// NewSQSTx is NewSQS for a record function in the transactional form: fn returns
// the DynamoDB writes that are the record's effect, computed but not
// performed, with a value; the processor commits them together with the
// record's idempotency record in one TransactWriteItems
// (idempotency.Transact). The effect is then never visible without its
// record nor twice, and a first delivery costs one round trip.
//
// fn may run on duplicates too (their own transaction is cancelled and the
// stored value returned), so it must only read and compute. It does not
// when the duplicate is predicted: a redelivery (Attempt > 1, marked with
// idempotency.ExpectDuplicate) or a key this process's guard has seen held
// is answered by one consistent read of the record first.
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
// else is as in NewSQS; a failed condition of fn's writes is retryable unless
// its Tx.ConditionFailed says otherwise.
func NewSQSTx[T, R any](fn func(ctx context.Context, m Message[T]) (idempotency.Tx[R], error), then func(ctx context.Context, m Message[T], v R) error, cfg SQSConfig) (Func[events.SQSEvent, events.SQSEventResponse], error) {
	p, err := newSQSProcessor[T](cfg, fn == nil)
	if err != nil {
		return nil, err
	}
	if err := txGuardError(ErrSQSConfig, cfg.Idempotency); err != nil {
		return nil, err
	}
	// A redelivery (ApproximateReceiveCount > 1) runs then again after a
	// replay, and is likely a duplicate: its first delivery may well have
	// committed, so Transact reads the record first.
	redelivered := func(m Message[T]) bool { return m.Attempt > 1 }
	p.guarded.tx = txRecord(cfg.Idempotency, p.log, fn, then, redelivered, redelivered)
	return p.handle, nil
}

// MustNewSQSTx is NewSQSTx for package-level initialisation: it panics on
// the error NewSQSTx would return.
func MustNewSQSTx[T, R any](fn func(ctx context.Context, m Message[T]) (idempotency.Tx[R], error), then func(ctx context.Context, m Message[T], v R) error, cfg SQSConfig) Func[events.SQSEvent, events.SQSEventResponse] {
	h, err := NewSQSTx(fn, then, cfg)
	if err != nil {
		panic(err)
	}
	return h
}

// NewScheduleTx is NewSchedule for a tick function in the transactional
// form: fn returns the DynamoDB writes that are the tick's effect, and they
// are committed with the tick's idempotency record (key Tick.Key()) in one
// transaction, so a tick's effect happens exactly once. fn runs on
// duplicate deliveries too, and must only read and compute.
// cfg.Idempotency is required, on a store that implements
// idempotency.TxStore; cfg.TTL and the wait for a tick another delivery is
// running are as in NewSchedule.
func NewScheduleTx[R any](fn func(ctx context.Context, t Tick) (idempotency.Tx[R], error), cfg ScheduleConfig) (Func[json.RawMessage, struct{}], error) {
	if err := asyncConfigError(ErrScheduleConfig, fn == nil, "tick", cfg.FailureQueue); err != nil {
		return nil, err
	}
	if err := txGuardError(ErrScheduleConfig, cfg.Idempotency); err != nil {
		return nil, err
	}
	guard, err := scheduleGuard(cfg)
	if err != nil {
		return nil, err
	}
	return schedule(cfg, true, func(ctx context.Context, tick Tick) (bool, string, error) {
		res, err := idempotency.Transact(ctx, guard, idempotency.Key{ID: tick.Key()},
			func(ctx context.Context) (idempotency.Tx[R], error) { return fn(ctx, tick) })
		return res.Replayed, res.KeyHash, err
	}), nil
}

// MustNewScheduleTx is NewScheduleTx for package-level initialisation: it
// panics on the error NewScheduleTx would return.
func MustNewScheduleTx[R any](fn func(ctx context.Context, t Tick) (idempotency.Tx[R], error), cfg ScheduleConfig) Func[json.RawMessage, struct{}] {
	h, err := NewScheduleTx(fn, cfg)
	if err != nil {
		panic(err)
	}
	return h
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
