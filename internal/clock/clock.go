// Package clock holds the one way latch's packages wait: a sleep that a
// cancelled context cuts short. The retry waits of idempotency.Transact,
// the producers' backoff and the Schedule trigger's wait for a held tick
// all use it, so they all stop at once when the invocation's context ends.
package clock

import (
	"context"
	"time"
)

// Sleep waits for d, or until ctx ends, and returns ctx.Err() if ctx ended
// first. A d of zero or less returns at once with ctx.Err(), so a wait that
// is already due still notices a context that has ended.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
