package retry

import "strconv"

// Class says what a failure means for the record that caused it.
type Class int

const (
	// ClassNone is the zero value: no failure, so no class. A report of a
	// record that succeeded (or was a duplicate, or never ran) carries it,
	// so that nothing reads a success as "retryable". Classify returns it
	// only for a nil error.
	ClassNone Class = iota
	// ClassRetryable failures may succeed later: the record comes back after a
	// backoff. It is the class of every error nothing else claims, because
	// retrying a bug costs a few attempts while dropping a message loses data.
	ClassRetryable
	// ClassPermanent failures will fail the same way every time: the record
	// goes to the dead-letter queue at once, with the reason.
	ClassPermanent
)

// String returns the class name used in logs, metrics and DLQ attributes:
// "none", "retryable" or "permanent". A value outside the three is
// "Class(n)", so that a corrupted class is never mistaken for a real one.
func (c Class) String() string {
	switch c {
	case ClassNone:
		return "none"
	case ClassRetryable:
		return "retryable"
	case ClassPermanent:
		return "permanent"
	default:
		return "Class(" + strconv.Itoa(int(c)) + ")"
	}
}
