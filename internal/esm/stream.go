package esm

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// StreamInvoke invokes the function with a stream batch, the event as
// JSON ({"Records": [...]}, Kinesis or DynamoDB Streams records), and
// returns its answer (JSON; empty or null means all succeeded) or its
// function error.
type StreamInvoke func(ctx context.Context, event []byte) ([]byte, error)

// Defaults of a stream mapping, as Lambda's.
const (
	// DefaultStreamBatchSize is Lambda's default BatchSize for Kinesis and
	// DynamoDB Streams.
	DefaultStreamBatchSize = 100
	// DefaultStreamPoll is how often an idle shard is read again. Lambda
	// reads each shard about once a second; locally a shorter pause keeps
	// tests and demos quick without flooding the emulator.
	DefaultStreamPoll = 250 * time.Millisecond
)

// Starting positions of a stream mapping.
const (
	TrimHorizon = "TRIM_HORIZON"
	Latest      = "LATEST"
)

// Conditions of an on-failure record (requestContext.condition).
const (
	ConditionRetriesExhausted = "RetryAttemptsExhausted"
	ConditionRecordAge        = "RecordAgeExceeded"
)

// StreamConfig describes one mapping from a Kinesis stream or a DynamoDB
// table's stream to a function, with the settings of a Lambda event source
// mapping of that kind. ReportBatchItemFailures is always on: a batch item
// failure names the record to restart from.
type StreamConfig struct {
	// StreamARN is the Kinesis stream's or the table stream's ARN.
	// Required.
	StreamARN string
	// BatchSize is the most records per invocation. Zero means
	// DefaultStreamBatchSize.
	BatchSize int
	// StartingPosition is TrimHorizon (the zero value) or Latest.
	StartingPosition string
	// MaximumRetryAttempts is how many times a failing batch is retried
	// before its records are dropped and reported to OnFailure; zero is
	// never. Nil or negative means until the records expire, Lambda's
	// default (-1). (A pointer, because zero is a setting.)
	MaximumRetryAttempts *int
	// MaximumRecordAge drops records older than this before they are
	// invoked, and reports them to OnFailure. Zero or negative: no limit
	// (Lambda's -1).
	MaximumRecordAge time.Duration
	// BisectBatchOnFunctionError splits a batch in two when the function
	// fails as a whole (an error, a crash, a timeout, an invalid answer),
	// and retries the halves one after the other; a split is not a retry.
	BisectBatchOnFunctionError bool
	// OnFailure receives what Lambda sends a mapping's on-failure
	// destination when records are dropped: the batch's metadata (shard,
	// sequence numbers, arrival times, condition), not the records. Nil:
	// dropped records are only logged.
	OnFailure func(ctx context.Context, body []byte) error
	// FunctionARN names the function in OnFailure's bodies.
	FunctionARN string
	// FunctionTimeout, when positive, is the deadline of each invocation's
	// context.
	FunctionTimeout time.Duration
	// PollInterval is the pause between reads of an idle shard. Zero means
	// DefaultStreamPoll.
	PollInterval time.Duration
	// Logger receives read errors, function errors and dropped records.
	// Nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock record ages are measured with. Nil means time.Now.
	Now func() time.Time
}

