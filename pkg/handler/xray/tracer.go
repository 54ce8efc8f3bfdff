package xray

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/latchkit/latch/pkg/handler"
)

// Tracer traces with AWS X-Ray: in Lambda with active tracing, spans
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
type Tracer struct{}

var _ handler.Tracer = Tracer{}

// Start begins a subsegment, a child of the span in ctx or else of the
// invocation's segment, when the invocation is traced; see Tracer.
func (Tracer) Start(ctx context.Context, name string) (context.Context, handler.Span) {
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
func (Tracer) InstrumentAWS(cfg *aws.Config) {
	cfg.APIOptions = append(cfg.APIOptions, addXRayMiddleware)
}

// nopSpan is the span of an untraced context.
type nopSpan struct{}

func (nopSpan) Annotate(string, any) {}
func (nopSpan) End(error)            {}
