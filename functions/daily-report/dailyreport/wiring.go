package dailyreport

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/latchkit/latch/functions/internal/env"
	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/handler/telemetry"
	"github.com/latchkit/latch/pkg/idempotency"
)

// Environment variables of the function, as infra/template.yaml sets them
// (besides env.IdempotencyTable and env.IdempotencyNamespace).
const (
	// EnvOrdersTable names the orders table (required).
	EnvOrdersTable = "ORDERS_TABLE"
	// EnvReportsTable names the reports table (required).
	EnvReportsTable = "REPORTS_TABLE"
	// EnvFailureQueueURL receives ticks that fail permanently, with the
	// reason. Default none: they are returned to Lambda, whose retries and
	// on-failure destination apply.
	EnvFailureQueueURL = "FAILURE_QUEUE_URL"
)

// Env is the function's configuration from the environment.
type Env struct {
	IdempotencyTable     string
	IdempotencyNamespace string // "" means the Lambda function name
	OrdersTable          string
	ReportsTable         string
	FailureQueueURL      string
}

// LoadEnv reads the configuration through get (os.Getenv), reporting every
// missing or malformed variable at once.
func LoadEnv(get func(string) string) (Env, error) {
	v := env.New(get)
	e := Env{
		IdempotencyTable:     v.Required(env.IdempotencyTable),
		IdempotencyNamespace: v.Optional(env.IdempotencyNamespace, ""),
		OrdersTable:          v.Required(EnvOrdersTable),
		ReportsTable:         v.Required(EnvReportsTable),
		FailureQueueURL:      v.Optional(EnvFailureQueueURL, ""),
	}
	return e, v.Err()
}

// Handler builds the function: AWS clients (traced), the idempotency guard,
// the Reporter, and latch's Schedule handler around it, observed by tel.
func Handler(ctx context.Context, e Env, tel *telemetry.Telemetry) (handler.Func[json.RawMessage, struct{}], error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("dailyreport: load AWS config: %w", err)
	}
	tel.Tracer().InstrumentAWS(&cfg)
	db := dynamodb.NewFromConfig(cfg)
	store, err := idempotency.NewDynamoDBStore(db, idempotency.DynamoDBConfig{Table: e.IdempotencyTable})
	if err != nil {
		return nil, fmt.Errorf("dailyreport: %w", err)
	}
	guard, err := idempotency.NewGuard(idempotency.Config{
		Store:     handler.TraceStore(store, tel.Tracer()),
		Namespace: e.IdempotencyNamespace,
		// No TTL: NewSchedule remembers ticks for DefaultScheduleTTL (48 h),
		// past Lambda's async retry window, whatever the guard's default.
	})
	if err != nil {
		return nil, fmt.Errorf("dailyreport: %w", err)
	}
	r, err := New(Config{DynamoDB: db, OrdersTable: e.OrdersTable, ReportsTable: e.ReportsTable})
	if err != nil {
		return nil, err
	}
	scfg := handler.ScheduleConfig{
		Idempotency: guard,
		Observer:    tel,
		Logger:      tel.Logger(),
	}
	if e.FailureQueueURL != "" {
		scfg.FailureQueue = handler.FailureQueue{URL: e.FailureQueueURL, Client: sqs.NewFromConfig(cfg)}
	}
	job, err := handler.NewSchedule(r.Run, scfg)
	if err != nil {
		return nil, err
	}
	return telemetry.Observe(tel, job), nil
}

// FromEnv is Handler with the configuration from the process environment
// and the default telemetry: what main calls.
func FromEnv(ctx context.Context) (handler.Func[json.RawMessage, struct{}], error) {
	e, err := LoadEnv(os.Getenv)
	if err != nil {
		return nil, err
	}
	tel, err := telemetry.New(telemetry.Config{})
	if err != nil {
		return nil, err
	}
	return Handler(ctx, e, tel)
}
