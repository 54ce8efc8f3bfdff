package handler

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Tracer is latch's one tracing seam. XRayTracer fills it with a small
// X-Ray emitter of latch's own; an OpenTelemetry tracer can fill it later
// without any other change to latch.
//
// Departure from DESIGN.md ("Dependencies" names github.com/aws/aws-xray-sdk-go
// for tracing): latch no longer uses the X-Ray SDK. Measured on the example
// functions (linux/arm64, -trimpath -ldflags='-s -w'): the SDK v2 clients
// and aws-lambda-go alone make 8.2 MB; package xray of aws-xray-sdk-go
// v1.8.5 took a binary to 21.8 MB (order-worker 25.1 MB, ledger 23.9 MB),
// because it pulls in aws-sdk-go v1 (end of life), grpc and fasthttp,
// against a target of less than 15 MB. The X-Ray SDKs are in maintenance
// mode since 2026-02-25. What latch needs of X-Ray is small and documented:
// subsegment documents (JSON) sent as UDP datagrams to the daemon Lambda
// runs, under the trace header Lambda hands each invocation. That is
// xray*.go in this package, behind the same seam.
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
	// Annotate sets an indexed key: a string, bool, integer or float
	// value. X-Ray keys hold only letters, digits and underscores; the
	// X-Ray tracer replaces any other character with an underscore and
	// drops a value of another type.
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
// are subsegments of the function's segment, each sent when it ends as one
// UDP datagram to the X-Ray daemon Lambda runs (AWS_XRAY_DAEMON_ADDRESS).
// The zero value is ready to use.
//
// It traces only a sampled request (the trace header Lambda passed with the
// invocation says Sampled=1) and only when a daemon address is set.
// Otherwise (a unit test, the local runner, an unsampled request) Start
// returns ctx and a span that does nothing: no log line, no packet, no
// wait, no allocation. A failed send is dropped silently: tracing never
// fails or slows a record.
//
// A span's End(err) with err != nil marks the subsegment with error and a
// cause holding the error's message and type. An AWS call's subsegment
// follows the HTTP status instead, as X-Ray defines the flags: 4xx error,
// 429 error and throttle, 5xx fault.
type XRayTracer struct{}

var (
	_ Tracer = XRayTracer{}
	_ Tracer = NopTracer{}
)

// Start begins a subsegment, a child of the span in ctx or else of the
// invocation's segment, when the invocation is traced; see XRayTracer.
func (XRayTracer) Start(ctx context.Context, name string) (context.Context, Span) {
	s := startSubsegment(ctx, name)
	if s == nil {
		return ctx, nopSpan{}
	}
	return context.WithValue(ctx, xraySpanKey{}, s), s
}

// InstrumentAWS adds latch's X-Ray middleware to cfg: every AWS SDK v2 call
// made in a traced context becomes a subsegment named after the service
// ("DynamoDB", "SQS") with the operation, region, HTTP status and request
// id, and carries the trace header to AWS. In an untraced context the
// middleware only looks and passes the call on. Calling it twice adds the
// middleware once.
func (XRayTracer) InstrumentAWS(cfg *aws.Config) {
	cfg.APIOptions = append(cfg.APIOptions, addXRayMiddleware)
}
