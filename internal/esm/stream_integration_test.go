//go:build integration

package esm_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/latchkit/latch/internal/esm"
	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/idempotency"
	"github.com/latchkit/latch/pkg/latchtest/emulator"
)

// invokeJSON adapts a typed stream handler to the mapping, through JSON as
// Lambda's runtime does.
func invokeJSON[E, R any](h handler.Func[E, R]) esm.StreamInvoke {
	return func(ctx context.Context, event []byte) ([]byte, error) {
		var ev E
		if err := json.Unmarshal(event, &ev); err != nil {
			return nil, err
		}
		resp, err := h(ctx, ev)
		if err != nil {
			return nil, err
		}
		return json.Marshal(resp)
	}
}

// playUntil runs the mapping until done reports true, or fails the test
// after timeout.
func playUntil(t *testing.T, run func(ctx context.Context) error, done func() bool, timeout time.Duration) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- run(ctx) }()
	deadline := time.Now().Add(timeout)
	for !done() {
		if time.Now().After(deadline) {
			cancel()
			<-errc
			t.Fatalf("mapping did not finish within %v", timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

func guardOn(t *testing.T, env *emulator.Env) *idempotency.Guard {
	store, err := idempotency.NewDynamoDBStore(env.DynamoDB, idempotency.DynamoDBConfig{Table: env.Table(t)})
	if err != nil {
		t.Fatal(err)
	}
	return idempotency.MustNewGuard(idempotency.Config{Store: store, Namespace: "esm-test"})
}

// effects records each record's effect, in order, safe for concurrent use.
type effects struct {
	mu   sync.Mutex
	list []int
}

func (e *effects) add(n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = append(e.list, n)
}

func (e *effects) get() []int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.list)
}

type numbered struct {
	N int `json:"n" dynamodbav:"n"`
}

// The Kinesis path end to end on the emulator: order kept across a
// retryable failure and its retry, the batch restarted at the failed record
// with nothing before it re-run, a poison record in the failure queue with
// its data and reason while the shard moves on.
func TestKinesisMapping(t *testing.T) {
	env := emulator.New(t)
	kc := env.Kinesis(t)
	name, arn := env.KinesisStream(t, 1)
	fq := env.Queue(t, emulator.QueueSpec{})
	ctx := context.Background()
	for n := 1; n <= 8; n++ {
		data := fmt.Sprintf(`{"n":%d}`, n)
		if n == 6 {
			data = `{"n":"six"}` // does not decode: permanent
		}
		if _, err := kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("c-1"), Data: []byte(data)}); err != nil {
			t.Fatal(err)
		}
	}
	var (
		eff      effects
		ran      = map[int]int{}
		mu       sync.Mutex
		batches  [][]string
		failOnce = true
	)
	h := handler.MustNewKinesis(func(_ context.Context, r handler.KinesisRecord[numbered]) error {
		mu.Lock()
		defer mu.Unlock()
		ran[r.Data.N]++
		if r.Data.N == 3 && failOnce {
			failOnce = false
			return errors.New("downstream busy") // retryable
		}
		eff.add(r.Data.N)
		return nil
	}, handler.KinesisConfig{
		Idempotency:  guardOn(t, env),
		FailureQueue: handler.FailureQueue{URL: fq.URL, Client: env.SQS},
		Logger:       quiet,
	})
	inner := invokeJSON(h)
	invoke := func(ctx context.Context, event []byte) ([]byte, error) {
		var ev events.KinesisEvent
		_ = json.Unmarshal(event, &ev)
		var seqs []string
		for _, r := range ev.Records {
			seqs = append(seqs, r.Kinesis.SequenceNumber)
		}
		mu.Lock()
		batches = append(batches, seqs)
		mu.Unlock()
		return inner(ctx, event)
	}
	cfg := esm.StreamConfig{StreamARN: arn, BatchSize: 5, PollInterval: 50 * time.Millisecond, Logger: quiet}
	playUntil(t, func(ctx context.Context) error { return esm.RunKinesis(ctx, kc, cfg, invoke) },
		func() bool { return len(eff.get()) >= 7 }, 60*time.Second)

	if diff := slices.Compare([]int{1, 2, 3, 4, 5, 7, 8}, eff.get()); diff != 0 {
		t.Errorf("effects %v, want each valid record once, in order", eff.get())
	}
	mu.Lock()
	defer mu.Unlock()
	if ran[1] != 1 || ran[2] != 1 || ran[3] != 2 {
		t.Errorf("runs per record %v: want 1 and 2 once (before the failure), 3 twice", ran)
	}
	// The first batch is 1-5; the second restarts at 3, the failed record.
	if len(batches) < 2 || len(batches[0]) != 5 || batches[1][0] != batches[0][2] {
		t.Errorf("batches %v: want the second to start at the first's third record", batches)
	}
	out, err := env.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(fq.URL), MaxNumberOfMessages: 10, MessageAttributeNames: []string{"All"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) != 1 {
		t.Fatalf("failure queue holds %d messages, want the poison record", len(out.Messages))
	}
	var rec events.KinesisEventRecord
	m := out.Messages[0]
	if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &rec); err != nil || string(rec.Kinesis.Data) != `{"n":"six"}` {
		t.Errorf("failure queue body %s: %v", aws.ToString(m.Body), err)
	}
	if reason := aws.ToString(m.MessageAttributes[handler.DLQAttrError].StringValue); reason == "" {
		t.Error("failure queue message carries no reason")
	}
}

