package function

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/latchkit/latch/pkg/checkpoint"
	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/handler/telemetry"
	"github.com/latchkit/latch/pkg/idempotency"
	"github.com/latchkit/latch/pkg/retry"
)

// The variables of the convention, each read once by New. LATCH_LOG_LEVEL
// and LATCH_METRICS_NAMESPACE are read by packages logging and metrics, and
// the backoff's by retry.BackoffFromEnv; they are listed in the package
// documentation with these.
const (
	EnvService              = "LATCH_SERVICE"
	EnvIdempotencyTable     = "LATCH_IDEMPOTENCY_TABLE"
	EnvIdempotencyNamespace = "LATCH_IDEMPOTENCY_NAMESPACE"
	EnvIdempotencyTTL       = "LATCH_IDEMPOTENCY_TTL"
	EnvIdempotencyCacheSize = "LATCH_IDEMPOTENCY_CACHE_SIZE"
	EnvCheckpointTable      = "LATCH_CHECKPOINT_TABLE"
	EnvDLQURL               = "LATCH_DLQ_URL"
	EnvFailureQueueURL      = "LATCH_FAILURE_QUEUE_URL"
	EnvTracer               = "LATCH_TRACER"
)

// Tracer choices of EnvTracer. OpenTelemetry and the X-Ray SDK are code
// choices (Options.Telemetry), so that a function links them only when it
// uses them.
const (
	TracerXRay = "xray"
	TracerNone = "none"
)

// maxCacheSize bounds LATCH_IDEMPOTENCY_CACHE_SIZE: a typo of a few zeros
// should fail the cold start, not grow the function's memory.
const maxCacheSize = 1 << 20

// Options are what code chooses instead of the environment. The zero value
// reads everything from the process environment.
type Options struct {
	// Getenv reads the variables. Default os.Getenv; a test passes a map's
	// lookup.
	Getenv func(string) string
	// Telemetry replaces the default one (JSON logs and EMF to standard
	// output, the tracer named by LATCH_TRACER), for another tracer or a
	// test's recording writers.
	Telemetry *telemetry.Telemetry
	// AWS replaces the SDK's default configuration. It is instrumented with
	// the telemetry's tracer all the same.
	AWS *aws.Config
}

// Function is the pieces a latch function shares with every other: built
// once at cold start by New, read by the function's own Build. Every field
// may be replaced before the handler is built.
type Function struct {
	// Vars holds the convention's problems; read the function's own
	// variables through it so that one error names them all (Err).
	Vars *Vars
	// AWS is the SDK configuration, its calls traced by the telemetry.
	AWS aws.Config
	// Telemetry observes the records and the invocation.
	Telemetry *telemetry.Telemetry
	// DynamoDB and SQS are clients on AWS.
	DynamoDB *dynamodb.Client
	SQS      *sqs.Client
	// Backoff is the visibility backoff from RETRY_BASE_SECONDS and
	// RETRY_MAX_SECONDS.
	Backoff retry.Backoff
	// DLQURL and FailureQueueURL are LATCH_DLQ_URL and
	// LATCH_FAILURE_QUEUE_URL; empty when unset.
	DLQURL          string
	FailureQueueURL string

	idem            idempotencyEnv
	guard           *idempotency.Guard
	checkpointTable string
	checkpoints     checkpoint.Store
}

// idempotencyEnv is the guard's part of the convention, read by New and
// used the first time Guard is called, so that a function without
// idempotency needs no table.
type idempotencyEnv struct {
	table, namespace string
	ttl              time.Duration
	cacheSize        int
}

// New reads the convention through opts.Getenv and builds the shared
// pieces. Its error matches ErrConfig and names every problem of the
// environment, or is the AWS configuration's. Variables that only some
// functions need (the idempotency table) are checked when their piece is
// first asked for; Err reports them then.
func New(ctx context.Context, opts Options) (*Function, error) {
	get := opts.Getenv
	if get == nil {
		get = os.Getenv
	}
	v := NewVars(get)
	f := &Function{
		Vars:            v,
		Backoff:         v.Backoff(),
		DLQURL:          v.Optional(EnvDLQURL, ""),
		FailureQueueURL: v.Optional(EnvFailureQueueURL, ""),
		idem: idempotencyEnv{
			table:     v.Optional(EnvIdempotencyTable, ""),
			namespace: v.Optional(EnvIdempotencyNamespace, ""),
			ttl:       v.Duration(EnvIdempotencyTTL, 0),
			cacheSize: v.Int(EnvIdempotencyCacheSize, 0, 0, maxCacheSize),
		},
	}
	f.checkpointTable = v.Optional(EnvCheckpointTable, f.idem.table)
	tracer := v.OneOf(EnvTracer, TracerXRay, TracerXRay, TracerNone)
	if err := v.Err(); err != nil {
		return nil, err
	}
	f.Telemetry = opts.Telemetry
	if f.Telemetry == nil {
		tc := telemetry.Config{Service: v.Optional(EnvService, "")}
		if tracer == TracerNone {
			tc.Tracer = handler.NopTracer{}
		}
		tel, err := telemetry.New(tc)
		if err != nil {
			return nil, fmt.Errorf("function: %w", err)
		}
		f.Telemetry = tel
	}
	if opts.AWS != nil {
		f.AWS = opts.AWS.Copy()
	} else {
		cfg, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			return nil, fmt.Errorf("function: load AWS config: %w", err)
		}
		f.AWS = cfg
	}
	f.Telemetry.Tracer().InstrumentAWS(&f.AWS)
	f.DynamoDB = dynamodb.NewFromConfig(f.AWS)
	f.SQS = sqs.NewFromConfig(f.AWS)
	return f, nil
}

