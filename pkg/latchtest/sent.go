package latchtest

import (
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/latchkit/latch/pkg/handler"
)

// Sent is a message a handler sent through the SQS fake or FailureQueue,
// with latch's reason attributes read out.
type Sent struct {
	// ID is the message id the fake answered ("sent-<n>").
	ID       string
	QueueURL string
	Body     string
	// GroupID and DeduplicationID are set on sends to FIFO queues.
	GroupID         string
	DeduplicationID string
	// Error, Class, ReceiveCount, SourceQueue, SourceMessageID, FailedAt
	// and EventID are latch's handler.DLQAttr* and
	// handler.FailureAttrEventID attributes; zero when absent.
	Error           string
	Class           string
	ReceiveCount    int
	SourceQueue     string
	SourceMessageID string
	FailedAt        time.Time
	EventID         string
	// Shard and SequenceNumber are handler.FailureAttrShard and
	// handler.FailureAttrSequenceNumber, on a stream record's failure.
	Shard          string
	SequenceNumber string
	// Attributes are all the message attributes as sent, latch's and the
	// record's own.
	Attributes map[string]types.MessageAttributeValue
}

func newSent(id string, in *sqs.SendMessageInput) Sent {
	s := Sent{
		ID:              id,
		QueueURL:        aws.ToString(in.QueueUrl),
		Body:            aws.ToString(in.MessageBody),
		GroupID:         aws.ToString(in.MessageGroupId),
		DeduplicationID: aws.ToString(in.MessageDeduplicationId),
		Attributes:      map[string]types.MessageAttributeValue{},
	}
	str := func(name string) string {
		if a, ok := in.MessageAttributes[name]; ok {
			return aws.ToString(a.StringValue)
		}
		return ""
	}
	for k, v := range in.MessageAttributes {
		s.Attributes[k] = v
	}
	s.Error = str(handler.DLQAttrError)
	s.Class = str(handler.DLQAttrErrorClass)
	s.ReceiveCount, _ = strconv.Atoi(str(handler.DLQAttrReceiveCount))
	s.SourceQueue = str(handler.DLQAttrSourceQueue)
	s.SourceMessageID = str(handler.DLQAttrSourceMessageID)
	s.FailedAt, _ = time.Parse(time.RFC3339Nano, str(handler.DLQAttrFailedAt))
	s.EventID = str(handler.FailureAttrEventID)
	s.Shard = str(handler.FailureAttrShard)
	s.SequenceNumber = str(handler.FailureAttrSequenceNumber)
	return s
}
