//go:build integration

package provision_test

import (
	"context"
	"encoding/json"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/latchkit/latch/internal/provision"
	"github.com/latchkit/latch/internal/template"
	"github.com/latchkit/latch/pkg/latchtest/emulator"
)

func provisionFixture(t *testing.T, env *emulator.Env, src []byte, stack string) *provision.Result {
	t.Helper()
	tpl, err := template.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	r, err := template.NewResolver(tpl, template.Pseudo{Region: env.Cfg.Region, StackName: stack}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := provision.New(env.Cfg).Provision(ctx, tpl, r)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// cleanup deletes what res created, rules before their bus.
func cleanup(t *testing.T, env *emulator.Env, res *provision.Result) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, rule := range res.Rules {
			targets, err := env.EventBridge.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String(rule.Name), EventBusName: aws.String(rule.Bus)})
			if err == nil && len(targets.Targets) > 0 {
				var ids []string
				for _, tg := range targets.Targets {
					ids = append(ids, aws.ToString(tg.Id))
				}
				env.EventBridge.RemoveTargets(ctx, &eventbridge.RemoveTargetsInput{Rule: aws.String(rule.Name), EventBusName: aws.String(rule.Bus), Ids: ids})
			}
			env.EventBridge.DeleteRule(ctx, &eventbridge.DeleteRuleInput{Name: aws.String(rule.Name), EventBusName: aws.String(rule.Bus)})
		}
		for _, r := range res.Resources {
			switch r.Type {
			case template.TypeSQSQueue:
				env.SQS.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(r.Physical.Ref)})
			case template.TypeDynamoDBTable, template.TypeSimpleTable:
				env.DynamoDB.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(r.Name)})
			case template.TypeEventBus:
				env.EventBridge.DeleteEventBus(ctx, &eventbridge.DeleteEventBusInput{Name: aws.String(r.Name)})
			}
		}
	})
}

func queueAttrs(t *testing.T, env *emulator.Env, url string) map[string]string {
	t.Helper()
	out, err := env.SQS.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll},
	})
	if err != nil {
		t.Fatalf("queue %s: %v", url, err)
	}
	return out.Attributes
}

type redrive struct {
	DeadLetterTargetArn string `json:"deadLetterTargetArn"`
	MaxReceiveCount     int    `json:"maxReceiveCount"`
}

func parseRedrive(t *testing.T, s string) redrive {
	t.Helper()
	// SQS stores maxReceiveCount as a number; some emulators as a string.
	var raw map[string]any
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		t.Fatalf("RedrivePolicy %q: %v", s, err)
	}
	r := redrive{}
	r.DeadLetterTargetArn, _ = raw["deadLetterTargetArn"].(string)
	n, _ := template.AsInt(raw["maxReceiveCount"])
	if f, ok := raw["maxReceiveCount"].(float64); ok {
		n = int(f)
	}
	r.MaxReceiveCount = n
	return r
}

