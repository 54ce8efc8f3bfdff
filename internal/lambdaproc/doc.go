// Package lambdaproc builds a Go Lambda function and runs it locally the way
// Lambda runs it: as a real process that speaks the Runtime API
// (package runtimeapi) through its own aws-lambda-go client loop, with the
// environment Lambda gives it and the deadline of its configured timeout.
//
// Build compiles a function package for the host with the lambda.norpc tag.
// A Function is a pool of execution environments for one function: up to
// MaxConcurrency processes, each serving one invocation at a time, started
// on demand and reused while they live. What Lambda does to an environment,
// a Function does to a process. A process that exits mid-invocation
// (os.Exit, log.Fatal) fails that invocation with Runtime.ExitError; one that
// panics reports the panic and exits; either way the next invocation gets a
// fresh process. An invocation past the timeout fails with "Task timed out
// after N seconds" and its process is killed. A process that fails its init
// fails the invocation that started it, and the next invocation tries a
// fresh init; Warm surfaces such a failure before any event arrives. The
// function's stdout and stderr go to Output line by line, prefixed with its
// name and the environment's number. Stop kills exactly the processes the
// Function started (SIGTERM and a grace period first for a runtime that
// registered an extension, as lambda.WithEnableSIGTERM does) and waits until
// they are reaped.
//
// A sketch of the local runner's use:
//
//	bin, err := lambdaproc.Build(ctx, lambdaproc.BuildConfig{Package: "./functions/orders"})
//	fn, err := lambdaproc.New(lambdaproc.Config{
//		Name: "orders", Binary: bin, Timeout: 30 * time.Second,
//		Env: map[string]string{"TABLE_NAME": table}, MaxConcurrency: 5,
//	})
//	defer fn.Stop()
//	out, err := fn.Invoke(ctx, event)
package lambdaproc
