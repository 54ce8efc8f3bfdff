package handler_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/handler/logging"
	"github.com/latchkit/latch/pkg/handler/metrics"
	"github.com/latchkit/latch/pkg/handler/telemetry"
)

// TestPanicStackGoesToTheObserversLogger checks that a trigger with a
// Telemetry as its Observer and no Logger of its own writes a recovered
// panic's stack to the telemetry's JSON log, not to slog.Default(), and
// that a Logger in the config still wins.
func TestPanicStackGoesToTheObserversLogger(t *testing.T) {
	t.Parallel()
	triggers := map[string]func(obs handler.Observer, l *slog.Logger) error{
		"sqs": func(obs handler.Observer, l *slog.Logger) error {
			h := handler.MustNewSQS(byBody, handler.SQSConfig{Client: newFakeSQS(), Observer: obs, Logger: l, Now: func() time.Time { return testNow }})
			_, err := h(context.Background(), sqsEvent("orders", msg{id: "m1", body: body("boom")}))
			return err
		},
		"schedule": func(obs handler.Observer, l *slog.Logger) error {
			f := handler.MustNewSchedule(func(context.Context, handler.Tick) error { panic("nil map") },
				handler.ScheduleConfig{Observer: obs, Logger: l})
			_, err := f(context.Background(), json.RawMessage(ruleEvent))
			if err == nil {
				t.Error("a panicking tick succeeded")
			}
			return nil
		},
	}
	for name, run := range triggers {
		for _, own := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/own logger %v", name, own), func(t *testing.T) {
				t.Parallel()
				var telLog, ownLog bytes.Buffer
				m, err := metrics.New(metrics.Config{Namespace: "t", Service: "svc", Writer: &bytes.Buffer{}})
				if err != nil {
					t.Fatal(err)
				}
				tel, err := telemetry.New(telemetry.Config{
					Logger:  logging.NewLogger(logging.Config{Writer: &telLog, Level: slog.LevelInfo}),
					Metrics: m,
					Tracer:  handler.NopTracer{},
				})
				if err != nil {
					t.Fatal(err)
				}
				var configured *slog.Logger
				if own {
					configured = slog.New(slog.NewJSONHandler(&ownLog, nil))
				}
				if err := run(tel, configured); err != nil {
					t.Fatal(err)
				}
				want, other := &telLog, &ownLog
				if own {
					want, other = &ownLog, &telLog
				}
				if !strings.Contains(want.String(), `"stack":"goroutine`) {
					t.Errorf("no panic stack in the expected log:\n%s", want)
				}
				if strings.Contains(other.String(), `"stack"`) {
					t.Errorf("panic stack in the other log:\n%s", other)
				}
			})
		}
	}
}

// TestDeliveryInContext checks that the record function finds its
// Delivery in its context without any Observer: the logging package
// reads it from there.
func TestDeliveryInContext(t *testing.T) {
	t.Parallel()
	var got handler.Delivery
	h := handler.MustNewSQS(func(ctx context.Context, m handler.Message[order]) error {
		got, _ = handler.DeliveryFromContext(ctx)
		return nil
	}, handler.SQSConfig{Client: newFakeSQS()})
	if _, err := h(context.Background(), sqsEvent("orders", msg{id: "m1", body: body("o-1"), attempt: 3})); err != nil {
		t.Fatal(err)
	}
	if got.ID != "m1" || got.Attempt != 3 || got.Source != "aws:sqs" {
		t.Errorf("delivery = %+v, want message m1, attempt 3, source aws:sqs", got)
	}
}
