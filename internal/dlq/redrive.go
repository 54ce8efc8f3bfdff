package dlq

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/latchkit/latch/internal/batch"
)

// RedriveOptions configure Redrive.
type RedriveOptions struct {
	// To is the queue (URL, ARN or name) to move every message to. Empty
	// means each message's own source: latch's source-queue attribute, or
	// SQS's DeadLetterQueueSourceArn.
	To string
	// Max bounds how many source messages move; zero means all.
	Max int
	// IDs, when not empty, moves only the messages with one of these ids,
	// source (what the outcome logs and `latch dlq ls` show) or
	// dead-letter. Zero: every message.
	IDs []string
	// Class, when not empty, moves only the messages latch dead-lettered
	// with this error class (retry.Class's text: "permanent",
	// "retryable", ...). Zero: every class, and messages without one.
	Class string
	// DryRun lists where each message would go without moving any.
	DryRun bool
}

// match reports whether m is one the options pick.
func (o RedriveOptions) match(m Message) bool {
	if o.Class != "" && m.ErrorClass != o.Class {
		return false
	}
	if len(o.IDs) == 0 {
		return true
	}
	for _, id := range o.IDs {
		if id == m.SourceID || id == m.ID {
			return true
		}
	}
	return false
}

// Moved is one message Redrive moved (or, in a dry run, would move).
type Moved struct {
	Message Message
	// To is the destination queue's URL.
	To string
	// NewID is the message id in the destination; empty in a dry run.
	NewID string
}

// Failure is a message Redrive did not move, and why. It is still in the
// dead-letter queue, visible again.
type Failure struct {
	Message Message
	Err     error
}

// RedriveResult says what Redrive did.
type RedriveResult struct {
	Moved  []Moved
	Failed []Failure
	// Copies are extra dead-letter copies of a source message this run
	// moved, deleted once the move succeeded (in a dry run: that would be).
	Copies []Message
	// Returned counts messages this run moved that the consumer has
	// dead-lettered again meanwhile. They stay in the dead-letter queue: a
	// redrive moves each message once.
	Returned int
	// Skipped counts messages that RedriveOptions.IDs or Class left alone.
	Skipped int
}

// Err summarises the failures, nil when there are none.
func (r *RedriveResult) Err() error {
	if len(r.Failed) == 0 {
		return nil
	}
	return fmt.Errorf("%d message(s) not moved, still in the dead-letter queue; first: %s: %w", len(r.Failed), r.Failed[0].Message.SourceID, r.Failed[0].Err)
}

// clockSkew is how far the queue's clock (SentTimestamp) may be ahead of
// this process's before a message sent "after the start" is taken for one
// that was there at the start.
const clockSkew = 2 * time.Second

