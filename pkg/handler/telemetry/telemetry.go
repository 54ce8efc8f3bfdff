package telemetry

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/handler/internal/lambdaenv"
	"github.com/latchkit/latch/pkg/handler/internal/logfields"
	"github.com/latchkit/latch/pkg/handler/logging"
	"github.com/latchkit/latch/pkg/handler/metrics"
	"github.com/latchkit/latch/pkg/handler/xray"
	"github.com/latchkit/latch/pkg/retry"
)

// Metric and property names Observe writes. Besides these, every outcome
// is a counter metric of its own name (handler.Outcome's string value:
// "succeeded", "dead_lettered", ...).
const (
	// MetricHandlerDuration is the invocation's duration, Milliseconds.
	MetricHandlerDuration = "HandlerDuration"
	// MetricColdStart is 1 (Count) in the blob of a cold invocation and
	// absent otherwise.
	MetricColdStart = "ColdStart"
	// MetricIteratorAge is a stream record's handler.Delivery.IteratorAge,
	// Milliseconds, one value per Kinesis or DynamoDB Streams record.
	MetricIteratorAge = "IteratorAge"
	// PropertyRequestID carries the Lambda request id in each blob, so the
	// blob of a request can be found in the logs; it is not a dimension.
	PropertyRequestID = logging.KeyRequestID
)

// Config configures New. The zero value logs JSON to standard output at
// the environment's level, writes EMF metrics to standard output, and
// traces with X-Ray (a no-op outside Lambda).
type Config struct {
	// Logger writes the one line per record, and the triggers' own lines
	// (panic stacks) when their config names no logger. Default
	// logging.NewLogger(logging.Config{}).
	Logger *slog.Logger
	// Metrics writes the invocation's EMF blob. Default
	// metrics.New(metrics.Config{}).
	Metrics *metrics.Emitter
	// Tracer makes the spans. Default xray.Tracer{}.
	Tracer handler.Tracer
	// Service is the service annotation on spans. Default as
	// logging.Config.Service.
	Service string
	// LogBodies adds the record's body to its outcome line. Default false:
	// bodies hold customer data, and logs are kept longer and read by more
	// people than queues.
	LogBodies bool
	// Now is the clock that times the invocation and stamps the outcome
	// lines. Default time.Now.
	Now func() time.Time
}

// Telemetry is the Observer that answers, for every record, did it run,
// did it succeed, why did it fail, will it retry: one log line per record
// outcome, counts per outcome in the invocation's EMF blob, and a span per
// record annotated with its outcome. Wrap the invocation in Observe so the
// blob is written once at the end, and the handler span holds the records'.
type Telemetry struct {
	log       *slog.Logger
	metrics   *metrics.Emitter
	tracer    handler.Tracer
	service   string
	logBodies bool
	now       func() time.Time
}

var _ handler.LoggerObserver = (*Telemetry)(nil)

// MustNew is New that panics on a config error, for package-level wiring
// at cold start.
func MustNew(cfg Config) *Telemetry {
	t, err := New(cfg)
	if err != nil {
		panic(err)
	}
	return t
}

// New fills cfg's defaults. It fails only when the default
// metrics configuration from the environment is invalid (a namespace
// starting with "AWS/", say), with an error matching metrics.ErrConfig.
func New(cfg Config) (*Telemetry, error) {
	t := &Telemetry{
		log:       cfg.Logger,
		metrics:   cfg.Metrics,
		tracer:    cfg.Tracer,
		service:   lambdaenv.Service(cfg.Service),
		logBodies: cfg.LogBodies,
		now:       cfg.Now,
	}
	if t.log == nil {
		t.log = logging.NewLogger(logging.Config{})
	}
	if t.metrics == nil {
		m, err := metrics.New(metrics.Config{})
		if err != nil {
			return nil, err
		}
		t.metrics = m
	}
	if t.tracer == nil {
		t.tracer = xray.Tracer{}
	}
	if t.now == nil {
		t.now = time.Now
	}
	return t, nil
}

// Logger returns the logger the telemetry writes with, for the handler's
// own lines. The triggers find it too: with a Telemetry as their Observer
// and no Logger of their own, they log panic stacks with it.
func (t *Telemetry) Logger() *slog.Logger { return t.log }

