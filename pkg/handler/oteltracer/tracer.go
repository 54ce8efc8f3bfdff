package oteltracer

import (
	"context"
	"math"
	"os"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"go.opentelemetry.io/contrib/instrumentation/github.com/aws/aws-sdk-go-v2/otelaws"
	"go.opentelemetry.io/contrib/propagators/aws/xray"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/latchkit/latch/pkg/handler"
)

// ScopeName is the instrumentation scope of latch's spans.
const ScopeName = "github.com/latchkit/latch/pkg/handler"

// TraceHeaderKey is the key the X-Ray propagator reads and writes the
// trace header under. It finds the header under this exact spelling only,
// so a carrier must use it as it is.
const TraceHeaderKey = "X-Amzn-Trace-Id"

// lambdaTraceHeaderKey is where aws-lambda-go puts the invocation's trace
// header in the context.
const lambdaTraceHeaderKey = "x-amzn-trace-id"

// envLambdaTraceHeader is where Lambda's Go runtime puts the invocation's
// trace header in the environment.
const envLambdaTraceHeader = "_X_AMZN_TRACE_ID"

// Config configures New. The zero value uses the global TracerProvider
// and X-Ray propagation.
type Config struct {
	// TracerProvider makes the spans. Default otel.GetTracerProvider(),
	// which does nothing until the program sets a provider: tracing is
	// off until asked for.
	TracerProvider trace.TracerProvider
	// Propagator reads Lambda's trace header into the parent of a span
	// that has none in its context, and writes the trace context on AWS
	// calls. Default xray.Propagator{}, because the header Lambda passes
	// and AWS services read is X-Ray's.
	Propagator propagation.TextMapPropagator
}

// Tracer makes latch's spans with OpenTelemetry; see the package
// documentation. It is safe for concurrent use.
type Tracer struct {
	provider trace.TracerProvider
	tracer   trace.Tracer
	prop     propagation.TextMapPropagator
}

var _ handler.Tracer = (*Tracer)(nil)

// New returns a Tracer with cfg's defaults filled.
func New(cfg Config) *Tracer {
	t := &Tracer{provider: cfg.TracerProvider, prop: cfg.Propagator}
	if t.provider == nil {
		t.provider = otel.GetTracerProvider()
	}
	if t.prop == nil {
		t.prop = xray.Propagator{}
	}
	t.tracer = t.provider.Tracer(ScopeName)
	return t
}

// NewTracerProvider returns an SDK TracerProvider whose trace and span ids
// are X-Ray's (the contrib X-Ray id generator: the trace id starts with
// the epoch seconds, as X-Ray requires), configured further by opts: an
// exporter, a sampler, a resource. Shut it down (or ForceFlush it) before
// the invocation ends, or spans wait for the next one.
func NewTracerProvider(opts ...sdktrace.TracerProviderOption) *sdktrace.TracerProvider {
	return sdktrace.NewTracerProvider(append([]sdktrace.TracerProviderOption{sdktrace.WithIDGenerator(xray.NewIDGenerator())}, opts...)...)
}

// LambdaCarrier returns a carrier that holds the trace header Lambda set
// for the current invocation (_X_AMZN_TRACE_ID) under TraceHeaderKey. Its
// signature is otellambda's EventToCarrier, so that otellambda's span
// takes Lambda's segment as its parent:
//
//	otellambda.WithEventToCarrier(oteltracer.LambdaCarrier)
func LambdaCarrier([]byte) propagation.TextMapCarrier {
	return propagation.MapCarrier{TraceHeaderKey: os.Getenv(envLambdaTraceHeader)}
}

// Start begins a span named name: a child of the span in ctx, else of the
// invocation's trace header, else a root span.
func (t *Tracer) Start(ctx context.Context, name string) (context.Context, handler.Span) {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		if h := invocationTraceHeader(ctx); h != "" {
			ctx = t.prop.Extract(ctx, propagation.MapCarrier{TraceHeaderKey: h})
		}
	}
	ctx, s := t.tracer.Start(ctx, name)
	return ctx, span{s}
}

// InstrumentAWS adds otelaws's middleware to cfg: every call made with a
// client built from cfg is a client span, a child of the span in the
// call's context, and carries the trace context to AWS in the Tracer's
// propagation format.
func (t *Tracer) InstrumentAWS(cfg *aws.Config) {
	otelaws.AppendMiddlewares(&cfg.APIOptions, otelaws.WithTracerProvider(t.provider), otelaws.WithTextMapPropagator(t.prop))
}

// invocationTraceHeader returns the trace header of the invocation ctx
// belongs to: the Invocation's (Start and the local runner set it), else
// the one aws-lambda-go put in the context. The process-wide
// _X_AMZN_TRACE_ID is not read here: more than one invocation can run at
// a time.
func invocationTraceHeader(ctx context.Context) string {
	if inv, ok := handler.InvocationFromContext(ctx); ok && inv.TraceHeader != "" {
		return inv.TraceHeader
	}
	h, _ := ctx.Value(lambdaTraceHeaderKey).(string)
	return h
}

// span is an OpenTelemetry span behind latch's Span.
type span struct{ s trace.Span }

// Annotate sets an attribute. Strings, bools, integers and finite floats
// are kept; an unsigned integer too large for int64 becomes its decimal
// string; any other value is dropped.
func (s span) Annotate(key string, value any) {
	if kv, ok := attr(key, value); ok {
		s.s.SetAttributes(kv)
	}
}

// End ends the span; with err != nil it records err as an exception event
// and sets the span's status to Error with err's message.
func (s span) End(err error) {
	if err != nil {
		s.s.RecordError(err)
		s.s.SetStatus(codes.Error, err.Error())
	}
	s.s.End()
}

func attr(k string, v any) (attribute.KeyValue, bool) {
	switch v := v.(type) {
	case string:
		return attribute.String(k, v), true
	case bool:
		return attribute.Bool(k, v), true
	case int:
		return attribute.Int(k, v), true
	case int8:
		return attribute.Int64(k, int64(v)), true
	case int16:
		return attribute.Int64(k, int64(v)), true
	case int32:
		return attribute.Int64(k, int64(v)), true
	case int64:
		return attribute.Int64(k, v), true
	case uint8:
		return attribute.Int64(k, int64(v)), true
	case uint16:
		return attribute.Int64(k, int64(v)), true
	case uint32:
		return attribute.Int64(k, int64(v)), true
	case uint:
		return uintAttr(k, uint64(v)), true
	case uint64:
		return uintAttr(k, v), true
	case float32:
		f := float64(v)
		return attribute.Float64(k, f), !math.IsNaN(f) && !math.IsInf(f, 0)
	case float64:
		return attribute.Float64(k, v), !math.IsNaN(v) && !math.IsInf(v, 0)
	}
	return attribute.KeyValue{}, false
}

func uintAttr(k string, v uint64) attribute.KeyValue {
	if v > math.MaxInt64 {
		return attribute.String(k, strconv.FormatUint(v, 10))
	}
	return attribute.Int64(k, int64(v))
}
