package checkpoint

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"
)

// Checkpoint is the stored position of one named cursor.
type Checkpoint struct {
	// Name identifies the cursor: one per poller and source.
	Name string
	// Cursor is the source's position: where the next page starts. Empty
	// before the first commit: the source's beginning.
	Cursor string
	// Version counts the commits. A commit must name the version it moves
	// from, so the same holder cannot move the cursor twice from one read.
	Version int64
	// Watermark is the source time the cursor has reached (the newest item
	// read so far), when the source knows it; zero otherwise. The lag of a
	// poller is now minus Watermark.
	Watermark time.Time
	// UpdatedAt is when the cursor last moved; zero before the first
	// commit.
	UpdatedAt time.Time
}

// Lease is a holder's claim on a checkpoint: the checkpoint as the holder
// read it, its owner token, and when the claim dies. Only the holder of a
// live lease can move the cursor.
type Lease struct {
	Checkpoint
	// Owner is the fencing token of this claim, unique per Acquire.
	Owner string
	// Expiry is when the lease dies and another holder may take the
	// checkpoint over. A holder must finish its work before then.
	Expiry time.Time
}

// Position is where a commit moves the cursor.
type Position struct {
	// Cursor is the new position.
	Cursor string
	// Watermark is the source time reached, zero when unknown: the stored
	// watermark is then left as it was.
	Watermark time.Time
}

// Store keeps checkpoints under leases. DynamoDBStore and MemoryStore
// implement it with the same semantics, checked by one shared test suite:
//
//   - Acquire takes a checkpoint that nobody holds, or whose lease has
//     died, for ttl; it fails with a *HeldError while another lease lives.
//   - Commit moves the cursor only for the current owner, from the version
//     it read, while its lease lives; anything else is ErrLeaseLost and
//     changes nothing. A holder whose lease died — taken over or not — can
//     no longer move the cursor, so a page it read may be read again by the
//     next holder but is never skipped, and two holders never both commit
//     the same page.
//   - Release gives the lease up (ErrLeaseLost when it is not the
//     caller's any more); the cursor stays.
//
// Times come from the store's clock.
type Store interface {
	Acquire(ctx context.Context, name string, ttl time.Duration) (Lease, error)
	Commit(ctx context.Context, l Lease, next Position) (Lease, error)
	Release(ctx context.Context, l Lease) error
	Get(ctx context.Context, name string) (Checkpoint, bool, error)
}

// newOwner returns a fresh fencing token: 128 random bits, so two claims
// never share one.
func newOwner() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

// ms truncates t to what a store keeps: milliseconds.
func ms(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return time.UnixMilli(t.UnixMilli())
}
