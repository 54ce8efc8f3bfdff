package handler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/latchkit/latch/pkg/idempotency"
)

// StreamConfig configures the stream processors, NewKinesis and
// NewDynamoDBStream; R is the event's record type. The zero value runs
// every record in order, without idempotency, and stops the batch at any
// failure.
type StreamConfig[R any] struct {
	// Idempotency, when set, runs each record under the guard, so a batch
	// that Lambda sends again after a failure re-runs nothing that already
	// succeeded: those records report Duplicate. Nil means no idempotency.
	Idempotency *idempotency.Guard
	// Key derives each record's idempotency key. Nil means the record's
	// event id (a Kinesis "shardId-…:sequence" or a DynamoDB Streams event
	// id): a retried batch carries the very same records, so their ids are
	// the right key unless one business request can reach the stream twice
	// as two records. Refused without Idempotency.
	Key func(r R) (idempotency.Key, error)
	// FailureQueue receives records that failed permanently (a retry.Class
	// of Permanent, such as a body that does not decode), each with its
	// reason and the record itself as JSON; the record then counts as
	// handled and the shard moves on. Zero: no failure queue, and a
	// permanent failure stops the batch like a retryable one, so the
	// mapping's own MaximumRetryAttempts, MaximumRecordAgeInSeconds and
	// on-failure destination (which gets metadata only) apply.
	FailureQueue FailureQueue
	// Concurrency, above one, runs the records of different partition keys
	// (Kinesis) or items (DynamoDB Streams) at once, up to this many, each
	// key still in order. Zero or one runs the batch strictly in order,
	// which is all Lambda itself promises. It needs Idempotency: records of
	// other keys that ran after the first failure come back with the
	// retried batch, and only the guard keeps them from running twice.
	// Negative is an error.
	Concurrency int
	// Observer is told about every record. Nil means NopObserver.
	Observer Observer
	// Logger receives recovered panics with their stack and failure-queue
	// send errors. Nil means the Observer's logger when it has one, else
	// slog.Default().
	Logger *slog.Logger
	// Now is the clock for durations, iterator ages and failure
	// timestamps. Nil means time.Now.
	Now func() time.Time
}

// ErrMalformedStreamEvent means a stream event has no records, or a record
// lacks what the processor needs to report on it (event id, sequence
// number, event source). The whole batch fails and comes back: nothing in
// it runs, so nothing is skipped.
var ErrMalformedStreamEvent = errors.New("handler: malformed stream event")

// ErrShardStopped is the error of a stream record that did not run because
// an earlier record of its batch (of its partition key, with Concurrency)
// failed: Lambda sends it again, after the failed record, in order. Its
// outcome is Blocked.
var ErrShardStopped = errors.New("handler: not run: an earlier record of its shard failed")

func (c StreamConfig[R]) validate(fnNil bool) error {
	switch fqErr := c.FailureQueue.validate(); {
	case fnNil:
		return configError("the record function is nil")
	case fqErr != nil:
		return configError("StreamConfig.%v", fqErr)
	case c.Key != nil && c.Idempotency == nil:
		return configError("StreamConfig.Key is set without Idempotency: records would run unguarded; set Idempotency or drop Key")
	case c.Concurrency < 0:
		return configError("StreamConfig.Concurrency is negative (%d): use 0 for one record at a time", c.Concurrency)
	case c.Concurrency > 1 && c.Idempotency == nil:
		return configError("StreamConfig.Concurrency %d needs Idempotency: records of other keys that ran after a failure come back with the retried batch", c.Concurrency)
	}
	return nil
}

// streamKind is what a stream processor knows of its event source.
type streamKind[R, M any] struct {
	// place reads a record's delivery (id, sequence number, shard, age)
	// and its partition, or says why the record is malformed.
	place func(r *R, now time.Time) (Delivery, error)
	// partition is the record's ordering key, for Concurrency.
	partition func(r *R) string
	// decode makes the record function's view of a record; a failure is
	// permanent.
	decode func(r *R) (M, error)
	// eventID is the default idempotency key.
	eventID func(r *R) string
}

// streamProcessor runs a stream batch in order and stops at its first
// failure. Each record goes through the pipeline every trigger shares
// (recordGuard for the run, asyncRunner for its outcome and the failure
// queue); what is its own is the order, the stop and the one sequence
// number it reports.
type streamProcessor[R, M any] struct {
	kind    streamKind[R, M]
	cfg     StreamConfig[R]
	runner  asyncRunner
	guarded recordGuard[M]
}

