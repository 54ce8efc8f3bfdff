// Package function builds what every latch function repeats — the AWS
// configuration, telemetry, the idempotency guard, the SQS client, the
// retry policy — from one documented set of environment variables, and
// starts the function observed. It is the short path beside the explicit
// constructors of pkg/handler and pkg/idempotency, not a second framework:
// every piece it builds is an exported field or method result that code can
// replace.
//
// A function's main is one line, and its package builds only what is its
// own:
//
//	func main() { function.Main(orders.Build) }
//
//	func Build(ctx context.Context, fn *function.Function) (handler.Func[events.SQSEvent, events.SQSEventResponse], error) {
//		table := fn.Vars.Required("ORDERS_TABLE") // reported with the convention's variables
//		return handler.NewSQS(Accept(fn.DynamoDB, table), fn.SQSConfig(handler.SQSConfig{
//			Key: handler.KeyJSONField("id"),
//		}))
//	}
//
// The variables (every one optional unless a piece that needs it is used):
//
//	LATCH_SERVICE                 service name in logs and traces (default: the function name)
//	LATCH_IDEMPOTENCY_TABLE       idempotency table; required by Guard, SQSConfig, ScheduleConfig
//	LATCH_IDEMPOTENCY_NAMESPACE   key namespace (default: the function name)
//	LATCH_IDEMPOTENCY_TTL         how long a completed record answers duplicates, a Go duration (default 1h)
//	LATCH_IDEMPOTENCY_CACHE_SIZE  completed records kept in memory (default 0)
//	LATCH_CHECKPOINT_TABLE        pollers' checkpoints (default: the idempotency table)
//	LATCH_DLQ_URL                 SQS dead-letter queue (default: the source queue's RedrivePolicy)
//	LATCH_FAILURE_QUEUE_URL       failure queue of schedule and EventBridge handlers (default none)
//	LATCH_TRACER                  xray or none (default xray)
//	LATCH_LOG_LEVEL               DEBUG, INFO, WARN or ERROR (read by package logging)
//	LATCH_METRICS_NAMESPACE       EMF namespace (read by package metrics)
//	RETRY_BASE_SECONDS, RETRY_MAX_SECONDS  the visibility backoff (retry.BackoffFromEnv)
//
// Every missing or malformed variable, the convention's and the function's
// own read through Vars, is reported in one error at cold start, so a bad
// deploy says everything that is wrong in one log line. A Build that asks
// for the shared pieces (SQSConfig, Guard) before anything that can fail
// gets the most complete report.
package function
