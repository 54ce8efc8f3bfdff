package function

import (
	"context"
	"errors"
	"log/slog"
	"os"

	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/handler/telemetry"
)

// Build makes a function's handler from the shared pieces. It is the part of
// a function that is its own: its tables, its clients, its handler.
type Build[In, Out any] func(ctx context.Context, fn *Function) (handler.Func[In, Out], error)

// Main is a function's whole main: New from the process environment,
// build, then Start. The telemetry's logger becomes slog's default, so the
// function's own log lines are JSON with Lambda's fields beside latch's. A
// configuration or build error is logged as one JSON line naming every
// problem, and the process exits 1, so the cold start fails with the reason
// in the function's logs.
func Main[In, Out any](build Build[In, Out]) {
	h, fn, err := Prepare(context.Background(), Options{}, build)
	if err != nil {
		slog.New(slog.NewJSONHandler(os.Stderr, nil)).Error("function: cannot start", "error", err.Error())
		os.Exit(1)
	}
	slog.SetDefault(fn.Telemetry.Logger())
	handler.Start(h)
}

// Prepare is Main without the start: New with opts, build, and the
// environment's problems joined with build's error. It returns the handler
// already observed by the function's telemetry, which a test invokes as
// Lambda would.
func Prepare[In, Out any](ctx context.Context, opts Options, build Build[In, Out]) (handler.Func[In, Out], *Function, error) {
	fn, err := New(ctx, opts)
	if err != nil {
		return nil, nil, err
	}
	h, err := build(ctx, fn)
	// The environment's problems first: a missing table explains the
	// constructor error it causes.
	if err = errors.Join(fn.Err(), err); err != nil {
		return nil, fn, err
	}
	return telemetry.Observe(fn.Telemetry, h), fn, nil
}
