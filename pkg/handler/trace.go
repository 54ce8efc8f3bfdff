package handler

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Tracer is latch's one tracing seam: the triggers' observer, TraceStore
// and AWS clients make their spans through it. Implementations live in
// packages of their own, so a function links only the one it uses:
// xray.Tracer (latch's own small X-Ray emitter, the default of package
// telemetry), xraysdk (spans nested in aws-xray-sdk-go's segments) and
// oteltracer (spans on an OpenTelemetry TracerProvider).
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

var _ Tracer = NopTracer{}
