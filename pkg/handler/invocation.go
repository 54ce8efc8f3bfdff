package handler

import (
	"context"
	"os"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// Invocation describes the Lambda invocation a handler runs in: who is
// running (function name and version), which request this is, how long it
// may take, and whether it is the first request of this execution
// environment.
type Invocation struct {
	// RequestID is the Lambda request id (lambdacontext AwsRequestID).
	RequestID string
	// FunctionARN is the ARN the function was invoked by, alias or version
	// qualified when the caller used one.
	FunctionARN string
	// FunctionName and FunctionVersion come from the Lambda environment
	// (AWS_LAMBDA_FUNCTION_NAME, AWS_LAMBDA_FUNCTION_VERSION).
	FunctionName    string
	FunctionVersion string
	// Deadline is when Lambda stops the invocation; zero when the context
	// has none (a unit test, the local runner without a timeout).
	Deadline time.Time
	// ColdStart is true for the first invocation of an execution environment
	// that was not initialised ahead of time by provisioned concurrency.
	ColdStart bool
	// TraceHeader is the X-Ray trace header Lambda passed with the request
	// ("Root=1-...;Parent=...;Sampled=1"), empty when tracing is off.
	TraceHeader string
	// TenantID is the tenant the request was invoked for, on a function
	// with tenant isolation (lambdacontext TenantID); empty otherwise.
	TenantID string
}

type invocationKey struct{}

// InvocationFromContext returns the Invocation that Start (or
// ContextWithInvocation) stored in ctx.
func InvocationFromContext(ctx context.Context) (Invocation, bool) {
	inv, ok := ctx.Value(invocationKey{}).(Invocation)
	return inv, ok
}

// ContextWithInvocation returns a copy of ctx that carries inv. Start does
// this for every request; the local runner and tests use it to act as
// Lambda.
func ContextWithInvocation(ctx context.Context, inv Invocation) context.Context {
	return context.WithValue(ctx, invocationKey{}, inv)
}

// lambdaTraceHeaderKey is the (string) context key under which
// aws-lambda-go passes the X-Ray trace header of the request.
const lambdaTraceHeaderKey = "x-amzn-trace-id"

// coldStart hands out the cold-start flag once per execution environment.
type coldStart struct {
	taken       atomic.Bool
	provisioned bool
}

// take reports whether this is the environment's first invocation. An
// environment initialised by provisioned concurrency was warmed before any
// request reached it, so none of its invocations counts as cold.
func (c *coldStart) take() bool {
	first := !c.taken.Swap(true)
	return first && !c.provisioned
}

// environmentColdStart is package-level state, like package xray's daemon
// connection, because it is state Lambda itself defines per process: one
// execution environment runs one process, and its first request is the
// cold one.
var environmentColdStart = &coldStart{
	provisioned: os.Getenv("AWS_LAMBDA_INITIALIZATION_TYPE") == "provisioned-concurrency",
}

// withInvocation builds the Invocation of each request from what the
// aws-lambda-go runtime loop put in ctx. A context that already carries an
// Invocation (the local runner's) is left as it is.
func withInvocation[In, Out any](cold *coldStart) Middleware[In, Out] {
	return func(next Func[In, Out]) Func[In, Out] {
		return func(ctx context.Context, in In) (Out, error) {
			if _, ok := InvocationFromContext(ctx); ok {
				return next(ctx, in)
			}
			return next(ContextWithInvocation(ctx, newInvocation(ctx, cold.take())), in)
		}
	}
}

func newInvocation(ctx context.Context, cold bool) Invocation {
	inv := Invocation{
		FunctionName:    lambdacontext.FunctionName,
		FunctionVersion: lambdacontext.FunctionVersion,
		ColdStart:       cold,
	}
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		inv.RequestID = lc.AwsRequestID
		inv.FunctionARN = lc.InvokedFunctionArn
		inv.TenantID = lc.TenantID
	}
	if d, ok := ctx.Deadline(); ok {
		inv.Deadline = d
	}
	if h, ok := ctx.Value(lambdaTraceHeaderKey).(string); ok {
		inv.TraceHeader = h
	}
	return inv
}
