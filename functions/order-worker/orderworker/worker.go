package orderworker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/idempotency"
	"github.com/latchkit/latch/pkg/retry"
)

// EventBridgeAPI is the part of the EventBridge API the worker calls.
type EventBridgeAPI interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, optFns ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

var _ EventBridgeAPI = (*eventbridge.Client)(nil)

// Config wires a Worker. The worker does not write the orders table
// itself: it returns the write, and latch commits it with the idempotency
// record (handler.NewSQSTx).
type Config struct {
	// EventBridge publishes OrderAccepted. Required.
	EventBridge EventBridgeAPI
	// OrdersTable is the table name (partition key orderId). Required.
	OrdersTable string
	// Bus is the event bus name or ARN. Required.
	Bus string
	// Ledger, when set, gets each accepted order on the ledger's FIFO
	// queue, grouped by customer (NewLedgerQueue). Default none.
	Ledger LedgerQueue
	// Faults injects transient failures (local demo). Default none.
	Faults Faults
	// Now is the clock of acceptedAt. Default time.Now.
	Now func() time.Time
}

// Worker accepts orders: validate, record once, publish OrderAccepted.
type Worker struct {
	cfg Config
}

// ErrConfig is the error of New for an unusable Config.
var ErrConfig = errors.New("orderworker: invalid config")

// New checks cfg and returns a Worker.
func New(cfg Config) (*Worker, error) {
	switch {
	case cfg.EventBridge == nil:
		return nil, fmt.Errorf("%w: EventBridge is nil", ErrConfig)
	case cfg.OrdersTable == "":
		return nil, fmt.Errorf("%w: OrdersTable is empty", ErrConfig)
	case cfg.Bus == "":
		return nil, fmt.Errorf("%w: Bus is empty", ErrConfig)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Worker{cfg: cfg}, nil
}

// Accept is the record function for handler.NewSQSTx, in the transactional
// form: it returns the order's write (a Put conditional on the order id) and
// the acceptance, and latch commits the write together with the idempotency
// record in one transaction, so an order is in the table exactly once and
// only with its record. It runs for duplicates too (their commit is
// cancelled and the first acceptance comes back), so it only computes. What
// each outcome means:
//
//   - an invalid order: retry.Permanent, so latch sends it to the
//     dead-letter queue at once with the reasons (Key already refuses it
//     that way; Accept checks again so it is safe without a guard);
//   - throttling or any other failure of DynamoDB: retryable, so the
//     message comes back after the backoff;
//   - the order in the table already while its idempotency record is gone
//     (expired): the stored acceptance stands (idempotency.Applied), so the
//     event published says what the table says; with other contents, a
//     permanent failure.
func (w *Worker) Accept(ctx context.Context, m handler.Message[Order]) (idempotency.Tx[OrderAccepted], error) {
	o := m.Body
	if err := o.Validate(); err != nil {
		return idempotency.Tx[OrderAccepted]{}, retry.Permanent(err)
	}
	if err := w.cfg.Faults.Check(o.OrderID, m.Attempt); err != nil {
		return idempotency.Tx[OrderAccepted]{}, err
	}
	at := w.cfg.Now().UTC().Truncate(time.Second)
	acc := OrderAccepted{
		OrderID:     o.OrderID,
		CustomerID:  o.CustomerID,
		AmountCents: o.AmountCents,
		Currency:    o.Currency,
		AcceptedAt:  at.Format(time.RFC3339),
	}
	put := &ddbtypes.Put{
		TableName: aws.String(w.cfg.OrdersTable),
		Item: map[string]ddbtypes.AttributeValue{
			"orderId":     &ddbtypes.AttributeValueMemberS{Value: o.OrderID},
			"customerId":  &ddbtypes.AttributeValueMemberS{Value: o.CustomerID},
			"amountCents": &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(o.AmountCents, 10)},
			"currency":    &ddbtypes.AttributeValueMemberS{Value: o.Currency},
			"placedAt":    &ddbtypes.AttributeValueMemberS{Value: o.PlacedAt.UTC().Format(time.RFC3339)},
			"acceptedAt":  &ddbtypes.AttributeValueMemberS{Value: acc.AcceptedAt},
			// The byDay index (daily-report) reads a day's orders by this.
			"day": &ddbtypes.AttributeValueMemberS{Value: at.Format(time.DateOnly)},
		},
		// Once per id, even after the idempotency record has expired.
		ConditionExpression:                 aws.String("attribute_not_exists(orderId)"),
		ReturnValuesOnConditionCheckFailure: ddbtypes.ReturnValuesOnConditionCheckFailureAllOld,
	}
	return idempotency.Tx[OrderAccepted]{
		Value:  acc,
		Writes: []ddbtypes.TransactWriteItem{{Put: put}},
		ConditionFailed: func(err *idempotency.ConditionFailedError) error {
			stored, rerr := recorded(o, err.Item)
			if rerr != nil {
				return rerr
			}
			return idempotency.Applied(stored)
		},
	}, nil
}

