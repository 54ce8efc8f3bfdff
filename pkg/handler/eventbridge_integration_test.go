//go:build integration

package handler_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/latchkit/latch/internal/esm"
	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/handler/internal/emftest"
	"github.com/latchkit/latch/pkg/handler/logging"
	"github.com/latchkit/latch/pkg/handler/metrics"
	"github.com/latchkit/latch/pkg/handler/telemetry"
	"github.com/latchkit/latch/pkg/idempotency"
	"github.com/latchkit/latch/pkg/latchtest/emulator"
)

// TestIntegrationEventBridgeThroughSQS: PutEvents on a custom bus, a rule
// with an SQS target, the SQS processor with a typed EventBridge handler.
// Each order's effect happens once, also when SQS delivers an event twice;
// an event whose detail does not decode goes to the DLQ at once with the
// reason.
func TestIntegrationEventBridgeThroughSQS(t *testing.T) {
	t.Parallel()
	env := emulator.New(t)
	guard, table := dynamoGuard(t, env)
	q := env.Queue(t, emulator.QueueSpec{MaxReceiveCount: 3, VisibilityTimeout: 30 * time.Second})
	bus := env.Bus(t)
	env.RuleToQueue(t, bus.Name, `{"source":["shop.orders"]}`, q.URL, "")

	var logs, emf syncBuffer
	m, err := metrics.New(metrics.Config{Namespace: "latch-test", Service: "orders", Writer: &emf})
	if err != nil {
		t.Fatal(err)
	}
	tel, err := telemetry.New(telemetry.Config{
		Logger:  logging.NewLogger(logging.Config{Writer: &logs, Level: slog.LevelInfo, Service: "orders"}),
		Metrics: m,
	})
	if err != nil {
		t.Fatal(err)
	}
	var shipped effects
	proc := handler.MustNewSQS(handler.EventBridgeSQS(func(_ context.Context, e handler.Event[shipment]) error {
		shipped.add(e.Detail.OrderID)
		return nil
	}), handler.SQSConfig{Client: env.SQS, Observer: tel, Idempotency: guard, Key: handler.KeyEventID})
	invoke := telemetry.Observe(tel, proc)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	put := func(details ...string) {
		t.Helper()
		var entries []ebtypes.PutEventsRequestEntry
		for _, d := range details {
			entries = append(entries, ebtypes.PutEventsRequestEntry{
				EventBusName: aws.String(bus.Name), Source: aws.String("shop.orders"),
				DetailType: aws.String("OrderShipped"), Detail: aws.String(d),
			})
		}
		out, err := env.EventBridge.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: entries})
		if err != nil || out.FailedEntryCount != 0 {
			t.Fatalf("PutEvents: %v (failed entries %d)", err, out.FailedEntryCount)
		}
	}
	mapping := esm.Config{Client: env.SQS, QueueURL: q.URL, QueueARN: q.ARN, WaitTime: time.Second}
	// bodies keeps each processed message's body by order id.
	bodies := map[string]string{}
	pollUntil := func(done func() bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !done() {
			if time.Now().After(deadline) {
				t.Fatal("the expected records were not processed within 30s")
			}
			b, err := esm.Poll(ctx, mapping, esm.Invoke(invoke))
			if err != nil {
				t.Fatalf("poll: %v", err)
			}
			if b.InvokeErr != nil {
				t.Fatalf("invocation failed: %v", b.InvokeErr)
			}
			for _, r := range b.Event.Records {
				var ev events.EventBridgeEvent
				if json.Unmarshal([]byte(r.Body), &ev) == nil {
					var s shipment
					_ = json.Unmarshal(ev.Detail, &s)
					bodies[s.OrderID] = r.Body
				}
			}
		}
	}

	put(jsonDetail(t, shipment{OrderID: "o-1", Items: 2}), jsonDetail(t, shipment{OrderID: "o-2", Items: 1}))
	pollUntil(func() bool { return shipped.get("o-1") == 1 && shipped.get("o-2") == 1 })

	// SQS delivers at least once: the same event again, as a second message.
	if _, err := env.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(q.URL), MessageBody: aws.String(bodies["o-1"])}); err != nil {
		t.Fatal(err)
	}
	// And an event whose detail is not a shipment.
	put(`{"order_id":"o-3","items":"three"}`)
	pollUntil(func() bool {
		return len(outcomesByID(t, logs.snapshot())) == 4
	})
	if shipped.get("o-1") != 1 || shipped.get("o-2") != 1 || shipped.get("o-3") != 0 {
		t.Errorf("effects o-1 %d, o-2 %d, o-3 %d; want 1, 1, 0", shipped.get("o-1"), shipped.get("o-2"), shipped.get("o-3"))
	}

	// What the logs say: two successes, one duplicate, one dead letter.
	count := map[string]int{}
	for _, outs := range outcomesByID(t, logs.snapshot()) {
		for _, o := range outs {
			count[o]++
		}
	}
	if count["succeeded"] != 2 || count["duplicate"] != 1 || count["dead_lettered"] != 1 {
		t.Errorf("outcomes %v, want succeeded 2, duplicate 1, dead_lettered 1\n%s", count, logs.snapshot())
	}

	// The idempotency record of o-1's event is COMPLETED in DynamoDB Local.
	var ev events.EventBridgeEvent
	if err := json.Unmarshal([]byte(bodies["o-1"]), &ev); err != nil {
		t.Fatalf("o-1 body %q: %v", bodies["o-1"], err)
	}
	if st := storedStatus(t, env, table, guard.KeyHash(ev.ID)); st != string(idempotency.StatusCompleted) {
		t.Errorf("record of event %s: status %q, want COMPLETED", ev.ID, st)
	}

	// The undecodable event is in the DLQ with the reason, on its first attempt.
	dl := receiveN(t, env, q.DLQ.URL, 1)[0]
	if reason := msgAttr(dl, handler.DLQAttrError); !strings.Contains(reason, "decode detail") || msgAttr(dl, handler.DLQAttrErrorClass) != "permanent" {
		t.Errorf("DLQ reason %q class %q", reason, msgAttr(dl, handler.DLQAttrErrorClass))
	}
	if !strings.Contains(aws.ToString(dl.Body), `"o-3"`) {
		t.Errorf("DLQ body %s, want the o-3 event", aws.ToString(dl.Body))
	}

	// One EMF blob per invocation, each well formed; together they count
	// every outcome.
	total := map[string]float64{}
	for _, blob := range emftest.Blobs(t, emf.snapshot()) {
		_, dims, values := emftest.Check(t, blob)
		if dims["service"] != "orders" {
			t.Errorf("service dimension %q", dims["service"])
		}
		for _, o := range []string{"succeeded", "duplicate", "dead_lettered"} {
			if v, ok := values[o].(float64); ok {
				total[o] += v
			}
		}
	}
	if total["succeeded"] != 2 || total["duplicate"] != 1 || total["dead_lettered"] != 1 {
		t.Errorf("EMF totals %v", total)
	}
}
