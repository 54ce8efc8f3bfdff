package xraysdk

import (
	"context"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-xray-sdk-go/v2/instrumentation/awsv2"
	"github.com/aws/aws-xray-sdk-go/v2/xray"

	"github.com/latchkit/latch/pkg/handler"
)

// Tracer makes latch's spans subsegments with aws-xray-sdk-go/v2. The zero
// value is ready to use; the SDK's own configuration (xray.Configure, the
// AWS_XRAY_* variables) applies.
//
// A span's parent is the segment or subsegment in the context: the user's
// xray.Capture, the SDK's HTTP handler, or, in Lambda, the facade segment
// the SDK makes from the invocation's trace header. With none of them Start
// returns ctx and a span that does nothing.
//
// A span's End(err) with err != nil marks the subsegment with error and the
// error as its cause, as package xray does: a record that failed is an
// error of the work, not a fault of the service. AWS calls are flagged by
// the SDK's instrumentation from their HTTP status.
type Tracer struct{}

var _ handler.Tracer = Tracer{}

// lambdaTraceHeaderKey is where aws-lambda-go puts the invocation's trace
// header in the context, and where the SDK looks for it.
const lambdaTraceHeaderKey = xray.LambdaTraceHeaderKey

// Start begins a subsegment named name; see Tracer.
func (Tracer) Start(ctx context.Context, name string) (context.Context, handler.Span) {
	if xray.GetSegment(ctx) == nil {
		if _, ok := ctx.Value(lambdaTraceHeaderKey).(string); !ok {
			// The local runner and tests set only the Invocation: hand its
			// header to the SDK where Lambda would have put it.
			inv, _ := handler.InvocationFromContext(ctx)
			if inv.TraceHeader == "" {
				return ctx, nopSpan{}
			}
			//lint:ignore SA1029 the SDK reads the header under aws-lambda-go's own string key
			ctx = context.WithValue(ctx, lambdaTraceHeaderKey, inv.TraceHeader)
		}
	}
	ctx, seg := xray.BeginSubsegment(ctx, name)
	if seg == nil {
		return ctx, nopSpan{}
	}
	return ctx, span{seg: seg}
}

// InstrumentAWS adds the SDK's awsv2 instrumentation to cfg: every call
// made with a client built from cfg becomes a subsegment of the span in
// the call's context, and carries the trace header to AWS.
func (Tracer) InstrumentAWS(cfg *aws.Config) {
	awsv2.AWSV2Instrumentor(&cfg.APIOptions)
}

// span is a subsegment of the SDK's.
type span struct{ seg *xray.Segment }

// Annotate sets an annotation. The SDK takes strings, bools, int, uint
// and floats; other integer types are converted, keys are made of letters,
// digits and underscores as X-Ray requires, and any other value is
// dropped.
func (s span) Annotate(key string, value any) {
	v, ok := annotationValue(value)
	if !ok {
		return
	}
	_ = s.seg.AddAnnotation(annotationKey(key), v) // refuses only types annotationValue filtered out
}

// End closes the subsegment; see Tracer for how err is marked.
func (s span) End(err error) {
	if err != nil {
		_ = s.seg.AddError(err) // the cause, with the error's message and type
		s.seg.Lock()
		s.seg.Fault, s.seg.Error = false, true
		s.seg.Unlock()
	}
	s.seg.Close(nil)
}

// nopSpan is the span of an untraced context.
type nopSpan struct{}

func (nopSpan) Annotate(string, any) {}
func (nopSpan) End(error)            {}

// annotationKey replaces every character X-Ray does not take in a key
// with an underscore.
func annotationKey(key string) string {
	return strings.Map(func(r rune) rune {
		if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_' {
			return r
		}
		return '_'
	}, key)
}

// annotationValue converts v to a type the SDK's AddAnnotation takes.
func annotationValue(v any) (any, bool) {
	switch v := v.(type) {
	case string:
		if len(v) > 1000 {
			n := 1000
			for n > 0 && !utf8.RuneStart(v[n]) {
				n--
			}
			v = v[:n]
		}
		return v, true
	case bool, int, uint:
		return v, true
	case int8:
		return int(v), true
	case int16:
		return int(v), true
	case int32:
		return int(v), true
	case int64:
		return int(v), true
	case uint8:
		return uint(v), true
	case uint16:
		return uint(v), true
	case uint32:
		return uint(v), true
	case uint64:
		return uint(v), true
	case float32:
		return float64(v), !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0)
	case float64:
		return v, !math.IsNaN(v) && !math.IsInf(v, 0)
	}
	return nil, false
}
