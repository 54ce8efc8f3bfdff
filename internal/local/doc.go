// Package local runs the functions of a SAM template on this machine the way
// Lambda would run them in AWS, against the Docker-free emulators.
//
// Start reads the template, provisions its tables, queues, bus and rules
// (package provision; re-running is safe), builds every
// AWS::Serverless::Function and runs it as real processes behind a local
// Runtime API (package lambdaproc), with the environment the template gives
// it resolved to the local resources, in its code directory (CodeUri), which
// is also its LAMBDA_TASK_ROOT, as /var/task holds the deployment package in
// Lambda. It then feeds the functions as Lambda
// does: each SQS event source through an event source mapping (package esm)
// with its batch size, batching window, ReportBatchItemFailures and maximum
// concurrency, and each schedule rule at its cron/rate times (package
// schedule) with a real-shaped "Scheduled Event", invoked asynchronously:
// retried on a function error up to the function's EventInvokeConfig
// MaximumRetryAttempts, then sent to its OnFailure destination.
//
//	stack, err := local.Start(ctx, local.Config{Template: "infra/template.yaml"})
//	if err != nil { ... }
//	defer stack.Stop()
//	url, _ := stack.Resolve("OrdersQueue")
//	err = stack.Fire(ctx, "DailyReportSchedule", time.Now())
//
// Stop ends everything Start started: pollers, schedule timers and the
// function processes.
package local
