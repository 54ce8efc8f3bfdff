package retry

import (
	"fmt"
	"time"
)

// PermanentError marks a failure that will fail the same way every time: an
// SQS record with this error goes to the dead-letter queue at once. Create
// one with Permanent. Its name is stable: Lambda shows it to callers as the
// error type.
type PermanentError struct {
	// Err is the failure marked permanent.
	Err error
}

// Permanent marks err as permanent. Permanent(nil) is nil, so the result of
// a call can be wrapped without a check.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &PermanentError{Err: err}
}

// Error returns the text of the wrapped error: the mark changes what happens
// to the record, not what went wrong.
func (e *PermanentError) Error() string { return e.Err.Error() }

// Unwrap returns the wrapped error.
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent reports true. Classify looks for this method, not for the type,
// so other packages mark their own errors permanent without importing retry.
func (e *PermanentError) Permanent() bool { return true }

// Is matches any *PermanentError, so errors.Is(err, &PermanentError{}) tells
// whether err was marked permanent anywhere in its chain.
func (e *PermanentError) Is(target error) bool {
	_, ok := target.(*PermanentError)
	return ok
}

// AfterError asks for a retry after a specific delay instead of the backoff
// policy's. Create one with After.
type AfterError struct {
	// Err is the failure to retry.
	Err error
	// Delay is how long the record waits before it comes back.
	Delay time.Duration
}

// After asks for err to be retried after d, overriding the backoff policy
// (a downstream service said when to come back, say). The delay is still
// bounded by MaxDelay. After(d, nil) is nil.
func After(d time.Duration, err error) error {
	if err == nil {
		return nil
	}
	return &AfterError{Err: err, Delay: d}
}

// Error returns the wrapped error's text with the requested delay.
func (e *AfterError) Error() string {
	return fmt.Sprintf("%v (retry after %v)", e.Err, e.Delay)
}

// Unwrap returns the wrapped error.
func (e *AfterError) Unwrap() error { return e.Err }

// RetryAfter returns the requested delay. Backoff.Delay looks for this
// method, not for the type.
func (e *AfterError) RetryAfter() time.Duration { return e.Delay }

// Is matches any *AfterError.
func (e *AfterError) Is(target error) bool {
	_, ok := target.(*AfterError)
	return ok
}
