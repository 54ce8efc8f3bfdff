//go:build integration

package dailyreport_test

import (
	"context"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/go-cmp/cmp"

	"github.com/latchkit/latch/functions/daily-report/dailyreport"
	"github.com/latchkit/latch/functions/internal/functest"
	"github.com/latchkit/latch/pkg/function"
	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/latchtest/emulator"
)

// ordersTable creates a table shaped as OrdersTable in infra/template.yaml,
// with its byDay index (TableSpec makes no indexes).
func ordersTable(t *testing.T, e *emulator.Env) string {
	t.Helper()
	s := func(n string) ddbtypes.AttributeDefinition {
		return ddbtypes.AttributeDefinition{AttributeName: aws.String(n), AttributeType: ddbtypes.ScalarAttributeTypeS}
	}
	return e.CreateTable(t, &dynamodb.CreateTableInput{
		AttributeDefinitions: []ddbtypes.AttributeDefinition{s("orderId"), s("day"), s("acceptedAt")},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("orderId"), KeyType: ddbtypes.KeyTypeHash}},
		GlobalSecondaryIndexes: []ddbtypes.GlobalSecondaryIndex{{
			IndexName: aws.String(dailyreport.ByDayIndex),
			KeySchema: []ddbtypes.KeySchemaElement{
				{AttributeName: aws.String("day"), KeyType: ddbtypes.KeyTypeHash},
				{AttributeName: aws.String("acceptedAt"), KeyType: ddbtypes.KeyTypeRange},
			},
			Projection: &ddbtypes.Projection{ProjectionType: ddbtypes.ProjectionTypeInclude, NonKeyAttributes: []string{"customerId", "amountCents", "currency"}},
		}},
		BillingMode: ddbtypes.BillingModePayPerRequest,
	})
}

