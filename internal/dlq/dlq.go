package dlq

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/latchkit/latch/pkg/handler"
)

// Message is a dead-lettered message with latch's reason, when latch sent
// it. A message that SQS itself moved (after maxReceiveCount receives) has
// no reason; its SourceQueue comes from SQS's DeadLetterQueueSourceArn when
// the service sets it.
type Message struct {
	// ID is the message's id in the dead-letter queue.
	ID string
	// SourceID is the message's id in the queue it failed in: the id the
	// outcome logs show. It is latch's source-message-id attribute, or, for
	// a message without it (moved by SQS's own redrive, which keeps the id,
	// or sent by an older latch), ID. Copies of one record share it.
	SourceID      string
	Body          string
	ReceiptHandle string
	// GroupID is the FIFO message group; empty on a standard queue.
	GroupID string
	// SentAt is when the message entered the dead-letter queue.
	SentAt time.Time
	// Error, ErrorClass, Attempts, SourceQueue and FailedAt are latch's
	// reason attributes (handler.DLQAttr*).
	Error      string
	ErrorClass string
	Attempts   int
	// SourceQueue is the ARN of the queue the message failed in.
	SourceQueue string
	FailedAt    time.Time
	// Attributes are the message attributes other than latch's reason.
	Attributes map[string]types.MessageAttributeValue
	// CopyIDs are the dead-letter queue ids of other copies of the same
	// source message, which List folds into this one: a process killed
	// between its DLQ send and the delete of the original sends a record
	// twice. Empty for a message that is there once.
	CopyIDs []string
}

// ByLatch reports whether latch dead-lettered the message (it carries the
// reason), rather than SQS's own redrive.
func (m Message) ByLatch() bool { return m.ErrorClass != "" || m.Error != "" }

// reasonAttrs are the attributes latch writes on a dead-lettered message.
var reasonAttrs = map[string]bool{
	handler.DLQAttrError:           true,
	handler.DLQAttrErrorClass:      true,
	handler.DLQAttrReceiveCount:    true,
	handler.DLQAttrSourceQueue:     true,
	handler.DLQAttrFailedAt:        true,
	handler.DLQAttrSourceMessageID: true,
}

func fromSQS(m types.Message) Message {
	out := Message{
		ID:            aws.ToString(m.MessageId),
		Body:          aws.ToString(m.Body),
		ReceiptHandle: aws.ToString(m.ReceiptHandle),
		GroupID:       m.Attributes[string(types.MessageSystemAttributeNameMessageGroupId)],
		SourceQueue:   m.Attributes[string(types.MessageSystemAttributeNameDeadLetterQueueSourceArn)],
		Attributes:    map[string]types.MessageAttributeValue{},
	}
	if ms, err := strconv.ParseInt(m.Attributes[string(types.MessageSystemAttributeNameSentTimestamp)], 10, 64); err == nil {
		out.SentAt = time.UnixMilli(ms).UTC()
	}
	for name, v := range m.MessageAttributes {
		if !reasonAttrs[name] {
			out.Attributes[name] = v
			continue
		}
		s := aws.ToString(v.StringValue)
		switch name {
		case handler.DLQAttrError:
			out.Error = s
		case handler.DLQAttrErrorClass:
			out.ErrorClass = s
		case handler.DLQAttrReceiveCount:
			out.Attempts, _ = strconv.Atoi(s)
		case handler.DLQAttrSourceQueue:
			out.SourceQueue = s
		case handler.DLQAttrFailedAt:
			out.FailedAt, _ = time.Parse(time.RFC3339Nano, s)
		case handler.DLQAttrSourceMessageID:
			out.SourceID = s
		}
	}
	if out.SourceID == "" {
		out.SourceID = out.ID
	}
	return out
}

// ErrNoQueue is the error for a queue name that SQS does not know.
var ErrNoQueue = errors.New("no such queue")

// QueueURL resolves a queue given as a URL, an ARN or a name.
func QueueURL(ctx context.Context, client *sqs.Client, queue string) (string, error) {
	if strings.HasPrefix(queue, "https://") || strings.HasPrefix(queue, "http://") {
		return queue, nil
	}
	in := &sqs.GetQueueUrlInput{QueueName: aws.String(queue)}
	if a, err := arn.Parse(queue); err == nil {
		if a.Service != "sqs" {
			return "", fmt.Errorf("%s is not an SQS queue ARN", queue)
		}
		in.QueueName, in.QueueOwnerAWSAccountId = aws.String(a.Resource), aws.String(a.AccountID)
	}
	out, err := client.GetQueueUrl(ctx, in)
	if err != nil {
		var missing *types.QueueDoesNotExist
		if errors.As(err, &missing) {
			return "", fmt.Errorf("%w: %s", ErrNoQueue, queue)
		}
		return "", fmt.Errorf("look up queue %s: %w", queue, err)
	}
	return aws.ToString(out.QueueUrl), nil
}

