package idempotency_test

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/latchkit/latch/pkg/idempotency"
)

// An order recorded with Transact: the order item and the idempotency record
// are one transaction, so the order is written once, and a duplicate gets
// the first result back from its own (cancelled) transaction.
func ExampleTransact() {
	store := idempotency.NewMemoryStore(idempotency.MemoryConfig{}) // idempotency.NewDynamoDBStore in production
	guard := idempotency.MustNewGuard(idempotency.Config{Store: store, Namespace: "orders"})
	record := func(orderID string, amount int) (idempotency.Result[receipt], error) {
		key := idempotency.Key{ID: orderID, Display: "order " + orderID, Payload: fmt.Appendf(nil, "%d", amount)}
		return idempotency.Transact(context.Background(), guard, key, func(context.Context) (idempotency.Tx[receipt], error) {
			return idempotency.Tx[receipt]{
				Value: receipt{OrderID: orderID, Charged: amount},
				Writes: []types.TransactWriteItem{{Put: &types.Put{
					TableName: aws.String("orders"),
					Item: map[string]types.AttributeValue{
						"orderId": &types.AttributeValueMemberS{Value: orderID},
						"amount":  &types.AttributeValueMemberN{Value: fmt.Sprint(amount)},
					},
				}}},
			}, nil
		})
	}
	for range 2 {
		res, err := record("o-17", 500)
		fmt.Printf("%+v replayed=%t err=%v\n", res.Value, res.Replayed, err)
	}
	_, err := record("o-17", 700)
	fmt.Println(err)
	fmt.Println("writes committed:", len(store.TxWrites()))
	// Output:
	// {OrderID:o-17 Charged:500} replayed=false err=<nil>
	// {OrderID:o-17 Charged:500} replayed=true err=<nil>
	// idempotency: key "order o-17" was used before with a different payload
	// writes committed: 1
}
