package orderworker_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/latchkit/latch/functions/ledger/ledger"
	"github.com/latchkit/latch/functions/order-worker/orderworker"
	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/producer"
)

// recordingSQS keeps what was sent.
type recordingSQS struct{ sent []*sqs.SendMessageInput }

func (r *recordingSQS) SendMessage(_ context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	r.sent = append(r.sent, in)
	return &sqs.SendMessageOutput{MessageId: aws.String("m1"), SequenceNumber: aws.String("1")}, nil
}

func (r *recordingSQS) SendMessageBatch(context.Context, *sqs.SendMessageBatchInput, ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	panic("one order is one message")
}

func (r *recordingSQS) GetQueueAttributes(context.Context, *sqs.GetQueueAttributesInput, ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error) {
	return &sqs.GetQueueAttributesOutput{Attributes: map[string]string{string(types.QueueAttributeNameMaximumMessageSize): "262144"}}, nil
}

// TestLedgerQueueMessage checks what the ledger gets: the customer's group,
// a deduplication id from the order id, and a body the ledger consumes and
// keys by the order id.
func TestLedgerQueueMessage(t *testing.T) {
	t.Parallel()
	rec := &recordingSQS{}
	q, err := orderworker.NewLedgerQueue(rec, "https://sqs.eu-west-1.amazonaws.com/123456789012/ledger.fifo")
	if err != nil {
		t.Fatal(err)
	}
	acc := orderworker.OrderAccepted{OrderID: "o-9", CustomerID: "c-3", AmountCents: 1250, Currency: "EUR", AcceptedAt: "2026-11-22T10:00:00Z"}
	if _, err := q.Send(context.Background(), acc); err != nil {
		t.Fatal(err)
	}
	in := rec.sent[0]
	if got := aws.ToString(in.MessageGroupId); got != "c-3" {
		t.Errorf("group %q, want the customer id", got)
	}
	if got, want := aws.ToString(in.MessageDeduplicationId), producer.DeduplicationID("o-9"); got != want {
		t.Errorf("deduplication id %q, want %q", got, want)
	}
	var ev events.EventBridgeEvent
	if err := json.Unmarshal([]byte(aws.ToString(in.MessageBody)), &ev); err != nil {
		t.Fatal(err)
	}
	e, err := handler.DecodeEvent[ledger.OrderAccepted](ev)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Detail.Validate(); err != nil {
		t.Errorf("the ledger refuses the event: %v", err)
	}
	if k, _ := ledger.Key(e); k.ID != "o-9" {
		t.Errorf("ledger key %q, want the order id", k.ID)
	}
	if e.ID != orderworker.LedgerEventID("o-9") || e.Source != orderworker.EventSource || e.DetailType != orderworker.EventDetailType {
		t.Errorf("envelope %s/%s/%s", e.ID, e.Source, e.DetailType)
	}
}
