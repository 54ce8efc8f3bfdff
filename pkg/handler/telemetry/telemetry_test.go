package telemetry_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/handler/internal/emftest"
	"github.com/latchkit/latch/pkg/handler/internal/logtest"
	"github.com/latchkit/latch/pkg/handler/internal/spantest"
	"github.com/latchkit/latch/pkg/handler/logging"
	"github.com/latchkit/latch/pkg/handler/metrics"
	"github.com/latchkit/latch/pkg/handler/telemetry"
	"github.com/latchkit/latch/pkg/retry"
)

// fixedClock returns a clock that starts at t0 and moves step per call.
func fixedClock(t0 time.Time, step time.Duration) func() time.Time {
	var mu sync.Mutex
	now := t0
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t := now
		now = now.Add(step)
		return t
	}
}

var testEpoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newTelemetryWith(t *testing.T, l *slog.Logger, emf *bytes.Buffer, tr handler.Tracer, bodies bool) *telemetry.Telemetry {
	t.Helper()
	m, err := metrics.New(metrics.Config{Namespace: "test", Service: "svc", Writer: emf, Now: fixedClock(testEpoch, 0)})
	if err != nil {
		t.Fatal(err)
	}
	tel, err := telemetry.New(telemetry.Config{Logger: l, Metrics: m, Tracer: tr, Service: "svc", LogBodies: bodies, Now: fixedClock(testEpoch, 5*time.Millisecond)})
	if err != nil {
		t.Fatal(err)
	}
	return tel
}