func newStreamProcessor[R, M any](kind streamKind[R, M], cfg StreamConfig[R], fnNil bool) (*streamProcessor[R, M], error) {
	if err := cfg.validate(fnNil); err != nil {
		return nil, err
	}
	runner := newAsyncRunner(cfg.Observer, cfg.FailureQueue, cfg.Logger, cfg.Now)
	return &streamProcessor[R, M]{
		kind: kind, cfg: cfg, runner: runner,
		guarded: recordGuard[M]{guard: cfg.Idempotency, log: runner.log},
	}, nil
}

// process runs recs and returns the sequence number Lambda must restart
// from: the first record that did not finish, or "" when all did. Every
// record is checked before any runs.
func (p *streamProcessor[R, M]) process(ctx context.Context, recs []R) (string, error) {
	if len(recs) == 0 {
		return "", fmt.Errorf("%w: no records", ErrMalformedStreamEvent)
	}
	now := p.runner.now()
	ds := make([]Delivery, len(recs))
	for i := range recs {
		d, err := p.kind.place(&recs[i], now)
		if err != nil {
			return "", fmt.Errorf("%w: record %d: %w", ErrMalformedStreamEvent, i, err)
		}
		ds[i] = d
	}
	var stop int
	if p.cfg.Concurrency <= 1 {
		stop = p.runInOrder(ctx, recs, ds, seq(len(recs)))
	} else {
		stop = p.runByPartition(ctx, recs, ds)
	}
	if stop == len(recs) {
		return "", nil
	}
	return ds[stop].SequenceNumber, nil
}

// runInOrder runs the records at idx in order until one fails, marks the
// rest Blocked, and returns the index of the failed record, or len(recs).
func (p *streamProcessor[R, M]) runInOrder(ctx context.Context, recs []R, ds []Delivery, idx []int) int {
	for n, i := range idx {
		if err := p.runOne(ctx, &recs[i], ds[i]); err != nil {
			for _, j := range idx[n+1:] {
				p.block(ctx, ds[j], ds[i].SequenceNumber)
			}
			return i
		}
	}
	return len(recs)
}

// runByPartition runs each partition key's records in order, up to
// Concurrency keys at once, and returns the earliest record, in batch
// order, that failed. Records of other keys after it may have run; the
// guard answers them as duplicates when Lambda sends them again.
func (p *streamProcessor[R, M]) runByPartition(ctx context.Context, recs []R, ds []Delivery) int {
	var (
		order []string
		parts = map[string][]int{}
	)
	for i := range recs {
		k := p.kind.partition(&recs[i])
		if _, ok := parts[k]; !ok {
			order = append(order, k)
		}
		parts[k] = append(parts[k], i)
	}
	var (
		mu   sync.Mutex
		stop = len(recs)
		sem  = make(chan struct{}, p.cfg.Concurrency)
		wg   sync.WaitGroup
	)
	for _, k := range order {
		idx := parts[k]
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if i := p.runInOrder(ctx, recs, ds, idx); i < len(recs) {
				mu.Lock()
				stop = min(stop, i)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return stop
}

// runOne runs one record; a nil error means it is finished with: it
// succeeded, was a duplicate, or is in the failure queue.
func (p *streamProcessor[R, M]) runOne(ctx context.Context, r *R, d Delivery) error {
	m, derr := p.kind.decode(r)
	return p.runner.run(ctx, d, func() []byte { return recordJSON(r) }, func(ctx context.Context, rep *Report) (bool, error) {
		if derr != nil {
			return false, derr
		}
		return p.guarded.run(ctx, rep, m, func() (idempotency.Key, error) {
			if p.cfg.Key != nil {
				return p.cfg.Key(*r)
			}
			return idempotency.Key{ID: p.kind.eventID(r)}, nil
		})
	})
}

// block reports a record that was not run behind the failed record at
// sequence number failed.
func (p *streamProcessor[R, M]) block(ctx context.Context, d Delivery, failed string) {
	ctx = p.runner.observer.RecordStarted(ContextWithDelivery(ctx, d), d)
	p.runner.observer.RecordFinished(ctx, Report{
		Delivery: d, Outcome: Blocked,
		Err: fmt.Errorf("%w (sequence number %s)", ErrShardStopped, failed),
	})
}

// seq returns 0..n-1.
func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// recordJSON is a stream record as Lambda delivered it, for the failure
// queue: sending it back through the processor replays it.
func recordJSON[R any](r *R) []byte {
	b, err := json.Marshal(r)
	if err != nil {
		return nil // not reached: event records marshal
	}
	return b
}