// Publish is the then of handler.NewSQSTx: it puts OrderAccepted on the bus
// and sends it to the ledger's queue after the order is committed, and
// again on a redelivery (the first attempt may have committed and then
// failed here). The ledger keeps one entry per order however often the
// event is published or sent.
func (w *Worker) Publish(ctx context.Context, _ handler.Message[Order], acc OrderAccepted) error {
	if err := w.publish(ctx, acc); err != nil {
		return err
	}
	return w.sendToLedger(ctx, acc)
}

// sendToLedger sends the acceptance to the ledger's queue. It runs after
// the idempotency record is committed and is not part of it: if the worker
// fails after it, the redelivery's replay sends again. The deduplication id
// (the order id) drops that copy within SQS's five-minute window, and the
// ledger's own guard on the order id drops it after.
func (w *Worker) sendToLedger(ctx context.Context, acc OrderAccepted) error {
	if w.cfg.Ledger == nil {
		return nil
	}
	if _, err := w.cfg.Ledger.Send(ctx, acc); err != nil {
		return fmt.Errorf("send OrderAccepted %s to the ledger: %w", acc.OrderID, err)
	}
	return nil
}

// Key is the SQSConfig.Key of the orders queue: the order id, with the
// order's contents as the payload that must match, so that the same id with
// other contents is refused (idempotency.ErrPayloadMismatch, permanent)
// instead of being taken for a duplicate. A body that is not an order, or an
// invalid order, is a permanent error here already, with the reasons: an
// invalid order may have no id to key it by, and should not claim one.
func Key(m events.SQSMessage) (idempotency.Key, error) {
	var o Order
	if err := json.Unmarshal([]byte(m.Body), &o); err != nil {
		return idempotency.Key{}, retry.Permanent(fmt.Errorf("body is not an order: %w", err))
	}
	if err := o.Validate(); err != nil {
		return idempotency.Key{}, retry.Permanent(err)
	}
	return idempotency.Key{ID: o.OrderID, Payload: o.fingerprint(), Display: "order " + o.OrderID}, nil
}

// recorded is the acceptance of an order found in the table.
func recorded(o Order, item map[string]ddbtypes.AttributeValue) (OrderAccepted, error) {
	s := func(name string) string {
		if v, ok := item[name].(*ddbtypes.AttributeValueMemberS); ok {
			return v.Value
		}
		return ""
	}
	amount := ""
	if v, ok := item["amountCents"].(*ddbtypes.AttributeValueMemberN); ok {
		amount = v.Value
	}
	if s("customerId") != o.CustomerID || amount != strconv.FormatInt(o.AmountCents, 10) || s("currency") != o.Currency {
		return OrderAccepted{}, retry.Permanent(fmt.Errorf("order %s was recorded before with other contents", o.OrderID))
	}
	at := s("acceptedAt")
	if at == "" {
		return OrderAccepted{}, retry.Permanent(fmt.Errorf("order %s is recorded without acceptedAt", o.OrderID))
	}
	return OrderAccepted{OrderID: o.OrderID, CustomerID: o.CustomerID, AmountCents: o.AmountCents, Currency: o.Currency, AcceptedAt: at}, nil
}

// publish puts OrderAccepted on the bus. A rejected entry (throttling,
// say) is a retryable failure of the record; the ledger keeps one entry per
// order however often the event is published.
func (w *Worker) publish(ctx context.Context, acc OrderAccepted) error {
	detail, err := json.Marshal(acc)
	if err != nil {
		return retry.Permanent(fmt.Errorf("encode OrderAccepted %s: %w", acc.OrderID, err))
	}
	at, _ := time.Parse(time.RFC3339, acc.AcceptedAt)
	out, err := w.cfg.EventBridge.PutEvents(ctx, &eventbridge.PutEventsInput{
		Entries: []ebtypes.PutEventsRequestEntry{{
			EventBusName: aws.String(w.cfg.Bus),
			Source:       aws.String(EventSource),
			DetailType:   aws.String(EventDetailType),
			Detail:       aws.String(string(detail)),
			Time:         aws.Time(at),
		}},
	})
	if err != nil {
		return fmt.Errorf("publish OrderAccepted %s: %w", acc.OrderID, err)
	}
	if out.FailedEntryCount > 0 && len(out.Entries) > 0 {
		e := out.Entries[0]
		return fmt.Errorf("publish OrderAccepted %s: entry rejected: %s: %s", acc.OrderID, aws.ToString(e.ErrorCode), aws.ToString(e.ErrorMessage))
	}
	return nil
}
