package orderworker

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/latchkit/latch/pkg/producer"
)

// LedgerQueue is where the worker sends each accepted order for the
// ledger: a *producer.Queue[OrderAccepted] on the ledger's FIFO queue (see
// NewLedgerQueue).
type LedgerQueue interface {
	Send(ctx context.Context, v OrderAccepted) (producer.Result, error)
}

var _ LedgerQueue = (*producer.Queue[OrderAccepted])(nil)

// NewLedgerQueue returns the producer for the ledger's FIFO queue at url:
// each OrderAccepted goes in the message group of its customer — so the
// ledger's per-customer order holds while customers are processed in
// parallel — with a deduplication id derived from the order id, so a
// worker that sends, fails and runs again within five minutes sends once.
// The body is the OrderAccepted event as EventBridge would deliver it,
// which the ledger consumes either way.
func NewLedgerQueue(client producer.SQSClient, url string) (*producer.Queue[OrderAccepted], error) {
	return producer.NewQueue(client, producer.QueueConfig[OrderAccepted]{URL: url,
		GroupID:        func(a OrderAccepted) string { return a.CustomerID },
		IdempotencyKey: func(a OrderAccepted) string { return a.OrderID },
		Encode:         encodeEvent,
	})
}

// LedgerEventID is the event id of an order's OrderAccepted sent to the
// ledger queue: the same for every send of the order.
func LedgerEventID(orderID string) string { return "order-accepted-" + orderID }

// encodeEvent wraps the acceptance in an EventBridge envelope.
func encodeEvent(a OrderAccepted) ([]byte, error) {
	detail, err := json.Marshal(a)
	if err != nil {
		return nil, err
	}
	at, err := time.Parse(time.RFC3339, a.AcceptedAt)
	if err != nil {
		return nil, fmt.Errorf("acceptedAt %q: %w", a.AcceptedAt, err)
	}
	return json.Marshal(events.EventBridgeEvent{
		Version: "0", ID: LedgerEventID(a.OrderID), DetailType: EventDetailType, Source: EventSource,
		Time: at, Resources: []string{}, Detail: detail,
	})
}