type orderRow struct {
	ID    string `dynamodbav:"id"`
	Cents int    `dynamodbav:"cents"`
}

// putOrders writes n orders o-1..o-n to the table.
func putOrders(t *testing.T, env *emulator.Env, table string, n int) {
	t.Helper()
	for i := 1; i <= n; i++ {
		item, _ := attributevalue.MarshalMap(orderRow{ID: fmt.Sprint("o-", i), Cents: i})
		if _, err := env.DynamoDB.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
			t.Fatal(err)
		}
	}
}

// A function that dies mid-batch (its invocation fails as a whole) on the
// DynamoDB stream: with bisect the batch is split and retried, and with the
// guard no order's effect happens twice or is lost.
func TestDynamoDBStreamMappingBisectsAndCountsOnce(t *testing.T) {
	env := emulator.New(t)
	table, arn := env.StreamTable(t, "id")
	putOrders(t, env, table, 6)
	var (
		eff     effects
		sizes   []int
		mu      sync.Mutex
		crashed bool
	)
	h := handler.MustNewDynamoDBStream(func(_ context.Context, c handler.Change[orderRow]) error {
		eff.add(c.New.Cents)
		return nil
	}, handler.DynamoDBStreamConfig{Idempotency: guardOn(t, env), Logger: quiet})
	inner := invokeJSON(h)
	invoke := func(ctx context.Context, event []byte) ([]byte, error) {
		var ev events.DynamoDBEvent
		_ = json.Unmarshal(event, &ev)
		mu.Lock()
		sizes = append(sizes, len(ev.Records))
		crash := !crashed && len(ev.Records) == 6
		crashed = crashed || crash
		mu.Unlock()
		out, err := inner(ctx, event)
		if crash {
			// The process is killed after the records ran: Lambda sees a
			// function error and sends the batch again.
			return nil, errors.New("Runtime.ExitError")
		}
		return out, err
	}
	cfg := esm.StreamConfig{StreamARN: arn, BatchSize: 10, BisectBatchOnFunctionError: true, PollInterval: 50 * time.Millisecond, Logger: quiet}
	ddbs := env.DynamoDBStreams()
	playUntil(t, func(ctx context.Context) error { return esm.RunDynamoDBStream(ctx, ddbs, cfg, invoke) },
		func() bool {
			mu.Lock()
			defer mu.Unlock()
			total := 0
			for _, s := range sizes[min(1, len(sizes)):] {
				total += s
			}
			return crashed && total >= 6
		}, 60*time.Second)
	if got := eff.get(); !slices.Equal(got, []int{1, 2, 3, 4, 5, 6}) {
		t.Errorf("effects %v, want each order once, in order", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(sizes) < 3 || sizes[0] != 6 || sizes[1] != 3 {
		t.Errorf("batch sizes %v: want 6, then the halves of 3", sizes)
	}
}

// A record that keeps failing is retried MaximumRetryAttempts times, then
// the retried batch (it and the records after it, as Lambda does) is
// dropped with its metadata sent to the on-failure destination, and the
// shard moves on; a record older than MaximumRecordAge is never invoked.
func TestDynamoDBStreamMappingRetryLimitAndRecordAge(t *testing.T) {
	env := emulator.New(t)
	table, arn := env.StreamTable(t, "id")
	putOrders(t, env, table, 3)
	var (
		eff   effects
		calls = map[int]int{}
		mu    sync.Mutex
		sent  [][]byte
		after bool
	)
	h := handler.MustNewDynamoDBStream(func(_ context.Context, c handler.Change[orderRow]) error {
		mu.Lock()
		calls[c.New.Cents]++
		mu.Unlock()
		if c.New.Cents == 2 {
			return errors.New("always busy")
		}
		eff.add(c.New.Cents)
		return nil
	}, handler.DynamoDBStreamConfig{Logger: quiet})
	cfg := esm.StreamConfig{
		StreamARN: arn, BatchSize: 10, MaximumRetryAttempts: aws.Int(2), PollInterval: 50 * time.Millisecond, Logger: quiet,
		OnFailure: func(_ context.Context, body []byte) error {
			mu.Lock()
			defer mu.Unlock()
			sent = append(sent, body)
			return nil
		},
	}
	ddbs := env.DynamoDBStreams()
	playUntil(t, func(ctx context.Context) error { return esm.RunDynamoDBStream(ctx, ddbs, cfg, invokeJSON(h)) },
		func() bool {
			mu.Lock()
			dropped := len(sent) >= 1
			mu.Unlock()
			if dropped && !after {
				// The shard moves on: a record written after the drop runs.
				after = true
				item, _ := attributevalue.MarshalMap(orderRow{ID: "o-10", Cents: 10})
				if _, err := env.DynamoDB.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
					t.Error(err)
				}
			}
			return slices.Contains(eff.get(), 10)
		}, 60*time.Second)
	mu.Lock()
	if calls[2] != 3 || len(sent) != 1 {
		t.Errorf("record 2 ran %d times with %d on-failure records; want 3 (1 + 2 retries) and 1", calls[2], len(sent))
	}
	var info struct {
		RequestContext struct{ Condition string } `json:"requestContext"`
		Batch          struct {
			BatchSize int    `json:"batchSize"`
			StreamArn string `json:"streamArn"`
		} `json:"DDBStreamBatchInfo"`
	}
	if len(sent) > 0 {
		if err := json.Unmarshal(sent[0], &info); err != nil || info.RequestContext.Condition != esm.ConditionRetriesExhausted ||
			info.Batch.StreamArn != arn || info.Batch.BatchSize != 2 {
			t.Errorf("on-failure record %s: %v", sent[0], err)
		}
	}
	mu.Unlock()
	if got := eff.get(); !slices.Equal(got, []int{1, 10}) {
		t.Errorf("effects %v, want 1 and 10: 2 and 3 were dropped together, and the shard moved on", got)
	}

	// The same stream read again by a mapping whose clock is an hour
	// ahead: every record is past a one-minute age limit.
	var aged int
	cfg.MaximumRecordAge = time.Minute
	cfg.Now = func() time.Time { return time.Now().Add(time.Hour) }
	cfg.OnFailure = func(_ context.Context, body []byte) error {
		var info struct {
			RequestContext struct{ Condition string } `json:"requestContext"`
			Batch          struct {
				BatchSize int `json:"batchSize"`
			} `json:"DDBStreamBatchInfo"`
		}
		_ = json.Unmarshal(body, &info)
		if info.RequestContext.Condition == esm.ConditionRecordAge {
			mu.Lock()
			aged += info.Batch.BatchSize
			mu.Unlock()
		}
		return nil
	}
	before := len(eff.get())
	playUntil(t, func(ctx context.Context) error { return esm.RunDynamoDBStream(ctx, ddbs, cfg, invokeJSON(h)) },
		func() bool { mu.Lock(); defer mu.Unlock(); return aged >= 4 }, 60*time.Second)
	if len(eff.get()) != before {
		t.Errorf("records past the age limit were invoked")
	}
}

var quiet = slog.New(slog.DiscardHandler)
