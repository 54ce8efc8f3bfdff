package oteltracer_test

import (
	"context"
	"errors"
	"fmt"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/handler/oteltracer"
)

// latch's spans through OpenTelemetry: each one a child of the trace
// Lambda started, read from the trace header of the invocation. An
// in-memory exporter stands in for the collector here.
func ExampleNew() {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	tracer := oteltracer.New(oteltracer.Config{TracerProvider: tp})

	ctx := handler.ContextWithInvocation(context.Background(), handler.Invocation{
		TraceHeader: "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
	})
	_, span := tracer.Start(ctx, "charge")
	span.End(errors.New("card declined"))

	for _, s := range exp.GetSpans() {
		fmt.Println(s.Name, s.SpanContext.TraceID(), s.Parent.SpanID(), s.Status.Code)
	}
	// Output: charge 5759e988bd862e3fe1be46a994272793 53995c3f42cd8ad8 Error
}
