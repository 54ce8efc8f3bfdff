package handler

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
)

// Errors an SQS handler returns for an event it cannot process at all. The
// whole batch then fails and comes back: nothing in it is dropped.
var (
	// ErrEmptyEvent means the event has no records. Lambda never sends one; a
	// hand-made test event or a wrong trigger does.
	ErrEmptyEvent = errors.New("handler: SQS event has no records")
	// ErrMalformedEvent means a record lacks what the processor needs to report
	// on it (message id, receipt handle, source queue ARN, FIFO group id) or
	// carries an unreadable receive count. The error text names the record.
	ErrMalformedEvent = errors.New("handler: malformed SQS event")
)

// SQS message system attributes the processor reads.
const (
	sqsAttrReceiveCount = "ApproximateReceiveCount"
	sqsAttrGroupID      = "MessageGroupId"
	sqsEventSource      = "aws:sqs"
)

// CorrelationIDAttribute is the message attribute (String) whose value
// becomes Delivery.CorrelationID, tying a record to the request that sent it;
// on EventBridge events, the detail field of that name.
const CorrelationIDAttribute = "correlation_id"

// sqsItem is one record of a batch on its way through the processor.
type sqsItem struct {
	msg      *events.SQSMessage
	attempt  int
	queueARN string
	fifo     bool
	group    string
}

// parseSQSEvent checks every record of ev before any of them runs: a batch
// is processed whole or refused whole, so a malformed record cannot leave
// half a batch done and the rest unreported.
func parseSQSEvent(ev events.SQSEvent) ([]*sqsItem, error) {
	if len(ev.Records) == 0 {
		return nil, ErrEmptyEvent
	}
	items := make([]*sqsItem, len(ev.Records))
	for i := range ev.Records {
		m := &ev.Records[i]
		bad := func(format string, a ...any) error {
			return fmt.Errorf("%w: record %d (message id %q): %s", ErrMalformedEvent, i, m.MessageId, fmt.Sprintf(format, a...))
		}
		switch {
		case m.MessageId == "":
			return nil, bad("no messageId")
		case m.ReceiptHandle == "":
			return nil, bad("no receiptHandle")
		case m.EventSource != sqsEventSource:
			return nil, bad("eventSource is %q, want %q", m.EventSource, sqsEventSource)
		}
		a, err := arn.Parse(m.EventSourceARN)
		if err != nil || a.Service != "sqs" || a.Resource == "" {
			return nil, bad("eventSourceARN %q is not an SQS queue ARN", m.EventSourceARN)
		}
		it := &sqsItem{msg: m, attempt: 1, queueARN: m.EventSourceARN, fifo: strings.HasSuffix(a.Resource, ".fifo")}
		// Lambda always sets the receive count; a hand-made event may not,
		// and then this is its first delivery.
		if s, ok := m.Attributes[sqsAttrReceiveCount]; ok {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 {
				return nil, bad("%s %q is not a positive integer", sqsAttrReceiveCount, s)
			}
			it.attempt = n
		}
		if it.fifo {
			it.group = m.Attributes[sqsAttrGroupID]
			if it.group == "" {
				return nil, bad("FIFO record without %s", sqsAttrGroupID)
			}
		}
		items[i] = it
	}
	return items, nil
}

// record returns the observer's view of the item.
func (it *sqsItem) record() Delivery {
	r := Delivery{Source: sqsEventSource, ID: it.msg.MessageId, Attempt: it.attempt, Body: it.msg.Body}
	if a, ok := it.msg.MessageAttributes[CorrelationIDAttribute]; ok && a.StringValue != nil {
		r.CorrelationID = *a.StringValue
	}
	return r
}
