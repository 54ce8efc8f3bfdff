// Package handler turns typed Go functions into AWS Lambda handlers that
// are safe to run twice and that say, for every record, what happened to
// it.
//
// Every handler has one shape, Func[In, Out], and every layer around it one
// shape too, Middleware[In, Out]; Chain stacks them, and Start hands the
// result to aws-lambda-go through its typed entry point, so a handler of
// the wrong shape does not compile.
//
// The event sources:
//
//   - SQS runs a function per record of an SQS batch and answers with a
//     partial batch response: retryable failures come back after a growing
//     visibility backoff, permanent ones go to the dead-letter queue at once
//     with the reason, and duplicates are skipped under an idempotency
//     guard.
//   - EventBridge decodes a custom event's detail into a Go type; the same
//     typed handling runs on top of SQS for events that reach a queue
//     through a rule target (EventBridgeSQS with KeyEventID).
//   - Schedule runs a job per tick of a schedule rule or an EventBridge
//     Scheduler schedule; a tick is keyed by its schedule and scheduled
//     time, so a tick delivered twice runs once.
//
// Asynchronous invocations (EventBridge rule targets, schedules) send
// permanent failures to a FailureQueue with the reason and succeed, so
// Lambda's retries are spent only on what may still succeed.
//
// Observability plugs in through the Observer interface. Telemetry is the
// full implementation: one JSON log line per record outcome (NewLogger),
// one CloudWatch EMF blob per invocation with counts per outcome, the
// handler's duration and cold starts (Metrics), and an X-Ray subsegment per
// record and per idempotency store call (XRayTracer, TraceStore), all of it
// silent outside Lambda. Observe wraps an invocation so its blob is written
// once, even when the handler fails.
//
//	func main() {
//		tel, err := handler.NewTelemetry(handler.TelemetryConfig{})
//		if err != nil {
//			log.Fatal(err)
//		}
//		job := handler.Schedule(buildReport, handler.ScheduleConfig{
//			Idempotency:  guard,
//			FailureQueue: handler.FailureQueue{URL: os.Getenv("FAILURE_QUEUE_URL"), Client: sqs.NewFromConfig(cfg)},
//			Observer:     tel,
//		})
//		handler.Start(handler.Chain(job, handler.Observe[json.RawMessage, struct{}](tel)))
//	}
package handler
