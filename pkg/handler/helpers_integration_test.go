//go:build integration

package handler_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/handler/internal/logtest"
	"github.com/latchkit/latch/pkg/handler/xray"
	"github.com/latchkit/latch/pkg/idempotency"
	"github.com/latchkit/latch/pkg/latchtest/emulator"
)

// dynamoGuard is a Guard on a fresh table of DynamoDB Local, its store
// traced as in production.
func dynamoGuard(t *testing.T, env *emulator.Env) (*idempotency.Guard, string) {
	t.Helper()
	table := env.Table(t)
	store := idempotency.MustNewDynamoDBStore(env.DynamoDB, idempotency.DynamoDBConfig{Table: table})
	g, err := idempotency.NewGuard(idempotency.Config{Store: handler.TraceStore(store, xray.Tracer{}), Namespace: emulator.UniqueName(t, "ns")})
	if err != nil {
		t.Fatal(err)
	}
	return g, table
}

// storedStatus reads the idempotency record of id from the table.
func storedStatus(t *testing.T, env *emulator.Env, table, keyHash string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := env.DynamoDB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(table),
		Key:            map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: keyHash}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatalf("get record %s: %v", keyHash, err)
	}
	s, _ := out.Item["status"].(*ddbtypes.AttributeValueMemberS)
	if s == nil {
		return ""
	}
	return s.Value
}

// receiveAll long-polls q until it has want messages or the deadline.
func receiveN(t *testing.T, env *emulator.Env, url string, want int) []sqstypes.Message {
	t.Helper()
	var got []sqstypes.Message
	deadline := time.Now().Add(20 * time.Second)
	for len(got) < want && time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		out, err := env.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
			MessageAttributeNames: []string{"All"}, VisibilityTimeout: 60,
		})
		cancel()
		if err != nil {
			t.Fatalf("receive from %s: %v", url, err)
		}
		got = append(got, out.Messages...)
	}
	if len(got) != want {
		t.Fatalf("%d messages on %s, want %d", len(got), url, want)
	}
	return got
}

func msgAttr(m sqstypes.Message, name string) string {
	v, ok := m.MessageAttributes[name]
	if !ok {
		return ""
	}
	return aws.ToString(v.StringValue)
}

// outcomesByID reads the outcome lines of a log: message id → outcomes.
func outcomesByID(t *testing.T, logs *bytes.Buffer) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, l := range logtest.Lines(t, logs) {
		if l["message"] != "record processed" {
			continue
		}
		id := fmt.Sprint(l["message_id"])
		out[id] = append(out[id], fmt.Sprint(l["outcome"]))
	}
	return out
}

func jsonDetail(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
