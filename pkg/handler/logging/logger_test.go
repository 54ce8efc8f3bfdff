package logging_test

import (
	"bytes"
	"context"
	"log/slog"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/handler/internal/logtest"
	"github.com/latchkit/latch/pkg/handler/logging"
)

func TestLoggerLambdaFields(t *testing.T) {
	t.Parallel()
	inv := handler.Invocation{RequestID: "req-9", ColdStart: true, TraceHeader: "Root=1-aaa-bbb;Parent=c;Sampled=1"}
	tests := []struct {
		name string
		log  func(l *slog.Logger, ctx context.Context)
		want map[string]any
	}{
		{
			name: "no context",
			log:  func(l *slog.Logger, _ context.Context) { l.Info("hello", "k", "v") },
			want: map[string]any{"level": "INFO", "message": "hello", "service": "svc", "k": "v"},
		},
		{
			name: "request context",
			log:  func(l *slog.Logger, ctx context.Context) { l.WarnContext(ctx, "careful", "n", 3) },
			want: map[string]any{
				"level": "WARN", "message": "careful", "service": "svc", "n": 3.0,
				"request_id": "req-9", "cold_start": true, "xray_trace_id": "1-aaa-bbb",
			},
		},
		{
			name: "groups keep the lambda fields at the top",
			log: func(l *slog.Logger, ctx context.Context) {
				l.With("a", 1).WithGroup("order").InfoContext(ctx, "shipped", "id", "o-1")
			},
			want: map[string]any{
				"level": "INFO", "message": "shipped", "service": "svc", "a": 1.0,
				"order":      map[string]any{"id": "o-1"},
				"request_id": "req-9", "cold_start": true, "xray_trace_id": "1-aaa-bbb",
			},
		},
		{
			name: "below the level",
			log:  func(l *slog.Logger, ctx context.Context) { l.DebugContext(ctx, "hidden") },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			l := logging.NewLogger(logging.Config{Writer: &buf, Level: slog.LevelInfo, Service: "svc"})
			tt.log(l, handler.ContextWithInvocation(context.Background(), inv))
			lines := logtest.Lines(t, &buf)
			if tt.want == nil {
				if len(lines) != 0 {
					t.Fatalf("got %d lines, want none: %v", len(lines), lines)
				}
				return
			}
			if len(lines) != 1 {
				t.Fatalf("got %d lines, want 1: %v", len(lines), lines)
			}
			got := lines[0]
			if ts, _ := got["timestamp"].(string); ts == "" {
				t.Errorf("no timestamp in %v", got)
			}
			delete(got, "timestamp")
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("line (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoggerRecordFields(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	l := logging.NewLogger(logging.Config{Writer: &buf, Level: slog.LevelInfo, Service: "svc"})
	ctx := handler.ContextWithDelivery(context.Background(), handler.Delivery{Source: "aws:sqs", ID: "m-1", CorrelationID: "corr-1", Attempt: 2})
	l.InfoContext(ctx, "working")
	got := logtest.Lines(t, &buf)[0]
	if got["message_id"] != "m-1" || got["correlation_id"] != "corr-1" {
		t.Errorf("line %v: want message_id m-1 and correlation_id corr-1", got)
	}
}

func TestParseLevel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    slog.Level
		wantErr bool
	}{
		{in: "debug", want: slog.LevelDebug},
		{in: "INFO", want: slog.LevelInfo},
		{in: " Warn ", want: slog.LevelWarn},
		{in: "WARNING", want: slog.LevelWarn},
		{in: "error", want: slog.LevelError},
		{in: "TRACE", want: slog.LevelDebug - 4},
		{in: "FATAL", want: slog.LevelError + 4},
		{in: "INFO+2", want: slog.LevelInfo + 2},
		{in: "loud", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := logging.ParseLevel(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseLevel(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if err == nil && got != tt.want {
				t.Errorf("ParseLevel(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestLevelFromEnv(t *testing.T) {
	// Not parallel: it sets environment variables.
	tests := []struct {
		name       string
		latch, aws string
		want       slog.Level
	}{
		{name: "unset", want: slog.LevelInfo},
		{name: "lambda log level", aws: "DEBUG", want: slog.LevelDebug},
		{name: "latch wins", latch: "error", aws: "DEBUG", want: slog.LevelError},
		{name: "typo falls through", latch: "eror", aws: "WARN", want: slog.LevelWarn},
		{name: "all typos", latch: "x", aws: "y", want: slog.LevelInfo},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(logging.EnvLogLevel, tt.latch)
			t.Setenv(logging.EnvLambdaLogLevel, tt.aws)
			if got := logging.LevelFromEnv(); got != tt.want {
				t.Errorf("LevelFromEnv() = %v, want %v", got, tt.want)
			}
		})
	}
}
