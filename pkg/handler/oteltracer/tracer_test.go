package oteltracer_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/go-cmp/cmp"
	"go.opentelemetry.io/contrib/instrumentation/github.com/aws/aws-lambda-go/otellambda"
	"go.opentelemetry.io/contrib/propagators/aws/xray"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/handler/internal/tracertest"
	"github.com/latchkit/latch/pkg/handler/oteltracer"
	"github.com/latchkit/latch/pkg/handler/telemetry"
	"github.com/latchkit/latch/pkg/idempotency"
	"github.com/latchkit/latch/pkg/retry"
)

const (
	testTraceID   = "1-5759e988-bd862e3fe1be46a994272793"
	testParentID  = "53995c3f42cd8ad8"
	sampledHeader = "Root=" + testTraceID + ";Parent=" + testParentID + ";Sampled=1"
	// otelTraceID is testTraceID as OpenTelemetry writes it.
	otelTraceID = "5759e988bd862e3fe1be46a994272793"
)

// newProvider is a TracerProvider with X-Ray ids whose spans go to an
// in-memory exporter as they end.
func newProvider(t *testing.T) (*sdktrace.TracerProvider, *tracetest.InMemoryExporter) {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tp := oteltracer.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp, exp
}

// fakeSQS is an SQS client instrumented by tr whose requests reach a
// local server; the function returns the trace header of each request.
func fakeSQS(t *testing.T, tr handler.Tracer) (*sqs.Client, func() []string) {
	t.Helper()
	c, srv := tracertest.FakeSQS(t, tr.InstrumentAWS, nil)
	return c, srv.TraceHeaders
}

// observed is an invocation of two records, the way the SQS trigger
// reports them: the first claims its key through a traced store and calls
// SQS, the second is dead-lettered.
func observed(t *testing.T, tr handler.Tracer, client *sqs.Client) handler.Func[int, int] {
	t.Helper()
	guard, err := idempotency.NewGuard(idempotency.Config{Store: handler.TraceStore(idempotency.NewMemoryStore(idempotency.MemoryConfig{}), tr), Namespace: "t"})
	if err != nil {
		t.Fatal(err)
	}
	tel := tracertest.Telemetry(t, tr)
	return telemetry.Observe(tel, func(ctx context.Context, _ int) (int, error) {
		rctx := tel.RecordStarted(ctx, handler.Delivery{ID: "msg-1"})
		if _, err := idempotency.Do(rctx, guard, idempotency.Key{ID: "k"}, func(ctx context.Context) (int, error) {
			_, err := client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("q")})
			return 0, err
		}); err != nil {
			return 0, err
		}
		tel.RecordFinished(rctx, handler.Report{Outcome: handler.Succeeded})
		rctx = tel.RecordStarted(ctx, handler.Delivery{ID: "msg-2"})
		tel.RecordFinished(rctx, handler.Report{Outcome: handler.DeadLettered, Err: retry.Permanent(errors.New("bad order")), Class: retry.ClassPermanent})
		return 0, nil
	})
}

// lambdaCtx is the context Lambda's Go runtime gives a request with the
// trace header h.
func lambdaCtx(h string) context.Context {
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-1"})
	//lint:ignore SA1029 aws-lambda-go's own string key
	return context.WithValue(ctx, "x-amzn-trace-id", h)
}

// byName indexes spans by name, records by name and message id.
func byName(spans tracetest.SpanStubs) map[string]tracetest.SpanStub {
	out := map[string]tracetest.SpanStub{}
	for _, s := range spans {
		key := s.Name
		for _, a := range s.Attributes {
			if a.Key == "message_id" {
				key += " " + a.Value.AsString()
			}
		}
		out[key] = s
	}
	return out
}

func attrs(s tracetest.SpanStub) map[string]any {
	out := map[string]any{}
	for _, a := range s.Attributes {
		out[string(a.Key)] = a.Value.AsInterface()
	}
	return out
}

