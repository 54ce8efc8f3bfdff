package customertotals

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/idempotency"
	"github.com/latchkit/latch/pkg/retry"
)

// Order is the part of an orders table item the totals read; the table's
// item is order-worker's, and this is the consumer's own copy of its shape.
type Order struct {
	OrderID     string `dynamodbav:"orderId"`
	CustomerID  string `dynamodbav:"customerId"`
	AmountCents int64  `dynamodbav:"amountCents"`
}

// ErrInvalidOrder is what an order the totals cannot count matches; it is
// permanent.
var ErrInvalidOrder = errors.New("invalid order")

// ErrInjected is the failure New's failEvery injects: retryable.
var ErrInjected = errors.New("injected failure")

// Totals keeps the running totals in its table.
type Totals struct {
	table string
	// failEvery, when positive, fails every failEvery-th record this
	// process sees, once, with a retryable error: the demo's failure in the
	// middle of a batch.
	failEvery int64
	seen      atomic.Int64
}

// New returns Totals on the named table; failEvery as in FailEvery.
func New(table string, failEvery int) (*Totals, error) {
	if table == "" {
		return nil, errors.New("customertotals: no totals table")
	}
	if failEvery < 0 {
		return nil, fmt.Errorf("customertotals: failEvery %d is negative", failEvery)
	}
	return &Totals{table: table, failEvery: int64(failEvery)}, nil
}

// Key is a change's idempotency key: an insert is keyed by its order id,
// so an order counts once however its record comes back, even as another
// record; any other change by its event id.
func Key(r events.DynamoDBEventRecord) (idempotency.Key, error) {
	if id, ok := r.Change.Keys["orderId"]; ok && r.EventName == handler.ChangeInsert && id.DataType() == events.DataTypeString {
		return idempotency.Key{ID: "insert#" + id.String()}, nil
	}
	return idempotency.Key{ID: r.EventID}, nil
}

// Count is the record function in the transactional form: for an inserted
// order, the update of its customer's total, which latch commits with the
// order's idempotency record. Changes other than inserts count nothing
// (orders are written once). The value is the amount counted.
func (t *Totals) Count(_ context.Context, c handler.Change[Order]) (idempotency.Tx[int64], error) {
	if c.Name != handler.ChangeInsert {
		return idempotency.Tx[int64]{}, nil
	}
	o := c.New
	if o == nil || o.OrderID == "" || o.CustomerID == "" || o.AmountCents <= 0 {
		return idempotency.Tx[int64]{}, retry.Permanent(fmt.Errorf("%w: %+v", ErrInvalidOrder, o))
	}
	if t.failEvery > 0 && t.seen.Add(1)%t.failEvery == 0 {
		return idempotency.Tx[int64]{}, fmt.Errorf("%w before order %s", ErrInjected, o.OrderID)
	}
	return idempotency.Tx[int64]{
		Value: o.AmountCents,
		Writes: []ddbtypes.TransactWriteItem{{Update: &ddbtypes.Update{
			TableName:        aws.String(t.table),
			Key:              map[string]ddbtypes.AttributeValue{"customerId": &ddbtypes.AttributeValueMemberS{Value: o.CustomerID}},
			UpdateExpression: aws.String("ADD totalCents :amount, orders :one"),
			ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
				":amount": &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(o.AmountCents, 10)},
				":one":    &ddbtypes.AttributeValueMemberN{Value: "1"},
			},
		}}},
	}, nil
}
