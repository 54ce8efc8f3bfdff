package batch

import "github.com/aws/aws-sdk-go-v2/service/sqs/types"

// SQSLimits are SendMessageBatch's limits: ten entries and 1 MiB
// (1,048,576 bytes) for all the messages of one request together.
var SQSLimits = Limits{MaxEntries: DefaultMaxEntries, MaxBytes: SQSMaxBatchBytes}

// SQSMaxBatchBytes is the most bytes SQS accepts in one SendMessageBatch
// request, counted as SQSMessageSize counts them.
const SQSMaxBatchBytes = 1 << 20

// SQSMessageSize is a message's size as SQS counts it against
// MaximumMessageSize and the batch limit: the body, plus each message
// attribute's name, data type and value (string or binary). System
// attributes (AWSTraceHeader), the group and deduplication ids and the
// batch entry id do not count.
func SQSMessageSize(body string, attrs map[string]types.MessageAttributeValue) int {
	n := len(body)
	for name, v := range attrs {
		n += len(name)
		if v.DataType != nil {
			n += len(*v.DataType)
		}
		if v.StringValue != nil {
			n += len(*v.StringValue)
		}
		n += len(v.BinaryValue)
		for _, s := range v.StringListValues {
			n += len(s)
		}
		for _, b := range v.BinaryListValues {
			n += len(b)
		}
	}
	return n
}

// SQSEntrySize is SQSMessageSize of a SendMessageBatch entry, the size
// function to give Pack for SQS.
func SQSEntrySize(e types.SendMessageBatchRequestEntry) int {
	body := ""
	if e.MessageBody != nil {
		body = *e.MessageBody
	}
	return SQSMessageSize(body, e.MessageAttributes)
}
