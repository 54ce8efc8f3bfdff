// Package telemetry answers, for every record a latch trigger runs: did it
// run, did it succeed, why did it fail, will it retry. Its Telemetry is the
// handler.Observer that writes, per record, one JSON log line with the
// outcome (package logging), a count per outcome in the invocation's EMF
// blob (package metrics) and a span annotated with the outcome (package
// xray by default, or any handler.Tracer). Observe wraps the invocation:
// a handler span, and the blob written once at the end, even when the
// handler fails or panics.
//
// The zero Config is what a Lambda function wants: logs and metrics on
// standard output, X-Ray spans when the invocation is traced, all of it
// silent outside Lambda. The triggers also log their own lines (a
// recovered panic with its stack) with the telemetry's logger.
//
//	tel, err := telemetry.New(telemetry.Config{})
//	if err != nil {
//		log.Fatal(err)
//	}
//	proc, err := handler.NewSQS(ship, handler.SQSConfig{Client: sqsClient, Observer: tel})
//	if err != nil {
//		log.Fatal(err)
//	}
//	handler.Start(telemetry.Observe(tel, proc))
package telemetry
