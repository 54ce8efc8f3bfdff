// Package clocktest has the settable clock that the tests of latch's
// time-judging stores (idempotency, checkpoint) inject, so that they test
// expiry by moving the clock, never by sleeping.
package clocktest

import (
	"sync"
	"time"
)

// Clock is a clock that moves only when told. It is safe for concurrent
// use: a store reads it while the test advances it.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// New returns a Clock that reads t until advanced.
func New(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time; pass the method value as a store's clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock d forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
