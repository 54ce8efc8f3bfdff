//go:build integration

package ledger_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/latchkit/latch/functions/internal/functest"
	"github.com/latchkit/latch/functions/ledger/ledger"
	"github.com/latchkit/latch/pkg/function"
	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/latchtest/emulator"
	"github.com/latchkit/latch/pkg/retry"
)

// ledgerTable creates a table shaped as LedgerTable in infra/template.yaml
// (partition key customerId, sort key seq, a Number); TableSpec makes
// string keys only.
func ledgerTable(t *testing.T, e *emulator.Env) string {
	t.Helper()
	return e.CreateTable(t, &dynamodb.CreateTableInput{
		AttributeDefinitions: []ddbtypes.AttributeDefinition{
			{AttributeName: aws.String("customerId"), AttributeType: ddbtypes.ScalarAttributeTypeS},
			{AttributeName: aws.String("seq"), AttributeType: ddbtypes.ScalarAttributeTypeN},
		},
		KeySchema: []ddbtypes.KeySchemaElement{
			{AttributeName: aws.String("customerId"), KeyType: ddbtypes.KeyTypeHash},
			{AttributeName: aws.String("seq"), KeyType: ddbtypes.KeyTypeRange},
		},
		BillingMode: ddbtypes.BillingModePayPerRequest,
	})
}

type entry struct {
	Customer, Seq, Order, AcceptedAt, Amount, Currency, ReceivedAt string
}

func entries(t *testing.T, e *emulator.Env, table string) []entry {
	t.Helper()
	s := func(it map[string]ddbtypes.AttributeValue, k string) string {
		if text, ok := emulator.Scalar(it[k]); ok {
			return text
		}
		return "<" + k + " missing>"
	}
	var got []entry
	for _, it := range e.Items(t, table) {
		if _, ok := it["seq"].(*ddbtypes.AttributeValueMemberN); !ok {
			t.Errorf("seq of %v is not a Number", it)
		}
		got = append(got, entry{s(it, "customerId"), s(it, "seq"), s(it, "orderId"), s(it, "acceptedAt"), s(it, "amountCents"), s(it, "currency"), s(it, "firstReceivedAt")})
	}
	return got
}

func byKey(a, b entry) bool {
	if a.Customer != b.Customer {
		return a.Customer < b.Customer
	}
	return len(a.Seq) < len(b.Seq) || len(a.Seq) == len(b.Seq) && a.Seq < b.Seq
}

// TestSampleBatch runs the function on events/sqs-ledger-fifo.json: five
// OrderAccepted events in one message group, o-1001 twice under two event
// ids. Each order is one entry, in arrival order per customer, with the
// first event's acceptedAt; a redelivery of the batch appends nothing.
func TestSampleBatch(t *testing.T) {
	e := emulator.New(t)
	table := ledgerTable(t, e)
	q := e.Queue(t, emulator.QueueSpec{FIFO: true, ContentBasedDeduplication: true, MaxReceiveCount: 5})
	vars := map[string]string{
		function.EnvIdempotencyTable:     e.Table(t),
		function.EnvIdempotencyNamespace: "ledger",
		ledger.EnvLedgerTable:            table,
		function.EnvDLQURL:               q.DLQ.URL,
		retry.EnvBaseSeconds:             "1",
	}
	h, log := functest.Build(t, ledger.Build, vars)
	ev := functest.Event[events.SQSEvent](t, "sqs-ledger-fifo.json")
	for i := range ev.Records {
		ev.Records[i].EventSourceARN = q.ARN
	}

	resp, err := h(context.Background(), ev)
	if err != nil || len(resp.BatchItemFailures) > 0 {
		t.Fatalf("first delivery: %+v, %v", resp, err)
	}
	want := []entry{
		{"c-42", "1", "o-1001", "2026-11-22T10:15:01Z", "1999", "EUR", "1795342502095"},
		{"c-42", "2", "o-1004", "2026-11-22T10:15:03Z", "250", "EUR", "1795342502717"},
		{"c-42", "3", "o-1005", "2026-11-22T10:15:05Z", "1200", "EUR", "1795342503339"},
		{"c-7", "1", "o-1002", "2026-11-22T10:15:01Z", "4500", "USD", "1795342502406"},
	}
	sortOpt := cmpSort()
	if diff := cmp.Diff(want, entries(t, e, table), sortOpt); diff != "" {
		t.Errorf("ledger (-want +got):\n%s", diff)
	}
	if n := log.Count(); n["succeeded"] != 4 || n["duplicate"] != 1 || len(log.Outcomes()) != 5 {
		t.Errorf("outcome lines %v, want 4 succeeded and 1 duplicate (o-1001's second event)", n)
	}

	for i := range ev.Records {
		ev.Records[i].Attributes["ApproximateReceiveCount"] = "2"
	}
	if resp, err := h(context.Background(), ev); err != nil || len(resp.BatchItemFailures) > 0 {
		t.Fatalf("redelivery: %+v, %v", resp, err)
	}
	if diff := cmp.Diff(want, entries(t, e, table), sortOpt); diff != "" {
		t.Errorf("ledger after the redelivery (-want +got):\n%s", diff)
	}
	if n := log.Count(); n["succeeded"] != 4 || n["duplicate"] != 6 {
		t.Errorf("outcome lines after the redelivery %v, want 5 more duplicates", n)
	}
}

// TestInvalidEvent: an OrderAccepted without a customer goes to the FIFO
// dead-letter queue with the reason, and the rest of its group goes on.
func TestInvalidEvent(t *testing.T) {
	e := emulator.New(t)
	table := ledgerTable(t, e)
	q := e.Queue(t, emulator.QueueSpec{FIFO: true, ContentBasedDeduplication: true, MaxReceiveCount: 5})
	h, _ := functest.Build(t, ledger.Build, map[string]string{
		function.EnvIdempotencyTable: e.Table(t),
		ledger.EnvLedgerTable:        table,
	})
	ev := functest.Event[events.SQSEvent](t, "sqs-ledger-fifo.json")
	ev.Records = ev.Records[:2]
	for i := range ev.Records {
		ev.Records[i].EventSourceARN = q.ARN
	}
	ev.Records[0].Body = strings.Replace(ev.Records[0].Body, `"customerId":"c-42"`, `"customerId":""`, 1)
	resp, err := h(context.Background(), ev)
	if err != nil || len(resp.BatchItemFailures) > 0 {
		t.Fatalf("%+v, %v", resp, err)
	}
	if diff := cmp.Diff([]entry{{"c-7", "1", "o-1002", "2026-11-22T10:15:01Z", "4500", "USD", "1795342502406"}}, entries(t, e, table)); diff != "" {
		t.Errorf("ledger (-want +got):\n%s", diff)
	}
	out, err := e.SQS.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(q.DLQ.URL), MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: []string{"All"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) != 1 {
		t.Fatalf("%d messages in the DLQ, want 1", len(out.Messages))
	}
	if reason := aws.ToString(out.Messages[0].MessageAttributes[handler.DLQAttrError].StringValue); !strings.Contains(reason, "customerId is empty") {
		t.Errorf("DLQ reason %q", reason)
	}
}

func cmpSort() cmp.Option { return cmpopts.SortSlices(byKey) }
