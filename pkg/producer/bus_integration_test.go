//go:build integration

package producer_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/latchtest/emulator"
	"github.com/latchkit/latch/pkg/producer"
)

func TestBusPutsToARuleTarget(t *testing.T) {
	t.Parallel()
	env := emulator.New(t)
	bus := env.Bus(t)
	q := env.Queue(t, emulator.QueueSpec{})
	env.RuleToQueue(t, bus.Name, `{"source":["latch.test"]}`, q.ARN, "")
	b, err := producer.NewBus(env.EventBridge, producer.BusConfig[accepted]{
		BusName: bus.Name, Source: "latch.test", DetailType: func(accepted) string { return "OrderAccepted" },
	})
	if err != nil {
		t.Fatal(err)
	}
	var values []accepted
	for i := range 23 {
		values = append(values, accepted{OrderID: fmt.Sprint(i), Pad: strings.Repeat("p", 30_000)})
	}
	ctx := handler.ContextWithInvocation(context.Background(), handler.Invocation{RequestID: "req-bus"})
	res, err := b.PutBatch(ctx, values)
	if err != nil {
		t.Fatalf("PutBatch: %v", err)
	}
	for i, r := range res {
		if r.MessageID == "" {
			t.Errorf("value %d: no event id", i)
		}
	}
	got := drain(t, env, q.URL, len(values), 30*time.Second)
	if len(got) != len(values) {
		t.Fatalf("rule target got %d events, want %d", len(got), len(values))
	}
	seen := map[string]bool{}
	for _, m := range got {
		var ev struct {
			Detail map[string]string `json:"detail"`
		}
		if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Detail[producer.DetailCorrelationKey] != "req-bus" {
			t.Errorf("event detail correlation %q, want req-bus", ev.Detail[producer.DetailCorrelationKey])
		}
		seen[ev.Detail["order_id"]] = true
	}
	if len(seen) != len(values) {
		t.Errorf("%d distinct orders arrived, want %d", len(seen), len(values))
	}
}
