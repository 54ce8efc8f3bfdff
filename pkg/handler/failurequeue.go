package handler

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/latchkit/latch/pkg/retry"
)

// FailureQueueClient is the part of the SQS API a failure queue needs.
// *sqs.Client satisfies it, as does any SQSClient.
type FailureQueueClient interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

var (
	_ FailureQueueClient = (*sqs.Client)(nil)
	_ FailureQueueClient = SQSClient(nil)
)

// FailureQueue is an SQS queue for the events of asynchronous invocations
// (EventBridge rules, schedules) and the stream records (Kinesis, DynamoDB
// Streams) that failed for good. Lambda's own
// on-failure destination only receives an event after its retries are
// spent, and knows nothing of why it failed; latch sends a permanent
// failure here at once, with the reason, and the invocation succeeds so
// that Lambda does not retry what cannot succeed.
//
// The message body is the invocation's payload as received, so sending it
// back to the function replays the event. Its attributes say why, with the
// same names as the SQS processor's dead-letter copies: DLQAttrError,
// DLQAttrErrorClass, DLQAttrFailedAt, plus FailureAttrSource,
// FailureAttrEventID and, when the source tells it, DLQAttrReceiveCount
// (the attempt).
type FailureQueue struct {
	// URL of the queue. Empty: no failure queue; a permanent failure is
	// returned as the invocation's error like any other, and Lambda's
	// retries and on-failure destination apply.
	URL string
	// Client sends to the queue. Required with URL.
	Client FailureQueueClient
}

// Attributes of a failure queue message, beside the DLQAttr ones.
const (
	// FailureAttrSource is the event source: "aws.events", "aws.scheduler"
	// or a custom event's source (String).
	FailureAttrSource = "latch.source"
	// FailureAttrEventID is the event's id, or the schedule and tick time
	// of a schedule tick (String).
	FailureAttrEventID = "latch.event_id"
	// FailureAttrShard and FailureAttrSequenceNumber place a stream record
	// in its stream (String); the shard only where the record names it
	// (Kinesis).
	FailureAttrShard          = "latch.shard"
	FailureAttrSequenceNumber = "latch.sequence_number"
)

// validate says what is wrong with q, for a message that starts with the
// config's name ("EventBridgeConfig."); nil when q is usable.
func (q FailureQueue) validate() error {
	if q.URL != "" && q.Client == nil {
		return errors.New("FailureQueue.URL is set but its Client is nil: pass an *sqs.Client")
	}
	return nil
}

// send puts the failed event on the queue. A nil error means SQS has it.
func (q FailureQueue) send(ctx context.Context, rec Delivery, payload []byte, cause error, class retry.Class, now time.Time) error {
	str := func(s string) types.MessageAttributeValue {
		return types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(s)}
	}
	attrs := map[string]types.MessageAttributeValue{
		DLQAttrError:      str(errorText(cause)),
		DLQAttrErrorClass: str(class.String()),
		DLQAttrFailedAt:   str(now.UTC().Format(time.RFC3339Nano)),
	}
	if rec.Source != "" {
		attrs[FailureAttrSource] = str(rec.Source)
	}
	if rec.ID != "" {
		attrs[FailureAttrEventID] = str(rec.ID)
	}
	if rec.Shard != "" {
		attrs[FailureAttrShard] = str(rec.Shard)
	}
	if rec.SequenceNumber != "" {
		attrs[FailureAttrSequenceNumber] = str(rec.SequenceNumber)
	}
	if rec.Attempt > 0 {
		attrs[DLQAttrReceiveCount] = types.MessageAttributeValue{DataType: aws.String("Number"), StringValue: aws.String(strconv.Itoa(rec.Attempt))}
	}
	body := string(payload)
	if body == "" {
		body = "{}" // SQS refuses an empty body
	}
	in := &sqs.SendMessageInput{QueueUrl: aws.String(q.URL), MessageBody: aws.String(body), MessageAttributes: attrs}
	if strings.HasSuffix(q.URL, ".fifo") {
		// One group per source keeps the queue's order per source; the event
		// id deduplicates a second send of the same event (an invocation
		// Lambda ran again) for SQS's five-minute window.
		group := rec.Source
		if group == "" {
			group = "latch"
		}
		in.MessageGroupId = aws.String(group)
		if rec.ID != "" {
			in.MessageDeduplicationId = aws.String(dedupID(rec.ID))
		}
	}
	_, err := q.Client.SendMessage(ctx, in)
	return err
}

// dedupID fits an id into SQS's deduplication id: at most 128 characters of
// letters, digits and punctuation. A longer or odd id is replaced by its
// hash, which is just as unique.
func dedupID(id string) string {
	ok := len(id) <= 128
	for i := 0; ok && i < len(id); i++ {
		ok = id[i] > ' ' && id[i] < 0x7f
	}
	if ok {
		return id
	}
	return hashID(id)
}
