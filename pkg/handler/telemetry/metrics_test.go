package telemetry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/handler/internal/emftest"
	"github.com/latchkit/latch/pkg/handler/telemetry"
)

// TestObserveFlushesOneBlob checks the invocation blob: the counts per
// outcome, HandlerDuration and ColdStart, written once at the end whether
// the handler returns, fails or panics.
func TestObserveFlushesOneBlob(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		cold      bool
		outcomes  []handler.Outcome
		fail      error
		panics    bool
		wantCount map[string]any
	}{
		{
			name:      "warm batch",
			outcomes:  []handler.Outcome{handler.Succeeded, handler.Succeeded, handler.Duplicate, handler.RetryScheduled, handler.DeadLettered},
			wantCount: map[string]any{"succeeded": 2.0, "duplicate": 1.0, "retry_scheduled": 1.0, "dead_lettered": 1.0},
		},
		{
			name:      "cold start",
			cold:      true,
			outcomes:  []handler.Outcome{handler.Failed},
			wantCount: map[string]any{"failed": 1.0, "ColdStart": 1.0},
		},
		{
			name:      "handler fails",
			outcomes:  []handler.Outcome{handler.Succeeded},
			fail:      errors.New("batch failed"),
			wantCount: map[string]any{"succeeded": 1.0},
		},
		{
			name:      "handler panics",
			outcomes:  []handler.Outcome{handler.Succeeded},
			panics:    true,
			wantCount: map[string]any{"succeeded": 1.0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var emf bytes.Buffer
			tel := newTelemetryWith(t, slog.New(slog.DiscardHandler), &emf, handler.NopTracer{}, false)
			f := telemetry.Observe(tel, func(ctx context.Context, n int) (int, error) {
				for _, o := range tt.outcomes {
					rctx := tel.RecordStarted(ctx, handler.Delivery{ID: "m"})
					tel.RecordFinished(rctx, handler.Report{Outcome: o})
				}
				if tt.panics {
					panic("kaboom")
				}
				return n, tt.fail
			})
			ctx := handler.ContextWithInvocation(context.Background(), handler.Invocation{RequestID: "req-5", ColdStart: tt.cold})
			func() {
				defer func() {
					if p := recover(); (p != nil) != tt.panics {
						t.Errorf("panic = %v, want panic %v", p, tt.panics)
					}
				}()
				if _, err := f(ctx, 1); !errors.Is(err, tt.fail) {
					t.Errorf("err = %v, want %v", err, tt.fail)
				}
			}()
			blobs := emftest.Blobs(t, &emf)
			if len(blobs) != 1 {
				t.Fatalf("%d blobs, want exactly 1:\n%s", len(blobs), emf.String())
			}
			_, dims, values := emftest.Check(t, blobs[0])
			if dims["service"] != "svc" {
				t.Errorf("service dimension = %q", dims["service"])
			}
			// The telemetry clock steps 5ms per reading: start and end.
			want := map[string]any{"HandlerDuration": 5.0}
			for k, v := range tt.wantCount {
				want[k] = v
			}
			if diff := cmp.Diff(want, values); diff != "" {
				t.Errorf("values (-want +got):\n%s", diff)
			}
			var root map[string]any
			_ = json.Unmarshal(blobs[0], &root)
			if root["request_id"] != "req-5" {
				t.Errorf("request_id = %v", root["request_id"])
			}
		})
	}
}

func TestRecordWithoutObserveFlushesItsOwnBlob(t *testing.T) {
	t.Parallel()
	var emf bytes.Buffer
	tel := newTelemetryWith(t, slog.New(slog.DiscardHandler), &emf, handler.NopTracer{}, false)
	ctx := tel.RecordStarted(context.Background(), handler.Delivery{ID: "m"})
	tel.RecordFinished(ctx, handler.Report{Outcome: handler.DeadLettered})
	blobs := emftest.Blobs(t, &emf)
	if len(blobs) != 1 {
		t.Fatalf("%d blobs, want 1", len(blobs))
	}
	if _, _, v := emftest.Check(t, blobs[0]); v["dead_lettered"] != 1.0 {
		t.Errorf("values = %v", v)
	}
}
