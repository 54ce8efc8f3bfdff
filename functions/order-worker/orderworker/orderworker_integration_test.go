//go:build integration

package orderworker_test

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/latchkit/latch/functions/internal/functest"
	"github.com/latchkit/latch/functions/order-worker/orderworker"
	"github.com/latchkit/latch/internal/esm"
	"github.com/latchkit/latch/pkg/function"
	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/latchtest/emulator"
	"github.com/latchkit/latch/pkg/retry"
)

// stack is what the function needs, created on the emulators the way
// infra/template.yaml declares it, plus a queue that receives every
// OrderAccepted put on the bus so the test can count them.
type stack struct {
	env       *emulator.Env
	orders    string
	queue     emulator.Queue
	published emulator.Queue
	vars      map[string]string
}

func newStack(t *testing.T) stack {
	e := emulator.New(t)
	s := stack{
		env:       e,
		orders:    e.TableWith(t, emulator.TableSpec{PartitionKey: "orderId", TTLAttribute: "-"}),
		queue:     e.Queue(t, emulator.QueueSpec{MaxReceiveCount: 5}),
		published: e.Queue(t, emulator.QueueSpec{}),
	}
	bus := e.Bus(t)
	e.RuleToQueue(t, bus.Name, `{"source":["latch.orders"],"detail-type":["OrderAccepted"]}`, s.published.ARN, "")
	s.vars = map[string]string{
		function.EnvIdempotencyTable:         e.Table(t),
		function.EnvIdempotencyNamespace:     "order-worker",
		orderworker.EnvOrdersTable:           s.orders,
		orderworker.EnvBus:                   bus.Name,
		function.EnvDLQURL:                   s.queue.DLQ.URL,
		orderworker.EnvTransientFaultPercent: "0",
		retry.EnvBaseSeconds:                 "1",
		retry.EnvMaxSeconds:                  "10",
	}
	return s
}

func (s stack) handler(t *testing.T) (handler.Func[events.SQSEvent, events.SQSEventResponse], *functest.Log) {
	t.Helper()
	h, log := functest.Build(t, orderworker.Build, s.vars)
	return h, log
}

// orderItems returns the orders table's items by order id.
func (s stack) orderItems(t *testing.T) map[string]map[string]string {
	t.Helper()
	items := map[string]map[string]string{}
	for _, it := range s.env.Items(t, s.orders) {
		flat := map[string]string{}
		for k, v := range it {
			if text, ok := emulator.Scalar(v); ok {
				flat[k] = text
			}
		}
		if _, dup := items[flat["orderId"]]; dup {
			t.Errorf("order %s is in the table twice", flat["orderId"])
		}
		items[flat["orderId"]] = flat
	}
	return items
}

// drain receives every message of a queue until it stays empty.
func drain(t *testing.T, c *sqs.Client, url string) []sqstypes.Message {
	t.Helper()
	var all []sqstypes.Message
	for empty := 0; empty < 2; {
		out, err := c.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
			VisibilityTimeout: 300, MessageAttributeNames: []string{"All"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			empty++
		}
		all = append(all, out.Messages...)
	}
	return all
}

// acceptedIDs returns the order ids of the OrderAccepted events received.
func acceptedIDs(t *testing.T, msgs []sqstypes.Message) []string {
	t.Helper()
	var ids []string
	for _, m := range msgs {
		var ev events.EventBridgeEvent
		if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &ev); err != nil {
			t.Fatalf("published message is not an event: %v", err)
		}
		if ev.Source != orderworker.EventSource || ev.DetailType != orderworker.EventDetailType {
			t.Errorf("published %s/%s, want %s/%s", ev.Source, ev.DetailType, orderworker.EventSource, orderworker.EventDetailType)
		}
		var acc orderworker.OrderAccepted
		if err := json.Unmarshal(ev.Detail, &acc); err != nil {
			t.Fatal(err)
		}
		if _, err := time.Parse(time.RFC3339, acc.AcceptedAt); err != nil {
			t.Errorf("acceptedAt %q: %v", acc.AcceptedAt, err)
		}
		ids = append(ids, acc.OrderID)
	}
	slices.Sort(ids)
	return ids
}

