package handler

import "context"

// Func is the one handler shape in latch: a typed function of an event.
type Func[In, Out any] func(ctx context.Context, in In) (Out, error)

// Middleware wraps a Func in behaviour that runs around it.
type Middleware[In, Out any] func(Func[In, Out]) Func[In, Out]