func TestProvisionStack(t *testing.T) {
	env := emulator.New(t)
	src, err := os.ReadFile("testdata/stack.yaml")
	if err != nil {
		t.Fatal(err)
	}
	stack := emulator.UniqueName(t, "stk")
	res := provisionFixture(t, env, src, stack)
	cleanup(t, env, res)
	ctx := context.Background()

	for _, r := range res.Resources {
		if r.Action != provision.Created {
			t.Errorf("first run: %s %s, want created", r.LogicalID, r.Action)
		}
	}
	phys := res.Physical

	// Queues: names, FIFO, visibility, retention and redrive to their DLQs.
	for _, tc := range []struct {
		id      string
		name    string
		attrs   map[string]string
		dlq     string
		maxRecv int
	}{
		{id: "OrderDLQ", name: stack + "-OrderDLQ", attrs: map[string]string{"MessageRetentionPeriod": "1209600"}},
		{id: "OrderQueue", name: stack + "-OrderQueue", attrs: map[string]string{"VisibilityTimeout": "60"}, dlq: "OrderDLQ", maxRecv: 5},
		{id: "LedgerDLQ", name: stack + "-ledger-dlq.fifo", attrs: map[string]string{"FifoQueue": "true", "MessageRetentionPeriod": "1209600"}},
		{id: "LedgerQueue", name: stack + "-ledger.fifo", attrs: map[string]string{"FifoQueue": "true", "ContentBasedDeduplication": "true", "VisibilityTimeout": "60"}, dlq: "LedgerDLQ", maxRecv: 3},
	} {
		t.Run("queue "+tc.id, func(t *testing.T) {
			p := phys[tc.id]
			if p.Attrs["QueueName"] != tc.name {
				t.Errorf("name = %q, want %q", p.Attrs["QueueName"], tc.name)
			}
			url, err := env.SQS.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(tc.name)})
			if err != nil {
				t.Fatalf("queue %s not found: %v", tc.name, err)
			}
			if aws.ToString(url.QueueUrl) != p.Ref {
				t.Errorf("Ref = %q, queue URL %q", p.Ref, aws.ToString(url.QueueUrl))
			}
			got := queueAttrs(t, env, p.Ref)
			if got["QueueArn"] != p.Attrs["Arn"] {
				t.Errorf("Arn = %q, queue has %q", p.Attrs["Arn"], got["QueueArn"])
			}
			for k, want := range tc.attrs {
				if !strings.EqualFold(got[k], want) {
					t.Errorf("%s = %q, want %q", k, got[k], want)
				}
			}
			if tc.dlq == "" {
				if got["RedrivePolicy"] != "" {
					t.Errorf("RedrivePolicy = %q, want none", got["RedrivePolicy"])
				}
				return
			}
			want := redrive{DeadLetterTargetArn: phys[tc.dlq].Attrs["Arn"], MaxReceiveCount: tc.maxRecv}
			if diff := cmp.Diff(want, parseRedrive(t, got["RedrivePolicy"])); diff != "" {
				t.Errorf("RedrivePolicy (-want +got):\n%s", diff)
			}
		})
	}

	// Tables: keys, indexes, TTL.
	for _, tc := range []struct {
		id   string
		keys string
		gsi  []string
		ttl  string
	}{
		{id: "IdempotencyTable", keys: "id:HASH", ttl: "expiration"},
		{id: "LedgerTable", keys: "customer_id:HASH seq:RANGE", gsi: []string{"by-order"}},
		{id: "OrdersTable", keys: "order_id:HASH"},
	} {
		t.Run("table "+tc.id, func(t *testing.T) {
			name := phys[tc.id].Ref
			if name != stack+"-"+tc.id {
				t.Errorf("table name %q, want %q", name, stack+"-"+tc.id)
			}
			d, err := env.DynamoDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for _, k := range d.Table.KeySchema {
				keys = append(keys, aws.ToString(k.AttributeName)+":"+string(k.KeyType))
			}
			if got := strings.Join(keys, " "); got != tc.keys {
				t.Errorf("keys %q, want %q", got, tc.keys)
			}
			var gsi []string
			for _, g := range d.Table.GlobalSecondaryIndexes {
				gsi = append(gsi, aws.ToString(g.IndexName))
			}
			if diff := cmp.Diff(tc.gsi, gsi); diff != "" {
				t.Errorf("indexes (-want +got):\n%s", diff)
			}
			if d.Table.BillingModeSummary == nil || d.Table.BillingModeSummary.BillingMode != ddbtypes.BillingModePayPerRequest {
				t.Errorf("billing = %+v, want on-demand", d.Table.BillingModeSummary)
			}
			if phys[tc.id].Attrs["Arn"] != aws.ToString(d.Table.TableArn) {
				t.Errorf("Arn %q, table %q", phys[tc.id].Attrs["Arn"], aws.ToString(d.Table.TableArn))
			}
			ttl, err := env.DynamoDB.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
			if err != nil {
				t.Fatal(err)
			}
			gotTTL := ""
			if d := ttl.TimeToLiveDescription; d != nil && d.TimeToLiveStatus == ddbtypes.TimeToLiveStatusEnabled {
				gotTTL = aws.ToString(d.AttributeName)
			}
			if gotTTL != tc.ttl {
				t.Errorf("TTL on %q, want %q", gotTTL, tc.ttl)
			}
		})
	}

	// The bus, the pattern rule with its FIFO target, the schedule rules.
	busName := stack + "-orders"
	bus, err := env.EventBridge.DescribeEventBus(ctx, &eventbridge.DescribeEventBusInput{Name: aws.String(busName)})
	if err != nil {
		t.Fatalf("bus %s: %v", busName, err)
	}
	if phys["OrdersBus"].Attrs["Arn"] != aws.ToString(bus.Arn) || phys["OrdersBus"].Ref != busName {
		t.Errorf("bus physical %+v, bus ARN %s", phys["OrdersBus"], aws.ToString(bus.Arn))
	}
	rules := map[string]provision.Rule{}
	for _, r := range res.Rules {
		rules[r.LogicalID] = r
	}
	accepted := rules["OrderAcceptedRule"]
	if accepted.Bus != busName || phys["OrderAcceptedRule"].Ref != busName+"|"+accepted.Name {
		t.Errorf("OrderAcceptedRule = %+v, Ref %q", accepted, phys["OrderAcceptedRule"].Ref)
	}
	desc, err := env.EventBridge.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String(accepted.Name), EventBusName: aws.String(busName)})
	if err != nil {
		t.Fatal(err)
	}
	var pattern map[string]any
	json.Unmarshal([]byte(aws.ToString(desc.EventPattern)), &pattern)
	if diff := cmp.Diff(map[string]any{"source": []any{"latch.orders"}, "detail-type": []any{"OrderAccepted"}}, pattern); diff != "" {
		t.Errorf("event pattern (-want +got):\n%s", diff)
	}
	targets, err := env.EventBridge.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String(accepted.Name), EventBusName: aws.String(busName)})
	if err != nil {
		t.Fatal(err)
	}
	if len(targets.Targets) != 1 || aws.ToString(targets.Targets[0].Arn) != phys["LedgerQueue"].Attrs["Arn"] ||
		targets.Targets[0].SqsParameters == nil || aws.ToString(targets.Targets[0].SqsParameters.MessageGroupId) != "orders" {
		t.Errorf("targets of OrderAcceptedRule = %+v", targets.Targets)
	}

	for _, tc := range []struct {
		id, expr string
		fn       provision.FunctionTarget
	}{
		{id: "NightlyRule", expr: "cron(0 3 * * ? *)", fn: provision.FunctionTarget{Function: "DailyReport", ID: "report", Input: `{"kind": "nightly"}`}},
		{id: "DailyReportDaily", expr: "rate(1 day)", fn: provision.FunctionTarget{Function: "DailyReport", ID: "DailyReportDailyLambdaTarget", Input: `{"report": "daily"}`}},
	} {
		r, ok := rules[tc.id]
		if !ok {
			t.Errorf("no rule %s in %v", tc.id, res.Rules)
			continue
		}
		if diff := cmp.Diff([]provision.FunctionTarget{tc.fn}, r.Functions); diff != "" {
			t.Errorf("%s function targets (-want +got):\n%s", tc.id, diff)
		}
		d, err := env.EventBridge.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String(r.Name)})
		if err != nil {
			t.Fatalf("rule %s: %v", r.Name, err)
		}
		if aws.ToString(d.ScheduleExpression) != tc.expr || d.State != ebtypes.RuleStateEnabled || !r.Enabled || r.ScheduleExpression != tc.expr {
			t.Errorf("rule %s: schedule %q state %s; result %+v", r.Name, aws.ToString(d.ScheduleExpression), d.State, r)
		}
		// The emulator cannot invoke functions: no target is put for them.
		tg, err := env.EventBridge.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String(r.Name)})
		if err != nil || len(tg.Targets) != 0 {
			t.Errorf("rule %s has emulator targets %+v (%v)", r.Name, tg.Targets, err)
		}
	}

	// What was not created is reported.
	skipped := map[string]string{}
	for _, s := range res.Skipped {
		skipped[s.LogicalID] = s.Reason
	}
	if diff := cmp.Diff(map[string]string{"OrderWorker": "run by latch local", "DailyReport": "run by latch local", "OrderDLQAlarm": "no CloudWatch locally"}, skipped); diff != "" {
		t.Errorf("skipped (-want +got):\n%s", diff)
	}
	var noted []string
	for _, n := range res.Notes {
		noted = append(noted, n.LogicalID+"."+n.Property)
	}
	if diff := cmp.Diff([]string{"IdempotencyTable.SSESpecification", "OrderDLQ.SqsManagedSseEnabled"}, noted); diff != "" {
		t.Errorf("notes (-want +got):\n%s", diff)
	}

	// The resolver now gives functions their local environment.
	env2, err := res.Resolver.Resolve("env", mustEnv(t, res, "OrderWorker"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"IDEMPOTENCY_TABLE": stack + "-IdempotencyTable", "ORDERS_TABLE": stack + "-OrdersTable", "BUS_NAME": busName}
	if diff := cmp.Diff(want, env2); diff != "" {
		t.Errorf("OrderWorker environment (-want +got):\n%s", diff)
	}

	// An event on the bus reaches the FIFO queue through the rule.
	put, err := env.EventBridge.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
		EventBusName: aws.String(busName), Source: aws.String("latch.orders"), DetailType: aws.String("OrderAccepted"), Detail: aws.String(`{"order_id":"o-1"}`),
	}}})
	if err != nil || put.FailedEntryCount != 0 {
		t.Fatalf("PutEvents: %v %+v", err, put)
	}
	msg := receive(t, env, phys["LedgerQueue"].Ref)
	if !strings.Contains(aws.ToString(msg.Body), `"o-1"`) || msg.Attributes["MessageGroupId"] != "orders" {
		t.Errorf("ledger message %q group %q", aws.ToString(msg.Body), msg.Attributes["MessageGroupId"])
	}

	// Run again: everything is found, nothing changes, the same values.
	again := provisionFixture(t, env, src, stack)
	for _, r := range again.Resources {
		if r.Action != provision.Unchanged {
			t.Errorf("second run: %s %s, want unchanged", r.LogicalID, r.Action)
		}
	}
	if diff := cmp.Diff(res.Physical, again.Physical); diff != "" {
		t.Errorf("second run physical values differ (-first +second):\n%s", diff)
	}

	// Change the template: the queue and the rule converge on it.
	changed := strings.Replace(string(src), "maxReceiveCount: 5", "maxReceiveCount: 7", 1)
	changed = strings.Replace(changed, "MessageGroupId: orders", "MessageGroupId: ledger", 1)
	third := provisionFixture(t, env, []byte(changed), stack)
	actions := map[string]provision.Action{}
	for _, r := range third.Resources {
		actions[r.LogicalID] = r.Action
	}
	if actions["OrderQueue"] != provision.Updated || actions["OrderAcceptedRule"] != provision.Updated || actions["LedgerQueue"] != provision.Unchanged {
		t.Errorf("after a change: %v", actions)
	}
	if got := parseRedrive(t, queueAttrs(t, env, phys["OrderQueue"].Ref)["RedrivePolicy"]).MaxReceiveCount; got != 7 {
		t.Errorf("maxReceiveCount after update = %d, want 7", got)
	}
	targets, err = env.EventBridge.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String(accepted.Name), EventBusName: aws.String(busName)})
	if err != nil || len(targets.Targets) != 1 || aws.ToString(targets.Targets[0].SqsParameters.MessageGroupId) != "ledger" {
		t.Errorf("targets after update: %+v %v", targets, err)
	}
}

