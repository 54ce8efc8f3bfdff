package idempotency

import "time"

// TTL returns how long a completed record answers duplicates.
func (g *Guard) TTL() time.Duration { return g.ttl }

// WithTTL returns a Guard that shares g's store, namespace, cache and clock
// but keeps its records for ttl; ttl <= 0 means g's own. It is for one kind
// of request that must be remembered longer than the rest: a schedule tick,
// whose retries can come hours later, under a guard shared with records
// that need only an hour. Records written by either Guard answer both.
func (g *Guard) WithTTL(ttl time.Duration) *Guard {
	c := *g
	if ttl > 0 {
		c.ttl = ttl
	}
	return &c
}
