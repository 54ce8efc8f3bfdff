//go:build integration

package emulator_test

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/latchkit/latch/pkg/latchtest/emulator"
)

// The smoke tests prove that each emulator does, through the SDK, what the
// rest of the suite relies on.

func TestDynamoDBConditionalPutReturnsOldItem(t *testing.T) {
	t.Parallel()
	env := emulator.New(t)
	table := env.Table(t)
	ctx := context.Background()

	put := func(owner string) error {
		_, err := env.DynamoDB.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: aws.String(table),
			Item: map[string]ddbtypes.AttributeValue{
				"id":    &ddbtypes.AttributeValueMemberS{Value: "k1"},
				"owner": &ddbtypes.AttributeValueMemberS{Value: owner},
			},
			ConditionExpression:                 aws.String("attribute_not_exists(id)"),
			ReturnValuesOnConditionCheckFailure: ddbtypes.ReturnValuesOnConditionCheckFailureAllOld,
		})
		return err
	}
	if err := put("first"); err != nil {
		t.Fatalf("first put: %v", err)
	}
	err := put("second")
	var ccf *ddbtypes.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		t.Fatalf("second put: got %v, want ConditionalCheckFailedException", err)
	}
	owner, ok := ccf.Item["owner"].(*ddbtypes.AttributeValueMemberS)
	if !ok || owner.Value != "first" {
		t.Fatalf("old item owner = %#v, want \"first\"", ccf.Item["owner"])
	}
}

func TestSQSVisibilityAndRedriveToDLQ(t *testing.T) {
	t.Parallel()
	env := emulator.New(t)
	q := env.Queue(t, emulator.QueueSpec{MaxReceiveCount: 2, VisibilityTimeout: 30 * time.Second})
	ctx := context.Background()

	if _, err := env.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(q.URL), MessageBody: aws.String("hello")}); err != nil {
		t.Fatal(err)
	}
	for attempt := 1; attempt <= q.MaxReceiveCount; attempt++ {
		m := receiveOne(t, env, q.URL)
		if got := m.Attributes[string(sqstypes.MessageSystemAttributeNameApproximateReceiveCount)]; got != strconv.Itoa(attempt) {
			t.Fatalf("attempt %d: receive count %q", attempt, got)
		}
		// Hand it back at once, as a failed record with a zero backoff would.
		if _, err := env.SQS.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
			QueueUrl: aws.String(q.URL), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0,
		}); err != nil {
			t.Fatalf("change visibility: %v", err)
		}
	}
	// The next receive exceeds maxReceiveCount: the queue moves the message to
	// the DLQ (moto does this on receive, AWS in the background).
	out, err := env.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(q.URL), WaitTimeSeconds: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) != 0 {
		t.Fatalf("source queue still delivers %d message(s) after maxReceiveCount", len(out.Messages))
	}
	if m := receiveOne(t, env, q.DLQ.URL); aws.ToString(m.Body) != "hello" {
		t.Fatalf("DLQ body %q", aws.ToString(m.Body))
	}
}

func TestEventBridgeRuleDeliversToSQS(t *testing.T) {
	t.Parallel()
	env := emulator.New(t)
	bus := env.Bus(t)
	q := env.Queue(t, emulator.QueueSpec{})
	// By name, as a queue a template created is known; the handler's and
	// the producer's tests give a URL and ARNs.
	env.RuleToQueue(t, bus.Name, `{"source":["latch.smoke"],"detail-type":["Ping"]}`, q.Name, "")
	ctx := context.Background()

	out, err := env.EventBridge.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{
		{EventBusName: aws.String(bus.Name), Source: aws.String("latch.smoke"), DetailType: aws.String("Ping"), Detail: aws.String(`{"n":1}`)},
		{EventBusName: aws.String(bus.Name), Source: aws.String("other"), DetailType: aws.String("Ping"), Detail: aws.String(`{"n":2}`)},
	}})
	if err != nil || out.FailedEntryCount != 0 {
		t.Fatalf("put events: %v (failed %d)", err, out.FailedEntryCount)
	}
	m := receiveOne(t, env, q.URL)
	var ev struct {
		Source string `json:"source"`
		Detail struct {
			N int `json:"n"`
		} `json:"detail"`
	}
	if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &ev); err != nil {
		t.Fatalf("body is not an event: %v: %s", err, aws.ToString(m.Body))
	}
	if ev.Source != "latch.smoke" || ev.Detail.N != 1 {
		t.Fatalf("delivered event source=%q detail.n=%d, want latch.smoke and 1", ev.Source, ev.Detail.N)
	}
}

// receiveOne polls until one message arrives, with a deadline.
func receiveOne(t *testing.T, env *emulator.Env, url string) sqstypes.Message {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		out, err := env.SQS.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(url),
			WaitTimeSeconds:             1,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
		})
		if err != nil {
			t.Fatalf("receive from %s: %v", url, err)
		}
		if len(out.Messages) > 0 {
			return out.Messages[0]
		}
	}
	t.Fatalf("no message in %s within 10s", url)
	return sqstypes.Message{}
}
