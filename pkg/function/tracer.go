package function

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/latchkit/latch/pkg/handler"
)

// nopTracer is LATCH_TRACER=none: no spans, AWS calls left as they are. It
// stays unexported: in code, a function that wants no tracing passes its
// own Telemetry.
type nopTracer struct{}

func (nopTracer) Start(ctx context.Context, _ string) (context.Context, handler.Span) {
	return ctx, nopSpan{}
}

func (nopTracer) InstrumentAWS(*aws.Config) {}

type nopSpan struct{}

var _ handler.Tracer = nopTracer{}

func (nopSpan) Annotate(string, any) {}
func (nopSpan) End(error)            {}
