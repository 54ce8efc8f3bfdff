package feedpoller

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/latchkit/latch/functions/internal/env"
	"github.com/latchkit/latch/pkg/checkpoint"
	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/handler/telemetry"
	"github.com/latchkit/latch/pkg/idempotency"
)

// Environment variables of the function, as infra/template.yaml sets them
// (besides env.IdempotencyTable, which also keeps the checkpoint, and
// env.IdempotencyNamespace).
const (
	// EnvFeedURL is the feed's address (required).
	EnvFeedURL = "FEED_URL"
	// EnvFeedTable names the table the items' effects go to (required).
	EnvFeedTable = "FEED_TABLE"
	// EnvTransientFaultPercent above 0 turns the crash injection on.
	EnvTransientFaultPercent = "TRANSIENT_FAULT_PERCENT"
)

// Env is the function's configuration from the environment.
type Env struct {
	IdempotencyTable     string
	IdempotencyNamespace string
	FeedURL              string
	FeedTable            string
	CrashInjection       bool
}

// LoadEnv reads the configuration through get (os.Getenv), reporting every
// missing or malformed variable at once.
func LoadEnv(get func(string) string) (Env, error) {
	v := env.New(get)
	e := Env{
		IdempotencyTable:     v.Required(env.IdempotencyTable),
		IdempotencyNamespace: v.Optional(env.IdempotencyNamespace, ""),
		FeedURL:              v.Required(EnvFeedURL),
		FeedTable:            v.Required(EnvFeedTable),
		CrashInjection:       v.Int(EnvTransientFaultPercent, 0, 0, 100) > 0,
	}
	return e, v.Err()
}

// Poller builds the feed's poller on db: the checkpoint and the guard in
// the idempotency table, the effect in the feed table. The demo runs it
// in-process too, as an overlapping holder.
func Poller(db *dynamodb.Client, e Env, obs handler.Observer, tracer handler.Tracer) (*handler.Poller[Item], error) {
	cps, err := checkpoint.NewDynamoDBStore(db, checkpoint.DynamoDBConfig{Table: e.IdempotencyTable})
	if err != nil {
		return nil, fmt.Errorf("feedpoller: %w", err)
	}
	ddbStore, err := idempotency.NewDynamoDBStore(db, idempotency.DynamoDBConfig{Table: e.IdempotencyTable})
	if err != nil {
		return nil, fmt.Errorf("feedpoller: %w", err)
	}
	var store idempotency.Store = ddbStore
	if tracer != nil {
		store = handler.TraceStore(store, tracer)
	}
	guard, err := idempotency.NewGuard(idempotency.Config{Store: store, Namespace: e.IdempotencyNamespace})
	if err != nil {
		return nil, fmt.Errorf("feedpoller: %w", err)
	}
	return NewPoller(Config{
		Source: HTTPSource{URL: e.FeedURL}, Checkpoints: cps, Guard: guard,
		DynamoDB: db, FeedTable: e.FeedTable, CrashInjection: e.CrashInjection, Observer: obs,
	})
}

// Handler builds the function: AWS clients (traced), the poller, and
// latch's Schedule handler around it, observed by tel. The schedule has
// no idempotency of its own: the checkpoint's lease keeps ticks apart, and
// a tick that stopped early must not make the next one a duplicate.
func Handler(ctx context.Context, e Env, tel *telemetry.Telemetry) (handler.Func[json.RawMessage, struct{}], error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("feedpoller: load AWS config: %w", err)
	}
	tel.Tracer().InstrumentAWS(&cfg)
	p, err := Poller(dynamodb.NewFromConfig(cfg), e, tel, tel.Tracer())
	if err != nil {
		return nil, err
	}
	job, err := handler.NewSchedule(p.Tick, handler.ScheduleConfig{Observer: tel, Logger: tel.Logger()})
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
