//go:build integration

package handler_test

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/idempotency"
	"github.com/latchkit/latch/pkg/latchtest/emulator"
)

// BenchmarkSQSDynamoDB runs batches through the processor with the
// idempotency records in DynamoDB Local, and a record function whose side
// effect is one PutItem: three DynamoDB round trips per record (claim,
// put, complete). It compares one record alone with a batch of ten run
// one by one and ten at once; the target is a concurrent batch of ten
// costing at most three single records.
func BenchmarkSQSDynamoDB(b *testing.B) {
	env := emulator.New(b)
	idemTable := env.Table(b)
	effects := env.Table(b)
	store := idempotency.MustNewDynamoDBStore(env.DynamoDB, idempotency.DynamoDBConfig{Table: idemTable})
	var n atomic.Int64
	fresh := func(m events.SQSMessage) (idempotency.Key, error) {
		return idempotency.Key{ID: m.MessageId + "/" + strconv.FormatInt(n.Add(1), 10)}, nil
	}
	put := func(ctx context.Context, m handler.Message[order]) error {
		_, err := env.DynamoDB.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: aws.String(effects),
			Item: map[string]ddbtypes.AttributeValue{
				"id":     &ddbtypes.AttributeValueMemberS{Value: fmt.Sprint(m.Body.ID, "/", n.Add(1))},
				"amount": &ddbtypes.AttributeValueMemberN{Value: strconv.Itoa(m.Body.Amount)},
			},
		})
		return err
	}
	// DynamoDB Local is a JVM: its first few hundred requests run slower
	// while the JIT warms up. Warm it before measuring anything.
	warm := handler.MustNewSQS(put, handler.SQSConfig{Client: env.SQS, Idempotency: idempotency.MustNewGuard(idempotency.Config{Store: store}), Key: fresh})
	for range 200 {
		if _, err := warm(context.Background(), benchBatch()); err != nil {
			b.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name        string
		records     int
		concurrency int
	}{
		{name: "records=1", records: 1, concurrency: 1},
		{name: "records=10/concurrency=1", records: 10, concurrency: 1},
		{name: "records=10/concurrency=10", records: 10, concurrency: 10},
	} {
		b.Run(tc.name, func(b *testing.B) {
			guard, err := idempotency.NewGuard(idempotency.Config{Store: store})
			if err != nil {
				b.Fatal(err)
			}
			h := handler.MustNewSQS(put, handler.SQSConfig{Client: env.SQS, Idempotency: guard, Key: fresh, Concurrency: tc.concurrency})
			var msgs []msg
			for i := range tc.records {
				msgs = append(msgs, msg{id: fmt.Sprint("m", i), body: body(fmt.Sprint("o-", i))})
			}
			ev := sqsEvent("orders", msgs...)
			ctx := context.Background()
			for b.Loop() {
				resp, err := h(ctx, ev)
				if err != nil || len(resp.BatchItemFailures) != 0 {
					b.Fatal(err, resp)
				}
			}
		})
	}
}
