package handler_test

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/idempotency"
)

type Order struct {
	ID     string `json:"order_id"`
	Amount int    `json:"amount"`
}

func ExampleNewSQS() {
	// In a function: sqs.NewFromConfig(cfg) and a DynamoDBStore. With
	// DLQURL set the SQS client is only called for records that fail;
	// without it, the first invocation reads the queue's RedrivePolicy.
	client := sqs.New(sqs.Options{Region: "us-east-1"})
	guard := idempotency.MustNewGuard(idempotency.Config{Store: idempotency.NewMemoryStore()})

	h := handler.MustNewSQS(func(ctx context.Context, m handler.Message[Order]) error {
		fmt.Printf("charge %s: %d (attempt %d)\n", m.Body.ID, m.Body.Amount, m.Attempt)
		return nil
	}, handler.SQSConfig{
		Client:      client,
		DLQURL:      "https://sqs.us-east-1.amazonaws.com/123456789012/orders-dlq",
		Idempotency: guard,
		Key:         handler.KeyJSONField("order_id"),
		Concurrency: 1, // in order, for a stable output
	})

	record := func(id, body string) events.SQSMessage {
		return events.SQSMessage{
			MessageId: id, ReceiptHandle: "rh-" + id, Body: body,
			Attributes:     map[string]string{"ApproximateReceiveCount": "1"},
			EventSource:    "aws:sqs",
			EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:orders",
		}
	}
	resp, err := h(context.Background(), events.SQSEvent{Records: []events.SQSMessage{
		record("m1", `{"order_id":"o-1","amount":5}`),
		record("m2", `{"order_id":"o-2","amount":7}`),
		record("m3", `{"order_id":"o-1","amount":5}`), // sent twice: charged once
	}})
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

func ExampleNewSQSTx() {
	client := sqs.New(sqs.Options{Region: "us-east-1"})
	store := idempotency.NewMemoryStore() // a DynamoDBStore in a function
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
		DLQURL:      "https://sqs.us-east-1.amazonaws.com/123456789012/orders-dlq",
		Idempotency: guard,
		Key:         handler.KeyJSONField("order_id"),
		Concurrency: 1, // in order, for a stable output
	})

	msg := func(id, body string) events.SQSMessage {
		return events.SQSMessage{
			MessageId: id, ReceiptHandle: "rh-" + id, Body: body,
			Attributes:     map[string]string{"ApproximateReceiveCount": "1"},
			EventSource:    "aws:sqs",
			EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:orders",
		}
	}
	if _, err := h(context.Background(), events.SQSEvent{Records: []events.SQSMessage{
		msg("m1", `{"order_id":"o-1","amount":5}`),
		msg("m2", `{"order_id":"o-1","amount":5}`), // sent twice: written once
	}}); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("writes committed:", len(store.TxWrites()))
	// Output:
	// publish: accepted o-1
	// writes committed: 1
}
