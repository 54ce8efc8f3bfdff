package handler_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/go-cmp/cmp"

	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/retry"
)

// spanRecorder is a Tracer that keeps its spans, to check what an observer
// traced without an X-Ray daemon.
type spanRecorder struct {
	mu    sync.Mutex
	spans []*recordedSpan
}

type recordedSpan struct {
	rec         *spanRecorder
	name        string
	parent      *recordedSpan
	annotations map[string]any
	ended       bool
	err         error
}

type spanKey struct{}

func (r *spanRecorder) Start(ctx context.Context, name string) (context.Context, handler.Span) {
	parent, _ := ctx.Value(spanKey{}).(*recordedSpan)
	s := &recordedSpan{rec: r, name: name, parent: parent, annotations: map[string]any{}}
	r.mu.Lock()
	r.spans = append(r.spans, s)
	r.mu.Unlock()
	return context.WithValue(ctx, spanKey{}, s), s
}

func (r *spanRecorder) InstrumentAWS(*aws.Config) {}

func (s *recordedSpan) Annotate(k string, v any) {
	s.rec.mu.Lock()
	defer s.rec.mu.Unlock()
	s.annotations[k] = v
}

func (s *recordedSpan) End(err error) {
	s.rec.mu.Lock()
	defer s.rec.mu.Unlock()
	s.ended, s.err = true, err
}

func (r *spanRecorder) named(name string) []*recordedSpan {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*recordedSpan
	for _, s := range r.spans {
		if s.name == name {
			out = append(out, s)
		}
	}
	return out
}

var _ handler.Tracer = (*spanRecorder)(nil)

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

func newTestTelemetry(t *testing.T, l *slog.Logger, emf *bytes.Buffer) *handler.Telemetry {
	t.Helper()
	return newTelemetryWith(t, l, emf, &spanRecorder{}, false)
}

func newTelemetryWith(t *testing.T, l *slog.Logger, emf *bytes.Buffer, tr handler.Tracer, bodies bool) *handler.Telemetry {
	t.Helper()
	m, err := handler.NewMetrics(handler.MetricsConfig{Namespace: "test", Service: "svc", Writer: emf, Clock: fixedClock(testEpoch, 0)})
	if err != nil {
		t.Fatal(err)
	}
	tel, err := handler.NewTelemetry(handler.TelemetryConfig{Logger: l, Metrics: m, Tracer: tr, Service: "svc", LogBodies: bodies, Clock: fixedClock(testEpoch, 5*time.Millisecond)})
	if err != nil {
		t.Fatal(err)
	}
	return tel
}

func TestOutcomeLogLines(t *testing.T) {
	t.Parallel()
	inv := handler.Invocation{RequestID: "req-1", ColdStart: true, TraceHeader: "Root=1-aa-bb;Sampled=1"}
	rec := handler.Record{Source: "aws:sqs", ID: "msg-1", Attempt: 3, CorrelationID: "corr-7", Body: `{"secret":1}`}
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
			l := handler.NewLogger(handler.LoggerConfig{Writer: &logs, Level: slog.LevelDebug, Service: "svc"})
			tel := newTelemetryWith(t, l, &emf, &spanRecorder{}, tt.bodies)
			ctx := handler.ContextWithInvocation(context.Background(), inv)
			rctx := tel.RecordStarted(ctx, rec)
			rep := tt.report
			rep.Record = rec
			rep.Duration = 42500 * time.Microsecond
			tel.RecordFinished(rctx, rep)

			lines := logLines(t, &logs)
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
	tr := &spanRecorder{}
	tel := newTelemetryWith(t, slog.New(slog.DiscardHandler), &bytes.Buffer{}, tr, false)
	f := handler.Chain(func(ctx context.Context, outcomes []handler.Outcome) (int, error) {
		for i, o := range outcomes {
			rctx := tel.RecordStarted(ctx, handler.Record{ID: fmt.Sprint("m", i)})
			rep := handler.Report{Outcome: o}
			if o != handler.Succeeded {
				rep.Err, rep.Class = errors.New("x"), retry.ClassPermanent
			}
			tel.RecordFinished(rctx, rep)
		}
		return len(outcomes), nil
	}, handler.Observe[[]handler.Outcome, int](tel))
	ctx := handler.ContextWithInvocation(context.Background(), handler.Invocation{ColdStart: true})
	if _, err := f(ctx, []handler.Outcome{handler.Succeeded, handler.DeadLettered}); err != nil {
		t.Fatal(err)
	}

	hs := tr.named(handler.SpanHandler)
	if len(hs) != 1 || !hs[0].ended || hs[0].err != nil {
		t.Fatalf("handler spans = %+v, want one, ended without error", hs)
	}
	if diff := cmp.Diff(map[string]any{"cold_start": true, "service": "svc"}, hs[0].annotations); diff != "" {
		t.Errorf("handler annotations (-want +got):\n%s", diff)
	}
	rs := tr.named(handler.SpanRecord)
	if len(rs) != 2 {
		t.Fatalf("%d record spans, want 2", len(rs))
	}
	want := []map[string]any{
		{"message_id": "m0", "outcome": "succeeded", "cold_start": true, "service": "svc"},
		{"message_id": "m1", "outcome": "dead_lettered", "cold_start": true, "service": "svc", "error_class": "permanent"},
	}
	for i, s := range rs {
		if s.parent != hs[0] {
			t.Errorf("record span %d is not a child of the handler span", i)
		}
		if !s.ended {
			t.Errorf("record span %d not ended", i)
		}
		if diff := cmp.Diff(want[i], s.annotations); diff != "" {
			t.Errorf("record span %d annotations (-want +got):\n%s", i, diff)
		}
	}
	if rs[0].err != nil || rs[1].err == nil {
		t.Errorf("span errors = %v, %v; want only the dead-lettered record's", rs[0].err, rs[1].err)
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
