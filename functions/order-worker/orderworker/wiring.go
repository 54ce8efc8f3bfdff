package orderworker

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/latchkit/latch/functions/internal/env"
	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/handler/telemetry"
	"github.com/latchkit/latch/pkg/idempotency"
	"github.com/latchkit/latch/pkg/retry"
)

// Environment variables of the function, as infra/template.yaml sets them
// (besides env.IdempotencyTable, env.IdempotencyNamespace,
// env.RetryBaseSeconds and env.RetryMaxSeconds).
const (
	// EnvOrdersTable names the orders table (required).
	EnvOrdersTable = "ORDERS_TABLE"
	// EnvBus names the bus OrderAccepted goes to (required).
	EnvBus = "ORDERS_BUS"
	// EnvDeadLetterQueueURL is the dead-letter queue for invalid orders.
	// Default: the source queue's RedrivePolicy target.
	EnvDeadLetterQueueURL = "DEAD_LETTER_QUEUE_URL"
	// EnvLedgerQueueURL is the ledger's FIFO queue, which the worker sends
	// each accepted order to. Default none: no direct send.
	EnvLedgerQueueURL = "LEDGER_QUEUE_URL"
	// EnvTransientFaultPercent turns on fault injection (0 to 100,
	// default 0); see Faults.
	EnvTransientFaultPercent = "TRANSIENT_FAULT_PERCENT"
)

// Env is the function's configuration from the environment.
type Env struct {
	IdempotencyTable     string
	IdempotencyNamespace string // "" means the Lambda function name
	OrdersTable          string
	Bus                  string
	DeadLetterQueueURL   string
	LedgerQueueURL       string
	Faults               Faults
	Backoff              retry.Backoff
}

// LoadEnv reads the configuration through get (os.Getenv), reporting every
// missing or malformed variable at once.
func LoadEnv(get func(string) string) (Env, error) {
	v := env.New(get)
	e := Env{
		IdempotencyTable:     v.Required(env.IdempotencyTable),
		IdempotencyNamespace: v.Optional(env.IdempotencyNamespace, ""),
		OrdersTable:          v.Required(EnvOrdersTable),
		Bus:                  v.Required(EnvBus),
		DeadLetterQueueURL:   v.Optional(EnvDeadLetterQueueURL, ""),
		LedgerQueueURL:       v.Optional(EnvLedgerQueueURL, ""),
		Faults:               Faults{Percent: v.Int(EnvTransientFaultPercent, 0, 0, 100)},
		Backoff:              v.Backoff(),
	}
	return e, v.Err()
}

// Handler builds the function: AWS clients from the SDK's default
// configuration (instrumented for tracing), the idempotency guard on its
// table, the Worker, and latch's SQS processor around it in the
// transactional form (handler.NewSQSTx), observed by tel.
func Handler(ctx context.Context, e Env, tel *telemetry.Telemetry) (handler.Func[events.SQSEvent, events.SQSEventResponse], error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("orderworker: load AWS config: %w", err)
	}
	tel.Tracer().InstrumentAWS(&cfg)
	db := dynamodb.NewFromConfig(cfg)
	store, err := idempotency.NewDynamoDBStore(db, idempotency.DynamoDBConfig{Table: e.IdempotencyTable})
	if err != nil {
		return nil, fmt.Errorf("orderworker: %w", err)
	}
	guard, err := idempotency.NewGuard(idempotency.Config{
		Store:     handler.TraceStore(store, tel.Tracer()),
		Namespace: e.IdempotencyNamespace,
		CacheSize: 1024,
	})
	if err != nil {
		return nil, fmt.Errorf("orderworker: %w", err)
	}
	sqsClient := sqs.NewFromConfig(cfg)
	wcfg := Config{
		EventBridge: eventbridge.NewFromConfig(cfg),
		OrdersTable: e.OrdersTable,
		Bus:         e.Bus,
		Faults:      e.Faults,
	}
	if e.LedgerQueueURL != "" {
		lq, err := NewLedgerQueue(sqsClient, e.LedgerQueueURL)
		if err != nil {
			return nil, fmt.Errorf("orderworker: %w", err)
		}
		wcfg.Ledger = lq
	}
	w, err := New(wcfg)
	if err != nil {
		return nil, err
	}
	sqsCfg := handler.SQSConfig{
		Client:      sqsClient,
		DLQURL:      e.DeadLetterQueueURL,
		Backoff:     e.Backoff,
		Idempotency: guard,
		Key:         Key,
		Observer:    tel,
		Logger:      tel.Logger(),
	}
	proc, err := handler.NewSQSTx(w.Accept, w.Publish, sqsCfg)
	if err != nil {
		return nil, err
	}
	return telemetry.Observe(tel, proc), nil
}

// FromEnv is Handler with the configuration from the process environment
// and the default telemetry (JSON logs and EMF to standard output, X-Ray):
// what main calls.
func FromEnv(ctx context.Context) (handler.Func[events.SQSEvent, events.SQSEventResponse], error) {
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