// TestSampleBatch runs the function on events/sqs-orders.json: two valid
// orders, one of them sent twice, and an invalid one. The valid orders are
// recorded and published once each, the invalid one is in the dead-letter
// queue with its reasons, and a redelivery of the whole batch changes
// nothing.
func TestSampleBatch(t *testing.T) {
	s := newStack(t)
	h, log := s.handler(t)
	ev := functest.Event[events.SQSEvent](t, "sqs-orders.json")
	for i := range ev.Records {
		ev.Records[i].EventSourceARN = s.queue.ARN // the sample's queue is in another account
	}
	ctx := context.Background()

	resp, err := h(ctx, ev)
	if err != nil {
		t.Fatal(err)
	}
	// The two messages of o-1001 run at once; both compute, one commits,
	// and the other gets its result back from its own cancelled
	// transaction: a duplicate, with nothing to come back for.
	if len(resp.BatchItemFailures) > 0 {
		t.Errorf("failures %+v, want none", resp.BatchItemFailures)
	}

	items := s.orderItems(t)
	want := map[string]map[string]string{
		"o-1001": {"orderId": "o-1001", "customerId": "c-42", "amountCents": "1999", "currency": "EUR", "placedAt": "2026-11-22T10:14:58Z"},
		"o-1002": {"orderId": "o-1002", "customerId": "c-7", "amountCents": "4500", "currency": "USD", "placedAt": "2026-11-22T10:14:59Z"},
	}
	for id, it := range items {
		at, err := time.Parse(time.RFC3339, it["acceptedAt"])
		if err != nil {
			t.Errorf("order %s: acceptedAt %q: %v", id, it["acceptedAt"], err)
		}
		if it["day"] != at.Format(time.DateOnly) {
			t.Errorf("order %s: day %q, acceptedAt %q", id, it["day"], it["acceptedAt"])
		}
		delete(it, "acceptedAt")
		delete(it, "day")
	}
	if diff := cmp.Diff(want, items); diff != "" {
		t.Errorf("orders table (-want +got):\n%s", diff)
	}
	if got := acceptedIDs(t, drain(t, s.env.SQS, s.published.URL)); !slices.Equal(got, []string{"o-1001", "o-1002"}) {
		t.Errorf("OrderAccepted published for %v, want o-1001 and o-1002 once each", got)
	}

	dlq := drain(t, s.env.SQS, s.queue.DLQ.URL)
	if len(dlq) != 1 {
		t.Fatalf("%d messages in the DLQ, want the invalid order", len(dlq))
	}
	m := dlq[0]
	if body := aws.ToString(m.Body); !strings.Contains(body, `"o-1003"`) {
		t.Errorf("DLQ holds %s, want o-1003", body)
	}
	reason := aws.ToString(m.MessageAttributes[handler.DLQAttrError].StringValue)
	for _, want := range []string{"invalid order o-1003", "customerId is empty", "amountCents -5 is not positive"} {
		if !strings.Contains(reason, want) {
			t.Errorf("DLQ reason %q does not say %q", reason, want)
		}
	}
	if class := aws.ToString(m.MessageAttributes[handler.DLQAttrErrorClass].StringValue); class != "permanent" {
		t.Errorf("DLQ error class %q, want permanent", class)
	}

	n := log.Count()
	if n["dead_lettered"] != 1 || n["succeeded"] != 2 || n["duplicate"] != 1 {
		t.Errorf("outcome lines %v: want 2 succeeded (o-1001, o-1002), 1 duplicate (o-1001 again), 1 dead_lettered (o-1003)", n)
	}

	// Lambda delivers at least once: the same batch again records nothing
	// new; the invalid order is dead-lettered again. A redelivery publishes
	// again (handler.NewSQSTx runs then on a redelivery, in case the first
	// attempt committed and failed to publish), with the acceptance first
	// committed; the ledger keeps one entry per order.
	for i := range ev.Records {
		ev.Records[i].Attributes["ApproximateReceiveCount"] = "2"
	}
	if resp, err := h(ctx, ev); err != nil || len(resp.BatchItemFailures) > 0 {
		t.Fatalf("redelivery: %+v, %v", resp, err)
	}
	if n := log.Count(); n["duplicate"] != 4 || n["dead_lettered"] != 2 || n["succeeded"] != 2 {
		t.Errorf("outcome lines after the redelivery %v: want 3 more duplicates and 1 more dead_lettered", n)
	}
	if got := len(s.orderItems(t)); got != 2 {
		t.Errorf("%d orders after the redelivery, want 2", got)
	}
	for _, id := range acceptedIDs(t, drain(t, s.env.SQS, s.published.URL)) {
		if id != "o-1001" && id != "o-1002" {
			t.Errorf("the redelivery published OrderAccepted for %s", id)
		}
	}
}

