// Package retry decides what a failure means for the record that caused it.
//
// Every failure has a Class (no failure has ClassNone, the zero value). Retryable failures (the default, and what
// throttling, 5xx answers, timeouts and cancelled contexts are) bring the
// record back after a delay; permanent failures (retry.Permanent, and AWS
// errors that say the request itself is wrong) send it to the dead-letter
// queue at once. Classify is the one function that decides, in one switch.
//
// Packages that must not import retry take part through method sets that
// Classify and Backoff.Delay find with errors.As: an error with
// Permanent() bool states its class, an error with RetryAt() time.Time or
// RetryAfter() time.Duration states when to come back.
//
// Backoff is the delay policy: min(Max, Base·2^(n-1)) with jitter, bounded
// by SQS's 12-hour visibility limit, with an injectable random source and
// clock so tests decide exactly.
//
//	err := chargeCard(ctx, order)
//	if errors.Is(err, errCardDeclined) {
//		return retry.Permanent(err) // no point trying again
//	}
//	return err // retryable: the SQS record comes back after the backoff
package retry