func mustEnv(t *testing.T, res *provision.Result, fn string) any {
	t.Helper()
	tpl, err := template.Load("testdata/stack.yaml")
	if err != nil {
		t.Fatal(err)
	}
	v, ok := tpl.Resource(fn).Property("Environment", "Variables")
	if !ok {
		t.Fatalf("%s has no environment", fn)
	}
	return v
}

func receive(t *testing.T, env *emulator.Env, url string) sqstypes.Message {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		out, err := env.SQS.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(url), WaitTimeSeconds: 1, MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) > 0 {
			return out.Messages[0]
		}
	}
	t.Fatalf("no message on %s", url)
	return sqstypes.Message{}
}

func TestProvisionRefusesADifferentTable(t *testing.T) {
	env := emulator.New(t)
	stack := emulator.UniqueName(t, "stk")
	first := []byte("Resources:\n  T:\n    Type: AWS::Serverless::SimpleTable\n")
	res := provisionFixture(t, env, first, stack)
	cleanup(t, env, res)

	tpl := template.MustParse([]byte("Resources:\n  T:\n    Type: AWS::Serverless::SimpleTable\n    Properties:\n      PrimaryKey: {Name: pk, Type: String}\n"))
	r, _ := template.NewResolver(tpl, template.Pseudo{Region: env.Cfg.Region, StackName: stack}, nil)
	_, err := provision.New(env.Cfg).Provision(context.Background(), tpl, r)
	if err == nil || !strings.Contains(err.Error(), "exists with a different shape") || !strings.Contains(err.Error(), "pk:HASH") {
		t.Errorf("Provision with changed keys = %v, want a refusal naming the keys", err)
	}
}

