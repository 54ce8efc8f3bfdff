// Package spantest has a handler.Tracer that keeps its spans in memory, so
// the tests of the triggers, TraceStore and telemetry can check what was
// traced without an X-Ray daemon or an OpenTelemetry SDK.
package spantest

import (
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/latchkit/latch/pkg/handler"
)

// Recorder is a handler.Tracer that keeps every span it starts. It is safe
// for concurrent use; read the spans once the traced work is done.
type Recorder struct {
	mu    sync.Mutex
	spans []*Span
}

// Span is one span a Recorder started.
type Span struct {
	rec         *Recorder
	Name        string
	Parent      *Span // nil for a root span
	Annotations map[string]any
	Ended       bool
	Err         error // what End was called with
}

type spanKey struct{}

var _ handler.Tracer = (*Recorder)(nil)

// Start records a span, a child of the Recorder's span in ctx if any.
func (r *Recorder) Start(ctx context.Context, name string) (context.Context, handler.Span) {
	parent, _ := ctx.Value(spanKey{}).(*Span)
	s := &Span{rec: r, Name: name, Parent: parent, Annotations: map[string]any{}}
	r.mu.Lock()
	r.spans = append(r.spans, s)
	r.mu.Unlock()
	return context.WithValue(ctx, spanKey{}, s), s
}

// InstrumentAWS leaves cfg unchanged.
func (r *Recorder) InstrumentAWS(*aws.Config) {}

// Annotate records the annotation.
func (s *Span) Annotate(k string, v any) {
	s.rec.mu.Lock()
	defer s.rec.mu.Unlock()
	s.Annotations[k] = v
}

// End records that the span ended, and with what error.
func (s *Span) End(err error) {
	s.rec.mu.Lock()
	defer s.rec.mu.Unlock()
	s.Ended, s.Err = true, err
}

// Spans returns the spans in the order they started.
func (r *Recorder) Spans() []*Span {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*Span(nil), r.spans...)
}

// Named returns the spans called name, in the order they started.
func (r *Recorder) Named(name string) []*Span {
	var out []*Span
	for _, s := range r.Spans() {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}
