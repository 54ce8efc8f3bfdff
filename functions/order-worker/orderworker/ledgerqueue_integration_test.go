//go:build integration

package orderworker_test

import (
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/latchkit/latch/functions/internal/functest"
	"github.com/latchkit/latch/functions/order-worker/orderworker"
	"github.com/latchkit/latch/pkg/latchtest/emulator"
)

// TestSendsToLedgerQueue runs the sample batch twice with LEDGER_QUEUE_URL
// set: each accepted order reaches the ledger's FIFO queue once, in its
// customer's message group — the redelivery's sends (handler.NewSQSTx runs
// Publish again) are dropped by the deduplication id.
func TestSendsToLedgerQueue(t *testing.T) {
	s := newStack(t)
	ledgerQ := s.env.Queue(t, emulator.QueueSpec{FIFO: true})
	s.vars[orderworker.EnvLedgerQueueURL] = ledgerQ.URL
	h, _ := s.handler(t)
	ev := functest.Event[events.SQSEvent](t, "sqs-orders.json")
	for i := range ev.Records {
		ev.Records[i].EventSourceARN = s.queue.ARN
	}
	for round := range 2 {
		for i := range ev.Records {
			ev.Records[i].Attributes["ApproximateReceiveCount"] = []string{"1", "2"}[round]
		}
		if resp, err := h(context.Background(), ev); err != nil || len(resp.BatchItemFailures) > 0 {
			t.Fatalf("delivery %d: %+v, %v", round+1, resp, err)
		}
	}
	var msgs []sqstypes.Message
	for empty := 0; empty < 2; {
		out, err := s.env.SQS.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(ledgerQ.URL), MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameMessageGroupId},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			empty++
		}
		for _, m := range out.Messages {
			msgs = append(msgs, m)
			if _, err := s.env.SQS.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(ledgerQ.URL), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got := acceptedIDs(t, msgs); !slices.Equal(got, []string{"o-1001", "o-1002"}) {
		t.Errorf("ledger queue got %v, want o-1001 and o-1002 once each", got)
	}
	groups := map[string]bool{}
	for _, m := range msgs {
		groups[m.Attributes["MessageGroupId"]] = true
	}
	if !groups["c-42"] || !groups["c-7"] || len(groups) != 2 {
		t.Errorf("message groups %v, want the customers c-42 and c-7", groups)
	}
}
