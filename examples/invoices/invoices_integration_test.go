//go:build integration

package invoices_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"example.com/invoices"
	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/idempotency"
	"github.com/latchkit/latch/pkg/latchtest/emulator"
	"github.com/latchkit/latch/pkg/retry"
)

// On the emulators: real queues, a real idempotency table, the handler
// driven as Lambda's event source mapping drives it.
func TestChargeOnTheEmulators(t *testing.T) {
	t.Parallel()
	env := emulator.New(t)
	idem, ledger := env.Table(t), env.Table(t)
	q := env.Queue(t, emulator.QueueSpec{MaxReceiveCount: 3})

	guard := idempotency.MustNewGuard(idempotency.Config{
		Store: idempotency.MustNewDynamoDBStore(env.DynamoDB, idempotency.DynamoDBConfig{Table: idem}),
	})
	h := handler.MustNewSQS(invoices.Charge(invoices.Ledger{DB: env.DynamoDB, Table: ledger}), handler.SQSConfig{
		Client:      env.SQS,
		Idempotency: guard,
		Key:         handler.KeyJSONField("id"),
		Backoff:     retry.Backoff{Base: time.Second, Max: time.Second},
	})

	good := `{"id":"inv-1","customer":"c-1","cents":500}`
	bad := `{"id":"inv-2","customer":"c-1","cents":-5}`
	env.Send(t, q.URL, good)
	env.Send(t, q.URL, good) // the producer retried
	badID := env.Send(t, q.URL, bad)
	env.Drain(t, q, h, emulator.Mapping{})

	if n := times(t, env, ledger, "inv-1"); n != 1 {
		t.Errorf("inv-1 charged %d times, want 1", n)
	}
	if n := times(t, env, ledger, "inv-2"); n != 0 {
		t.Errorf("inv-2 charged %d times, want 0", n)
	}
	// The DLQ copy names the id the message had, the one the outcome logs show.
	if d := env.AssertDeadLettered(t, q.DLQ.URL, bad, "amount must be positive"); d.SourceMessageID != badID {
		t.Errorf("dead letter names source message %q, want %q", d.SourceMessageID, badID)
	}
	env.AssertQueueEmpty(t, q.URL)
}

// times reads how often the ledger charged the invoice.
func times(t *testing.T, env *emulator.Env, table, id string) int {
	t.Helper()
	out, err := env.DynamoDB.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName:      aws.String(table),
		Key:            map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "charge#" + id}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	s, ok := emulator.Scalar(out.Item["times"])
	if !ok {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("times %q: %v", s, err)
	}
	return n
}
