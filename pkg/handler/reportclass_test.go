package handler_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/retry"
)

// TestReportClassOfSuccessIsNone: a record that did not fail carries no
// class, so an observer printing Report.Class never calls a success
// "retryable" (issue 15).
func TestReportClassOfSuccessIsNone(t *testing.T) {
	t.Parallel()
	ok := func(context.Context) error { return nil }
	tests := []struct {
		name string
		run  func(t *testing.T, obs handler.Observer)
		want []handler.Outcome
	}{
		{
			name: "sqs success and duplicate",
			run: func(t *testing.T, obs handler.Observer) {
				client := newFakeSQS()
				client.addQueue("orders", 5)
				h := handler.MustNewSQS(func(ctx context.Context, _ handler.Message[order]) error { return ok(ctx) }, handler.SQSConfig{
					Client: client, Observer: obs, Logger: discard, Concurrency: 1, // m2 after m1: a duplicate, not in progress
					Idempotency: memoryGuard(t), Key: handler.KeyJSONField("order_id"),
				})
				ev := sqsEvent("orders", msg{id: "m1", body: `{"order_id":"o1"}`}, msg{id: "m2", body: `{"order_id":"o1"}`})
				if _, err := h(context.Background(), ev); err != nil {
					t.Fatal(err)
				}
			},
			want: []handler.Outcome{handler.Succeeded, handler.Duplicate},
		},
		{
			name: "schedule success",
			run: func(t *testing.T, obs handler.Observer) {
				h := handler.MustNewSchedule(func(ctx context.Context, _ handler.Tick) error { return ok(ctx) }, handler.ScheduleConfig{Observer: obs})
				if _, err := h(context.Background(), json.RawMessage(schedulerTick)); err != nil {
					t.Fatal(err)
				}
			},
			want: []handler.Outcome{handler.Succeeded},
		},
		{
			name: "eventbridge success",
			run: func(t *testing.T, obs handler.Observer) {
				h := handler.MustNewEventBridge(func(ctx context.Context, _ handler.Event[shipment]) error { return ok(ctx) }, handler.EventBridgeConfig[shipment]{Observer: obs})
				if _, err := h(context.Background(), events.EventBridgeEvent{ID: "ev-1", Source: "shop", Detail: json.RawMessage(`{}`)}); err != nil {
					t.Fatal(err)
				}
			},
			want: []handler.Outcome{handler.Succeeded},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			obs := &reportLog{}
			tt.run(t, obs)
			if len(obs.reports) != len(tt.want) {
				t.Fatalf("got %d reports, want %d", len(obs.reports), len(tt.want))
			}
			for i, r := range obs.reports {
				if r.Outcome != tt.want[i] {
					t.Errorf("report %d: outcome %s, want %s", i, r.Outcome, tt.want[i])
				}
				if r.Class != retry.ClassNone || r.Class.String() != "none" {
					t.Errorf("report %d (%s): class %v, want none", i, r.Outcome, r.Class)
				}
			}
		})
	}
}