// TestTransientFaults runs orders through the queue as Lambda would (esm)
// with every order faulty: each fails its first two attempts with the
// simulated throttling, comes back after a growing delay, and is accepted
// on the third.
func TestTransientFaults(t *testing.T) {
	s := newStack(t)
	s.vars[orderworker.EnvTransientFaultPercent] = "100"
	h, log := s.handler(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const n = 3
	for i := range n {
		body := `{"orderId":"t-` + strconv.Itoa(i) + `","customerId":"c-1","amountCents":100,"currency":"EUR","placedAt":"2026-11-22T10:00:00Z"}`
		if _, err := s.env.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(s.queue.URL), MessageBody: aws.String(body)}); err != nil {
			t.Fatal(err)
		}
	}
	cfg := esm.Config{Client: s.env.SQS, QueueURL: s.queue.URL, BatchSize: 10, WaitTime: time.Second}
	for len(s.orderItems(t)) < n {
		if ctx.Err() != nil {
			t.Fatalf("orders not all accepted in time; outcomes %v", log.Count())
		}
		if _, err := esm.Poll(ctx, cfg, esm.Invoke(h)); err != nil {
			t.Fatal(err)
		}
	}

	type history struct {
		attempts []int
		delays   []int64
		final    string
	}
	byMsg := map[string]*history{}
	for _, o := range log.Outcomes() {
		h := byMsg[o.MessageID]
		if h == nil {
			h = &history{}
			byMsg[o.MessageID] = h
		}
		h.attempts = append(h.attempts, o.Attempt)
		if o.Outcome == "retry_scheduled" {
			h.delays = append(h.delays, o.RetryDelayMS)
			if o.ErrorClass != "retryable" || !strings.Contains(o.Error, "ThrottlingException") {
				t.Errorf("retry of %s: error %q class %q, want the simulated throttling, retryable", o.MessageID, o.Error, o.ErrorClass)
			}
		} else {
			h.final = o.Outcome
		}
	}
	if len(byMsg) != n {
		t.Fatalf("outcomes for %d messages, want %d", len(byMsg), n)
	}
	for id, h := range byMsg {
		if !slices.Equal(h.attempts, []int{1, 2, 3}) || h.final != "succeeded" || len(h.delays) != 2 {
			t.Errorf("message %s: attempts %v, retries %v ms, final %q; want attempts 1,2 retried and 3 succeeded", id, h.attempts, h.delays, h.final)
			continue
		}
		// Base 1 s with up to 25% jitter: 750-1000 ms, then 1500-2000 ms.
		if h.delays[0] < 750 || h.delays[0] > 1000 || h.delays[1] < 1500 || h.delays[1] > 2000 {
			t.Errorf("message %s: retry delays %v ms, want about 1 s then 2 s", id, h.delays)
		}
	}
	if got := acceptedIDs(t, drain(t, s.env.SQS, s.published.URL)); !slices.Equal(got, []string{"t-0", "t-1", "t-2"}) {
		t.Errorf("published %v, want each order once", got)
	}
}
