package producer

import (
	"errors"
	"fmt"
)

// Result is what happened to one message or event of a send.
type Result struct {
	// MessageID is the id SQS or EventBridge gave the entry; empty when it
	// was not sent. It is also set beside an *AlteredError: SQS took the
	// entry with another body, and it is in the queue.
	MessageID string
	// SequenceNumber is the FIFO sequence number SQS gave the message;
	// empty for standard queues and events.
	SequenceNumber string
	// Attempts is how many requests carried the entry (0 when it was
	// refused before any request: too large, not encodable).
	Attempts int
	// Err is why the entry was not sent; nil when it was. Classify it with
	// retry.Classify: a permanent error fails the same way every time.
	Err error
}

// Sent reports whether the entry was accepted.
func (r Result) Sent() bool { return r.Err == nil }

// Errors of a send. Match them with errors.Is.
var (
	// ErrNotSent is matched by the *SendError a SendBatch or PutBatch
	// returns when any entry was not sent.
	ErrNotSent = errors.New("producer: not every entry was sent")
	// ErrTooLarge is matched by a *TooLargeError: the entry is over the
	// size limit, so it was not sent.
	ErrTooLarge = errors.New("producer: entry over the size limit")
	// ErrGroupFailed means a FIFO message was not sent because an earlier
	// message of its group failed for good in the same send: sending it
	// would have broken the group's order.
	ErrGroupFailed = errors.New("producer: an earlier message of the FIFO group was not sent")
	// ErrConfig means a QueueConfig or BusConfig is unusable; the
	// constructor returns it wrapped with the reason.
	ErrConfig = errors.New("producer: invalid config")
)

// SendError summarises the entries of a batch send that were not sent.
// Each entry's own Result says why; nothing was dropped silently.
type SendError struct {
	// Failed is how many entries were not sent, of Total.
	Failed, Total int
	// First is the first failed entry's index and error.
	FirstIndex int
	First      error
}

// Error says how many entries failed and why the first did.
func (e *SendError) Error() string {
	return fmt.Sprintf("producer: %d of %d entries not sent; entry %d: %v", e.Failed, e.Total, e.FirstIndex, e.First)
}

// Is matches ErrNotSent.
func (e *SendError) Is(target error) bool { return target == ErrNotSent }

// Unwrap returns the first failure, so retry.Classify sees its class.
func (e *SendError) Unwrap() error { return e.First }

// TooLargeError says that an entry is over the limit of its destination:
// the queue's MaximumMessageSize, or EventBridge's 1 MiB per request.
// It is permanent: the same entry is too large every time.
type TooLargeError struct {
	// Size is the entry's size as the service counts it (body plus
	// attributes for SQS, EventBridge's entry-size rule for events).
	Size int
	// Max is the limit.
	Max int
	// Limit names where Max comes from.
	Limit string
}

// Error says how large the entry is and which limit it exceeds.
func (e *TooLargeError) Error() string {
	return fmt.Sprintf("producer: entry is %d bytes, over the %d-byte %s", e.Size, e.Max, e.Limit)
}

// Is matches ErrTooLarge.
func (e *TooLargeError) Is(target error) bool { return target == ErrTooLarge }

// Permanent reports true: pkg/retry classifies it as permanent.
func (e *TooLargeError) Permanent() bool { return true }

// permanentError marks an error no retry can change (an encoding failure)
// without importing retry's wrapper into the public error chain twice.
type permanentError struct{ err error }

func (e *permanentError) Error() string   { return e.err.Error() }
func (e *permanentError) Unwrap() error   { return e.err }
func (e *permanentError) Permanent() bool { return true }

// summarise returns the SendError for results, or nil when every entry
// was sent.
func summarise(results []Result) error {
	var se *SendError
	for i, r := range results {
		if r.Err == nil {
			continue
		}
		if se == nil {
			se = &SendError{Total: len(results), FirstIndex: i, First: r.Err}
		}
		se.Failed++
	}
	if se == nil {
		return nil
	}
	return se
}
