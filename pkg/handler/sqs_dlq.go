package handler

import (
	"context"
	"errors"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/latchkit/latch/pkg/retry"
)

// Message attributes latch sets on a record it sends to a dead-letter
// queue, so that the DLQ tells why the record is there. Together they use
// six of SQS's ten attributes; the record's own attributes fill the rest,
// in name order, and any that do not fit are dropped (and logged).
const (
	// DLQAttrError is the failure's text (String), cut to DLQErrorTextLimit bytes.
	DLQAttrError = "latch.error"
	// DLQAttrErrorClass is the failure's class (String): retry.Class.String().
	DLQAttrErrorClass = "latch.error_class"
	// DLQAttrReceiveCount is the receive count of the attempt that sent it (Number).
	DLQAttrReceiveCount = "latch.receive_count"
	// DLQAttrSourceQueue is the ARN of the queue the record came from (String).
	DLQAttrSourceQueue = "latch.source_queue"
	// DLQAttrFailedAt is when latch sent it, RFC 3339 in UTC (String).
	DLQAttrFailedAt = "latch.failed_at"
	// DLQAttrSourceMessageID is the record's message id in its source queue
	// (String): the id outcome logs show, and what tells two DLQ copies of
	// one record apart from two records (without SQSConfig.Idempotency, a
	// message delivered twice may be dead-lettered twice).
	DLQAttrSourceMessageID = "latch.source_message_id"
)

// DLQErrorTextLimit bounds the error text kept in DLQAttrError: attributes
// count toward the message's size limit, and a wrapped error can be long.
const DLQErrorTextLimit = 2048

// sqsMaxAttributes is SQS's limit on message attributes per message.
const sqsMaxAttributes = 10

// dlqAttrPrefix marks latch's own attributes. A record redriven from the
// DLQ back to its source still carries them; a new failure replaces them.
const dlqAttrPrefix = "latch."

// ErrNoDLQ means a record had to be dead-lettered but its queue has no
// RedrivePolicy and SQSConfig.DLQURL is empty. The record is reported
// failed and stays in the queue.
var ErrNoDLQ = errors.New("handler: no dead-letter queue for the source queue")

// deadLetter sends the record to the queue's DLQ with the reason, and
// returns the copy's message id and the names of the record's attributes
// left off it. A nil error means SQS has the copy and the original may be
// deleted.
func deadLetter(ctx context.Context, client SQSClient, q *sqsQueue, it *sqsItem, cause error, class retry.Class, now time.Time) (id string, dropped []string, err error) {
	if q.dlqURL == "" {
		return "", nil, ErrNoDLQ
	}
	attrs, dropped := dlqAttributes(it, cause, class, now)
	in := &sqs.SendMessageInput{
		QueueUrl:          aws.String(q.dlqURL),
		MessageBody:       aws.String(it.msg.Body),
		MessageAttributes: attrs,
	}
	if q.dlqFIFO {
		// A FIFO DLQ needs a group: keep the record's, so the DLQ holds each
		// group in order. The message id as deduplication id makes a second
		// send of the same delivery (a timed-out invocation run again) a no-op
		// for five minutes.
		group := it.group
		if group == "" {
			group = it.msg.MessageId
		}
		in.MessageGroupId = aws.String(group)
		in.MessageDeduplicationId = aws.String(it.msg.MessageId)
	}
	out, err := client.SendMessage(ctx, in)
	if err != nil {
		return "", dropped, err
	}
	return aws.ToString(out.MessageId), dropped, nil
}

// dlqAttributes builds the DLQ copy's attributes: latch's reason first, the
// record's own attributes after, in name order, while they fit. It returns
// the names of the ones that did not.
func dlqAttributes(it *sqsItem, cause error, class retry.Class, now time.Time) (map[string]types.MessageAttributeValue, []string) {
	attrs := map[string]types.MessageAttributeValue{
		DLQAttrError:        {DataType: aws.String("String"), StringValue: aws.String(errorText(cause))},
		DLQAttrErrorClass:   {DataType: aws.String("String"), StringValue: aws.String(class.String())},
		DLQAttrReceiveCount: {DataType: aws.String("Number"), StringValue: aws.String(strconv.Itoa(it.attempt))},
		DLQAttrSourceQueue:  {DataType: aws.String("String"), StringValue: aws.String(it.queueARN)},
		DLQAttrFailedAt:     {DataType: aws.String("String"), StringValue: aws.String(now.UTC().Format(time.RFC3339Nano))},
	}
	attrs[DLQAttrSourceMessageID] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(it.msg.MessageId)}
	names := make([]string, 0, len(it.msg.MessageAttributes))
	for name := range it.msg.MessageAttributes {
		if !strings.HasPrefix(name, dlqAttrPrefix) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	var dropped []string
	for _, name := range names {
		v, ok := attributeValue(it.msg.MessageAttributes[name])
		if !ok || len(attrs) == sqsMaxAttributes {
			dropped = append(dropped, name)
			continue
		}
		attrs[name] = v
	}
	return attrs, dropped
}

// attributeValue converts an event's attribute back into the SDK's shape.
// SQS has no list values in practice (the fields are reserved), so an
// attribute with neither a string nor a binary value is not kept.
func attributeValue(a events.SQSMessageAttribute) (types.MessageAttributeValue, bool) {
	v := types.MessageAttributeValue{DataType: aws.String(a.DataType)}
	switch {
	case a.DataType == "":
		return v, false
	case a.StringValue != nil:
		v.StringValue = a.StringValue
	case a.BinaryValue != nil:
		v.BinaryValue = a.BinaryValue
	default:
		return v, false
	}
	return v, true
}

// errorText is err's text cut to DLQErrorTextLimit bytes on a rune boundary.
func errorText(err error) string {
	s := err.Error()
	if s == "" {
		// SQS refuses an empty attribute value.
		return "(empty error text)"
	}
	if len(s) <= DLQErrorTextLimit {
		return s
	}
	const more = "…"
	cut := DLQErrorTextLimit - len(more)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + more
}
