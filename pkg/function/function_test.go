package function_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/latchkit/latch/pkg/function"
	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/handler/logging"
	"github.com/latchkit/latch/pkg/handler/metrics"
	"github.com/latchkit/latch/pkg/handler/telemetry"
	"github.com/latchkit/latch/pkg/idempotency"
	"github.com/latchkit/latch/pkg/latchtest"
	"github.com/latchkit/latch/pkg/retry"
)

// env is a test's environment: a map's lookup, never the process's.
func env(vars map[string]string) function.Options {
	return function.Options{
		Getenv: func(k string) string { return vars[k] },
		AWS:    &aws.Config{Region: "us-east-1"},
	}
}

func TestNewReportsEveryProblemAtOnce(t *testing.T) {
	t.Parallel()
	_, err := function.New(context.Background(), env(map[string]string{
		function.EnvIdempotencyTTL:       "forever",
		function.EnvIdempotencyCacheSize: "-3",
		function.EnvTracer:               "zipkin",
		retry.EnvBaseSeconds:             "0",
	}))
	if !errors.Is(err, function.ErrConfig) {
		t.Fatalf("New = %v, want an error matching ErrConfig", err)
	}
	for _, name := range []string{function.EnvIdempotencyTTL, function.EnvIdempotencyCacheSize, function.EnvTracer, retry.EnvBaseSeconds} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not name %s", err, name)
		}
	}
}

func TestNewReadsTheConvention(t *testing.T) {
	t.Parallel()
	fn, err := function.New(context.Background(), env(map[string]string{
		function.EnvDLQURL:           "https://sqs.example/dlq",
		function.EnvFailureQueueURL:  "https://sqs.example/failures",
		function.EnvIdempotencyTable: "idem",
		retry.EnvBaseSeconds:         "2",
		retry.EnvMaxSeconds:          "60",
		function.EnvTracer:           "none",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if fn.DLQURL != "https://sqs.example/dlq" || fn.FailureQueueURL != "https://sqs.example/failures" {
		t.Errorf("queues = %q, %q", fn.DLQURL, fn.FailureQueueURL)
	}
	if fn.Backoff.Base.Seconds() != 2 || fn.Backoff.Max.Seconds() != 60 {
		t.Errorf("backoff = %+v", fn.Backoff)
	}
	c := fn.SQSConfig(handler.SQSConfig{})
	if c.Client != fn.SQS || c.DLQURL != fn.DLQURL || c.Idempotency == nil || c.Observer != fn.Telemetry {
		t.Errorf("SQSConfig filled %+v", c)
	}
	if fn.Guard() != c.Idempotency {
		t.Error("Guard built a second guard")
	}
	s := fn.ScheduleConfig(handler.ScheduleConfig{})
	if s.FailureQueue.URL != fn.FailureQueueURL || s.FailureQueue.Client == nil || s.Idempotency != c.Idempotency {
		t.Errorf("ScheduleConfig filled %+v", s)
	}
	if err := fn.Err(); err != nil {
		t.Errorf("Err = %v", err)
	}
}

func TestSQSConfigKeepsWhatCodeSet(t *testing.T) {
	t.Parallel()
	fn, err := function.New(context.Background(), env(map[string]string{function.EnvDLQURL: "https://sqs.example/dlq"}))
	if err != nil {
		t.Fatal(err)
	}
	guard := idempotency.MustNewGuard(idempotency.Config{Store: idempotency.NewMemoryStore(idempotency.MemoryConfig{})})
	fake := latchtest.NewSQS()
	c := fn.SQSConfig(handler.SQSConfig{Client: fake, DLQURL: "https://sqs.example/mine", Idempotency: guard, Backoff: retry.Backoff{Base: 7}})
	if c.Client != fake || c.DLQURL != "https://sqs.example/mine" || c.Idempotency != guard || c.Backoff.Base != 7 {
		t.Errorf("SQSConfig replaced what code set: %+v", c)
	}
	// The guard was never asked for, so no table is needed.
	if err := fn.Err(); err != nil {
		t.Errorf("Err = %v", err)
	}
}

// A build that needs the idempotency table and a variable of its own, with
// neither set: one error names both, whatever the constructors said.
func TestPrepareNamesTheFunctionsOwnVariables(t *testing.T) {
	t.Parallel()
	_, _, err := function.Prepare(context.Background(), env(nil),
		func(_ context.Context, fn *function.Function) (handler.Func[events.SQSEvent, events.SQSEventResponse], error) {
			cfg := fn.SQSConfig(handler.SQSConfig{Key: handler.KeyMessageID})
			if table := fn.Vars.Required("ORDERS_TABLE"); table == "" {
				return nil, errors.New("orders: no table")
			}
			return handler.NewSQS(func(context.Context, handler.Message[json.RawMessage]) error { return nil }, cfg)
		})
	if !errors.Is(err, function.ErrConfig) {
		t.Fatalf("Prepare = %v, want ErrConfig", err)
	}
	for _, want := range []string{"ORDERS_TABLE is not set", function.EnvIdempotencyTable + " is not set", "orders: no table"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

// What Prepare returns is the handler Lambda runs: observed, so a record's
// outcome line and the invocation's EMF blob come out of one call.
func TestPrepareObservesTheHandler(t *testing.T) {
	t.Parallel()
	var logs, emf bytes.Buffer
	m, err := metrics.New(metrics.Config{Namespace: "test", Writer: &emf})
	if err != nil {
		t.Fatal(err)
	}
	tel, err := telemetry.New(telemetry.Config{Logger: logging.NewLogger(logging.Config{Writer: &logs}), Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	opts := env(nil)
	opts.Telemetry = tel
	client := latchtest.NewSQS()
	client.AddQueue("orders", 3)
	h, _, err := function.Prepare(context.Background(), opts,
		func(_ context.Context, fn *function.Function) (handler.Func[events.SQSEvent, events.SQSEventResponse], error) {
			return handler.NewSQS(func(_ context.Context, m handler.Message[string]) error {
				return retry.Permanent(fmt.Errorf("order %s refused", m.Body))
			}, fn.SQSConfig(handler.SQSConfig{
				Client:      client,
				Key:         handler.KeyMessageID,
				Idempotency: idempotency.MustNewGuard(idempotency.Config{Store: idempotency.NewMemoryStore(idempotency.MemoryConfig{})}),
			}))
		})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h(context.Background(), latchtest.SQSEvent("orders", latchtest.Message{ID: "m1", Body: "o-1"})); err != nil {
		t.Fatal(err)
	}
	client.AssertDeadLettered(t, "o-1", "order o-1 refused")
	if !strings.Contains(logs.String(), `"outcome":"dead_lettered"`) {
		t.Errorf("no outcome line in %s", logs.String())
	}
	if !strings.Contains(emf.String(), `"dead_lettered":1`) {
		t.Errorf("no EMF blob with the outcome in %q", emf.String())
	}
}
