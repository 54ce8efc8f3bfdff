package tracertest

import (
	"io"
	"log/slog"
	"testing"

	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/handler/metrics"
	"github.com/latchkit/latch/pkg/handler/telemetry"
)

// Telemetry is a Telemetry that traces with tr and writes its logs and
// metrics nowhere: the tracers' tests look only at the spans.
func Telemetry(t *testing.T, tr handler.Tracer) *telemetry.Telemetry {
	t.Helper()
	m, err := metrics.New(metrics.Config{Namespace: "test", Service: "svc", Writer: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	tel, err := telemetry.New(telemetry.Config{Logger: slog.New(slog.DiscardHandler), Metrics: m, Tracer: tr, Service: "svc"})
	if err != nil {
		t.Fatal(err)
	}
	return tel
}
