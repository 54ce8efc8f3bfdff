//go:build integration

package handler_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/handler/internal/logtest"
	"github.com/latchkit/latch/pkg/handler/logging"
	"github.com/latchkit/latch/pkg/handler/metrics"
	"github.com/latchkit/latch/pkg/handler/telemetry"
	"github.com/latchkit/latch/pkg/idempotency"
	"github.com/latchkit/latch/pkg/latchtest/emulator"
	"github.com/latchkit/latch/pkg/retry"
)

// TestIntegrationScheduleTickOnce: a schedule tick delivered twice by its
// rule, and once more by Scheduler, has its job's effect once; the
// idempotency record is COMPLETED in DynamoDB Local. A tick that fails for
// good and a payload that is not a tick land on the failure queue (moto)
// with the reason, and their invocations succeed.
func TestIntegrationScheduleTickOnce(t *testing.T) {
	t.Parallel()
	env := emulator.New(t)
	guard, table := dynamoGuard(t, env)
	failed := env.Queue(t, emulator.QueueSpec{})

	var logs syncBuffer
	m, err := metrics.New(metrics.Config{Namespace: "latch-test", Service: "reports", Writer: &syncBuffer{}})
	if err != nil {
		t.Fatal(err)
	}
	tel, err := telemetry.New(telemetry.Config{
		Logger:  logging.NewLogger(logging.Config{Writer: &logs, Level: slog.LevelInfo}),
		Metrics: m,
	})
	if err != nil {
		t.Fatal(err)
	}
	var ran effects
	job := func(_ context.Context, tick handler.Tick) error {
		if strings.HasPrefix(tick.Schedule, "broken") {
			return retry.Permanent(errors.New("report template missing"))
		}
		ran.add(tick.Key())
		return nil
	}
	sched := handler.MustNewSchedule(job, handler.ScheduleConfig{
		Idempotency:  guard,
		FailureQueue: handler.FailureQueue{URL: failed.URL, Client: env.SQS},
		Observer:     tel,
	})
	// As Lambda runs it: JSON bytes in, through Start's entry point.
	fn := handler.NewLambdaHandler(telemetry.Observe(tel, sched))

	rule := emulator.UniqueName(t, "nightly")
	at := time.Now().UTC().Truncate(time.Minute)
	ruleTick := fmt.Sprintf(`{"version":"0","id":"%s","detail-type":"Scheduled Event","source":"aws.events","account":"123456789012",`+
		`"time":%q,"region":"us-east-1","resources":["arn:aws:events:us-east-1:123456789012:rule/%s"],"detail":{}}`,
		emulator.UniqueName(t, "ev"), at.Format(time.RFC3339), rule)
	schedulerTick := fmt.Sprintf(`{"schedule":%q,"scheduledTime":%q,"executionId":"exec-1","attempt":"2"}`, rule, at.Format(time.RFC3339))

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for i, payload := range []string{ruleTick, ruleTick, schedulerTick} {
		if _, err := fn.Invoke(ctx, []byte(payload)); err != nil {
			t.Fatalf("delivery %d: %v", i+1, err)
		}
	}
	key := rule + "@" + at.Format(time.RFC3339)
	if n := ran.get(key); n != 1 {
		t.Errorf("the job ran %d times for tick %s, want 1", n, key)
	}
	if st := storedStatus(t, env, table, guard.KeyHash(key)); st != string(idempotency.StatusCompleted) {
		t.Errorf("record of tick %s: status %q, want COMPLETED", key, st)
	}
	var outs []string
	for _, l := range logtest.Lines(t, logs.snapshot()) {
		if l["message"] == "record processed" {
			outs = append(outs, fmt.Sprint(l["outcome"]))
			if l["idempotency_key_hash"] != guard.KeyHash(key) || l["correlation_id"] != key {
				t.Errorf("outcome line %v: want key hash %s and correlation id %s", l, guard.KeyHash(key), key)
			}
		}
	}
	if strings.Join(outs, ",") != "succeeded,duplicate,duplicate" {
		t.Errorf("outcomes %v, want succeeded, duplicate, duplicate", outs)
	}

	// The next tick of the same schedule is a new tick.
	next := strings.Replace(schedulerTick, at.Format(time.RFC3339), at.Add(24*time.Hour).Format(time.RFC3339), 1)
	if _, err := fn.Invoke(ctx, []byte(next)); err != nil {
		t.Fatal(err)
	}
	if n := ran.get(rule + "@" + at.Add(24*time.Hour).Format(time.RFC3339)); n != 1 {
		t.Errorf("the next tick ran %d times, want 1", n)
	}

	// Permanent failures: to the failure queue, invocation succeeds.
	broken := fmt.Sprintf(`{"schedule":"broken-%s","scheduledTime":%q}`, rule, at.Format(time.RFC3339))
	notATick := `{"hello":"world"}`
	for _, payload := range []string{broken, notATick} {
		if _, err := fn.Invoke(ctx, []byte(payload)); err != nil {
			t.Errorf("permanent failure returned %v, want success (the event is on the failure queue)", err)
		}
	}
	got := map[string]string{}
	for _, msg := range receiveN(t, env, failed.URL, 2) {
		if msgAttr(msg, handler.DLQAttrErrorClass) != "permanent" || msgAttr(msg, handler.DLQAttrFailedAt) == "" {
			t.Errorf("failure message attributes %v", msg.MessageAttributes)
		}
		got[aws.ToString(msg.Body)] = msgAttr(msg, handler.DLQAttrError)
	}
	if got[broken] != "report template missing" {
		t.Errorf("broken tick: reason %q, want the job's error (messages %v)", got[broken], got)
	}
	if !strings.Contains(got[notATick], "not a schedule tick") {
		t.Errorf("not a tick: reason %q (messages %v)", got[notATick], got)
	}
}
