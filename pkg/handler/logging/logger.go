package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/handler/internal/lambdaenv"
	"github.com/latchkit/latch/pkg/handler/internal/logfields"
)

// Log attribute keys. They are stable: Logs Insights queries, metric
// filters and dashboards depend on them.
const (
	KeyTimestamp       = "timestamp"
	KeyLevel           = "level"
	KeyMessage         = "message"
	KeyService         = "service"
	KeyFunctionName    = "function_name"
	KeyFunctionVersion = "function_version"
	KeyRequestID       = "request_id"
	KeyColdStart       = "cold_start"
	KeyTenantID        = "tenant_id"
	KeyTraceID         = "xray_trace_id"
	KeySource          = "source"
	KeyMessageID       = "message_id"
	KeyCorrelationID   = "correlation_id"
	KeyOutcome         = "outcome"
	KeyAttempt         = "attempt"
	KeyRetryDelayMS    = "retry_delay_ms"
	KeyError           = "error"
	KeyErrorClass      = "error_class"
	KeyIdempotencyKey  = "idempotency_key_hash"
	// KeyIdempotencyKeyDisplay carries a key's display form, only when the
	// key function chose one (handler.KeyFunc.WithDisplay).
	KeyIdempotencyKeyDisplay = "idempotency_key"
	KeyDurationMS            = "duration_ms"
	KeyBody                  = "body"
	// KeyShard, KeySequenceNumber and KeyIteratorAgeMS place a stream
	// record (Kinesis, DynamoDB Streams) in its stream; only on those.
	KeyShard          = "shard_id"
	KeySequenceNumber = "sequence_number"
	KeyIteratorAgeMS  = "iterator_age_ms"
)

// Environment variables read by NewLogger (and, for EnvService, by
// metrics.New and telemetry.New).
const (
	// EnvLogLevel sets the log level: DEBUG, INFO, WARN or ERROR (any case,
	// slog offsets such as "INFO+2" too). It wins over EnvLambdaLogLevel.
	EnvLogLevel = "LATCH_LOG_LEVEL"
	// EnvLambdaLogLevel is set by Lambda's advanced logging controls
	// (TRACE, DEBUG, INFO, WARN, ERROR, FATAL).
	EnvLambdaLogLevel = "AWS_LAMBDA_LOG_LEVEL"
	// EnvService names the service: the "service" log field and the
	// service metric dimension.
	EnvService = lambdaenv.EnvService
)

// Config configures NewLogger. The zero value logs JSON at the level
// the environment asks for to standard output, which is what Lambda ships
// to CloudWatch Logs.
type Config struct {
	// Writer receives one JSON object per line. Default os.Stdout.
	Writer io.Writer
	// Level is the minimum level logged. Default: LevelFromEnv(), so the
	// level can change without a deploy of new code.
	Level slog.Leveler
	// Service is the "service" field on every line. Default: the LATCH_SERVICE
	// variable, else the Lambda function name; omitted when both are empty.
	Service string
}

// NewLogger returns a JSON logger for Lambda. Every line carries the
// function name and version and the service; a line logged with a context
// (InfoContext and friends) inside a request also carries the request id,
// the cold-start flag and the X-Ray trace id, and inside a record the
// message id and correlation id. Keys are the Key constants; the time
// and message keys follow Lambda's JSON log format ("timestamp",
// "message").
func NewLogger(cfg Config) *slog.Logger {
	w := cfg.Writer
	if w == nil {
		w = os.Stdout
	}
	level := cfg.Level
	if level == nil {
		level = LevelFromEnv()
	}
	json := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: lambdaKeys})
	var static []slog.Attr
	if s := lambdaenv.Service(cfg.Service); s != "" {
		static = append(static, slog.String(KeyService, s))
	}
	if lambdacontext.FunctionName != "" {
		static = append(static, slog.String(KeyFunctionName, lambdacontext.FunctionName))
	}
	if lambdacontext.FunctionVersion != "" {
		static = append(static, slog.String(KeyFunctionVersion, lambdacontext.FunctionVersion))
	}
	var base slog.Handler = json
	if len(static) > 0 {
		base = json.WithAttrs(static)
	}
	return slog.New(&contextHandler{base: base, inner: base})
}