func putOrder(t *testing.T, e *emulator.Env, table, id, customer string, amount int64, currency, acceptedAt string) {
	t.Helper()
	_, err := e.DynamoDB.PutItem(context.Background(), &dynamodb.PutItemInput{
		TableName: aws.String(table),
		Item: map[string]ddbtypes.AttributeValue{
			"orderId":     &ddbtypes.AttributeValueMemberS{Value: id},
			"customerId":  &ddbtypes.AttributeValueMemberS{Value: customer},
			"amountCents": &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(amount, 10)},
			"currency":    &ddbtypes.AttributeValueMemberS{Value: currency},
			"acceptedAt":  &ddbtypes.AttributeValueMemberS{Value: acceptedAt},
			"day":         &ddbtypes.AttributeValueMemberS{Value: acceptedAt[:10]},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
}

func reports(t *testing.T, e *emulator.Env, table string) map[string]map[string]any {
	t.Helper()
	got := map[string]map[string]any{}
	for _, it := range e.Items(t, table) {
		flat := map[string]any{}
		for k, v := range it {
			if text, ok := emulator.Scalar(v); ok {
				flat[k] = text
				continue
			}
			if nested, ok := v.(*ddbtypes.AttributeValueMemberM); ok {
				m := map[string]string{}
				for mk, mv := range nested.Value {
					if n, ok := mv.(*ddbtypes.AttributeValueMemberN); ok {
						m[mk] = n.Value
					}
				}
				flat[k] = m
			}
		}
		delete(flat, "generatedAt")
		got[flat["reportId"].(string)] = flat
	}
	return got
}

// TestSampleTick runs the function on events/schedule-daily-report.json
// twice, as EventBridge may deliver it: one report for the tick, summing the
// orders of the day before, and the second delivery is a duplicate. The
// next day's tick is a report of its own.
func TestSampleTick(t *testing.T) {
	e := emulator.New(t)
	orders := ordersTable(t, e)
	reportsTable := e.TableWith(t, emulator.TableSpec{PartitionKey: "reportId", TTLAttribute: "-"})
	putOrder(t, e, orders, "o-1001", "c-42", 1999, "EUR", "2026-11-22T10:15:01Z")
	putOrder(t, e, orders, "o-1002", "c-7", 4500, "USD", "2026-11-22T10:15:01Z")
	putOrder(t, e, orders, "o-1004", "c-42", 250, "EUR", "2026-11-22T23:59:59Z")
	putOrder(t, e, orders, "o-0999", "c-1", 700, "EUR", "2026-11-21T23:59:59Z") // the day before
	putOrder(t, e, orders, "o-1010", "c-1", 900, "EUR", "2026-11-23T00:00:00Z") // the tick's own day

	h, log := functest.Build(t, dailyreport.Build, map[string]string{
		function.EnvIdempotencyTable:     e.Table(t),
		function.EnvIdempotencyNamespace: "daily-report",
		dailyreport.EnvOrdersTable:       orders,
		dailyreport.EnvReportsTable:      reportsTable,
	})
	payload, err := os.ReadFile("../../../events/schedule-daily-report.json")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if _, err := h(context.Background(), payload); err != nil {
			t.Fatalf("delivery %d: %v", i+1, err)
		}
	}
	rule := "latch-example-DailyReportSchedule-X1Y2Z3A4B5C6"
	want := map[string]map[string]any{
		"daily#2026-11-23T03:00:00Z": {
			"reportId": "daily#2026-11-23T03:00:00Z", "schedule": rule, "tickTime": "2026-11-23T03:00:00Z",
			"day": "2026-11-22", "orders": "3", "customers": "2",
			"amountCents": map[string]string{"EUR": "2249", "USD": "4500"},
		},
	}
	if diff := cmp.Diff(want, reports(t, e, reportsTable)); diff != "" {
		t.Errorf("reports (-want +got):\n%s", diff)
	}
	if n := log.Count(); n["succeeded"] != 1 || n["duplicate"] != 1 || len(log.Outcomes()) != 2 {
		t.Errorf("outcome lines %v, want 1 succeeded and 1 duplicate", n)
	}

	// The next day's tick.
	var ev map[string]any
	if err := json.Unmarshal(payload, &ev); err != nil {
		t.Fatal(err)
	}
	ev["id"], ev["time"] = "another-delivery", "2026-11-24T03:00:00Z"
	next, _ := json.Marshal(ev)
	if _, err := h(context.Background(), next); err != nil {
		t.Fatal(err)
	}
	got := reports(t, e, reportsTable)
	if r := got["daily#2026-11-24T03:00:00Z"]; len(got) != 2 || r == nil || r["day"] != "2026-11-23" || r["orders"] != "1" {
		t.Errorf("after the next tick: %v", got)
	}
}

// TestNotATick: a payload that is not a tick goes to the failure queue with
// the reason, and the invocation succeeds so Lambda does not retry it.
func TestNotATick(t *testing.T) {
	e := emulator.New(t)
	q := e.Queue(t, emulator.QueueSpec{})
	h, log := functest.Build(t, dailyreport.Build, map[string]string{
		function.EnvIdempotencyTable: e.Table(t),
		dailyreport.EnvOrdersTable:   "unused",
		dailyreport.EnvReportsTable:  "unused",
		function.EnvFailureQueueURL:  q.URL,
	})
	if _, err := h(context.Background(), json.RawMessage(`{"hello":"world"}`)); err != nil {
		t.Fatalf("a permanent failure with a failure queue should succeed: %v", err)
	}
	out, err := e.SQS.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(q.URL), MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: []string{"All"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) != 1 || aws.ToString(out.Messages[0].Body) != `{"hello":"world"}` {
		t.Fatalf("failure queue holds %+v", out.Messages)
	}
	if reason := aws.ToString(out.Messages[0].MessageAttributes[handler.DLQAttrError].StringValue); !strings.Contains(reason, "tick") {
		t.Errorf("reason %q", reason)
	}
	if n := log.Count(); n["dead_lettered"] != 1 {
		t.Errorf("outcome lines %v, want 1 dead_lettered", n)
	}
}