// TestProvisionInfraTemplate provisions the project's own SAM template, the
// one latch local runs, twice.
func TestProvisionInfraTemplate(t *testing.T) {
	env := emulator.New(t)
	src, err := os.ReadFile("../../infra/template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	stack := emulator.UniqueName(t, "infra")
	res := provisionFixture(t, env, src, stack)
	cleanup(t, env, res)
	var created []string
	for _, r := range res.Resources {
		created = append(created, r.LogicalID)
	}
	want := []string{"IdempotencyTable", "OrdersTable", "LedgerTable", "ReportsTable", "FeedTable", "OrdersDLQ", "OrdersQueue",
		"LedgerDLQ", "LedgerQueue", "ReportFailureQueue", "FeedPollerFailureQueue", "OrdersBus", "DailyReportSchedule", "FeedPollerSchedule",
		"TotalsTable", "TotalsFailureQueue", "TotalsStreamFailures"}
	if diff := cmp.Diff(want, created, cmpSorted()); diff != "" {
		t.Errorf("created (-want +got):\n%s", diff)
	}
	rules := map[string]provision.Rule{}
	for _, r := range res.Rules {
		rules[r.LogicalID] = r
	}
	if r := rules["DailyReportSchedule"]; r.ScheduleExpression != "cron(0 3 * * ? *)" || len(r.Functions) != 1 || r.Functions[0].Function != "DailyReportFunction" {
		t.Errorf("DailyReportSchedule = %+v", r)
	}
	got := queueAttrs(t, env, res.Physical["LedgerQueue"].Ref)
	if rp := parseRedrive(t, got["RedrivePolicy"]); rp.DeadLetterTargetArn != res.Physical["LedgerDLQ"].Attrs["Arn"] || rp.MaxReceiveCount != 5 {
		t.Errorf("LedgerQueue redrive = %+v", rp)
	}
	if got["VisibilityTimeout"] != "180" || got["FifoQueue"] != "true" {
		t.Errorf("LedgerQueue attributes = %v", got)
	}
	again := provisionFixture(t, env, src, stack)
	for _, r := range again.Resources {
		if r.Action != provision.Unchanged {
			t.Errorf("second run: %s %s, want unchanged", r.LogicalID, r.Action)
		}
	}
	for _, n := range res.Notes {
		t.Logf("note: %s.%s: %s", n.LogicalID, n.Property, n.Reason)
	}
}

func cmpSorted() cmp.Option {
	return cmp.Transformer("sorted", func(in []string) []string {
		out := append([]string(nil), in...)
		sort.Strings(out)
		return out
	})
}
