package producer

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/latchkit/latch/internal/batch"
	"github.com/latchkit/latch/internal/clock"
	"github.com/latchkit/latch/pkg/retry"
)

// RetryConfig bounds the retries of entries a service did not accept.
// The zero value retries each entry up to 5 times with a 100 ms base
// backoff capped at 5 s.
type RetryConfig struct {
	// MaxAttempts is the most requests that carry one entry. Zero means 5:
	// enough to ride out a throttling burst, few enough to fit well inside a
	// Lambda invocation. 1 turns retries off.
	MaxAttempts int
	// Backoff spaces the attempts; its zero fields take the defaults below
	// rather than retry.Backoff's, which are sized for SQS redeliveries
	// (seconds to minutes), not for waiting inside one invocation.
	Backoff retry.Backoff
	// Sleep waits d or until ctx ends. Nil waits on a timer. Tests inject
	// one that records the delays and returns at once.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Defaults of RetryConfig's zero fields. DefaultRetryMaxAttempts is 5
// where handler.DefaultSQSMaxAttempts is 20 because they count different
// things: these attempts are requests made within one invocation, a few
// hundred milliseconds apart, while the SQS processor's are redeliveries
// spread over hours.
const (
	DefaultRetryMaxAttempts = 5
	DefaultRetryBase        = 100 * time.Millisecond
	DefaultRetryMax         = 5 * time.Second
)

func (c RetryConfig) withDefaults() RetryConfig {
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = DefaultRetryMaxAttempts
	}
	if c.Backoff.Base <= 0 {
		c.Backoff.Base = DefaultRetryBase
	}
	if c.Backoff.Max <= 0 {
		c.Backoff.Max = DefaultRetryMax
	}
	if c.Sleep == nil {
		c.Sleep = clock.Sleep
	}
	return c
}

// pending is an entry still to be sent: its index in the caller's input,
// the request entry, and its FIFO group ("" for none).
type pending[E any] struct {
	i     int
	entry E
	group string
}

// sent is what a request said about one entry: ids when it was accepted,
// an error when it was not.
type sent struct {
	id, seq string
	err     error
}

// caller sends one batch and reports per entry, in order. A non-nil error
// means the request as a whole failed: no entry's fate is known.
type caller[E any] func(ctx context.Context, entries []E) ([]sent, error)

// deliver sends items in packed batches until each is accepted, fails
// permanently, or runs out of attempts, writing each item's fate into
// res[item.i]. It never drops an item: every one ends with ids or an
// error.
//
// With fifo set, order within a group is kept across retries: once an
// entry of a group fails, the group's later entries wait behind it, and are
// sent only in a request after the one that carries it again and accepts
// it; once it fails for good they are not sent at all (ErrGroupFailed).
// Entries of a group that one request accepted after a failed entry of the
// same group cannot be recalled: the request is the unit SQS orders by.
//
// dead maps a FIFO group to the index of its first entry that failed for
// good before deliver (too large, say): the group's later entries are not
// sent either. It may be nil.
func deliver[E any](ctx context.Context, rc RetryConfig, fifo bool, items []pending[E], size func(E) int, lim batch.Limits, call caller[E], res []Result, dead map[string]int) {
	if dead == nil {
		dead = map[string]int{}
	}
	isDead := func(it pending[E]) bool {
		d, ok := dead[it.group]
		return ok && it.i > d
	}
	for attempt := 1; len(items) > 0; attempt++ {
		var (
			retryItems []pending[E]
			lastErr    error
			blocked    = map[string]bool{} // FIFO groups with a failed entry this round
		)
		fail := func(it pending[E], err error) {
			res[it.i].Err = err
			final := retry.Classify(err) == retry.ClassPermanent || res[it.i].Attempts >= rc.MaxAttempts
			if fifo {
				if final {
					if d, ok := dead[it.group]; !ok || it.i < d {
						dead[it.group] = it.i
					}
				} else {
					blocked[it.group] = true
				}
			}
			if !final {
				retryItems = append(retryItems, it)
				lastErr = err
			}
		}
		remaining := items
		for len(remaining) > 0 {
			var send []pending[E]
			retrying := map[string]bool{} // FIFO groups whose retried entry is in send
			for _, it := range remaining {
				switch {
				case fifo && isDead(it):
					res[it.i].Err = fmt.Errorf("%w: group %q", ErrGroupFailed, it.group)
				case fifo && (blocked[it.group] || retrying[it.group]):
					// Waits behind the group's failed entry: sent in a later
					// request than that entry, once it is accepted.
					retryItems = append(retryItems, it)
				default:
					send = append(send, it)
					if fifo && res[it.i].Attempts > 0 {
						retrying[it.group] = true
					}
				}
			}
			if len(send) == 0 {
				break
			}
			if err := ctx.Err(); err != nil {
				for _, it := range send {
					res[it.i].Err = notSent(err, res[it.i].Err)
				}
				for _, it := range retryItems {
					res[it.i].Err = notSent(err, res[it.i].Err)
				}
				return
			}
			entries := make([]E, len(send))
			for k, it := range send {
				entries[k] = it.entry
			}
			batches, err := batch.Pack(entries, size, lim)
			if err != nil {
				// Sizes are checked before deliver; an entry over the batch
				// limit here is a bug, reported per entry, not a panic.
				for _, it := range send {
					fail(it, &permanentError{err})
				}
				break
			}
			cur := send[:len(batches[0])]
			remaining = send[len(cur):]
			for _, it := range cur {
				res[it.i].Attempts++
			}
			outs, err := call(ctx, batches[0])
			if err == nil && len(outs) != len(cur) {
				err = fmt.Errorf("producer: service answered for %d of %d entries", len(outs), len(cur))
			}
			for k, it := range cur {
				switch {
				case err != nil:
					fail(it, err)
				case outs[k].err != nil:
					// An entry SQS took with an altered body keeps its id:
					// it is in the queue (its error is permanent).
					res[it.i].MessageID = outs[k].id
					fail(it, outs[k].err)
				default:
					res[it.i] = Result{MessageID: outs[k].id, SequenceNumber: outs[k].seq, Attempts: res[it.i].Attempts}
				}
			}
		}
		if len(retryItems) == 0 {
			return
		}
		// Back in input order, so a group's entries stay in order.
		slices.SortFunc(retryItems, func(a, b pending[E]) int { return a.i - b.i })
		if lastErr == nil { // only held-back entries: no failure to wait for
			items = retryItems
			continue
		}
		if err := rc.Sleep(ctx, rc.Backoff.Delay(lastErr, attempt)); err != nil {
			for _, it := range retryItems {
				res[it.i].Err = notSent(err, res[it.i].Err)
			}
			return
		}
		items = retryItems
	}
}

// notSent is the error of an entry given up because ctx ended, keeping the
// entry's last failure, if any, in the text and the chain.
func notSent(ctxErr, last error) error {
	if last == nil {
		return fmt.Errorf("producer: not sent: %w", ctxErr)
	}
	return fmt.Errorf("producer: not sent: %w (last failure: %w)", ctxErr, last)
}