func (c StreamConfig) withDefaults() (StreamConfig, error) {
	switch {
	case c.StreamARN == "":
		return c, errors.New("esm: StreamConfig.StreamARN is empty")
	case c.BatchSize < 0:
		return c, fmt.Errorf("esm: StreamConfig.BatchSize %d is negative", c.BatchSize)
	case c.StartingPosition != "" && c.StartingPosition != TrimHorizon && c.StartingPosition != Latest:
		return c, fmt.Errorf("esm: StreamConfig.StartingPosition %q is not %s or %s", c.StartingPosition, TrimHorizon, Latest)
	}
	if c.BatchSize == 0 {
		c.BatchSize = DefaultStreamBatchSize
	}
	if c.StartingPosition == "" {
		c.StartingPosition = TrimHorizon
	}
	if c.PollInterval <= 0 {
		c.PollInterval = DefaultStreamPoll
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c, nil
}

// streamSource reads one kind of stream: Kinesis or DynamoDB Streams.
type streamSource interface {
	// shards lists the stream's shards.
	shards(ctx context.Context) ([]shardInfo, error)
	// iterator returns a shard iterator at position (TrimHorizon, Latest).
	iterator(ctx context.Context, shard, position string) (string, error)
	// read returns up to limit records from it and the next iterator, ""
	// once the shard is closed and read to its end.
	read(ctx context.Context, shard, it string, limit int) ([]streamRecord, string, error)
	// batchInfo is the on-failure body's member that describes the batch:
	// "KinesisBatchInfo" or "DDBStreamBatchInfo".
	batchInfo() string
}

type shardInfo struct{ id, parent string }

// streamRecord is one record, already in the event's JSON form.
type streamRecord struct {
	seq     string
	arrived time.Time
	json    json.RawMessage
}

// runStream plays the mapping until ctx is done: one reader per shard,
// children after their parent, the shard list read again now and then
// for new shards.
func runStream(ctx context.Context, src streamSource, cfg StreamConfig, fn StreamInvoke) error {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	var (
		wg      sync.WaitGroup
		started = map[string]chan struct{}{} // shard -> closed when its reader ends
	)
	defer wg.Wait()
	for ctx.Err() == nil {
		shards, err := src.shards(ctx)
		if err != nil && ctx.Err() == nil {
			cfg.Logger.ErrorContext(ctx, "esm: list shards", slog.String("stream", cfg.StreamARN), slog.Any("error", err))
		}
		for _, sh := range shards {
			if _, ok := started[sh.id]; ok {
				continue
			}
			done := make(chan struct{})
			started[sh.id] = done
			parent := started[sh.parent] // nil when the parent is gone or unknown
			wg.Go(func() {
				defer close(done)
				if parent != nil {
					select {
					case <-parent:
					case <-ctx.Done():
						return
					}
				}
				(&shardReader{src: src, cfg: cfg, fn: fn, shard: sh.id}).run(ctx)
			})
		}
		select {
		case <-ctx.Done():
		case <-time.After(20 * cfg.PollInterval):
		}
	}
	return nil
}

// shardReader plays the mapping on one shard: it keeps the records read
// and not yet finished in buf, in order, and invokes the function with
// the head of it.
type shardReader struct {
	src   streamSource
	cfg   StreamConfig
	fn    StreamInvoke
	shard string

	buf      []streamRecord
	attempts int // failed invocations of the records at buf's head
	// split is how many records at buf's head belong to a bisected batch,
	// and half the size they are retried in; zero when not bisecting.
	split, half int
}

func (r *shardReader) run(ctx context.Context) {
	log := r.cfg.Logger.With(slog.String("stream", r.cfg.StreamARN), slog.String("shard", r.shard))
	var it string
	for it == "" {
		var err error
		if it, err = r.src.iterator(ctx, r.shard, r.cfg.StartingPosition); err != nil {
			if ctx.Err() != nil {
				return
			}
			log.ErrorContext(ctx, "esm: shard iterator", slog.Any("error", err))
			r.pause(ctx, 10*r.cfg.PollInterval)
		}
	}
	closed := false
	for ctx.Err() == nil {
		if !closed && len(r.buf) < r.cfg.BatchSize {
			recs, next, err := r.src.read(ctx, r.shard, it, r.cfg.BatchSize-len(r.buf))
			switch {
			case ctx.Err() != nil:
				return
			case err != nil:
				log.ErrorContext(ctx, "esm: read shard", slog.Any("error", err))
				r.pause(ctx, 10*r.cfg.PollInterval)
				continue
			}
			r.buf = append(r.buf, recs...)
			it, closed = next, next == ""
		}
		r.dropExpired(ctx, log)
		if len(r.buf) == 0 {
			if closed {
				return
			}
			r.pause(ctx, r.cfg.PollInterval)
			continue
		}
		r.invokeHead(ctx, log)
	}
}

func (r *shardReader) pause(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// invokeHead invokes the function with the batch at buf's head and acts on
// its answer.
func (r *shardReader) invokeHead(ctx context.Context, log *slog.Logger) {
	n := min(len(r.buf), r.cfg.BatchSize)
	if r.split > 0 {
		n = min(n, r.half)
	}
	batch := r.buf[:n]
	done, ferr := r.invoke(ctx, batch)
	if ctx.Err() != nil {
		return // stopping: the batch is left undone, as a killed poller leaves it
	}
	r.finish(done)
	if done == n {
		return
	}
	if ferr != nil {
		log.WarnContext(ctx, "esm: function error: batch retried", slog.Int("records", n), slog.Any("error", ferr))
		if r.cfg.BisectBatchOnFunctionError && n > 1 {
			r.split, r.half = n, (n+1)/2
			return
		}
	}
	r.attempts++
	if m := r.cfg.MaximumRetryAttempts; m != nil && *m >= 0 && r.attempts > *m {
		failed := r.buf[:n-done]
		log.ErrorContext(ctx, "esm: retry attempts exhausted: records dropped", slog.Int("records", len(failed)),
			slog.String("first_sequence_number", failed[0].seq))
		r.onFailure(ctx, log, failed, ConditionRetriesExhausted)
		r.finish(len(failed))
	}
}

// finish drops the first n records of buf: done with, or given up on.
func (r *shardReader) finish(n int) {
	if n == 0 {
		return
	}
	r.buf = r.buf[n:]
	r.attempts = 0
	if r.split > 0 {
		if r.split -= n; r.split <= 0 {
			r.split, r.half = 0, 0
		}
	}
}

// invoke calls the function with batch and returns how many records at
// its head are finished (all, or those before the reported sequence
// number), and the function error when the invocation failed as a whole.
func (r *shardReader) invoke(ctx context.Context, batch []streamRecord) (int, error) {
	ev := []byte(`{"Records":[`)
	for i, rec := range batch {
		if i > 0 {
			ev = append(ev, ',')
		}
		ev = append(ev, rec.json...)
	}
	ev = append(ev, "]}"...)
	ictx := ctx
	if r.cfg.FunctionTimeout > 0 {
		var cancel context.CancelFunc
		ictx, cancel = context.WithTimeout(ctx, r.cfg.FunctionTimeout)
		defer cancel()
	}
	out, err := r.fn(ictx, ev)
	if err != nil {
		return 0, err
	}
	var resp struct {
		Failures []events.KinesisBatchItemFailure `json:"batchItemFailures"`
	}
	if len(out) == 0 || string(out) == "null" {
		return len(batch), nil
	}
	if err := json.Unmarshal(out, &resp); err != nil {
		return 0, fmt.Errorf("%w: %v", ErrInvalidResponse, err)
	}
	// Lambda restarts from the lowest sequence number reported; one it
	// cannot find in the batch fails the batch as a whole.
	first := len(batch)
	for _, f := range resp.Failures {
		i := indexOfSeq(batch, f.ItemIdentifier)
		if i < 0 {
			return 0, fmt.Errorf("%w: sequence number %q is not in the batch", ErrInvalidResponse, f.ItemIdentifier)
		}
		first = min(first, i)
	}
	return first, nil
}

func indexOfSeq(batch []streamRecord, seq string) int {
	for i, r := range batch {
		if r.seq == seq && seq != "" {
			return i
		}
	}
	return -1
}

// dropExpired drops the records at buf's head that are older than
// MaximumRecordAge, and reports them.
func (r *shardReader) dropExpired(ctx context.Context, log *slog.Logger) {
	if r.cfg.MaximumRecordAge <= 0 {
		return
	}
	now := r.cfg.Now()
	n := 0
	for n < len(r.buf) && now.Sub(r.buf[n].arrived) > r.cfg.MaximumRecordAge {
		n++
	}
	if n == 0 {
		return
	}
	log.ErrorContext(ctx, "esm: records older than the maximum record age dropped", slog.Int("records", n),
		slog.String("first_sequence_number", r.buf[0].seq))
	r.onFailure(ctx, log, r.buf[:n], ConditionRecordAge)
	r.finish(n)
}

// onFailure sends the dropped records' metadata to the destination, in
// the shape Lambda sends it.
func (r *shardReader) onFailure(ctx context.Context, log *slog.Logger, recs []streamRecord, condition string) {
	if r.cfg.OnFailure == nil {
		return
	}
	body, err := json.Marshal(map[string]any{
		"version":   "1.0",
		"timestamp": r.cfg.Now().UTC().Format(time.RFC3339Nano),
		"requestContext": map[string]any{
			"requestId": requestID(), "functionArn": r.cfg.FunctionARN,
			"condition": condition, "approximateInvokeCount": r.attempts,
		},
		"responseContext": map[string]any{"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
		r.src.batchInfo(): map[string]any{
			"shardId":                         r.shard,
			"startSequenceNumber":             recs[0].seq,
			"endSequenceNumber":               recs[len(recs)-1].seq,
			"approximateArrivalOfFirstRecord": recs[0].arrived.UTC().Format(time.RFC3339Nano),
			"approximateArrivalOfLastRecord":  recs[len(recs)-1].arrived.UTC().Format(time.RFC3339Nano),
			"batchSize":                       len(recs),
			"streamArn":                       r.cfg.StreamARN,
		},
	})
	if err == nil {
		err = r.cfg.OnFailure(ctx, body)
	}
	if err != nil {
		log.ErrorContext(ctx, "esm: on-failure destination not reached", slog.Any("error", err))
	}
}

func requestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
