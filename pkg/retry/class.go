package retry

// Class says what a failure means for the record that caused it.
type Class int

const (
	// ClassRetryable failures may succeed later: the record comes back after a
	// backoff. It is the class of every error nothing else claims, because
	// retrying a bug costs a few attempts while dropping a message loses data.
	ClassRetryable Class = iota
	// ClassPermanent failures will fail the same way every time: the record
	// goes to the dead-letter queue at once, with the reason.
	ClassPermanent
)

// String returns the class name used in logs, metrics and DLQ attributes.
func (c Class) String() string {
	switch c {
	case ClassPermanent:
		return "permanent"
	default:
		return "retryable"
	}
}