// Redrive moves the messages of the dead-letter queue at dlqURL back to
// their source queues. A message is deleted from the dead-letter queue only
// after the destination accepted it, so none is lost: if the process dies
// between the two, the message is in both, and the handlers' idempotency
// makes the second delivery harmless. latch's reason attributes are dropped
// on the way back; the message's own attributes are kept. On a FIFO
// destination the message keeps its group, its deduplication id is its
// source message id (so a redrive run twice within five minutes sends it
// once), and a message that cannot be sent holds back the rest of its
// group so the order survives.
//
// Redrive moves each source message once, however many copies of it the
// queue holds (the other copies are deleted after the move), and only the
// messages that were in the queue when it started: it stops after as many
// as the queue held then, and leaves alone a message that arrived later,
// in particular one it moved itself that a running consumer has
// dead-lettered again (its source id is the id Redrive's send returned).
// So a redrive always ends, and never makes copies, whatever the consumer
// does meanwhile.
func Redrive(ctx context.Context, client *sqs.Client, dlqURL string, opts RedriveOptions) (res *RedriveResult, err error) {
	res = &RedriveResult{}
	var to string
	if opts.To != "" {
		u, qerr := QueueURL(ctx, client, opts.To)
		if qerr != nil {
			return nil, qerr
		}
		to = u
	}
	started := time.Now()
	budget, err := queueSize(ctx, client, dlqURL)
	if err != nil {
		return nil, err
	}
	dests := map[string]string{} // source ARN → URL
	var held []Message           // not moved: made visible again at the end
	seen := map[string]bool{}    // dead-letter ids received
	ours := map[string]bool{}    // ids of the messages this run sent
	moved := map[string]bool{}   // source ids this run moved (or would)
	stuck := map[string]bool{}   // source ids this run could not move
	defer func() {
		// Whatever happens, what this run did not move becomes visible again.
		if verr := setVisible(context.WithoutCancel(ctx), client, dlqURL, held); verr != nil {
			err = errors.Join(err, verr)
		}
	}()
	for budget > 0 && (opts.Max <= 0 || len(res.Moved) < opts.Max) {
		batch, err := receive(ctx, client, dlqURL, 10)
		if err != nil {
			return res, err
		}
		var firsts, copies []Message
		inBatch := map[string]bool{}
		fresh := 0
		for _, m := range batch {
			switch {
			case seen[m.ID]:
				// One this run left alone, back after its hold: keep its
				// newest receipt handle for the release.
				held = append(held, m)
				continue
			case ours[m.SourceID] || m.SentAt.After(started.Add(clockSkew)):
				// Not in the queue when the run started: a message it moved,
				// dead-lettered again, or a new failure.
				seen[m.ID] = true
				if ours[m.SourceID] {
					res.Returned++
				}
				held = append(held, m)
				fresh++
				continue
			}
			seen[m.ID] = true
			fresh++
			budget--
			switch {
			case !opts.match(m):
				res.Skipped++
				held = append(held, m)
			case moved[m.SourceID] || inBatch[m.SourceID]:
				copies = append(copies, m)
			case stuck[m.SourceID] || (opts.Max > 0 && len(res.Moved)+len(firsts) >= opts.Max):
				held = append(held, m)
			default:
				inBatch[m.SourceID] = true
				firsts = append(firsts, m)
			}
			if budget == 0 {
				// The rest of this batch arrived after the start; leave it.
				for _, rest := range batch[indexOf(batch, m)+1:] {
					if !seen[rest.ID] {
						held = append(held, rest)
					}
				}
				break
			}
		}
		if fresh == 0 {
			break
		}
		// Group by destination, keeping receive order within each.
		var order []string
		byDest := map[string][]Message{}
		for _, m := range firsts {
			dest := to
			if dest == "" {
				var serr error
				if dest, serr = sourceURL(ctx, client, m, dests); serr != nil {
					res.Failed = append(res.Failed, Failure{Message: m, Err: serr})
					stuck[m.SourceID] = true
					held = append(held, m)
					continue
				}
			}
			if _, ok := byDest[dest]; !ok {
				order = append(order, dest)
			}
			byDest[dest] = append(byDest[dest], m)
		}
		for _, dest := range order {
			if opts.DryRun {
				for _, m := range byDest[dest] {
					res.Moved = append(res.Moved, Moved{Message: m, To: dest})
					moved[m.SourceID] = true
					held = append(held, m)
				}
				continue
			}
			mv, failed, keep := move(ctx, client, dlqURL, dest, byDest[dest])
			for _, x := range mv {
				ours[x.NewID] = true
				moved[x.Message.SourceID] = true
			}
			for _, f := range failed {
				stuck[f.Message.SourceID] = true
			}
			res.Moved = append(res.Moved, mv...)
			res.Failed = append(res.Failed, failed...)
			held = append(held, keep...)
		}
		// A copy goes only once its source message has moved.
		var drop []Message
		for _, m := range copies {
			switch {
			case !moved[m.SourceID]:
				held = append(held, m)
			case opts.DryRun:
				res.Copies = append(res.Copies, m)
				held = append(held, m)
			default:
				drop = append(drop, m)
			}
		}
		if len(drop) > 0 {
			deleted, derr := deleteAll(ctx, client, dlqURL, drop)
			res.Copies = append(res.Copies, deleted...)
			if derr != nil {
				return res, fmt.Errorf("delete copies of moved messages: %w", derr)
			}
		}
	}
	return res, nil
}

func indexOf(msgs []Message, m Message) int {
	for i := range msgs {
		if msgs[i].ID == m.ID {
			return i
		}
	}
	return len(msgs)
}

// queueSize is how many messages the queue holds, visible or not.
func queueSize(ctx context.Context, client *sqs.Client, url string) (int, error) {
	out, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url),
		AttributeNames: []types.QueueAttributeName{
			types.QueueAttributeNameApproximateNumberOfMessages,
			types.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
		},
	})
	if err != nil {
		return 0, fmt.Errorf("queue %s: %w", url, err)
	}
	n := 0
	for _, a := range []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessages, types.QueueAttributeNameApproximateNumberOfMessagesNotVisible} {
		v, _ := strconv.Atoi(out.Attributes[string(a)])
		n += v
	}
	return n, nil
}

// deleteAll deletes msgs from the queue ten at a time and returns those
// deleted.
func deleteAll(ctx context.Context, client *sqs.Client, url string, msgs []Message) ([]Message, error) {
	var done []Message
	var errs []error
	for i := 0; i < len(msgs); i += 10 {
		chunk := msgs[i:min(i+10, len(msgs))]
		var entries []types.DeleteMessageBatchRequestEntry
		for j, m := range chunk {
			entries = append(entries, types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(j)), ReceiptHandle: aws.String(m.ReceiptHandle)})
		}
		out, err := client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(url), Entries: entries})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, ok := range out.Successful {
			n, _ := strconv.Atoi(aws.ToString(ok.Id))
			done = append(done, chunk[n])
		}
		for _, f := range out.Failed {
			errs = append(errs, fmt.Errorf("%s %s", aws.ToString(f.Code), aws.ToString(f.Message)))
		}
	}
	return done, errors.Join(errs...)
}