// TestSpansInLambda runs an observed invocation the way Lambda does and
// checks the spans the exporter got: the handler span a child of Lambda's
// segment (the trace header's parent, in X-Ray's trace), records under it,
// the store and AWS call spans under a record, attributes for outcome and
// cold start, the failed record's status and exception; and the X-Ray
// header the AWS request carried.
func TestSpansInLambda(t *testing.T) {
	tp, exp := newProvider(t)
	tr := oteltracer.New(oteltracer.Config{TracerProvider: tp})
	client, traceHeaders := fakeSQS(t, tr)
	if _, err := handler.NewLambdaHandler(observed(t, tr, client)).Invoke(lambdaCtx(sampledHeader), []byte("1")); err != nil {
		t.Fatal(err)
	}

	spans := byName(exp.GetSpans())
	hdl, rec1, rec2 := spans[handler.SpanHandler], spans[handler.SpanRecord+" msg-1"], spans[handler.SpanRecord+" msg-2"]
	claim, call := spans[handler.SpanIdempotencyStore+".claim"], spans["SQS.GetQueueUrl"]
	if hdl.Name == "" || rec1.Name == "" || rec2.Name == "" || claim.Name == "" || call.Name == "" {
		t.Fatalf("spans exported: %v", exp.GetSpans())
	}
	for name, s := range spans {
		if got := s.SpanContext.TraceID().String(); got != otelTraceID {
			t.Errorf("%s: trace id %s, want %s (the invocation's X-Ray trace)", name, got, otelTraceID)
		}
	}
	if !hdl.Parent.IsRemote() || hdl.Parent.SpanID().String() != testParentID {
		t.Errorf("handler span: parent %v, want Lambda's segment %s", hdl.Parent.SpanID(), testParentID)
	}
	parents := []struct {
		name          string
		child, parent tracetest.SpanStub
	}{
		{"handler → record 1", rec1, hdl},
		{"handler → record 2", rec2, hdl},
		{"record 1 → claim", claim, rec1},
		{"record 1 → SQS call", call, rec1},
	}
	for _, p := range parents {
		if p.child.Parent.SpanID() != p.parent.SpanContext.SpanID() {
			t.Errorf("%s: parent %v, want %v", p.name, p.child.Parent.SpanID(), p.parent.SpanContext.SpanID())
		}
	}
	tests := []struct {
		name   string
		span   tracetest.SpanStub
		want   map[string]any
		failed bool
	}{
		{name: "handler", span: hdl, want: map[string]any{"cold_start": true, "service": "svc"}},
		{name: "record 1", span: rec1, want: map[string]any{"message_id": "msg-1", "outcome": "succeeded", "cold_start": true, "service": "svc"}},
		{name: "record 2", span: rec2, want: map[string]any{"message_id": "msg-2", "outcome": "dead_lettered", "cold_start": true, "service": "svc", "error_class": "permanent"}, failed: true},
		{name: "claim", span: claim, want: map[string]any{"operation": "claim"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, attrs(tt.span)); diff != "" {
			t.Errorf("%s attributes (-want +got):\n%s", tt.name, diff)
		}
		if failed := tt.span.Status.Code == codes.Error; failed != tt.failed {
			t.Errorf("%s: status %v, want failed %v", tt.name, tt.span.Status, tt.failed)
		}
	}
	if len(rec2.Events) != 1 || rec2.Events[0].Name != "exception" || rec2.Status.Description != "bad order" {
		t.Errorf("record 2: events %v status %v, want one exception event and the error's message", rec2.Events, rec2.Status)
	}
	want := []string{"Root=" + testTraceID + ";Parent=" + call.SpanContext.SpanID().String() + ";Sampled=1"}
	if diff := cmp.Diff(want, traceHeaders()); diff != "" {
		t.Errorf("trace header on the SQS request (-want +got):\n%s", diff)
	}
}

// TestUnderOtellambda: wrapped with otellambda (its span parented on
// Lambda's header from _X_AMZN_TRACE_ID through LambdaCarrier), latch's
// handler span is a child of otellambda's span, in the same trace.
func TestUnderOtellambda(t *testing.T) {
	t.Setenv("_X_AMZN_TRACE_ID", sampledHeader)
	t.Setenv("AWS_LAMBDA_FUNCTION_NAME", "order-worker")
	tp, exp := newProvider(t)
	tr := oteltracer.New(oteltracer.Config{TracerProvider: tp})
	client, _ := fakeSQS(t, tr)
	h := otellambda.WrapHandler(handler.NewLambdaHandler(observed(t, tr, client)),
		otellambda.WithTracerProvider(tp), otellambda.WithFlusher(tp),
		otellambda.WithPropagator(xray.Propagator{}), otellambda.WithEventToCarrier(oteltracer.LambdaCarrier))
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-1"})
	if _, err := h.Invoke(ctx, []byte("1")); err != nil {
		t.Fatal(err)
	}
	spans := byName(exp.GetSpans())
	fn, hdl := spans["order-worker"], spans[handler.SpanHandler]
	if fn.Name == "" || hdl.Name == "" {
		t.Fatalf("spans exported: %v", exp.GetSpans())
	}
	if fn.Parent.SpanID().String() != testParentID || fn.SpanContext.TraceID().String() != otelTraceID {
		t.Errorf("otellambda span: parent %v trace %v, want Lambda's segment %s in %s", fn.Parent.SpanID(), fn.SpanContext.TraceID(), testParentID, otelTraceID)
	}
	if hdl.Parent.SpanID() != fn.SpanContext.SpanID() || hdl.SpanContext.TraceID() != fn.SpanContext.TraceID() {
		t.Errorf("handler span: parent %v, want otellambda's span %v", hdl.Parent.SpanID(), fn.SpanContext.SpanID())
	}
}

// TestRootSpanHasXRayIDs: with no parent and no header (the local runner
// with a provider of its own), a span is a root whose trace id X-Ray
// accepts: it starts with the current epoch seconds.
func TestRootSpanHasXRayIDs(t *testing.T) {
	tp, exp := newProvider(t)
	tr := oteltracer.New(oteltracer.Config{TracerProvider: tp})
	before := time.Now().Unix()
	_, s := tr.Start(context.Background(), "work")
	s.Annotate("attempt", int64(2))
	s.Annotate("big", uint64(1<<63))
	s.Annotate("dropped", struct{}{})
	s.End(nil)
	spans := exp.GetSpans()
	if len(spans) != 1 || spans[0].Parent.IsValid() {
		t.Fatalf("spans: %v, want one root span", spans)
	}
	epoch, err := strconv.ParseInt(spans[0].SpanContext.TraceID().String()[:8], 16, 64)
	if err != nil || epoch < before || epoch > time.Now().Unix() {
		t.Errorf("trace id %s: does not start with the epoch seconds", spans[0].SpanContext.TraceID())
	}
	want := []attribute.KeyValue{attribute.Int64("attempt", 2), attribute.String("big", "9223372036854775808")}
	if diff := cmp.Diff(want, spans[0].Attributes, cmp.Comparer(func(a, b attribute.KeyValue) bool { return a == b })); diff != "" {
		t.Errorf("attributes (-want +got):\n%s", diff)
	}
}

// TestUnsampledHeader: a request Lambda did not sample has spans that are
// not recorded (the provider's default sampler follows the parent).
func TestUnsampledHeader(t *testing.T) {
	tp, exp := newProvider(t)
	tr := oteltracer.New(oteltracer.Config{TracerProvider: tp})
	ctx := handler.ContextWithInvocation(context.Background(), handler.Invocation{TraceHeader: "Root=" + testTraceID + ";Parent=" + testParentID + ";Sampled=0"})
	_, s := tr.Start(ctx, "work")
	s.End(nil)
	if spans := exp.GetSpans(); len(spans) != 0 {
		t.Errorf("exported %d spans of an unsampled request", len(spans))
	}
}

// BenchmarkTracer measures a span's Start, two annotations and End, as
// package xray's benchmark of the same name does: with the global no-op
// provider (tracing not set up), in an unsampled invocation, and recorded
// by an SDK provider whose exporter drops the spans.
func BenchmarkTracer(b *testing.B) {
	tp := oteltracer.NewTracerProvider(sdktrace.WithSyncer(tracetest.NewNoopExporter()))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	sdk := oteltracer.New(oteltracer.Config{TracerProvider: tp})
	sampled := handler.ContextWithInvocation(context.Background(), handler.Invocation{TraceHeader: sampledHeader})
	hctx, hspan := sdk.Start(sampled, handler.SpanHandler)
	defer hspan.End(nil)
	tracertest.BenchSpans(b, []tracertest.BenchCase{
		{Name: "no-provider", Tracer: oteltracer.New(oteltracer.Config{}), Ctx: sampled},
		{Name: "unsampled", Tracer: sdk, Ctx: handler.ContextWithInvocation(context.Background(), handler.Invocation{TraceHeader: "Root=" + testTraceID + ";Parent=" + testParentID + ";Sampled=0"})},
		{Name: "emitting", Tracer: sdk, Ctx: hctx},
	})
}