// lambdaKeys renames slog's built-in top-level keys to Lambda's.
func lambdaKeys(groups []string, a slog.Attr) slog.Attr {
	if len(groups) > 0 {
		return a
	}
	switch a.Key {
	case slog.TimeKey:
		a.Key = KeyTimestamp
	case slog.MessageKey:
		a.Key = KeyMessage
	}
	return a
}

// LevelFromEnv returns the level named by LATCH_LOG_LEVEL, else by
// AWS_LAMBDA_LOG_LEVEL, else INFO. A value that does not parse counts as
// unset: a typo in a variable must not silence the function's logs.
func LevelFromEnv() slog.Level {
	for _, name := range []string{EnvLogLevel, EnvLambdaLogLevel} {
		if v := os.Getenv(name); v != "" {
			if l, err := ParseLevel(v); err == nil {
				return l
			}
		}
	}
	return slog.LevelInfo
}

// ParseLevel parses a slog level name ("debug", "INFO", "WARN+1") or one of
// Lambda's extra names: TRACE (below DEBUG) and FATAL (above ERROR).
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "TRACE":
		return slog.LevelDebug - 4, nil
	case "FATAL":
		return slog.LevelError + 4, nil
	case "WARNING":
		return slog.LevelWarn, nil
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.TrimSpace(s))); err != nil {
		return 0, fmt.Errorf("logging: log level %q: %w", s, err)
	}
	return l, nil
}

// contextHandler adds the request's and the record's fields, found in the
// context, to every line.
type contextHandler struct {
	// base is the handler before any WithGroup: context fields belong at
	// the top level of a line, not inside a group the caller opened.
	base  slog.Handler
	inner slog.Handler
	// since replays the WithAttrs/WithGroup calls made after base, for the
	// rare line that has both context fields and open groups.
	since []func(slog.Handler) slog.Handler
}

func (h *contextHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.inner.Enabled(ctx, l)
}

func (h *contextHandler) Handle(ctx context.Context, r slog.Record) error {
	var buf [5]slog.Attr
	attrs := contextAttrs(ctx, buf[:0])
	if len(attrs) == 0 {
		return h.inner.Handle(ctx, r)
	}
	if len(h.since) == 0 {
		r.AddAttrs(attrs...)
		return h.inner.Handle(ctx, r)
	}
	inner := h.base.WithAttrs(attrs)
	for _, op := range h.since {
		inner = op(inner)
	}
	return inner.Handle(ctx, r)
}

func (h *contextHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	return h.with(func(in slog.Handler) slog.Handler { return in.WithAttrs(attrs) })
}

func (h *contextHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return h.with(func(in slog.Handler) slog.Handler { return in.WithGroup(name) })
}

func (h *contextHandler) with(op func(slog.Handler) slog.Handler) *contextHandler {
	since := make([]func(slog.Handler) slog.Handler, len(h.since), len(h.since)+1)
	copy(since, h.since)
	return &contextHandler{base: h.base, inner: op(h.inner), since: append(since, op)}
}

// contextAttrs appends the request's and the record's fields found in ctx.
func contextAttrs(ctx context.Context, attrs []slog.Attr) []slog.Attr {
	if ctx == nil || logfields.IsExplicit(ctx) {
		return attrs
	}
	if inv, ok := handler.InvocationFromContext(ctx); ok {
		if inv.RequestID != "" {
			attrs = append(attrs, slog.String(KeyRequestID, inv.RequestID))
		}
		attrs = append(attrs, slog.Bool(KeyColdStart, inv.ColdStart))
		if inv.TenantID != "" {
			attrs = append(attrs, slog.String(KeyTenantID, inv.TenantID))
		}
		if id := lambdaenv.TraceRoot(inv.TraceHeader); id != "" {
			attrs = append(attrs, slog.String(KeyTraceID, id))
		}
	}
	if rec, ok := handler.DeliveryFromContext(ctx); ok {
		if rec.ID != "" {
			attrs = append(attrs, slog.String(KeyMessageID, rec.ID))
		}
		if rec.CorrelationID != "" {
			attrs = append(attrs, slog.String(KeyCorrelationID, rec.CorrelationID))
		}
	}
	return attrs
}
