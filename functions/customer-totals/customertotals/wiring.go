package customertotals

import (
	"context"

	"github.com/aws/aws-lambda-go/events"

	"github.com/latchkit/latch/pkg/function"
	"github.com/latchkit/latch/pkg/handler"
)

// The function's own variables; the shared ones (the idempotency table,
// LATCH_FAILURE_QUEUE_URL) are package function's convention.
const (
	// EnvTotalsTable names the totals table (required).
	EnvTotalsTable = "TOTALS_TABLE"
	// EnvFailEvery, when set to n > 0, fails every n-th record a process
	// sees once, retryably: the demo's injected failure mid-batch. Unset in
	// the template.
	EnvFailEvery = "TOTALS_FAIL_EVERY"
)

// Build is the function's own part: Totals behind latch's DynamoDB Streams
// processor in the transactional form. main runs it with function.Main.
func Build(_ context.Context, fn *function.Function) (handler.Func[events.DynamoDBEvent, events.DynamoDBEventResponse], error) {
	t, err := New(fn.Vars.Required(EnvTotalsTable), fn.Vars.Int(EnvFailEvery, 0, 0, 1<<20))
	if err != nil {
		return nil, err
	}
	cfg := handler.DynamoDBStreamConfig{Idempotency: fn.Guard(), Key: Key, Observer: fn.Telemetry}
	if fn.FailureQueueURL != "" {
		cfg.FailureQueue = handler.FailureQueue{URL: fn.FailureQueueURL, Client: fn.SQS}
	}
	return handler.NewDynamoDBStreamTx(t.Count, nil, cfg)
}