// Err is every problem of the environment met so far, the function's own
// variables included, in one error matching ErrConfig; nil when there is
// none. Main checks it after Build.
func (f *Function) Err() error { return f.Vars.Err() }

// Guard returns the idempotency guard on LATCH_IDEMPOTENCY_TABLE, its store
// traced, built on first use and shared by every later call. Without the
// table it records the missing variable (see Err) and returns nil.
func (f *Function) Guard() *idempotency.Guard {
	if f.guard != nil {
		return f.guard
	}
	if f.idem.table == "" {
		f.Vars.fail("%s is not set", EnvIdempotencyTable)
		return nil
	}
	store, err := idempotency.NewDynamoDBStore(f.DynamoDB, idempotency.DynamoDBConfig{Table: f.idem.table})
	if err == nil {
		f.guard, err = idempotency.NewGuard(idempotency.Config{
			Store:     handler.TraceStore(store, f.Telemetry.Tracer()),
			Namespace: f.idem.namespace,
			TTL:       f.idem.ttl,
			CacheSize: f.idem.cacheSize,
		})
	}
	if err != nil {
		f.Vars.fail("idempotency: %v", err)
	}
	return f.guard
}

// Checkpoints returns the pollers' checkpoint store on
// LATCH_CHECKPOINT_TABLE, by default the idempotency table (the two kinds
// of item share its key schema without clashing), built on first use.
// Without either table it records the missing variable (see Err) and
// returns nil.
func (f *Function) Checkpoints() checkpoint.Store {
	if f.checkpoints != nil {
		return f.checkpoints
	}
	if f.checkpointTable == "" {
		f.Vars.fail("%s (or %s) is not set", EnvCheckpointTable, EnvIdempotencyTable)
		return nil
	}
	store, err := checkpoint.NewDynamoDBStore(f.DynamoDB, checkpoint.DynamoDBConfig{Table: f.checkpointTable})
	if err != nil {
		f.Vars.fail("checkpoint: %v", err)
		return nil
	}
	f.checkpoints = store
	return store
}

// SQSConfig returns c with its unset fields from the function: the SQS
// client, LATCH_DLQ_URL, the backoff, the guard and the telemetry. The
// key, the concurrency and anything set in c stay as c has them.
func (f *Function) SQSConfig(c handler.SQSConfig) handler.SQSConfig {
	if c.Client == nil {
		c.Client = f.SQS
	}
	if c.DLQURL == "" {
		c.DLQURL = f.DLQURL
	}
	if c.Backoff.Base == 0 && c.Backoff.Max == 0 && c.Backoff.Jitter == 0 {
		// The policy's own numbers unset: the environment's. (Backoff holds
		// funcs, so it cannot be compared with its zero value.)
		c.Backoff = f.Backoff
	}
	if c.Idempotency == nil {
		c.Idempotency = f.Guard()
	}
	if c.Observer == nil {
		c.Observer = f.Telemetry
	}
	return c
}

// ScheduleConfig returns c with its unset fields from the function: the
// guard, the failure queue on LATCH_FAILURE_QUEUE_URL and the telemetry.
func (f *Function) ScheduleConfig(c handler.ScheduleConfig) handler.ScheduleConfig {
	if c.Idempotency == nil {
		c.Idempotency = f.Guard()
	}
	if c.FailureQueue == (handler.FailureQueue{}) && f.FailureQueueURL != "" {
		c.FailureQueue = handler.FailureQueue{URL: f.FailureQueueURL, Client: f.SQS}
	}
	if c.Observer == nil {
		c.Observer = f.Telemetry
	}
	return c
}
