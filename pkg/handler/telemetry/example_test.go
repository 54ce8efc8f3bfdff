package telemetry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/handler/logging"
	"github.com/latchkit/latch/pkg/handler/metrics"
	"github.com/latchkit/latch/pkg/handler/telemetry"
	"github.com/latchkit/latch/pkg/latchtest"
)

func ExampleObserve() {
	// In a function: telemetry.New(telemetry.Config{}), which writes both
	// to standard output and traces with X-Ray.
	var logs, emf bytes.Buffer
	m, _ := metrics.New(metrics.Config{Namespace: "shop", Service: "orders", Writer: &emf})
	tel, _ := telemetry.New(telemetry.Config{
		Logger:  logging.NewLogger(logging.Config{Writer: &logs, Level: slog.LevelInfo}),
		Metrics: m,
		Tracer:  handler.NopTracer{},
	})

	client := latchtest.NewSQS()
	client.AddQueue("orders", 3)
	proc := handler.MustNewSQS(func(ctx context.Context, m handler.Message[json.RawMessage]) error {
		return nil
	}, handler.SQSConfig{Client: client, Observer: tel, Concurrency: 1})
	h := telemetry.Observe(tel, proc)

	ctx := handler.ContextWithInvocation(context.Background(), handler.Invocation{RequestID: "req-1"})
	_, _ = h(ctx, latchtest.SQSEvent("orders", latchtest.Message{ID: "m1", Body: `{}`}, latchtest.Message{ID: "m2", Body: `{}`}))

	// One line per record...
	dec := json.NewDecoder(&logs)
	for dec.More() {
		var line map[string]any
		_ = dec.Decode(&line)
		fmt.Println(line[logging.KeyMessage], line[logging.KeyMessageID], line[logging.KeyOutcome])
	}
	// ...and one EMF blob per invocation.
	var blob map[string]any
	_ = json.Unmarshal(emf.Bytes(), &blob)
	fmt.Println("succeeded:", blob["succeeded"], "request:", blob[telemetry.PropertyRequestID])
	// Output:
	// record processed m1 succeeded
	// record processed m2 succeeded
	// succeeded: 2 request: req-1
}
