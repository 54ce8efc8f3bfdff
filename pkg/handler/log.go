package handler

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
)

// Log attribute keys. They are stable: Logs Insights queries, metric
// filters and dashboards depend on them.
const (
	LogKeyTimestamp       = "timestamp"
	LogKeyLevel           = "level"
	LogKeyMessage         = "message"
	LogKeyService         = "service"
	LogKeyFunctionName    = "function_name"
	LogKeyFunctionVersion = "function_version"
	LogKeyRequestID       = "request_id"
	LogKeyColdStart       = "cold_start"
	LogKeyTraceID         = "xray_trace_id"
	LogKeySource          = "source"
	LogKeyMessageID       = "message_id"
	LogKeyCorrelationID   = "correlation_id"
	LogKeyOutcome         = "outcome"
	LogKeyAttempt         = "attempt"
	LogKeyRetryDelayMS    = "retry_delay_ms"
	LogKeyError           = "error"
	LogKeyErrorClass      = "error_class"
	LogKeyIdempotencyKey  = "idempotency_key_hash"
	LogKeyDurationMS      = "duration_ms"
	LogKeyBody            = "body"
)

// Environment variables read by NewLogger and NewMetrics.
const (
	// EnvLogLevel sets the log level: DEBUG, INFO, WARN or ERROR (any case,
	// slog offsets such as "INFO+2" too). It wins over EnvLambdaLogLevel.
	EnvLogLevel = "LATCH_LOG_LEVEL"
	// EnvLambdaLogLevel is set by Lambda's advanced logging controls
	// (TRACE, DEBUG, INFO, WARN, ERROR, FATAL).
	EnvLambdaLogLevel = "AWS_LAMBDA_LOG_LEVEL"
	// EnvService names the service: the "service" log field and the
	// service metric dimension.
	EnvService = "LATCH_SERVICE"
)

// LoggerConfig configures NewLogger. The zero value logs JSON at the level
// the environment asks for to standard output, which is what Lambda ships
// to CloudWatch Logs.
type LoggerConfig struct {
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
// message id and correlation id. Keys are the LogKey constants; the time
// and message keys follow Lambda's JSON log format ("timestamp",
// "message").
func NewLogger(cfg LoggerConfig) *slog.Logger {
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
	if s := serviceName(cfg.Service); s != "" {
		static = append(static, slog.String(LogKeyService, s))
	}
	inv := newInvocation(context.Background(), false)
	if inv.FunctionName != "" {
		static = append(static, slog.String(LogKeyFunctionName, inv.FunctionName))
	}
	if inv.FunctionVersion != "" {
		static = append(static, slog.String(LogKeyFunctionVersion, inv.FunctionVersion))
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
		a.Key = LogKeyTimestamp
	case slog.MessageKey:
		a.Key = LogKeyMessage
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
		return 0, fmt.Errorf("handler: log level %q: %w", s, err)
	}
	return l, nil
}

func serviceName(configured string) string {
	if configured != "" {
		return configured
	}
	if s := os.Getenv(EnvService); s != "" {
		return s
	}
	return os.Getenv("AWS_LAMBDA_FUNCTION_NAME")
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

// explicitFieldsKey marks a context whose line already names the request
// and record fields itself (the per-record outcome line), so the handler
// does not add them twice.
type explicitFieldsKey struct{}

// contextAttrs appends the request's and the record's fields found in ctx.
func contextAttrs(ctx context.Context, attrs []slog.Attr) []slog.Attr {
	if ctx == nil || ctx.Value(explicitFieldsKey{}) != nil {
		return attrs
	}
	if inv, ok := InvocationFromContext(ctx); ok {
		if inv.RequestID != "" {
			attrs = append(attrs, slog.String(LogKeyRequestID, inv.RequestID))
		}
		attrs = append(attrs, slog.Bool(LogKeyColdStart, inv.ColdStart))
		if id := traceRoot(inv.TraceHeader); id != "" {
			attrs = append(attrs, slog.String(LogKeyTraceID, id))
		}
	}
	if rec, ok := RecordFromContext(ctx); ok {
		if rec.ID != "" {
			attrs = append(attrs, slog.String(LogKeyMessageID, rec.ID))
		}
		if rec.CorrelationID != "" {
			attrs = append(attrs, slog.String(LogKeyCorrelationID, rec.CorrelationID))
		}
	}
	return attrs
}

// traceRoot returns the Root field of an X-Ray trace header
// ("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=...;Sampled=1").
func traceRoot(header string) string {
	for header != "" {
		var field string
		field, header, _ = strings.Cut(header, ";")
		if k, v, ok := strings.Cut(strings.TrimSpace(field), "="); ok && k == "Root" {
			return v
		}
	}
	return ""
}