// Tracer returns the telemetry's tracer, to instrument AWS clients
// (Tracer().InstrumentAWS(&cfg)) or an idempotency store
// (handler.TraceStore).
func (t *Telemetry) Tracer() handler.Tracer { return t.tracer }

// Observe wraps an invocation in telemetry: a handler span annotated with
// the service and the cold start, and a metrics.Set in the context that the
// records count into and that is written as one EMF blob when the
// invocation ends, whether it returns, fails or panics. The blob holds the
// counts per outcome, MetricHandlerDuration and, on a cold start,
// MetricColdStart.
//
// Wrap the handler Start runs, outside the SQS processor or the
// EventBridge and schedule handlers; the types come from next, so the call
// site names none:
//
//	handler.Start(telemetry.Observe(tel, proc))
//
// It takes the handler rather than returning a handler.Middleware because a
// middleware's type arguments cannot be inferred from its use in Chain:
// every call site had to spell them out.
func Observe[In, Out any](t *Telemetry, next handler.Func[In, Out]) handler.Func[In, Out] {
	return func(ctx context.Context, in In) (out Out, err error) {
		inv, _ := handler.InvocationFromContext(ctx)
		set := t.metrics.NewSet()
		if inv.RequestID != "" {
			_ = set.SetProperty(PropertyRequestID, inv.RequestID) // a valid name
		}
		ctx = metrics.NewContext(ctx, set)
		ctx, span := t.tracer.Start(ctx, handler.SpanHandler)
		span.Annotate(handler.AnnotationColdStart, inv.ColdStart)
		if t.service != "" {
			span.Annotate(handler.AnnotationService, t.service)
		}
		start := t.now()
		defer func() {
			p := recover()
			// Names and units are latch's own and valid: no error.
			_ = set.Put(MetricHandlerDuration, metrics.UnitMilliseconds, millis(t.now().Sub(start)))
			if inv.ColdStart {
				_ = set.Add(MetricColdStart, metrics.UnitCount, 1)
			}
			if ferr := t.metrics.Flush(set); ferr != nil {
				t.log.ErrorContext(ctx, "metrics not written", logging.KeyError, ferr)
			}
			spanErr := err
			if p != nil {
				spanErr = fmt.Errorf("panic: %v", p)
			}
			span.End(spanErr)
			if p != nil {
				panic(p)
			}
		}()
		return next(ctx, in)
	}
}

func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// spanKey is the context key of the record's span, from RecordStarted to
// RecordFinished.
type spanKey struct{}

// RecordStarted opens the record's span and puts it in the context
// RecordFinished gets back.
func (t *Telemetry) RecordStarted(ctx context.Context, r handler.Delivery) context.Context {
	ctx, span := t.tracer.Start(ctx, handler.SpanRecord)
	if r.ID != "" {
		span.Annotate(handler.AnnotationMessageID, r.ID)
	}
	return context.WithValue(ctx, spanKey{}, span)
}

// RecordFinished writes the record's outcome line, counts the outcome in
// the invocation's metric set, and closes the record's span with the
// outcome annotated.
func (t *Telemetry) RecordFinished(ctx context.Context, r handler.Report) {
	inv, _ := handler.InvocationFromContext(ctx)
	if span, ok := ctx.Value(spanKey{}).(handler.Span); ok {
		span.Annotate(handler.AnnotationOutcome, string(r.Outcome))
		span.Annotate(handler.AnnotationColdStart, inv.ColdStart)
		if t.service != "" {
			span.Annotate(handler.AnnotationService, t.service)
		}
		if r.Err != nil && r.Class != retry.ClassNone {
			span.Annotate(handler.AnnotationErrorClass, r.Class.String())
		}
		span.End(spanError(r))
	}

	set, ok := metrics.FromContext(ctx)
	if !ok {
		// No Observe around the invocation: the count still reaches
		// CloudWatch, in a blob of its own.
		set = t.metrics.NewSet()
	}
	_ = set.Add(string(r.Outcome), metrics.UnitCount, 1) // outcome names are valid
	if r.SequenceNumber != "" {
		// One value per stream record: the blob's maximum is what an alarm
		// on a falling-behind consumer watches, as on Lambda's own metric.
		_ = set.Put(MetricIteratorAge, metrics.UnitMilliseconds, millis(r.IteratorAge))
	}
	if !ok {
		if err := t.metrics.Flush(set); err != nil {
			t.log.ErrorContext(ctx, "metrics not written", logging.KeyError, err)
		}
	}

	t.logOutcome(ctx, inv, r)
}

