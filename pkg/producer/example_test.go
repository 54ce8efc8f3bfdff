package producer_test

import (
	"context"
	"fmt"

	"github.com/latchkit/latch/pkg/producer"
)

type ledgerEntry struct {
	OrderID    string `json:"orderId"`
	CustomerID string `json:"customerId"`
}

func ExampleQueue_SendBatch() {
	client := &fakeSQS{maxSize: "262144"} // an *sqs.Client in a function
	q, err := producer.NewQueue(client, producer.QueueConfig[ledgerEntry]{URL: "https://sqs.eu-west-1.amazonaws.com/123456789012/ledger.fifo",
		GroupID:        func(e ledgerEntry) string { return e.CustomerID },
		IdempotencyKey: func(e ledgerEntry) string { return e.OrderID },
	})
	if err != nil {
		panic(err)
	}
	var entries []ledgerEntry
	for i := range 12 {
		entries = append(entries, ledgerEntry{OrderID: fmt.Sprintf("o-%d", i), CustomerID: fmt.Sprintf("c-%d", i%3)})
	}
	res, err := q.SendBatch(context.Background(), entries)
	fmt.Println("error:", err)
	fmt.Println("requests:", len(client.calls), "sent:", len(res))
	fmt.Println("first group:", *client.sent[0].MessageGroupId)
	// Output:
	// error: <nil>
	// requests: 2 sent: 12
	// first group: c-0
}
