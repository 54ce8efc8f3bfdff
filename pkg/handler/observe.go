package handler

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// TelemetryConfig configures NewTelemetry. The zero value logs JSON to
// standard output at the environment's level, writes EMF metrics to
// standard output, and traces with X-Ray (a no-op outside Lambda).
type TelemetryConfig struct {
	// Logger writes the one line per record. Default NewLogger(LoggerConfig{}).
	Logger *slog.Logger
	// Metrics writes the invocation's EMF blob. Default
	// NewMetrics(MetricsConfig{}).
	Metrics *Metrics
	// Tracer makes the spans. Default XRayTracer{}.
	Tracer Tracer
	// Service is the service annotation on spans. Default as
	// LoggerConfig.Service.
	Service string
	// LogBodies adds the record's body to its outcome line. Default false:
	// bodies hold customer data, and logs are kept longer and read by more
	// people than queues.
	LogBodies bool
	// Clock times the invocation. Default time.Now.
	Clock func() time.Time
}

// Telemetry is the Observer that answers, for every record, did it run,
// did it succeed, why did it fail, will it retry: one log line per record
// outcome, counts per outcome in the invocation's EMF blob, and a span per
// record annotated with its outcome. Wrap the invocation in Observe so the
// blob is written once at the end, and the handler span holds the records'.
type Telemetry struct {
	log       *slog.Logger
	metrics   *Metrics
	tracer    Tracer
	service   string
	logBodies bool
	clock     func() time.Time
}

var _ Observer = (*Telemetry)(nil)

// NewTelemetry fills cfg's defaults. It fails only when the default
// metrics configuration from the environment is invalid (a namespace
// starting with "AWS/", say).
func NewTelemetry(cfg TelemetryConfig) (*Telemetry, error) {
	t := &Telemetry{
		log:       cfg.Logger,
		metrics:   cfg.Metrics,
		tracer:    cfg.Tracer,
		service:   serviceName(cfg.Service),
		logBodies: cfg.LogBodies,
		clock:     cfg.Clock,
	}
	if t.log == nil {
		t.log = NewLogger(LoggerConfig{})
	}
	if t.metrics == nil {
		m, err := NewMetrics(MetricsConfig{})
		if err != nil {
			return nil, err
		}
		t.metrics = m
	}
	if t.tracer == nil {
		t.tracer = XRayTracer{}
	}
	if t.clock == nil {
		t.clock = time.Now
	}
	return t, nil
}

// Logger returns the logger the telemetry writes with, for the handler's
// own lines.
func (t *Telemetry) Logger() *slog.Logger { return t.log }

// Tracer returns the telemetry's tracer, to instrument AWS clients
// (Tracer().InstrumentAWS(&cfg)) or an idempotency store (TraceStore).
func (t *Telemetry) Tracer() Tracer { return t.tracer }

