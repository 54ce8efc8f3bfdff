package tracertest

import (
	"context"
	"testing"

	"github.com/latchkit/latch/pkg/handler"
)

// BenchCase is one setting a tracer's benchmark starts record spans in.
type BenchCase struct {
	// Name is the sub-benchmark's name.
	Name string
	// Tracer starts the spans.
	Tracer handler.Tracer
	// Ctx is the context the spans start in.
	Ctx context.Context
}

// BenchSpans runs a sub-benchmark per case that measures what tracing costs
// a record: Start, the two annotations every record gets, and End. The
// BenchmarkTracer of each tracer package runs it, so that their numbers
// compare loop for loop.
func BenchSpans(b *testing.B, cases []BenchCase) {
	for _, c := range cases {
		b.Run(c.Name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, span := c.Tracer.Start(c.Ctx, handler.SpanRecord)
				span.Annotate(handler.AnnotationOutcome, "succeeded")
				span.Annotate(handler.AnnotationColdStart, false)
				span.End(nil)
			}
		})
	}
}
