// Package runtimeapi is a local implementation of the AWS Lambda Runtime
// API: the HTTP interface through which a function's runtime (for Go, the
// client loop inside aws-lambda-go's lambda.Start) asks for invocations and
// answers them.
//
// A Server is one execution environment's API. A runtime process started
// with AWS_LAMBDA_RUNTIME_API=<Server.Addr> long-polls
// GET /2018-06-01/runtime/invocation/next; Invoke hands it the next payload
// with the headers Lambda sends (request id, deadline, function ARN, trace
// header, client context and Cognito identity when given) and waits for
// POST .../invocation/{id}/response or .../invocation/{id}/error. A runtime
// that cannot start reports POST /2018-06-01/runtime/init/error.
//
// Failures come back the way Lambda reports them to a caller: a
// *FunctionError with the errorType and errorMessage (Lambda's
// X-Amz-Function-Error: Unhandled). The server also plays Lambda's part where
// the runtime cannot: an invocation past the function's timeout fails with
// "Task timed out after N seconds" (ErrorTypeTimeout), a runtime that exits
// fails its invocation with ErrorTypeExit, and in both cases the environment
// is over (Done), for the supervisor (package lambdaproc) to kill the process
// and start a fresh one, as Lambda does.
//
// One invocation at a time per Server, as in a classic Lambda execution
// environment, unless Config.MaxConcurrency says more: on Lambda Managed
// Instances one environment serves several at once (the runtime reads
// AWS_LAMBDA_MAX_CONCURRENCY and polls with that many loops), and with
// Config.KeepOverrun an invocation past its timeout fails for its caller
// but is not stopped, and the environment lives on, as there. Each
// invocation may carry a tenant id (Lambda-Runtime-Aws-Tenant-Id).
//
//	srv, err := runtimeapi.NewServer(runtimeapi.Config{FunctionName: "orders", Timeout: 30 * time.Second})
//	// start the function with AWS_LAMBDA_RUNTIME_API=srv.Addr(); when it exits: srv.RuntimeExited(waitErr)
//	out, err := srv.Invoke(ctx, []byte(`{"id":"42"}`))
//	var fe *runtimeapi.FunctionError
//	if errors.As(err, &fe) { /* fe.Type, fe.Message */ }
package runtimeapi