// Observe wraps an invocation in telemetry: a handler span annotated with
// the service and the cold start, and a MetricSet in the context that the
// records count into and that is written as one EMF blob when the
// invocation ends, whether it returns, fails or panics. The blob holds the
// counts per outcome, HandlerDuration and, on a cold start, ColdStart.
//
// Put it inside Start, outside the SQS processor or the EventBridge and
// schedule handlers:
//
//	handler.Start(handler.Chain(proc, handler.Observe[events.SQSEvent, events.SQSEventResponse](tel)))
func Observe[In, Out any](t *Telemetry) Middleware[In, Out] {
	return func(next Func[In, Out]) Func[In, Out] {
		return func(ctx context.Context, in In) (out Out, err error) {
			inv, _ := InvocationFromContext(ctx)
			set := t.metrics.NewSet()
			if inv.RequestID != "" {
				_ = set.SetProperty(PropertyRequestID, inv.RequestID) // a valid name
			}
			ctx = ContextWithMetrics(ctx, set)
			ctx, span := t.tracer.Start(ctx, SpanHandler)
			span.Annotate(AnnotationColdStart, inv.ColdStart)
			if t.service != "" {
				span.Annotate(AnnotationService, t.service)
			}
			start := t.clock()
			defer func() {
				p := recover()
				// Names and units are latch's own and valid: no error.
				_ = set.Put(MetricHandlerDuration, UnitMilliseconds, millis(t.clock().Sub(start)))
				if inv.ColdStart {
					_ = set.Add(MetricColdStart, UnitCount, 1)
				}
				if ferr := t.metrics.Flush(set); ferr != nil {
					t.log.ErrorContext(ctx, "metrics not written", LogKeyError, ferr)
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
}

func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// recordScope is what RecordStarted leaves in the record's context.
type recordScope struct {
	rec  Record
	span Span
}

type recordScopeKey struct{}

// RecordFromContext returns the record being processed, as the event
// source handler described it to the observer (message id, attempt,
// correlation id).
func RecordFromContext(ctx context.Context) (Record, bool) {
	s, ok := ctx.Value(recordScopeKey{}).(*recordScope)
	if !ok || s == nil {
		return Record{}, false
	}
	return s.rec, true
}

// RecordStarted opens the record's span and puts the record in the
// context, so that lines logged with it carry the message id and the
// correlation id.
func (t *Telemetry) RecordStarted(ctx context.Context, r Record) context.Context {
	ctx, span := t.tracer.Start(ctx, SpanRecord)
	if r.ID != "" {
		span.Annotate(AnnotationMessageID, r.ID)
	}
	return context.WithValue(ctx, recordScopeKey{}, &recordScope{rec: r, span: span})
}

// RecordFinished writes the record's outcome line, counts the outcome in
// the invocation's metric set, and closes the record's span with the
// outcome annotated.
func (t *Telemetry) RecordFinished(ctx context.Context, r Report) {
	inv, _ := InvocationFromContext(ctx)
	if s, ok := ctx.Value(recordScopeKey{}).(*recordScope); ok && s != nil {
		s.span.Annotate(AnnotationOutcome, string(r.Outcome))
		s.span.Annotate(AnnotationColdStart, inv.ColdStart)
		if t.service != "" {
			s.span.Annotate(AnnotationService, t.service)
		}
		if r.Err != nil {
			s.span.Annotate(AnnotationErrorClass, r.Class.String())
		}
		s.span.End(spanError(r))
	}

	if set, ok := MetricsFromContext(ctx); ok {
		_ = set.Add(string(r.Outcome), UnitCount, 1) // outcome names are valid
	} else {
		// No Observe around the invocation: the count still reaches
		// CloudWatch, in a blob of its own.
		set := t.metrics.NewSet()
		_ = set.Add(string(r.Outcome), UnitCount, 1)
		if err := t.metrics.Flush(set); err != nil {
			t.log.ErrorContext(ctx, "metrics not written", LogKeyError, err)
		}
	}

	t.logOutcome(ctx, inv, r)
}

// spanError is the error a record's span ends with: only outcomes where
// the work failed mark the span as failed. A duplicate or a success
// carries no error.
func spanError(r Report) error {
	switch r.Outcome {
	case Succeeded, Duplicate:
		return nil
	}
	return r.Err
}

// OutcomeMessage is the message of the per-record outcome line.
const OutcomeMessage = "record processed"

func outcomeLevel(o Outcome) slog.Level {
	switch o {
	case Succeeded, Duplicate:
		return slog.LevelInfo
	case RetryScheduled:
		return slog.LevelWarn
	default:
		return slog.LevelError
	}
}

func (t *Telemetry) logOutcome(ctx context.Context, inv Invocation, r Report) {
	level := outcomeLevel(r.Outcome)
	if !t.log.Enabled(ctx, level) {
		return
	}
	attrs := make([]slog.Attr, 0, 16)
	attrs = append(attrs,
		slog.String(LogKeyOutcome, string(r.Outcome)),
		slog.String(LogKeySource, r.Source),
		slog.String(LogKeyMessageID, r.ID),
		slog.Int(LogKeyAttempt, r.Attempt),
	)
	if r.CorrelationID != "" {
		attrs = append(attrs, slog.String(LogKeyCorrelationID, r.CorrelationID))
	}
	if r.KeyHash != "" {
		attrs = append(attrs, slog.String(LogKeyIdempotencyKey, r.KeyHash))
	}
	if r.Outcome == RetryScheduled {
		attrs = append(attrs, slog.Int64(LogKeyRetryDelayMS, r.RetryDelay.Milliseconds()))
	}
	if r.Err != nil {
		attrs = append(attrs,
			slog.String(LogKeyError, r.Err.Error()),
			slog.String(LogKeyErrorClass, r.Class.String()),
		)
	}
	attrs = append(attrs,
		slog.Float64(LogKeyDurationMS, millis(r.Duration)),
		slog.Bool(LogKeyColdStart, inv.ColdStart),
	)
	if inv.RequestID != "" {
		attrs = append(attrs, slog.String(LogKeyRequestID, inv.RequestID))
	}
	if id := traceRoot(inv.TraceHeader); id != "" {
		attrs = append(attrs, slog.String(LogKeyTraceID, id))
	}
	if t.logBodies && r.Body != "" {
		attrs = append(attrs, slog.String(LogKeyBody, r.Body))
	}
	// The line names the request and record fields itself, so that it is
	// complete with any logger; the context handler must not add them again.
	// The record goes to the handler directly: the caller's source position
	// (runtime.Callers, a tenth of the line's cost) would always be this
	// function.
	line := slog.NewRecord(time.Now(), level, OutcomeMessage, 0)
	line.AddAttrs(attrs...)
	// A failed write has nowhere better to be reported than the log itself.
	_ = t.log.Handler().Handle(context.WithValue(ctx, explicitFieldsKey{}, true), line)
}
