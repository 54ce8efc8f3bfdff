package ledger

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/idempotency"
	"github.com/latchkit/latch/pkg/retry"
)

// OrderAccepted is the detail of the event order-worker publishes. The
// ledger declares its own copy: consumers of an event depend on its JSON,
// not on the producer's code.
type OrderAccepted struct {
	OrderID     string `json:"orderId"`
	CustomerID  string `json:"customerId"`
	AmountCents int64  `json:"amountCents"`
	Currency    string `json:"currency"`
	AcceptedAt  string `json:"acceptedAt"`
}

// ErrInvalidEvent is what an OrderAccepted the ledger cannot append
// matches; it is permanent, so the message goes to the dead-letter queue.
var ErrInvalidEvent = errors.New("invalid OrderAccepted")

// Validate returns nil for an event the ledger can append.
func (o OrderAccepted) Validate() error {
	var why []string
	if o.OrderID == "" {
		why = append(why, "orderId is empty")
	}
	if o.CustomerID == "" {
		why = append(why, "customerId is empty")
	}
	if o.AmountCents <= 0 {
		why = append(why, fmt.Sprintf("amountCents %d is not positive", o.AmountCents))
	}
	if _, err := time.Parse(time.RFC3339, o.AcceptedAt); err != nil {
		why = append(why, fmt.Sprintf("acceptedAt %q is not RFC 3339", o.AcceptedAt))
	}
	if len(why) == 0 {
		return nil
	}
	return fmt.Errorf("%w %s: %s", ErrInvalidEvent, o.OrderID, strings.Join(why, "; "))
}

// Key is the idempotency key of an event: the order id, so that an order
// published twice (two event ids) is appended once. The payload that must
// match is what the entry holds besides its time: the same order id for
// another customer or amount is a producer bug, and goes to the DLQ.
func Key(e handler.Event[OrderAccepted]) (idempotency.Key, error) {
	d := e.Detail
	return idempotency.Key{ID: d.OrderID, Payload: fmt.Appendf(nil, "%s/%d/%s", d.CustomerID, d.AmountCents, d.Currency)}, nil
}

// Attribute names of a ledger entry.
const (
	AttrCustomerID  = "customerId"
	AttrSeq         = "seq"
	AttrOrderID     = "orderId"
	AttrAcceptedAt  = "acceptedAt"
	AttrAmountCents = "amountCents"
	AttrCurrency    = "currency"
	AttrEventID     = "eventId"
	// AttrFirstReceivedAt is when the ledger's queue first delivered the
	// event (SQS ApproximateFirstReceiveTimestamp, epoch ms). A FIFO queue
	// delivers a group in order, so along a customer's seq it never falls:
	// the witness that entries are appended in delivery order.
	AttrFirstReceivedAt = "firstReceivedAt"
)

// DynamoDBAPI is the part of the DynamoDB API the ledger calls: it only
// reads; its write is committed by latch with the idempotency record.
type DynamoDBAPI interface {
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

var _ DynamoDBAPI = (*dynamodb.Client)(nil)

// Ledger appends entries to the ledger table.
type Ledger struct {
	db    DynamoDBAPI
	table string
}

// New returns a Ledger on table through db.
func New(db DynamoDBAPI, table string) (*Ledger, error) {
	if db == nil || table == "" {
		return nil, errors.New("ledger: New needs a client and a table name")
	}
	return &Ledger{db: db, table: table}, nil
}

// ErrConcurrentAppend means another writer took the entry's sequence number
// between the read and the commit. With one consumer per message group it
// does not happen; if it does, the retry reads the new last entry.
var ErrConcurrentAppend = errors.New("ledger: sequence number taken by a concurrent append")

// Consume is the SQS record function for handler.NewSQSTx: it decodes the
// OrderAccepted event the rule put on the queue (a bad event is permanent)
// and returns its append, with the time the queue first delivered it.
func (l *Ledger) Consume(ctx context.Context, m handler.Message[events.EventBridgeEvent]) (idempotency.Tx[struct{}], error) {
	e, err := handler.DecodeEvent[OrderAccepted](m.Body)
	if err != nil {
		return idempotency.Tx[struct{}]{}, err
	}
	return l.Append(ctx, e, m.Raw.Attributes["ApproximateFirstReceiveTimestamp"])
}

// Append returns the write that appends the order as the customer's next
// entry (none when it is the last entry already), for latch to commit with
// the idempotency record in one transaction: the entry and its sequence
// number are taken exactly once, and never without the record. It only
// reads. receivedAtMS is the queue's first delivery time ("" when the event
// did not come through a queue).
func (l *Ledger) Append(ctx context.Context, e handler.Event[OrderAccepted], receivedAtMS string) (idempotency.Tx[struct{}], error) {
	var none idempotency.Tx[struct{}]
	o := e.Detail
	if err := o.Validate(); err != nil {
		return none, retry.Permanent(err)
	}
	last, err := l.db.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(l.table),
		KeyConditionExpression:    aws.String("#c = :c"),
		ExpressionAttributeNames:  map[string]string{"#c": AttrCustomerID},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":c": &ddbtypes.AttributeValueMemberS{Value: o.CustomerID}},
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(1),
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		return none, fmt.Errorf("ledger: read the last entry of %s: %w", o.CustomerID, err)
	}
	var seq int64
	if len(last.Items) > 0 {
		it := last.Items[0]
		if id, ok := it[AttrOrderID].(*ddbtypes.AttributeValueMemberS); ok && id.Value == o.OrderID {
			// Appended before under a record that is gone: record it again,
			// append nothing.
			return none, nil
		}
		n, ok := it[AttrSeq].(*ddbtypes.AttributeValueMemberN)
		if !ok {
			return none, fmt.Errorf("ledger: last entry of %s has no numeric seq", o.CustomerID)
		}
		if seq, err = strconv.ParseInt(n.Value, 10, 64); err != nil {
			return none, fmt.Errorf("ledger: last entry of %s: seq %q: %w", o.CustomerID, n.Value, err)
		}
	}
	seq++
	item := map[string]ddbtypes.AttributeValue{
		AttrCustomerID:  &ddbtypes.AttributeValueMemberS{Value: o.CustomerID},
		AttrSeq:         &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(seq, 10)},
		AttrOrderID:     &ddbtypes.AttributeValueMemberS{Value: o.OrderID},
		AttrAcceptedAt:  &ddbtypes.AttributeValueMemberS{Value: o.AcceptedAt},
		AttrAmountCents: &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(o.AmountCents, 10)},
		AttrCurrency:    &ddbtypes.AttributeValueMemberS{Value: o.Currency},
		AttrEventID:     &ddbtypes.AttributeValueMemberS{Value: e.ID},
	}
	if receivedAtMS != "" {
		item[AttrFirstReceivedAt] = &ddbtypes.AttributeValueMemberN{Value: receivedAtMS}
	}
	return idempotency.Tx[struct{}]{
		Writes: []ddbtypes.TransactWriteItem{{Put: &ddbtypes.Put{
			TableName:                aws.String(l.table),
			Item:                     item,
			ConditionExpression:      aws.String("attribute_not_exists(#s)"),
			ExpressionAttributeNames: map[string]string{"#s": AttrSeq},
		}}},
		// Retryable: the retry reads the new last entry.
		ConditionFailed: func(*idempotency.ConditionFailedError) error {
			return fmt.Errorf("%w: %s seq %d", ErrConcurrentAppend, o.CustomerID, seq)
		},
	}, nil
}
