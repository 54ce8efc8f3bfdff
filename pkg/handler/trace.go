package handler

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-xray-sdk-go/instrumentation/awsv2"
	"github.com/aws/aws-xray-sdk-go/strategy/ctxmissing"
	"github.com/aws/aws-xray-sdk-go/xray"
	"github.com/aws/smithy-go/middleware"
)

// Tracer is latch's one tracing seam. The X-Ray SDK that XRayTracer uses
// went into maintenance mode in February 2026; an OpenTelemetry tracer can
// fill this interface without any other change to latch.
type Tracer interface {
	// Start begins a span named name, a child of the span in ctx, and
	// returns the context that carries it. Outside a trace it returns ctx
	// and a span that does nothing.
	Start(ctx context.Context, name string) (context.Context, Span)
	// InstrumentAWS makes every AWS SDK v2 call made with cfg (or a client
	// built from it) a span of the trace in the call's context.
	InstrumentAWS(cfg *aws.Config)
}

// Span is one timed step of a trace.
type Span interface {
	// Annotate sets an indexed key: a string, bool, int or float64 value.
	Annotate(key string, value any)
	// End closes the span, marking it failed when err is not nil.
	End(err error)
}

// Span names and annotation keys latch uses. Annotation keys hold only
// letters, digits and underscores, as X-Ray requires.
const (
	SpanHandler          = "## handler"
	SpanRecord           = "## record"
	SpanIdempotencyStore = "## idempotency"

	AnnotationService    = "service"
	AnnotationColdStart  = "cold_start"
	AnnotationOutcome    = "outcome"
	AnnotationErrorClass = "error_class"
	AnnotationMessageID  = "message_id"
	AnnotationOperation  = "operation"
	AnnotationHeldBy     = "held_by"
)

// NopTracer traces nothing.
type NopTracer struct{}

// Start returns ctx and a span that does nothing.
func (NopTracer) Start(ctx context.Context, _ string) (context.Context, Span) { return ctx, nopSpan{} }

// InstrumentAWS leaves cfg unchanged.
func (NopTracer) InstrumentAWS(*aws.Config) {}

type nopSpan struct{}

func (nopSpan) Annotate(string, any) {}
func (nopSpan) End(error)            {}

// XRayTracer traces with AWS X-Ray: in Lambda with active tracing, spans
// are subsegments of the function's segment and reach X-Ray through the
// daemon Lambda runs. The zero value is ready to use.
//
// Outside a trace (no segment in the context and no Lambda trace header:
// a unit test, the local runner) it does nothing at all: no subsegment, no
// "segment cannot be found" error line, no packet to a daemon, no wait.
type XRayTracer struct{}

var (
	_ Tracer = XRayTracer{}
	_ Tracer = NopTracer{}
)

// tracing reports whether ctx belongs to an X-Ray trace: it holds a segment
// already, or the Lambda runtime put the request's trace header in it.
func tracing(ctx context.Context) bool {
	if xray.SdkDisabled() {
		return false
	}
	if xray.GetSegment(ctx) != nil {
		return true
	}
	h, _ := ctx.Value(xray.LambdaTraceHeaderKey).(string)
	return h != ""
}

// Start begins a subsegment when ctx is traced; see XRayTracer.
func (XRayTracer) Start(ctx context.Context, name string) (context.Context, Span) {
	if !tracing(ctx) {
		return ctx, nopSpan{}
	}
	ctx, seg := xray.BeginSubsegment(ctx, name)
	if seg == nil {
		return ctx, nopSpan{}
	}
	return ctx, xraySpan{seg}
}

// InstrumentAWS adds the X-Ray SDK's own AWS SDK v2 instrumentation
// (instrumentation/awsv2) to cfg, behind a guard that lets calls made
// outside a trace pass untraced and without the SDK's context-missing error
// line.
func (XRayTracer) InstrumentAWS(cfg *aws.Config) {
	cfg.APIOptions = append(cfg.APIOptions, addUntracedGuard)
	awsv2.AWSV2Instrumentor(&cfg.APIOptions)
}

// untracedConfig tells the X-Ray SDK to ignore a missing segment, for the
// calls the guard lets through. It is given per call in the context; the
// SDK's global configuration is left alone.
var untracedConfig = &xray.Config{ContextMissingStrategy: ctxmissing.NewDefaultIgnoreErrorStrategy()}

func addUntracedGuard(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("LatchXRayUntracedGuard",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			if !tracing(ctx) {
				ctx = context.WithValue(ctx, xray.RecorderContextKey{}, untracedConfig)
			}
			return next.HandleInitialize(ctx, in)
		}), middleware.Before)
}

type xraySpan struct{ seg *xray.Segment }

func (s xraySpan) Annotate(key string, value any) {
	// The only failure is a value of the wrong type, a programming error in
	// latch that must not fail a record: the annotation is dropped.
	_ = s.seg.AddAnnotation(key, value)
}

func (s xraySpan) End(err error) { s.seg.Close(err) }
