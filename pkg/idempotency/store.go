package idempotency

import (
	"context"
	"time"
)

// Store keeps idempotency records. It is the seam between the protocol (the
// Guard) and the database: three conditional writes, each one round trip.
// Implementations must be safe for concurrent use. The interface is small on
// purpose so that decorators (tracing, metrics, fault injection) are easy to
// write: wrap a Store, forward the three calls.
//
// Stores return ErrLockLost (possibly wrapped) when an owner condition fails,
// ErrResultTooLarge (possibly wrapped) from Complete when the data does not
// fit, and a *StoreError for every other failure.
type Store interface {
	// Claim writes an INPROGRESS record for c.KeyHash owned by c.Owner, unless a
	// live record holds the key. A record is live when it has not expired
	// (Expiry, second precision) and is either COMPLETED or INPROGRESS with a
	// lock that has not died (LockExpiry, millisecond precision), both judged
	// at c.Now. On success Claim returns (nil, nil); when a live record holds
	// the key it returns that record and a nil error, read in the same
	// round trip as the write.
	Claim(ctx context.Context, c Claim) (*Record, error)

	// Complete marks the record COMPLETED with c.Data and the new c.Expiry,
	// if c.Owner still owns it; otherwise it returns ErrLockLost and leaves
	// the record alone. If c.Data cannot fit in a record, Complete still
	// marks it COMPLETED, without data, and returns a *ResultTooLargeError.
	Complete(ctx context.Context, c Completion) error

	// Release deletes the record if owner still owns it; otherwise it
	// returns ErrLockLost and leaves the record alone.
	Release(ctx context.Context, keyHash, owner string) error
}

// Status is the state of a record.
type Status string

// Record states, as stored.
const (
	// StatusInProgress: a call holds the lock and is running the function.
	StatusInProgress Status = "INPROGRESS"
	// StatusCompleted: the function succeeded; Data holds its result.
	StatusCompleted Status = "COMPLETED"
)

// Record is one idempotency record as a Store holds it.
type Record struct {
	// Key is the stored id: "<namespace>#<hex sha256 of the key>".
	KeyHash string
	// Status is INPROGRESS or COMPLETED.
	Status Status
	// Expiry is when the record dies (stored in epoch seconds; also the TTL).
	Expiry time.Time
	// LockExpiry is when an INPROGRESS record's lock dies (stored in epoch
	// milliseconds). Zero on COMPLETED records.
	LockExpiry time.Time
	// Owner is the token of the claim that wrote the record.
	Owner string
	// Validation is the hex SHA-256 of the payload, empty without one.
	Validation string
	// Data is the JSON result of a COMPLETED record; nil when there is none
	// (INPROGRESS, or a result that was too large to keep).
	Data []byte
}

// Live reports whether the record still holds its key at now: it has not
// expired and it is COMPLETED or its lock is alive. A Claim at now succeeds
// exactly when no live record exists. The comparisons use the stored
// precision (seconds for Expiry, milliseconds for LockExpiry), so both stores
// and the DynamoDB condition expression agree to the unit.
func (r *Record) Live(now time.Time) bool {
	if r.Expiry.Unix() < now.Unix() {
		return false
	}
	return r.Status == StatusCompleted || r.LockExpiry.UnixMilli() >= now.UnixMilli()
}

// Claim is a request to take the lock on a key.
type Claim struct {
	// Key is the stored id.
	KeyHash string
	// Owner is the fresh random token of this claim (fencing).
	Owner string
	// Now is the time the claim is judged at. It comes from the Guard's
	// clock, so stores need no clock of their own.
	Now time.Time
	// LockExpiry is when the lock dies if the claimer never finishes.
	LockExpiry time.Time
	// Expiry is when the INPROGRESS record dies (garbage if the claimer
	// crashed); Complete moves it.
	Expiry time.Time
	// Validation is the hex SHA-256 of the payload, empty without one.
	Validation string
}

// Completion is a request to mark a claimed record COMPLETED.
type Completion struct {
	// Key is the stored id.
	KeyHash string
	// Owner is the token of the claim that must still own the record.
	Owner string
	// Data is the JSON result; nil stores none.
	Data []byte
	// Expiry is when the completed record dies.
	Expiry time.Time
}

// MaxItemSize is DynamoDB's item size limit (400 KB), which both stores
// enforce, so that a result the memory store accepts in a unit test also
// fits in the table.
const MaxItemSize = 400 * 1024

// recordReserve is what the non-key, non-data attributes of a record may take
// at most: status (9 bytes), two numbers (≤ 21 bytes each), owner (26),
// validation (64), with room to spare for DynamoDB's per-attribute overhead.
const recordReserve = 256

// maxDataSize returns the largest data attribute a record can hold, given the
// total length of its attribute names and key values. It is conservative:
// DynamoDB counts an item as the sum of its attribute names and values.
func maxDataSize(namesAndKeys int) int {
	return MaxItemSize - namesAndKeys - recordReserve
}
