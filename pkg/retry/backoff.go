package retry

import (
	"errors"
	"math/rand/v2"
	"time"
)

// MaxDelay is the longest delay latch ever asks for: SQS's limit on a
// message's visibility timeout.
const MaxDelay = 12 * time.Hour

// Backoff is the delay policy for retryable failures: attempt n waits
// min(Max, Base·2^(n-1)), less a random share of up to Jitter, never more
// than MaxDelay. The zero value is ready to use.
type Backoff struct {
	// Base is the delay after the first attempt. Zero means 5s: long enough
	// for a throttled or restarting dependency to recover, short enough that
	// a blip costs seconds.
	Base time.Duration
	// Max caps the growth. Zero means 15 minutes, the longest a Lambda
	// function can run, so a retry never waits longer than a whole
	// invocation could have taken. Values above MaxDelay are MaxDelay.
	Max time.Duration
	// Jitter is the largest share of the delay taken off at random, so that
	// records which failed together do not come back together. Zero means
	// 0.25; a negative value turns jitter off; values above 1 are 1.
	Jitter float64
	// Rand returns a number in [0, 1). Nil means math/rand/v2's Float64,
	// which is safe for concurrent use. Tests inject a fixed source.
	Rand func() float64
	// Now tells the time for errors that carry a retry time (RetryAt).
	// Nil means time.Now.
	Now func() time.Time
}

// Default values of Backoff's zero fields.
const (
	DefaultBase   = 5 * time.Second
	DefaultMax    = 15 * time.Minute
	DefaultJitter = 0.25
)

// Delay returns how long a record that failed with err on attempt (1 for
// the first delivery) should wait before it comes back:
//
//   - an error with RetryAfter() time.Duration anywhere in its chain
//     (retry.After) waits that long;
//   - else an error with RetryAt() time.Time (idempotency.ErrInProgress,
//     whose lock dies then) waits until that time;
//   - else the exponential policy applies.
//
// The error's own delays are not jittered and not capped by Max: they are
// facts about the world, not guesses. Every result is in [0, MaxDelay].
func (b Backoff) Delay(err error, attempt int) time.Duration {
	var (
		after retryAfter
		at    retryAt
	)
	if errors.As(err, &after) {
		return clamp(after.RetryAfter())
	}
	if errors.As(err, &at) {
		now := time.Now
		if b.Now != nil {
			now = b.Now
		}
		return clamp(at.RetryAt().Sub(now()))
	}
	return b.exponential(attempt)
}

// exponential is min(Max, Base·2^(attempt-1)) less the jitter.
func (b Backoff) exponential(attempt int) time.Duration {
	base, maxd, jitter := b.Base, b.Max, b.Jitter
	if base <= 0 {
		base = DefaultBase
	}
	if maxd <= 0 {
		maxd = DefaultMax
	}
	maxd = min(maxd, MaxDelay)
	switch {
	case jitter == 0:
		jitter = DefaultJitter
	case jitter < 0:
		jitter = 0
	case jitter > 1:
		jitter = 1
	}
	// Double step by step instead of shifting: base<<(attempt-1) overflows
	// for the large receive counts a long-lived poison message reaches.
	d := min(base, maxd)
	for i := 1; i < attempt && d < maxd; i++ {
		d = min(2*d, maxd)
	}
	if jitter > 0 {
		r := rand.Float64
		if b.Rand != nil {
			r = b.Rand
		}
		d -= time.Duration(jitter * r() * float64(d))
	}
	return clamp(d)
}

func clamp(d time.Duration) time.Duration {
	return max(0, min(d, MaxDelay))
}
