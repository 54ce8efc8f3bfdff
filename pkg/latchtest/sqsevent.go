package latchtest

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/latchkit/latch/pkg/handler"
)

// The account and region of every ARN and URL the builders and fakes make.
const (
	Region  = "us-east-1"
	Account = "123456789012"
)

// QueueARN returns the ARN of the named queue in Region and Account, the
// eventSourceARN of records built for it.
func QueueARN(name string) string { return "arn:aws:sqs:" + Region + ":" + Account + ":" + name }

// QueueURL returns the URL of the named queue, as the SQS fake answers it.
func QueueURL(name string) string {
	return "https://sqs." + Region + ".amazonaws.com/" + Account + "/" + name
}

// DefaultGroupID is the message group of a FIFO record built without one.
const DefaultGroupID = "group-1"

// Message describes one SQS record to build. Every field has a default, so
// Message{Body: "..."} is a valid first delivery.
type Message struct {
	// ID is the message id. Default "m-<n>", n the record's position in
	// the event from 1.
	ID string
	// Body is the message body, JSON for most handlers (see JSON).
	Body string
	// Attempt is the ApproximateReceiveCount. Default 1, the first
	// delivery; the queue's maxReceiveCount makes it the last one.
	Attempt int
	// GroupID is the MessageGroupId. On a FIFO queue (a name ending in
	// ".fifo") the default is DefaultGroupID; elsewhere it is not set.
	GroupID string
	// DeduplicationID is the MessageDeduplicationId of a FIFO record.
	// Default the message id.
	DeduplicationID string
	// Attributes are String message attributes, as a producer set them.
	Attributes map[string]string
	// CorrelationID, when set, is the handler.CorrelationIDAttribute
	// message attribute.
	CorrelationID string
	// SentAt is the SentTimestamp. Default 2026-01-01T00:00:00Z, so that
	// events are the same on every run.
	SentAt time.Time
}

// defaultSentAt keeps built events stable from run to run.
var defaultSentAt = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// SQSEvent returns the event Lambda would deliver for msgs received
// together from the named queue: each record with a message id, receipt
// handle, the queue's ARN, event source and region, and the system
// attributes the processor reads.
func SQSEvent(queue string, msgs ...Message) events.SQSEvent {
	ev := events.SQSEvent{Records: make([]events.SQSMessage, 0, len(msgs))}
	for i, m := range msgs {
		if m.ID == "" {
			m.ID = "m-" + strconv.Itoa(i+1)
		}
		ev.Records = append(ev.Records, SQSRecord(queue, m))
	}
	return ev
}

// SQSRecord returns one record of the named queue, as SQSEvent builds it.
// A message without an ID gets "m-1".
func SQSRecord(queue string, m Message) events.SQSMessage {
	if m.ID == "" {
		m.ID = "m-1"
	}
	if m.Attempt == 0 {
		m.Attempt = 1
	}
	if m.SentAt.IsZero() {
		m.SentAt = defaultSentAt
	}
	rec := events.SQSMessage{
		MessageId:     m.ID,
		ReceiptHandle: ReceiptHandle(m.ID),
		Body:          m.Body,
		Attributes: map[string]string{
			"ApproximateReceiveCount":          strconv.Itoa(m.Attempt),
			"SentTimestamp":                    strconv.FormatInt(m.SentAt.UnixMilli(), 10),
			"ApproximateFirstReceiveTimestamp": strconv.FormatInt(m.SentAt.UnixMilli(), 10),
			"SenderId":                         Account,
		},
		MessageAttributes: map[string]events.SQSMessageAttribute{},
		EventSourceARN:    QueueARN(queue),
		EventSource:       "aws:sqs",
		AWSRegion:         Region,
	}
	if strings.HasSuffix(queue, ".fifo") {
		if m.GroupID == "" {
			m.GroupID = DefaultGroupID
		}
		if m.DeduplicationID == "" {
			m.DeduplicationID = m.ID
		}
	}
	if m.GroupID != "" {
		rec.Attributes["MessageGroupId"] = m.GroupID
	}
	if m.DeduplicationID != "" {
		rec.Attributes["MessageDeduplicationId"] = m.DeduplicationID
	}
	for k, v := range m.Attributes {
		rec.MessageAttributes[k] = stringAttr(v)
	}
	if m.CorrelationID != "" {
		rec.MessageAttributes[handler.CorrelationIDAttribute] = stringAttr(m.CorrelationID)
	}
	return rec
}

// ReceiptHandle returns the receipt handle the builders give the message
// id, for finding a record's visibility change in the SQS fake.
func ReceiptHandle(messageID string) string { return "rh-" + messageID }

func stringAttr(v string) events.SQSMessageAttribute {
	return events.SQSMessageAttribute{DataType: "String", StringValue: &v}
}

// JSON returns v encoded as JSON, for a message body or an event's detail.
// It panics on a value that does not encode (a channel, a func): a test's
// own bug, and this way a builder call stays one expression.
func JSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("latchtest.JSON: %v", err))
	}
	return string(b)
}
