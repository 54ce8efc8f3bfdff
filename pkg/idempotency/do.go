package idempotency

import (
	"context"
	"encoding/json"
	"fmt"
)

// Result is what Do returns.
type Result[T any] struct {
	// Value is the function's result: fresh when the function ran, decoded
	// from the stored JSON on a replay. T must round-trip through
	// encoding/json.
	Value T
	// Replayed is true when a stored result answered and the function did
	// not run.
	Replayed bool
	// KeyHash is the stored id of the key, safe to log; empty when the key
	// was missing. It is set on errors too, once the key is known.
	KeyHash string
	// Key is the key's display form (Key.Display), for logs; empty when the
	// caller gave none.
	KeyDisplay string
}

// Do runs fn at most once per key across every caller sharing g's store, and
// returns its result; a duplicate gets the stored result without running fn.
//
// The protocol, in store calls:
//   - a claim (one conditional write) takes the key, or returns the record
//     that holds it: COMPLETED answers with its stored result (Replayed);
//     INPROGRESS with a live lock fails with an *InProgressError whose
//     RetryAt is the lock's expiry; a payload hash that differs fails with a
//     *PayloadMismatchError;
//   - fn runs, under a lock that dies at ctx's deadline or after MaxLock;
//   - success completes the record with the JSON result (one conditional
//     write); failure releases it (one conditional delete) so a retry can
//     run, and fn's error comes back unchanged. If the lock was lost to
//     another call meanwhile, neither write touches that call's record and
//     the error matches ErrLockLost.
//
// A duplicate answered by the local cache costs no store call. Store
// failures come back as *StoreError; encoding failures and results too large
// to keep complete the record without data and come back as permanent
// errors, with Value set, because the side effect happened.
func Do[T any](ctx context.Context, g *Guard, key Key, fn func(context.Context) (T, error)) (Result[T], error) {
	t, err := g.begin(ctx, key)
	res := Result[T]{KeyHash: t.hash, KeyDisplay: t.display}
	if err != nil {
		return res, err
	}
	switch {
	case t.bypass:
		res.Value, err = fn(ctx)
		return res, err
	case t.replay:
		return replay[T](t)
	}
	v, err := run(ctx, g, t, fn)
	if err != nil {
		return res, err
	}
	res.Value = v
	data, encErr := json.Marshal(v)
	if encErr != nil {
		data = nil
	}
	return res, g.complete(ctx, t, data, encErr)
}

// run calls fn while t holds the lock, and releases the lock if fn fails,
// panics or exits its goroutine, so that a retry need not wait for the lock
// to expire. A panic keeps unwinding after the release.
func run[T any](ctx context.Context, g *Guard, t ticket, fn func(context.Context) (T, error)) (v T, err error) {
	returned := false
	defer func() {
		if !returned {
			_ = g.release(ctx, t, nil)
		}
	}()
	v, err = fn(ctx)
	returned = true
	if err != nil {
		err = g.release(ctx, t, err)
	}
	return v, err
}

// Wrap returns next guarded by g: the middleware form of Do for whole-event
// handlers. key derives the idempotency key of an input; its error comes back
// as is (wrap it to mark it permanent). A duplicate input returns the stored
// output without calling next. The returned function is assignable to
// handler.Func[In, Out].
//
// Wrap does not say whether an output was replayed; call Do directly where
// that matters.
func Wrap[In, Out any](g *Guard, key func(In) (Key, error), next func(context.Context, In) (Out, error)) func(context.Context, In) (Out, error) {
	return func(ctx context.Context, in In) (Out, error) {
		k, err := key(in)
		if err != nil {
			var zero Out
			return zero, err
		}
		res, err := Do(ctx, g, k, func(ctx context.Context) (Out, error) { return next(ctx, in) })
		return res.Value, err
	}
}

// replay returns the stored result t holds.
func replay[T any](t ticket) (Result[T], error) {
	res := Result[T]{KeyHash: t.hash, KeyDisplay: t.display, Replayed: true}
	if t.data == nil {
		return res, &ResultTooLargeError{KeyHash: t.hash, KeyDisplay: t.display, Replayed: true}
	}
	if err := json.Unmarshal(t.data, &res.Value); err != nil {
		// The stored result no longer fits T (a deploy changed the type):
		// retrying cannot help until the record expires.
		var zero T
		res.Value = zero
		return res, &permanentError{err: fmt.Errorf("idempotency: key %s: decode stored result into %T: %w", t.name(), zero, err)}
	}
	return res, nil
}