func TestOutcomeLogLines(t *testing.T) {
	t.Parallel()
	inv := handler.Invocation{RequestID: "req-1", ColdStart: true, TraceHeader: "Root=1-aa-bb;Sampled=1"}
	rec := handler.Delivery{Source: "aws:sqs", ID: "msg-1", Attempt: 3, CorrelationID: "corr-7", Body: `{"secret":1}`}
	common := map[string]any{
		"message": "record processed", "service": "svc", "source": "aws:sqs", "message_id": "msg-1",
		"attempt": 3.0, "correlation_id": "corr-7", "cold_start": true, "request_id": "req-1",
		"xray_trace_id": "1-aa-bb", "duration_ms": 42.5,
	}
	with := func(extra map[string]any) map[string]any {
		m := map[string]any{}
		for k, v := range common {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name   string
		report handler.Report
		bodies bool
		want   map[string]any
	}{
		{
			name:   "succeeded",
			report: handler.Report{Outcome: handler.Succeeded, KeyHash: "h1"},
			want:   with(map[string]any{"level": "INFO", "outcome": "succeeded", "idempotency_key_hash": "h1"}),
		},
		{
			name:   "key with a display form",
			report: handler.Report{Outcome: handler.Succeeded, KeyHash: "h1", KeyDisplay: "order o-17"},
			want:   with(map[string]any{"level": "INFO", "outcome": "succeeded", "idempotency_key_hash": "h1", "idempotency_key": "order o-17"}),
		},
		{
			name:   "duplicate",
			report: handler.Report{Outcome: handler.Duplicate, KeyHash: "h1"},
			want:   with(map[string]any{"level": "INFO", "outcome": "duplicate", "idempotency_key_hash": "h1"}),
		},
		{
			name:   "retry scheduled",
			report: handler.Report{Outcome: handler.RetryScheduled, Err: errors.New("throttled"), Class: retry.ClassRetryable, RetryDelay: 40 * time.Second},
			want: with(map[string]any{
				"level": "WARN", "outcome": "retry_scheduled", "retry_delay_ms": 40000.0,
				"error": "throttled", "error_class": "retryable",
			}),
		},
		{
			name:   "dead lettered",
			report: handler.Report{Outcome: handler.DeadLettered, Err: errors.New("bad order"), Class: retry.ClassPermanent},
			want:   with(map[string]any{"level": "ERROR", "outcome": "dead_lettered", "error": "bad order", "error_class": "permanent"}),
		},
		{
			name:   "failed",
			report: handler.Report{Outcome: handler.Failed, Err: errors.New("no dlq"), Class: retry.ClassRetryable},
			want:   with(map[string]any{"level": "ERROR", "outcome": "failed", "error": "no dlq", "error_class": "retryable"}),
		},
		{
			name:   "blocked: the reason, no class, not an error",
			report: handler.Report{Outcome: handler.Blocked, Err: fmt.Errorf("%w (message m0)", handler.ErrGroupBlocked)},
			want: with(map[string]any{
				"level": "INFO", "outcome": "blocked",
				"error": "handler: not run: an earlier message of its FIFO group failed (message m0)",
			}),
		},
		{
			name:   "body when asked",
			report: handler.Report{Outcome: handler.Succeeded},
			bodies: true,
			want:   with(map[string]any{"level": "INFO", "outcome": "succeeded", "body": `{"secret":1}`}),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var logs, emf bytes.Buffer
			l := logging.NewLogger(logging.Config{Writer: &logs, Level: slog.LevelDebug, Service: "svc"})
			tel := newTelemetryWith(t, l, &emf, &spantest.Recorder{}, tt.bodies)
			ctx := handler.ContextWithInvocation(context.Background(), inv)
			rctx := tel.RecordStarted(ctx, rec)
			rep := tt.report
			rep.Delivery = rec
			rep.Duration = 42500 * time.Microsecond
			tel.RecordFinished(rctx, rep)

			lines := logtest.Lines(t, &logs)
			if len(lines) != 1 {
				t.Fatalf("%d lines, want 1: %v", len(lines), lines)
			}
			got := lines[0]
			delete(got, "timestamp")
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("outcome line (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOutcomeSpans(t *testing.T) {
	t.Parallel()
	tr := &spantest.Recorder{}
	tel := newTelemetryWith(t, slog.New(slog.DiscardHandler), &bytes.Buffer{}, tr, false)
	f := telemetry.Observe(tel, func(ctx context.Context, outcomes []handler.Outcome) (int, error) {
		for i, o := range outcomes {
			rctx := tel.RecordStarted(ctx, handler.Delivery{ID: fmt.Sprint("m", i)})
			rep := handler.Report{Outcome: o}
			switch o {
			case handler.Succeeded:
			case handler.Blocked:
				rep.Err = handler.ErrGroupBlocked
			default:
				rep.Err, rep.Class = errors.New("x"), retry.ClassPermanent
			}
			tel.RecordFinished(rctx, rep)
		}
		return len(outcomes), nil
	})
	ctx := handler.ContextWithInvocation(context.Background(), handler.Invocation{ColdStart: true})
	if _, err := f(ctx, []handler.Outcome{handler.Succeeded, handler.DeadLettered, handler.Blocked}); err != nil {
		t.Fatal(err)
	}

	hs := tr.Named(handler.SpanHandler)
	if len(hs) != 1 || !hs[0].Ended || hs[0].Err != nil {
		t.Fatalf("handler spans = %+v, want one, ended without error", hs)
	}
	if diff := cmp.Diff(map[string]any{"cold_start": true, "service": "svc"}, hs[0].Annotations); diff != "" {
		t.Errorf("handler annotations (-want +got):\n%s", diff)
	}
	rs := tr.Named(handler.SpanRecord)
	if len(rs) != 3 {
		t.Fatalf("%d record spans, want 3", len(rs))
	}
	want := []map[string]any{
		{"message_id": "m0", "outcome": "succeeded", "cold_start": true, "service": "svc"},
		{"message_id": "m1", "outcome": "dead_lettered", "cold_start": true, "service": "svc", "error_class": "permanent"},
		{"message_id": "m2", "outcome": "blocked", "cold_start": true, "service": "svc"},
	}
	for i, s := range rs {
		if s.Parent != hs[0] {
			t.Errorf("record span %d is not a child of the handler span", i)
		}
		if !s.Ended {
			t.Errorf("record span %d not ended", i)
		}
		if diff := cmp.Diff(want[i], s.Annotations); diff != "" {
			t.Errorf("record span %d annotations (-want +got):\n%s", i, diff)
		}
	}
	if rs[0].Err != nil || rs[1].Err == nil || rs[2].Err != nil {
		t.Errorf("span errors = %v, %v, %v; want only the dead-lettered record's", rs[0].Err, rs[1].Err, rs[2].Err)
	}
}

// A stream record's line places it in its stream, and its iterator age is
// an EMF value per record.
func TestStreamRecordLineAndIteratorAge(t *testing.T) {
	t.Parallel()
	var logs, emf bytes.Buffer
	l := logging.NewLogger(logging.Config{Writer: &logs, Level: slog.LevelDebug, Service: "svc"})
	tel := newTelemetryWith(t, l, &emf, &spantest.Recorder{}, false)
	rec := handler.Delivery{Source: "aws:kinesis", ID: "shardId-000000000003:495", Shard: "shardId-000000000003", SequenceNumber: "495", IteratorAge: 2500 * time.Millisecond}
	tel.RecordFinished(tel.RecordStarted(context.Background(), rec), handler.Report{Delivery: rec, Outcome: handler.Succeeded})
	lines := logtest.Lines(t, &logs)
	if len(lines) != 1 {
		t.Fatalf("%d lines, want 1", len(lines))
	}
	for k, want := range map[string]any{"shard_id": "shardId-000000000003", "sequence_number": "495", "iterator_age_ms": 2500.0} {
		if got := lines[0][k]; got != want {
			t.Errorf("%s = %v, want %v", k, got, want)
		}
	}
	blobs := emftest.Blobs(t, &emf)
	if len(blobs) != 1 {
		t.Fatalf("%d EMF blobs, want 1", len(blobs))
	}
	_, _, values := emftest.Check(t, blobs[0])
	if got := values[telemetry.MetricIteratorAge]; got != 2500.0 {
		t.Errorf("%s = %v, want 2500", telemetry.MetricIteratorAge, got)
	}
}
