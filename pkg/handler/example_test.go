package handler_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/handler/telemetry"
	"github.com/latchkit/latch/pkg/idempotency"
	"github.com/latchkit/latch/pkg/latchtest"
)

// A scheduled job behind a schedule rule: the tick delivered twice runs
// once.
func ExampleNewSchedule() {
	guard := idempotency.MustNewGuard(idempotency.Config{Store: idempotency.NewMemoryStore(idempotency.MemoryConfig{}), Namespace: "reports"})
	job := handler.MustNewSchedule(func(_ context.Context, t handler.Tick) error {
		fmt.Println("building", t.Schedule, "for", t.Time.Format("2006-01-02 15:04"))
		return nil
	}, handler.ScheduleConfig{Idempotency: guard})

	// What the rule delivers for its 06:00 tick, from the test kit.
	tick := latchtest.RuleTick("nightly-report", time.Date(2026, 3, 1, 6, 0, 0, 0, time.UTC))
	for range 2 {
		if _, err := job(context.Background(), tick); err != nil {
			fmt.Println(err)
		}
	}
	// Output: building nightly-report for 2026-03-01 06:00
}

// A typed handler for a custom event: the detail arrives decoded.
func ExampleNewEventBridge() {
	type OrderShipped struct {
		OrderID string `json:"order_id"`
	}
	f := handler.MustNewEventBridge(func(_ context.Context, e handler.Event[OrderShipped]) error {
		fmt.Println(e.DetailType, e.Detail.OrderID)
		return nil
	}, handler.EventBridgeConfig[OrderShipped]{})
	ev := events.EventBridgeEvent{ID: "ev-1", Source: "shop.orders", DetailType: "OrderShipped", Detail: json.RawMessage(`{"order_id":"o-42"}`)}
	if _, err := f(context.Background(), ev); err != nil {
		fmt.Println(err)
	}
	// Output: OrderShipped o-42
}

func ExampleParseTick() {
	t, err := handler.ParseTick([]byte(`{"schedule":"nightly-report","scheduledTime":"2026-03-01T06:00:00Z","attempt":"2"}`))
	fmt.Println(t.Schedule, t.Time, t.Source, t.Attempt, err)
	_, err = handler.ParseTick([]byte(`{"schedule":"nightly-report"}`))
	fmt.Println(err)
	// Output:
	// nightly-report 2026-03-01 06:00:00 +0000 UTC aws.scheduler 2 <nil>
	// handler: not a schedule tick: no scheduled time: "scheduledTime" is missing or empty
}

// The main of a function: telemetry built once at cold start, the
// processor observed per invocation, started through lambda.Handler.
// (Not run: Start serves Lambda's runtime API and never returns.)
func ExampleStart() {
	tel, err := telemetry.New(telemetry.Config{}) // stdout logs and EMF, X-Ray
	if err != nil {
		log.Fatal(err)
	}
	f := handler.MustNewEventBridge(func(ctx context.Context, e handler.Event[map[string]any]) error {
		tel.Logger().InfoContext(ctx, "event", "detail_type", e.DetailType)
		return nil
	}, handler.EventBridgeConfig[map[string]any]{Observer: tel})
	handler.Start(telemetry.Observe(tel, f))
}