// spanError is the error a record's span ends with: only outcomes where
// the work failed mark the span as failed. A duplicate, a success or a
// record blocked behind another's failure carries no error.
func spanError(r handler.Report) error {
	switch r.Outcome {
	case handler.Succeeded, handler.Duplicate, handler.Blocked:
		return nil
	}
	return r.Err
}

// OutcomeMessage is the message of the per-record outcome line.
const OutcomeMessage = "record processed"

func outcomeLevel(o handler.Outcome) slog.Level {
	switch o {
	case handler.Succeeded, handler.Duplicate, handler.Blocked:
		// A blocked record did not fail; its blocker's line says what did.
		return slog.LevelInfo
	case handler.RetryScheduled:
		return slog.LevelWarn
	default:
		return slog.LevelError
	}
}

func (t *Telemetry) logOutcome(ctx context.Context, inv handler.Invocation, r handler.Report) {
	level := outcomeLevel(r.Outcome)
	if !t.log.Enabled(ctx, level) {
		return
	}
	attrs := make([]slog.Attr, 0, 16)
	attrs = append(attrs,
		slog.String(logging.KeyOutcome, string(r.Outcome)),
		slog.String(logging.KeySource, r.Source),
		slog.String(logging.KeyMessageID, r.ID),
		slog.Int(logging.KeyAttempt, r.Attempt),
	)
	if r.CorrelationID != "" {
		attrs = append(attrs, slog.String(logging.KeyCorrelationID, r.CorrelationID))
	}
	if r.SequenceNumber != "" {
		if r.Shard != "" {
			attrs = append(attrs, slog.String(logging.KeyShard, r.Shard))
		}
		attrs = append(attrs,
			slog.String(logging.KeySequenceNumber, r.SequenceNumber),
			slog.Int64(logging.KeyIteratorAgeMS, r.IteratorAge.Milliseconds()))
	}
	if r.KeyHash != "" {
		attrs = append(attrs, slog.String(logging.KeyIdempotencyKey, r.KeyHash))
	}
	if r.KeyDisplay != "" {
		attrs = append(attrs, slog.String(logging.KeyIdempotencyKeyDisplay, r.KeyDisplay))
	}
	if r.Outcome == handler.RetryScheduled {
		attrs = append(attrs, slog.Int64(logging.KeyRetryDelayMS, r.RetryDelay.Milliseconds()))
	}
	if r.Err != nil {
		attrs = append(attrs, slog.String(logging.KeyError, r.Err.Error()))
		if r.Class != retry.ClassNone {
			attrs = append(attrs, slog.String(logging.KeyErrorClass, r.Class.String()))
		}
	}
	attrs = append(attrs,
		slog.Float64(logging.KeyDurationMS, millis(r.Duration)),
		slog.Bool(logging.KeyColdStart, inv.ColdStart),
	)
	if inv.RequestID != "" {
		attrs = append(attrs, slog.String(logging.KeyRequestID, inv.RequestID))
	}
	if inv.TenantID != "" {
		attrs = append(attrs, slog.String(logging.KeyTenantID, inv.TenantID))
	}
	if id := lambdaenv.TraceRoot(inv.TraceHeader); id != "" {
		attrs = append(attrs, slog.String(logging.KeyTraceID, id))
	}
	if t.logBodies && r.Body != "" {
		attrs = append(attrs, slog.String(logging.KeyBody, r.Body))
	}
	// The line names the request and record fields itself, so that it is
	// complete with any logger; the context handler must not add them again.
	// The record goes to the handler directly: the caller's source position
	// (runtime.Callers, a tenth of the line's cost) would always be this
	// function.
	line := slog.NewRecord(t.now(), level, OutcomeMessage, 0)
	line.AddAttrs(attrs...)
	// A failed write has nowhere better to be reported than the log itself.
	_ = t.log.Handler().Handle(logfields.Explicit(ctx), line)
}
