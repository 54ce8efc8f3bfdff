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
//   - NewSQS runs a function per record of an SQS batch and answers with a
//     partial batch response: retryable failures come back after a growing
//     visibility backoff, permanent ones go to the dead-letter queue at once
//     with the reason, and duplicates are skipped under an idempotency
//     guard.
//   - NewEventBridge decodes a custom event's detail into a Go type; the same
//     typed handling runs on top of SQS for events that reach a queue
//     through a rule target (EventBridgeSQS with KeyEventID).
//   - NewSchedule runs a job per tick of a schedule rule or an EventBridge
//     Scheduler schedule; a tick is keyed by its schedule and scheduled
//     time, so a tick delivered twice runs once.
//   - NewPoller reads a feed that cannot push, page by page from a
//     checkpoint under a lease; Poller.Poll runs one poll and returns its
//     PollResult, and NewPollSchedule runs Poll on every schedule tick.
//   - NewSQSTx and NewScheduleTx take the function in the transactional form
//     (idempotency.Transact): it returns the DynamoDB writes that are its
//     effect, and they are committed with the idempotency record in one
//     transaction, exactly once and in one round trip.
//
// Each constructor checks its config and returns an error (a wrapped
// ErrConfig, naming the field), so a bad deploy
// fails at cold start; MustNewSQS, MustNewEventBridge and MustNewSchedule
// panic instead, for package-level variables. What needs an AWS call (an
// SQS queue's RedrivePolicy) is checked on the first invocation; see
// SQSConfig.
//
// Asynchronous invocations (EventBridge rule targets, schedules) send
// permanent failures to a FailureQueue with the reason and succeed, so
// Lambda's retries are spent only on what may still succeed.
//
// Observability plugs in through two seams that live here: the Observer,
// told about every record (Delivery when it starts, Report when it ends),
// and the Tracer, that spans are made with (TraceStore puts the
// idempotency store's calls in spans of their own). The implementations
// live in sub-packages, so the entry package reads as one story:
//
//   - telemetry: the Observer that writes one JSON log line per record
//     outcome, one CloudWatch EMF blob per invocation and a span per
//     record; its Observe middleware wraps the invocation.
//   - logging: the JSON slog logger with Lambda's fields.
//   - metrics: the EMF encoder, for a handler's own metrics too.
//   - xray: latch's own X-Ray emitter, telemetry's default tracer.
//
// A schedule job, observed:
//
//	func main() {
//		tel, err := telemetry.New(telemetry.Config{})
//		if err != nil {
//			log.Fatal(err)
//		}
//		job, err := handler.NewSchedule(buildReport, handler.ScheduleConfig{
//			Idempotency:  guard,
//			FailureQueue: handler.FailureQueue{URL: os.Getenv("FAILURE_QUEUE_URL"), Client: sqs.NewFromConfig(cfg)},
//			Observer:     tel,
//		})
//		if err != nil {
//			log.Fatal(err) // a bad config fails the cold start, not every tick
//		}
//		handler.Start(telemetry.Observe(tel, job))
//	}
package handler
