package ledger

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
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
	// EnvLedgerTable names the ledger table (required).
	EnvLedgerTable = "LEDGER_TABLE"
	// EnvDeadLetterQueueURL is the (FIFO) dead-letter queue. Default: the
	// source queue's RedrivePolicy target.
	EnvDeadLetterQueueURL = "DEAD_LETTER_QUEUE_URL"
)

// IdempotencyTTL is how long an order id is remembered: a week, because an
// order can be published again long after the first event (a redrive from
// a DLQ), and the ledger must still append it only once.
const IdempotencyTTL = 7 * 24 * time.Hour

// Env is the function's configuration from the environment.
type Env struct {
	IdempotencyTable     string
	IdempotencyNamespace string // "" means the Lambda function name
	LedgerTable          string
	DeadLetterQueueURL   string
	Backoff              retry.Backoff
}

// LoadEnv reads the configuration through get (os.Getenv), reporting every
// missing or malformed variable at once.
func LoadEnv(get func(string) string) (Env, error) {
	v := env.New(get)
	e := Env{
		IdempotencyTable:     v.Required(env.IdempotencyTable),
		IdempotencyNamespace: v.Optional(env.IdempotencyNamespace, ""),
		LedgerTable:          v.Required(EnvLedgerTable),
		DeadLetterQueueURL:   v.Optional(EnvDeadLetterQueueURL, ""),
		Backoff:              v.Backoff(),
	}
	return e, v.Err()
}

// Handler builds the function: AWS clients (traced), the idempotency guard,
// the Ledger, and latch's SQS processor around Ledger.Consume in the
// transactional form (handler.NewSQSTx), observed by tel.
func Handler(ctx context.Context, e Env, tel *telemetry.Telemetry) (handler.Func[events.SQSEvent, events.SQSEventResponse], error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("ledger: load AWS config: %w", err)
	}
	tel.Tracer().InstrumentAWS(&cfg)
	db := dynamodb.NewFromConfig(cfg)
	store, err := idempotency.NewDynamoDBStore(db, idempotency.DynamoDBConfig{Table: e.IdempotencyTable})
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	guard, err := idempotency.NewGuard(idempotency.Config{
		Store:     handler.TraceStore(store, tel.Tracer()),
		Namespace: e.IdempotencyNamespace,
		TTL:       IdempotencyTTL,
		CacheSize: 1024,
	})
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	l, err := New(db, e.LedgerTable)
	if err != nil {
		return nil, err
	}
	sqsCfg := handler.SQSConfig{
		Client:      sqs.NewFromConfig(cfg),
		DLQURL:      e.DeadLetterQueueURL,
		Backoff:     e.Backoff,
		Idempotency: guard,
		Key:         handler.KeyEvent(Key),
		Observer:    tel,
		Logger:      tel.Logger(),
	}
	proc, err := handler.NewSQSTx(l.Consume, nil, sqsCfg)
	if err != nil {
		return nil, err
	}
	return telemetry.Observe(tel, proc), nil
}

// FromEnv is Handler with the configuration from the process environment
// and the default telemetry: what main calls.
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
