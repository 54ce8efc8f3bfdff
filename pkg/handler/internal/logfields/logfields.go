// Package logfields marks the context of a log line that names the
// request's and the record's fields itself (telemetry's per-record outcome
// line), so that the logging package's handler does not add them twice.
// It is internal because only those two packages agree on it.
package logfields

import "context"

type explicitKey struct{}

// Explicit returns a copy of ctx marked as carrying a line whose fields
// are explicit.
func Explicit(ctx context.Context) context.Context {
	return context.WithValue(ctx, explicitKey{}, true)
}

// IsExplicit reports whether ctx was marked by Explicit.
func IsExplicit(ctx context.Context) bool {
	return ctx.Value(explicitKey{}) != nil
}
