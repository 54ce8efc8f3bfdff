package idempotency

import (
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Sentinel errors. Match them with errors.Is; the typed errors below carry the
// details and match their sentinel by type.
var (
	// ErrInProgress means another call holds a live lock on the key. The error's
	// concrete type is *InProgressError, whose RetryAt says when the lock dies.
	ErrInProgress = errors.New("idempotency: request already in progress")

	// ErrPayloadMismatch means the key was used before with a different payload.
	// The concrete type is *PayloadMismatchError; it is permanent.
	ErrPayloadMismatch = errors.New("idempotency: payload does not match the stored request")

	// ErrNoKey means the key is empty and Config.AllowMissingKey is false. The
	// error returned is permanent: a retry carries the same (missing) key.
	ErrNoKey = errors.New("idempotency: no idempotency key")

	// ErrLockLost means the caller's lock expired and another call took the key
	// over, so the caller may neither complete nor release the record. The
	// other call's record stands. It is retryable: the retry sees that record.
	ErrLockLost = errors.New("idempotency: lock lost to another call")

	// ErrResultTooLarge means the function succeeded but its result does not fit in
	// a record. The record is still COMPLETED, without data, so the side
	// effect never runs again. The concrete type is *ResultTooLargeError; it
	// is permanent.
	ErrResultTooLarge = errors.New("idempotency: result too large to store")

	// ErrConfig means a Config or DynamoDBConfig is unusable; NewGuard and
	// NewDynamoDBStore return it wrapped with the field at fault and the
	// fix. It is a deployment mistake no retry can fix: return it from the
	// function's cold start.
	ErrConfig = errors.New("idempotency: invalid config")
)

// InProgressError says that another call holds the lock on a key.
type InProgressError struct {
	// KeyHash is the stored id of the key (safe to log).
	KeyHash string
	// Key is the key's display form (Key.Display); empty when the caller
	// gave none, and then the message names KeyHash.
	KeyDisplay string
	// LockExpiry is when the holder's lock dies; a retry at or after it can
	// take the key over if the holder has not finished by then.
	LockExpiry time.Time
}

func (e *InProgressError) Error() string {
	return fmt.Sprintf("idempotency: key %s in progress until %s", keyName(e.KeyDisplay, e.KeyHash), e.LockExpiry.UTC().Format(time.RFC3339Nano))
}

// Is matches ErrInProgress.
func (e *InProgressError) Is(target error) bool { return target == ErrInProgress }

// RetryAt returns the lock expiry: the earliest time a retry can succeed
// without waiting for the holder. pkg/retry recognises this method.
func (e *InProgressError) RetryAt() time.Time { return e.LockExpiry }

// PayloadMismatchError says that a key was reused with a different payload:
// a client bug that no retry can fix.
type PayloadMismatchError struct {
	// KeyHash is the stored id of the key (safe to log).
	KeyHash string
	// Key is the key's display form (Key.Display); empty when the caller
	// gave none, and then the message names KeyHash.
	KeyDisplay string
}

func (e *PayloadMismatchError) Error() string {
	return "idempotency: key " + keyName(e.KeyDisplay, e.KeyHash) + " was used before with a different payload"
}

// Is matches ErrPayloadMismatch.
func (e *PayloadMismatchError) Is(target error) bool { return target == ErrPayloadMismatch }

// Permanent reports true: pkg/retry sends the record to the dead-letter queue.
func (e *PayloadMismatchError) Permanent() bool { return true }

// ResultTooLargeError says that a result could not be stored. The function
// ran and the record is COMPLETED without data: the first call gets its value
// alongside this error, a replay gets the zero value and this error with
// Replayed set.
type ResultTooLargeError struct {
	// KeyHash is the stored id of the key (safe to log).
	KeyHash string
	// Key is the key's display form (Key.Display); empty when the caller
	// gave none, and then the message names KeyHash.
	KeyDisplay string
	// Size is the encoded result's size in bytes (0 on a replay: unknown).
	Size int
	// Limit is the largest result the store accepts for this key (0 on a
	// replay).
	Limit int
	// Replayed is true when the error comes from a replay of a record that
	// was completed without data.
	Replayed bool
}

func (e *ResultTooLargeError) Error() string {
	if e.Replayed {
		return "idempotency: key " + keyName(e.KeyDisplay, e.KeyHash) + " completed without a stored result (it was too large to keep)"
	}
	return fmt.Sprintf("idempotency: key %s: result of %d bytes exceeds the %d bytes a record can hold; recorded as completed without data", keyName(e.KeyDisplay, e.KeyHash), e.Size, e.Limit)
}

// Is matches ErrResultTooLarge.
func (e *ResultTooLargeError) Is(target error) bool { return target == ErrResultTooLarge }

// Permanent reports true: retrying cannot make the result fit, and the side
// effect is recorded as done.
func (e *ResultTooLargeError) Permanent() bool { return true }

// StoreError is a failure of the store itself (network, throttling, a
// missing table). It wraps the underlying (SDK) error, so error classifiers
// see it; it is retryable unless the wrapped error says otherwise.
type StoreError struct {
	// Op is the store operation: "claim", "complete", "release", "commit_tx"
	// or "get".
	Op string
	// Err is the underlying error.
	Err error
}

func (e *StoreError) Error() string { return "idempotency: store " + e.Op + ": " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e *StoreError) Unwrap() error { return e.Err }

// permanentError marks an error whose cause no retry can change (a missing
// key, a result that cannot be encoded). It keeps the wrapped error visible to
// errors.Is/As and implements the Permanent method set pkg/retry recognises.
type permanentError struct{ err error }

func (e *permanentError) Error() string   { return e.err.Error() }
func (e *permanentError) Unwrap() error   { return e.err }
func (e *permanentError) Permanent() bool { return true }

// Errors of Transact.
var (
	// ErrConditionFailed means a condition of one of the function's own
	// writes failed, so Transact committed nothing. The concrete type is
	// *ConditionFailedError; Tx.ConditionFailed decides its class.
	ErrConditionFailed = errors.New("idempotency: a condition of the transaction's writes failed")

	// ErrInvalidTransaction means the writes cannot be committed as they
	// are (too many, too large, two on one item, one on the record itself, a
	// result too large for the record). Nothing was written; the concrete
	// type is *InvalidTransactionError and it is permanent.
	ErrInvalidTransaction = errors.New("idempotency: transaction cannot be committed")

	// ErrTransactionConflict means DynamoDB cancelled the transaction
	// because another request was changing one of its items at the same
	// time. Transact retries it a few times; when it persists the error
	// comes back inside a *StoreError and is retryable.
	ErrTransactionConflict = errors.New("idempotency: transaction conflict")

	// ErrNoTxStore means Transact was called on a Guard whose Store does not
	// implement TxStore: a wiring mistake, permanent.
	ErrNoTxStore = errors.New("idempotency: the guard's store cannot commit transactions (it does not implement TxStore)")
)

// ConditionFailedError says that one of the function's own writes failed its
// condition: the data changed since the function read it, or the write was
// never allowed. Nothing was committed, the idempotency record included.
type ConditionFailedError struct {
	// KeyHash is the stored id of the key (safe to log).
	KeyHash string
	// Key is the key's display form (Key.Display), if any.
	KeyDisplay string
	// Index is the position of the failed write in Tx.Writes.
	Index int
	// Item is the item as it was, when that write asked for it with
	// ReturnValuesOnConditionCheckFailure=ALL_OLD; nil otherwise.
	Item map[string]types.AttributeValue
	// Err is the store's error (the SDK's TransactionCanceledException).
	Err error
}

func (e *ConditionFailedError) Error() string {
	return fmt.Sprintf("idempotency: key %s: condition of write %d failed, nothing committed: %v", keyName(e.KeyDisplay, e.KeyHash), e.Index, e.Err)
}

// Is matches ErrConditionFailed.
func (e *ConditionFailedError) Is(target error) bool { return target == ErrConditionFailed }

// Unwrap returns the store's error.
func (e *ConditionFailedError) Unwrap() error { return e.Err }

// InvalidTransactionError says why a transaction cannot be committed. It is
// found before the call, so nothing was written.
type InvalidTransactionError struct {
	// KeyHash is the stored id of the key (safe to log).
	KeyHash string
	// Key is the key's display form (Key.Display), if any.
	KeyDisplay string
	// Index is the position in Tx.Writes of the offending write, -1 when the
	// transaction as a whole is at fault.
	Index int
	// Reason says what is wrong, for people.
	Reason string
}

func (e *InvalidTransactionError) Error() string {
	where := ""
	if e.Index >= 0 {
		where = fmt.Sprintf(" write %d:", e.Index)
	}
	return fmt.Sprintf("idempotency: key %s:%s %s; nothing committed", keyName(e.KeyDisplay, e.KeyHash), where, e.Reason)
}

// Is matches ErrInvalidTransaction.
func (e *InvalidTransactionError) Is(target error) bool { return target == ErrInvalidTransaction }

// Permanent reports true: the same writes fail the same way on a retry.
func (e *InvalidTransactionError) Permanent() bool { return true }
