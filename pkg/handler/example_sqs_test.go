package handler_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/idempotency"
	"github.com/latchkit/latch/pkg/latchtest"
	"github.com/latchkit/latch/pkg/retry"
)

type Order struct {
	ID     string `json:"order_id"`
	Amount int    `json:"amount"`
}

func ExampleNewSQS() {
	// In a function: sqs.NewFromConfig(cfg) and a DynamoDBStore. Here the
	// kit's SQS fake, which records what the processor asks of SQS (only
	// for records that fail), and a store in memory.
	client := latchtest.NewSQS()
	client.AddQueue("orders", 3)
	guard := idempotency.MustNewGuard(idempotency.Config{Store: idempotency.NewMemoryStore(idempotency.MemoryConfig{})})

	h := handler.MustNewSQS(func(ctx context.Context, m handler.Message[Order]) error {
		fmt.Printf("charge %s: %d (attempt %d)\n", m.Body.ID, m.Body.Amount, m.Attempt)
		return nil
	}, handler.SQSConfig{
		Client:      client,
		Idempotency: guard,
		Key:         handler.KeyJSONField("order_id"),
		Concurrency: 1, // in order, for a stable output
	})

	resp, err := h(context.Background(), latchtest.SQSEvent("orders",
		latchtest.Message{Body: `{"order_id":"o-1","amount":5}`},
		latchtest.Message{Body: `{"order_id":"o-2","amount":7}`},
		latchtest.Message{Body: `{"order_id":"o-1","amount":5}`}, // sent twice: charged once
	))
	if err != nil {
		fmt.Println(err)
		return
	}
	out, _ := json.Marshal(resp)
	fmt.Println(string(out))
	// Output:
	// charge o-1: 5 (attempt 1)
	// charge o-2: 7 (attempt 1)
	// {"batchItemFailures":[]}
}

// Records that fail: a permanent failure goes to the dead-letter queue at
// once with its reason; a retryable one is reported and comes back after a
// backoff. Nothing here reaches AWS.
func ExampleNewSQS_failures() {
	client := latchtest.NewSQS()
	client.AddQueue("orders", 3) // and its DLQ, orders-dlq
	h := handler.MustNewSQS(func(ctx context.Context, m handler.Message[Order]) error {
		switch {
		case m.Body.Amount <= 0:
			return retry.Permanent(fmt.Errorf("order %s: amount must be positive", m.Body.ID))
		case m.Body.ID == "o-busy":
			return errors.New("payment provider unavailable")
		}
		return nil
	}, handler.SQSConfig{
		Client:  client,
		Backoff: retry.Backoff{Base: 30 * time.Second, Jitter: -1},
	})

	resp, _ := h(context.Background(), latchtest.SQSEvent("orders",
		latchtest.Message{ID: "m1", Body: `{"order_id":"o-1","amount":0}`},
		latchtest.Message{ID: "m2", Body: `{"order_id":"o-busy","amount":3}`},
	))
	for _, f := range resp.BatchItemFailures {
		d, _ := client.Visibility(f.ItemIdentifier)
		fmt.Println("retry", f.ItemIdentifier, "in", d)
	}
	for _, d := range client.DeadLettered() {
		fmt.Println("dead-lettered", d.Body, d.Class, "-", d.Error)
	}
	// Output:
	// retry m2 in 30s
	// dead-lettered {"order_id":"o-1","amount":0} permanent - order o-1: amount must be positive
}

func ExampleNewSQSTx() {
	client := latchtest.NewSQS()
	client.AddQueue("orders", 3)
	store := idempotency.NewMemoryStore(idempotency.MemoryConfig{}) // a DynamoDBStore in a function
	guard := idempotency.MustNewGuard(idempotency.Config{Store: store})

	// The order's write is returned, not performed: latch commits it with
	// the idempotency record in one TransactWriteItems.
	record := func(_ context.Context, m handler.Message[Order]) (idempotency.Tx[string], error) {
		return idempotency.Tx[string]{
			Value: "accepted " + m.Body.ID,
			Writes: []types.TransactWriteItem{{Put: &types.Put{
				TableName: aws.String("orders"),
				Item:      map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: m.Body.ID}},
			}}},
		}, nil
	}
	// After the commit: an effect that is not a DynamoDB write.
	publish := func(_ context.Context, m handler.Message[Order], v string) error {
		fmt.Println("publish:", v)
		return nil
	}
	h := handler.MustNewSQSTx(record, publish, handler.SQSConfig{
		Client:      client, // called only for failures, with DLQURL set
		Idempotency: guard,
		Key:         handler.KeyJSONField("order_id"),
		Concurrency: 1, // in order, for a stable output
	})

	if _, err := h(context.Background(), latchtest.SQSEvent("orders",
		latchtest.Message{Body: `{"order_id":"o-1","amount":5}`},
		latchtest.Message{Body: `{"order_id":"o-1","amount":5}`}, // sent twice: written once
	)); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("writes committed:", len(store.TxWrites()))
	// Output:
	// publish: accepted o-1
	// writes committed: 1
}
