package idempotency

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/latchkit/latch/internal/clock"
)

// Tx is what the function of Transact returns: its result and the DynamoDB
// writes that are its effect, computed but not performed.
type Tx[T any] struct {
	// Value is the result, returned now and to every duplicate. T must
	// round-trip through encoding/json.
	Value T

	// Writes are the effect: Put, Update, Delete or ConditionCheck items on
	// any tables of the store's account and region, one operation each and
	// at most one per item, committed in one transaction with the record.
	// At most MaxTxItems-1 of them, MaxTxSize bytes with the record. Ask
	// for ReturnValuesOnConditionCheckFailure=ALL_OLD on a write whose
	// failed condition you want to inspect in ConditionFailed. Empty is
	// allowed: the record alone is committed.
	Writes []types.TransactWriteItem

	// ConditionFailed decides what Transact returns when the condition of
	// one of Writes fails (nothing is committed then). It gets the
	// *ConditionFailedError and returns the error to return; nil keeps that
	// error, which pkg/retry takes as retryable: a condition that failed
	// because another writer got there first passes on a run that reads
	// again, and one that never passes reaches the dead-letter queue after
	// the queue's last attempt, with its reason. Return retry.Permanent(err)
	// for conditions no new run can pass, so the record goes there at once.
	// Default nil.
	ConditionFailed func(err *ConditionFailedError) error
}

// Applied returns what Tx.ConditionFailed returns to say that the failed
// condition shows the effect already in place, written by an earlier run
// whose idempotency record is gone (expired, or never written by a
// non-transactional version of the function), with v as that run's result
// (read from the item ConditionFailedError.Item returns). Transact then
// commits the record alone, with v, in one more round trip, and returns v.
// Like fs.SkipDir it is an error value that steers, not a failure.
func Applied[T any](v T) error { return &appliedError[T]{v: v} }

type appliedError[T any] struct{ v T }

func (e *appliedError[T]) Error() string {
	return "idempotency: the effect was applied before (Applied returned from Tx.ConditionFailed)"
}

// txAttempts is how often Transact sends a transaction that DynamoDB
// cancels for a conflict with a concurrent request. Concurrent first calls
// of one key conflict on its record; sending again lets the loser see the
// winner's record and return its result instead of an error.
const txAttempts = 5

// txBackoff is the base of the jittered wait between those attempts.
const txBackoff = 10 * time.Millisecond

// Transact runs fn at most once per key, like Do, for a function whose
// effect is DynamoDB writes: fn computes the writes and its result without
// performing them, and Transact commits them in one transaction together
// with the idempotency record, written COMPLETED. The effect is never
// visible without the record, nor twice, and a first call costs one round
// trip instead of Do's three (claim, the effect, complete). The store must
// implement TxStore (both of this package's stores do).
//
// The protocol, in store calls:
//   - a COMPLETED record in the local cache answers at once (no call);
//   - when a duplicate is likely (ctx marked by ExpectDuplicate, or a key
//     this guard committed or found held before), one consistent read of
//     the record comes first, and a live record answers from it as below,
//     without running fn or sending a transaction;
//   - fn runs with no lock held, so concurrent first calls may each run
//     it; only one transaction commits, and the others get the record it
//     wrote back from their own cancelled transaction (Replayed), so a
//     duplicate costs one call too, with the payload check of Do;
//   - a live INPROGRESS record (a Do call under the same key) fails with an
//     *InProgressError;
//   - a failed condition of one of the writes commits nothing and returns
//     a *ConditionFailedError, or what Tx.ConditionFailed makes of it;
//   - writes DynamoDB would refuse (more than MaxTxItems with the record,
//     more than MaxTxSize bytes, two operations on one item, one on the
//     record's own item, a result too large for the record) fail before
//     any call with a permanent *InvalidTransactionError.
//
// fn's error comes back unchanged and nothing is written. Store failures
// come back as *StoreError; a transaction conflict that outlasts a few
// quick retries matches ErrTransactionConflict too, and is retryable.
//
// Transactional writes cost twice the write capacity of plain ones; see the
// package documentation for the trade-off against Do.
func Transact[T any](ctx context.Context, g *Guard, key Key, fn func(context.Context) (Tx[T], error)) (Result[T], error) {
	t, err := g.beginTx(ctx, key)
	res := Result[T]{KeyHash: t.hash, KeyDisplay: t.display}
	if err != nil {
		return res, err
	}
	if t.replay {
		return replay[T](t)
	}
	ts, ok := g.store.(TxStore)
	if !ok {
		return res, &permanentError{err: ErrNoTxStore}
	}
	if !t.bypass && g.expects(ctx, t.hash) {
		answered, err := g.readFirst(ctx, ts, &t)
		if err != nil {
			return res, err
		}
		if answered {
			return replay[T](t)
		}
	}
	tx, err := fn(ctx)
	if err != nil {
		return res, err
	}
	data, err := json.Marshal(tx.Value)
	if err != nil {
		// Nothing happened yet, unlike in Do: refuse, and write nothing.
		return res, &permanentError{err: fmt.Errorf("idempotency: key %s: encode result %T: %w; nothing committed", t.name(), tx.Value, err)}
	}
	if err := checkWrites(tx.Writes, len(data)); err != nil {
		return res, t.own(err)
	}
	owner := rand.Text()
	for attempt := 0; ; attempt++ {
		now := g.now()
		c := TxCommit{
			Owner:      owner,
			Token:      owner + "-" + strconv.Itoa(attempt),
			Now:        now,
			Expiry:     now.Add(g.ttl),
			Validation: t.validation,
			Data:       data,
			Writes:     tx.Writes,
		}
		if !t.bypass {
			c.KeyHash = t.hash
		}
		held, err := ts.CommitTx(ctx, c)
		switch {
		case err == nil && (held == nil || held.Owner == owner):
			// Committed; a held record of our own is an earlier attempt of
			// this call that committed although its answer was lost.
			if !t.bypass {
				g.seen.Add(t.hash, struct{}{})
			}
			if g.cache != nil && !t.bypass {
				g.cache.Add(t.hash, Record{KeyHash: t.hash, Status: StatusCompleted, Expiry: time.Unix(c.Expiry.Unix(), 0), Owner: owner, Validation: t.validation, Data: data})
			}
			res.Value = tx.Value
			return res, nil
		case err == nil:
			g.seen.Add(t.hash, struct{}{})
			if err := g.answer(&t, held); err != nil {
				return res, err
			}
			return replay[T](t)
		case errors.Is(err, ErrTransactionConflict) && attempt+1 < txAttempts:
			if err := wait(ctx, attempt); err != nil {
				return res, &StoreError{Op: "transact", Err: err}
			}
		default:
			var cf *ConditionFailedError
			if errors.As(err, &cf) && tx.ConditionFailed != nil {
				cf.KeyHash, cf.KeyDisplay = t.hash, t.display
				mapped := tx.ConditionFailed(cf)
				var ap *appliedError[T]
				if errors.As(mapped, &ap) {
					// The effect is in place already: commit the record
					// alone, with the value the caller read from it.
					if data, err = json.Marshal(ap.v); err != nil {
						return res, &permanentError{err: fmt.Errorf("idempotency: key %s: encode result %T: %w; nothing committed", t.name(), ap.v, err)}
					}
					tx = Tx[T]{Value: ap.v}
					continue
				}
				if mapped != nil {
					return res, mapped
				}
			}
			return res, t.own(err)
		}
	}
}

