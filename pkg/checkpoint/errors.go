package checkpoint

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors. Match them with errors.Is.
var (
	// ErrHeld means another holder's lease on the checkpoint is live. The
	// concrete type is *HeldError, whose RetryAt says when it dies.
	ErrHeld = errors.New("checkpoint: held by another owner")
	// ErrLeaseLost means the caller's lease died or was taken over, or the
	// checkpoint moved since the caller read it: the commit or release
	// changed nothing. The caller must stop working on what it read.
	ErrLeaseLost = errors.New("checkpoint: lease lost")
	// ErrConfig means a store's config is unusable.
	ErrConfig = errors.New("checkpoint: invalid config")
)

// HeldError says who holds a checkpoint and until when.
type HeldError struct {
	// Name is the checkpoint's name.
	Name string
	// Owner is the holder's token.
	Owner string
	// Expiry is when the holder's lease dies.
	Expiry time.Time
}

// Error names the checkpoint and the end of the lease.
func (e *HeldError) Error() string {
	return fmt.Sprintf("checkpoint: %s held until %s", e.Name, e.Expiry.UTC().Format(time.RFC3339Nano))
}

// Is matches ErrHeld.
func (e *HeldError) Is(target error) bool { return target == ErrHeld }

// RetryAt returns when the lease dies: pkg/retry recognises this method.
func (e *HeldError) RetryAt() time.Time { return e.Expiry }

// StoreError is a failure of the store itself (network, throttling, a
// missing table); it wraps the underlying error for classifiers.
type StoreError struct {
	// Op is "acquire", "commit", "release" or "get".
	Op string
	// Err is the underlying error.
	Err error
}

// Error names the operation and the cause.
func (e *StoreError) Error() string { return "checkpoint: store " + e.Op + ": " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e *StoreError) Unwrap() error { return e.Err }