// Listing is what List saw.
type Listing struct {
	// Messages holds each source message once, however many copies of it
	// the queue holds (Message.CopyIDs names the others).
	Messages []Message
	// Copies counts the extra copies folded into Messages.
	Copies int
	// Hidden counts messages the queue reported but List could not see: on a
	// FIFO queue, a message group shows at most its first receive batch until
	// those messages leave the queue.
	Hidden int
}

// holdFor is how long List and Redrive keep a received message invisible
// while they work; they hand it back (visibility 0) as soon as they are
// done with it, so this matters only if the process dies.
const holdFor = 30 * time.Second

// List returns up to max (all when max <= 0) messages of the queue at url
// without consuming them: it receives them, which SQS has no way around
// (receive counts go up by one), and makes each visible again at once.
// Messages are sorted by the time they failed, oldest first.
func List(ctx context.Context, client *sqs.Client, url string, max int) (*Listing, error) {
	depth, err := visibleCount(ctx, client, url)
	if err != nil {
		return nil, err
	}
	var seen []Message
	ids := map[string]bool{}
	release := func() error { return setVisible(context.WithoutCancel(ctx), client, url, seen) }
	for max <= 0 || len(seen) < max {
		batch, err := receive(ctx, client, url, remaining(max, len(seen)))
		if err != nil {
			return nil, errors.Join(err, release())
		}
		fresh := 0
		for _, m := range batch {
			if !ids[m.ID] {
				ids[m.ID] = true
				seen = append(seen, m)
				fresh++
			}
		}
		if fresh == 0 {
			break
		}
	}
	if err := release(); err != nil {
		return nil, err
	}
	received := len(seen)
	sort.SliceStable(seen, func(i, j int) bool { return failedAt(seen[i]).Before(failedAt(seen[j])) })
	l := &Listing{Messages: collapse(seen)}
	l.Copies = received - len(l.Messages)
	if max <= 0 && depth > received {
		l.Hidden = depth - received
	}
	return l, nil
}

func failedAt(m Message) time.Time {
	if !m.FailedAt.IsZero() {
		return m.FailedAt
	}
	return m.SentAt
}

func remaining(max, have int) int {
	if max <= 0 || max-have > 10 {
		return 10
	}
	return max - have
}

func visibleCount(ctx context.Context, client *sqs.Client, url string) (int, error) {
	out, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url), AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessages},
	})
	if err != nil {
		return 0, fmt.Errorf("queue %s: %w", url, err)
	}
	n, _ := strconv.Atoi(out.Attributes[string(types.QueueAttributeNameApproximateNumberOfMessages)])
	return n, nil
}

func receive(ctx context.Context, client *sqs.Client, url string, n int) ([]Message, error) {
	out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(url),
		MaxNumberOfMessages:         int32(n),
		VisibilityTimeout:           int32(holdFor / time.Second),
		WaitTimeSeconds:             1,
		MessageAttributeNames:       []string{"All"},
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
	})
	if err != nil {
		return nil, fmt.Errorf("receive from %s: %w", url, err)
	}
	msgs := make([]Message, len(out.Messages))
	for i, m := range out.Messages {
		msgs[i] = fromSQS(m)
	}
	return msgs, nil
}

// setVisible makes the messages visible again at once.
func setVisible(ctx context.Context, client *sqs.Client, url string, msgs []Message) error {
	var errs []error
	for i := 0; i < len(msgs); i += 10 {
		var entries []types.ChangeMessageVisibilityBatchRequestEntry
		for j, m := range msgs[i:min(i+10, len(msgs))] {
			entries = append(entries, types.ChangeMessageVisibilityBatchRequestEntry{
				Id: aws.String(strconv.Itoa(j)), ReceiptHandle: aws.String(m.ReceiptHandle), VisibilityTimeout: 0,
			})
		}
		out, err := client.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(url), Entries: entries})
		if err != nil {
			errs = append(errs, fmt.Errorf("make messages visible again in %s: %w", url, err))
			continue
		}
		for _, f := range out.Failed {
			errs = append(errs, fmt.Errorf("make a message visible again in %s: %s %s", url, aws.ToString(f.Code), aws.ToString(f.Message)))
		}
	}
	return errors.Join(errs...)
}