// CanTransact reports whether g's store implements TxStore, so that a
// handler given a transactional function can refuse a guard that cannot
// run it at cold start rather than on every record.
func (g *Guard) CanTransact() bool {
	_, ok := g.store.(TxStore)
	return ok
}

// beginTx is begin without the claim: a missing key, the cache, a context
// already done.
func (g *Guard) beginTx(ctx context.Context, key Key) (ticket, error) {
	if key.ID == "" {
		if g.allowMissing {
			return ticket{bypass: true}, ctxErr(ctx)
		}
		return ticket{}, errNoKey
	}
	t := ticket{hash: keyHash(g.prefix, key.ID), display: key.Display}
	if key.Payload != nil {
		t.validation = hashHex(key.Payload)
	}
	if g.cache != nil {
		if r, ok := g.cache.Get(t.hash); ok {
			if r.Live(g.now()) {
				err := t.replayOf(&r)
				return t, err
			}
			g.cache.Remove(t.hash)
		}
	}
	return t, ctxErr(ctx)
}

// ctxErr is a context already done, in the shape of a store failure: the
// commit it prevents is the first store call.
func ctxErr(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return &StoreError{Op: "transact", Err: err}
	}
	return nil
}

// answer sets t to replay held, a live record that holds t's key, and
// caches it; or returns why it cannot be replayed.
func (g *Guard) answer(t *ticket, held *Record) error {
	if held.Status != StatusCompleted {
		if mismatch(held.Validation, t.validation) {
			return &PayloadMismatchError{KeyHash: t.hash, KeyDisplay: t.display}
		}
		return &InProgressError{KeyHash: t.hash, KeyDisplay: t.display, LockExpiry: held.LockExpiry}
	}
	if err := t.replayOf(held); err != nil {
		return err
	}
	if g.cache != nil {
		g.cache.Add(t.hash, *held)
	}
	return nil
}

// own fills the key fields of the errors that carry them.
func (t *ticket) own(err error) error {
	var it *InvalidTransactionError
	if errors.As(err, &it) {
		it.KeyHash, it.KeyDisplay = t.hash, t.display
	}
	var cf *ConditionFailedError
	if errors.As(err, &cf) {
		cf.KeyHash, cf.KeyDisplay = t.hash, t.display
	}
	return err
}

// wait sleeps before attempt+1 of a conflicted transaction: a jittered,
// doubling wait, cut short by ctx.
func wait(ctx context.Context, attempt int) error {
	d := txBackoff << attempt
	return clock.Sleep(ctx, d/2+mrand.N(d/2+1))
}
