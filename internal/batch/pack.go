package batch

import (
	"errors"
	"fmt"
)

// Limits bound one batch request.
type Limits struct {
	// MaxEntries is the most entries in one batch. Zero means 10, the
	// limit of both SendMessageBatch and PutEvents.
	MaxEntries int
	// MaxBytes is the most bytes, as the service counts them, of all the
	// entries of one batch together. Zero means no size limit (count
	// only), which is right only for entries too small to matter.
	MaxBytes int
}

// DefaultMaxEntries is the entry limit of SendMessageBatch and PutEvents.
const DefaultMaxEntries = 10

// ErrTooLarge is matched by a *TooLargeError: one entry alone is over the
// batch size limit, so no batch can carry it.
var ErrTooLarge = errors.New("batch: entry over the request size limit")

// TooLargeError says which entry cannot be sent in any batch, and why.
type TooLargeError struct {
	// Index is the entry's position in the input.
	Index int
	// Size is the entry's size as the service counts it.
	Size int
	// Max is the limit it exceeds.
	Max int
}

// Error describes the entry and the limit.
func (e *TooLargeError) Error() string {
	return fmt.Sprintf("batch: entry %d is %d bytes, over the %d-byte request limit", e.Index, e.Size, e.Max)
}

// Is matches ErrTooLarge.
func (e *TooLargeError) Is(target error) bool { return target == ErrTooLarge }

// Pack splits entries into batches of at most lim.MaxEntries entries whose
// sizes (by size) sum to at most lim.MaxBytes. Batches are consecutive,
// order-preserving sub-slices of entries (they share its backing array), so
// batch k starts at the sum of the lengths of batches 0..k-1. Packing is
// greedy: a batch is closed only when the next entry does not fit, which
// keeps the number of requests minimal for an order that may not change.
//
// When an entry is over lim.MaxBytes on its own, Pack returns no batches
// and a *TooLargeError for the first such entry: callers check entries
// first (the producers report such an entry as its own failed result) so
// that nothing is sent partially by accident.
func Pack[E any](entries []E, size func(E) int, lim Limits) ([][]E, error) {
	maxN := lim.MaxEntries
	if maxN <= 0 {
		maxN = DefaultMaxEntries
	}
	var out [][]E
	start, bytes := 0, 0
	for i, e := range entries {
		n := 0
		if lim.MaxBytes > 0 {
			n = size(e)
			if n > lim.MaxBytes {
				return nil, &TooLargeError{Index: i, Size: n, Max: lim.MaxBytes}
			}
		}
		if i-start == maxN || (lim.MaxBytes > 0 && bytes+n > lim.MaxBytes) {
			out = append(out, entries[start:i:i])
			start, bytes = i, 0
		}
		bytes += n
	}
	if start < len(entries) {
		out = append(out, entries[start:len(entries):len(entries)])
	}
	return out, nil
}
