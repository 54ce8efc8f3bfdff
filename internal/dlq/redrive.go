package dlq

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// RedriveOptions configure Redrive.
type RedriveOptions struct {
	// To is the queue (URL, ARN or name) to move every message to. Empty
	// means each message's own source: latch's source-queue attribute, or
	// SQS's DeadLetterQueueSourceArn.
	To string
	// Max bounds how many messages move; zero means all.
	Max int
	// DryRun lists where each message would go without moving any.
	DryRun bool
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
}

// Err summarises the failures, nil when there are none.
func (r *RedriveResult) Err() error {
	if len(r.Failed) == 0 {
		return nil
	}
	return fmt.Errorf("%d message(s) not moved, still in the dead-letter queue; first: %s: %w", len(r.Failed), r.Failed[0].Message.ID, r.Failed[0].Err)
}

// Redrive moves the messages of the dead-letter queue at dlqURL back to
// their source queues. A message is deleted from the dead-letter queue only
// after the destination accepted it, so none is lost: if the process dies
// between the two, the message is in both, and the handlers' idempotency
// makes the second delivery harmless. latch's reason attributes are dropped
// on the way back; the message's own attributes are kept. On a FIFO
// destination the message keeps its group, its deduplication id is its
// dead-letter message id (so a redrive run twice within five minutes sends
// it once), and a message that cannot be sent holds back the rest of its
// group so the order survives.
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
	dests := map[string]string{} // source ARN → URL
	var held []Message           // not moved: made visible again at the end
	done := map[string]bool{}
	defer func() {
		// Whatever happens, what this run did not move becomes visible again.
		if verr := setVisible(context.WithoutCancel(ctx), client, dlqURL, held); verr != nil {
			err = errors.Join(err, verr)
		}
	}()
	for opts.Max <= 0 || len(res.Moved) < opts.Max {
		batch, err := receive(ctx, client, dlqURL, remaining(opts.Max, len(res.Moved)))
		if err != nil {
			return res, err
		}
		var fresh []Message
		for _, m := range batch {
			if done[m.ID] {
				// One this run could not move, back after its hold: keep
				// its newest receipt handle for the release.
				held = append(held, m)
				continue
			}
			done[m.ID] = true
			fresh = append(fresh, m)
		}
		if len(fresh) == 0 {
			break
		}
		// Group by destination, keeping receive order within each.
		var order []string
		byDest := map[string][]Message{}
		for _, m := range fresh {
			dest := to
			if dest == "" {
				var serr error
				if dest, serr = sourceURL(ctx, client, m, dests); serr != nil {
					res.Failed = append(res.Failed, Failure{Message: m, Err: serr})
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
					held = append(held, m)
				}
				continue
			}
			moved, failed, keep := move(ctx, client, dlqURL, dest, byDest[dest])
			res.Moved = append(res.Moved, moved...)
			res.Failed = append(res.Failed, failed...)
			held = append(held, keep...)
		}
	}
	return res, nil
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
	for i := 0; i < len(msgs); i += 10 {
		chunk := msgs[i:min(i+10, len(msgs))]
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
				e.MessageDeduplicationId = aws.String(m.ID)
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
