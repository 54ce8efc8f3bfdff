package local

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

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
	// Messages and Batches count what the runner received and did not
	// delete.
	Messages, Batches int
	// Unseen are the messages in flight on the queue beyond Messages, by
	// the queue's own count (ApproximateNumberOfMessagesNotVisible), which
	// only LeftInFlight reads: a receive that Stop cut short had its
	// messages handed out by the queue while the runner never saw its
	// answer, and another consumer's receives count too.
	Unseen int
	// Due is when the last of them becomes visible again, counted from
	// its receive with the queue's visibility timeout (a retry delay the
	// function set moves it); for messages the runner never saw, from
	// the stop.
	Due time.Time
}

// InFlight reports, per polled queue with anything in flight, what the
// runner holds in flight now, from its own memory. After Stop,
// LeftInFlight says what the queues hold.
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

// LeftInFlight reports, after Stop, per polled queue, what the next run
// (or another consumer) will get once the visibility timeouts pass: the
// runner's own count, and the queue's, which also holds the messages of
// receives the stop cut short. A queue whose count cannot be read is
// reported from memory alone, and its error returned beside.
func (s *Stack) LeftInFlight(ctx context.Context) ([]InFlight, error) {
	var (
		out  []InFlight
		errs []error
	)
	stopped := s.stoppedAt
	if stopped.IsZero() {
		stopped = time.Now()
	}
	for _, q := range s.inflight {
		n, b, due := q.set.Stats()
		left := InFlight{Function: q.function, QueueURL: q.queue, Messages: n, Batches: b, Due: due}
		onQueue, visibility, err := s.notVisible(ctx, q.queue)
		if err != nil {
			errs = append(errs, err)
		} else if onQueue > n {
			left.Unseen = onQueue - n
			// Received at the latest when the stop cut the receive.
			if d := stopped.Add(visibility); d.After(left.Due) {
				left.Due = d
			}
		}
		if n == 0 && left.Unseen == 0 {
			continue
		}
		out = append(out, left)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].QueueURL < out[j].QueueURL })
	return out, errors.Join(errs...)
}

// notVisible reads a queue's count of messages in flight and its
// visibility timeout.
func (s *Stack) notVisible(ctx context.Context, url string) (int, time.Duration, error) {
	a, err := s.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: []types.QueueAttributeName{
		types.QueueAttributeNameApproximateNumberOfMessagesNotVisible, types.QueueAttributeNameVisibilityTimeout,
	}})
	if err != nil {
		return 0, 0, fmt.Errorf("local: messages in flight on %s: %w", url, err)
	}
	n, err := strconv.Atoi(a.Attributes[string(types.QueueAttributeNameApproximateNumberOfMessagesNotVisible)])
	if err != nil {
		return 0, 0, fmt.Errorf("local: messages in flight on %s: %w", url, err)
	}
	secs, err := strconv.Atoi(a.Attributes[string(types.QueueAttributeNameVisibilityTimeout)])
	if err != nil {
		secs = 30 // SQS's default
	}
	return n, time.Duration(secs) * time.Second, nil
}
