package local

import (
	"sort"
	"time"

	"github.com/latchkit/latch/internal/esm"
)

// queueInFlight is the in-flight set of one polled queue.
type queueInFlight struct {
	function string
	queue    string
	set      *esm.InFlight
}

// InFlight is what a queue's mapping received and did not delete: batches
// that failed, that a function's retry left in the queue, or that Stop cut
// short. The queue hands them out again once their visibility timeout has
// passed.
type InFlight struct {
	// Function is the logical id of the function the queue feeds.
	Function string
	// QueueURL is the queue's URL.
	QueueURL string
	// Messages and Batches count what is in flight.
	Messages, Batches int
	// Due is when the last of them becomes visible again, counted from
	// its receive with the queue's visibility timeout (a retry delay the
	// function set moves it).
	Due time.Time
}

// InFlight reports, per polled queue with anything in flight, what is in
// flight now. After Stop it is what the next run (or another consumer)
// will get once the visibility timeouts pass.
func (s *Stack) InFlight() []InFlight {
	var out []InFlight
	for _, q := range s.inflight {
		n, b, due := q.set.Stats()
		if n == 0 {
			continue
		}
		out = append(out, InFlight{Function: q.function, QueueURL: q.queue, Messages: n, Batches: b, Due: due})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].QueueURL < out[j].QueueURL })
	return out
}
