package handler

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
)

// Start runs f as this process's Lambda handler. It never returns.
//
// f goes to aws-lambda-go as a typed func(context.Context, In) (Out, error)
// through lambda.StartHandlerFunc, never through lambda.Start(interface{}),
// so a handler of the wrong shape is a compile error rather than a runtime
// failure on the first request (aws-lambda-go issue #270). Every request
// gets an Invocation in its context (see InvocationFromContext), including
// the cold-start flag. The options are aws-lambda-go's own (for example
// lambda.WithEnableSIGTERM).
func Start[In, Out any](f Func[In, Out], opts ...lambda.Option) {
	lambda.StartHandlerFunc(entry(f), opts...)
}

// NewLambdaHandler returns f as a lambda.Handler: a JSON payload in, a JSON
// answer out, with the same per-request Invocation that Start gives. The
// local runner and tests call its Invoke method to run a function exactly as
// Lambda would, minus the runtime API.
func NewLambdaHandler[In, Out any](f Func[In, Out], opts ...lambda.Option) lambda.Handler {
	return lambda.NewHandlerWithOptions(entry(f), opts...)
}

// entry is f as the plain function type aws-lambda-go checks, behind the
// middleware that records the Invocation.
func entry[In, Out any](f Func[In, Out]) func(context.Context, In) (Out, error) {
	return Chain(f, withInvocation[In, Out](environmentColdStart))
}
