package invoices

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/handler/telemetry"
	"github.com/latchkit/latch/pkg/idempotency"
	"github.com/latchkit/latch/pkg/retry"
)

// The functions' environment, as template.yaml sets it, besides
// retry.BackoffFromEnv's RETRY_BASE_SECONDS and RETRY_MAX_SECONDS.
const (
	EnvIdempotencyTable = "IDEMPOTENCY_TABLE"
	EnvLedgerTable      = "LEDGER_TABLE"
	EnvFailureQueueURL  = "FAILURE_QUEUE_URL"
)

// ChargeFromEnv builds the charge function's handler from the process
// environment.
func ChargeFromEnv(ctx context.Context) (handler.Func[events.SQSEvent, events.SQSEventResponse], error) {
	backoff, err := retry.BackoffFromEnv(os.Getenv)
	idem, ledger := os.Getenv(EnvIdempotencyTable), os.Getenv(EnvLedgerTable)
	if idem == "" || ledger == "" {
		err = errors.Join(err, fmt.Errorf("invoices: %s and %s must be set", EnvIdempotencyTable, EnvLedgerTable))
	}
	if err != nil {
		return nil, err
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, err
	}
	tel, err := telemetry.New(telemetry.Config{})
	if err != nil {
		return nil, err
	}
	// The service's own slog lines as JSON with the invocation's fields,
	// in the stream latch's own lines are in.
	slog.SetDefault(tel.Logger())
	db := dynamodb.NewFromConfig(cfg)
	guard, err := newGuard(db, idem)
	if err != nil {
		return nil, err
	}
	h, err := handler.NewSQS(Charge(Ledger{DB: db, Table: ledger}), handler.SQSConfig{
		Client:      sqs.NewFromConfig(cfg),
		Backoff:     backoff,
		Idempotency: guard,
		Key:         handler.KeyJSONField("id").WithDisplay("invoice %s"),
		Observer:    tel,
	})
	if err != nil {
		return nil, err
	}
	return telemetry.Observe(tel, h), nil
}

// NightlyFromEnv builds the nightly function's handler from the process
// environment.
func NightlyFromEnv(ctx context.Context) (handler.Func[json.RawMessage, struct{}], error) {
	idem, ledger := os.Getenv(EnvIdempotencyTable), os.Getenv(EnvLedgerTable)
	if idem == "" || ledger == "" {
		return nil, fmt.Errorf("invoices: %s and %s must be set", EnvIdempotencyTable, EnvLedgerTable)
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, err
	}
	tel, err := telemetry.New(telemetry.Config{})
	if err != nil {
		return nil, err
	}
	// The service's own slog lines as JSON with the invocation's fields,
	// in the stream latch's own lines are in.
	slog.SetDefault(tel.Logger())
	db := dynamodb.NewFromConfig(cfg)
	// One guard for both: ScheduleConfig.TTL defaults to 48 hours for
	// ticks, past Lambda's async retries, whatever the guard's TTL.
	guard, err := newGuard(db, idem)
	if err != nil {
		return nil, err
	}
	fq := handler.FailureQueue{}
	if url := os.Getenv(EnvFailureQueueURL); url != "" {
		fq = handler.FailureQueue{URL: url, Client: sqs.NewFromConfig(cfg)}
	}
	job, err := handler.NewSchedule(Nightly(Ledger{DB: db, Table: ledger}), handler.ScheduleConfig{
		Idempotency: guard, FailureQueue: fq, Observer: tel,
	})
	if err != nil {
		return nil, err
	}
	return telemetry.Observe(tel, job), nil
}

// newGuard returns a guard on the idempotency table.
func newGuard(db *dynamodb.Client, table string) (*idempotency.Guard, error) {
	store, err := idempotency.NewDynamoDBStore(db, idempotency.DynamoDBConfig{Table: table})
	if err != nil {
		return nil, err
	}
	return idempotency.NewGuard(idempotency.Config{Store: store})
}