// sourceURL finds the queue a message came from.
func sourceURL(ctx context.Context, client *sqs.Client, m Message, cache map[string]string) (string, error) {
	if m.SourceQueue == "" {
		return "", errors.New("the message names no source queue (no latch reason, no DeadLetterQueueSourceArn): redrive it with --to")
	}
	if u, ok := cache[m.SourceQueue]; ok {
		return u, nil
	}
	u, err := QueueURL(ctx, client, m.SourceQueue)
	if err != nil {
		return "", fmt.Errorf("source queue: %w", err)
	}
	cache[m.SourceQueue] = u
	return u, nil
}

// move sends msgs to dest and deletes from the DLQ those dest accepted. It
// returns the moved, the failed, and those to make visible again.
func move(ctx context.Context, client *sqs.Client, dlqURL, dest string, msgs []Message) ([]Moved, []Failure, []Message) {
	fifo := strings.HasSuffix(dest, ".fifo")
	var moved []Moved
	var failed []Failure
	var keep []Message
	blocked := map[string]bool{} // FIFO groups with a message that did not go
	// Cut by size as well as count: ten messages of 250 KB are over
	// SendMessageBatch's 1 MiB (BatchRequestTooLong).
	chunks, err := batch.Pack(msgs, func(m Message) int { return batch.SQSMessageSize(m.Body, m.Attributes) }, batch.SQSLimits)
	if err != nil {
		// One message alone over the request limit: SQS would not have
		// taken it into the dead-letter queue either; nothing is sent.
		for _, m := range msgs {
			failed = append(failed, Failure{Message: m, Err: fmt.Errorf("send to %s: %w", dest, err)})
		}
		return nil, failed, msgs
	}
	for _, chunk := range chunks {
		var entries []types.SendMessageBatchRequestEntry
		var sent []Message
		for _, m := range chunk {
			group := m.GroupID
			if group == "" {
				group = m.ID
			}
			if fifo && blocked[group] {
				failed = append(failed, Failure{Message: m, Err: errors.New("held back: an earlier message of its FIFO group was not moved")})
				keep = append(keep, m)
				continue
			}
			e := types.SendMessageBatchRequestEntry{
				Id:          aws.String(strconv.Itoa(len(entries))),
				MessageBody: aws.String(m.Body),
			}
			if len(m.Attributes) > 0 {
				e.MessageAttributes = m.Attributes
			}
			if fifo {
				e.MessageGroupId = aws.String(group)
				e.MessageDeduplicationId = aws.String(m.SourceID)
			}
			entries = append(entries, e)
			sent = append(sent, m)
		}
		if len(entries) == 0 {
			continue
		}
		out, err := client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(dest), Entries: entries})
		if err != nil {
			for _, m := range sent {
				failed = append(failed, Failure{Message: m, Err: fmt.Errorf("send to %s: %w", dest, err)})
				keep = append(keep, m)
				blocked[groupOf(m)] = true
			}
			continue
		}
		newIDs := map[int]string{}
		for _, ok := range out.Successful {
			n, _ := strconv.Atoi(aws.ToString(ok.Id))
			newIDs[n] = aws.ToString(ok.MessageId)
		}
		for _, f := range out.Failed {
			n, _ := strconv.Atoi(aws.ToString(f.Id))
			m := sent[n]
			failed = append(failed, Failure{Message: m, Err: fmt.Errorf("send to %s: %s %s", dest, aws.ToString(f.Code), aws.ToString(f.Message))})
			keep = append(keep, m)
			blocked[groupOf(m)] = true
		}
		// Delete only what the destination accepted.
		var accepted []Message
		var dels []types.DeleteMessageBatchRequestEntry
		for n, m := range sent {
			id, ok := newIDs[n]
			if !ok {
				continue
			}
			dels = append(dels, types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(len(accepted))), ReceiptHandle: aws.String(m.ReceiptHandle)})
			accepted = append(accepted, m)
			moved = append(moved, Moved{Message: m, To: dest, NewID: id})
		}
		if len(dels) == 0 {
			continue
		}
		dout, err := client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(dlqURL), Entries: dels})
		if err != nil {
			for _, m := range accepted {
				failed = append(failed, Failure{Message: m, Err: fmt.Errorf("sent to %s but not deleted from the dead-letter queue (it may be delivered twice): %w", dest, err)})
			}
			continue
		}
		for _, f := range dout.Failed {
			n, _ := strconv.Atoi(aws.ToString(f.Id))
			failed = append(failed, Failure{Message: accepted[n], Err: fmt.Errorf("sent to %s but not deleted from the dead-letter queue (it may be delivered twice): %s %s", dest, aws.ToString(f.Code), aws.ToString(f.Message))})
		}
	}
	return moved, failed, keep
}

func groupOf(m Message) string {
	if m.GroupID != "" {
		return m.GroupID
	}
	return m.ID
}
