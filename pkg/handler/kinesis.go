package handler

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/latchkit/latch/pkg/idempotency"
)

// kinesisEventSource is a Kinesis record's eventSource.
const kinesisEventSource = "aws:kinesis"

// KinesisRecord is one Kinesis record as the record function sees it.
type KinesisRecord[T any] struct {
	// Data is the record's data decoded from JSON; when T is string or
	// []byte it is the data as is, undecoded. (Lambda delivers it base64
	// encoded; the event type has already decoded that.)
	Data T
	// Raw is the record as Lambda delivered it: partition key, sequence
	// number, arrival time, stream ARN.
	Raw events.KinesisEventRecord
}

// KinesisConfig configures NewKinesis; see StreamConfig.
type KinesisConfig = StreamConfig[events.KinesisEventRecord]

// NewKinesis returns a Lambda handler for a Kinesis event source mapping
// with ReportBatchItemFailures on. It runs fn on the batch's records in
// order and stops at the first one that fails, reporting that record's
// sequence number in batchItemFailures, so Lambda checkpoints before it
// and sends the batch again from there:
//
//   - success: the next record runs;
//   - retryable failure, or a panic: the batch stops (Failed); the records
//     after it do not run (Blocked, with ErrShardStopped) and come back
//     with the retried batch, in order;
//   - permanent failure with cfg.FailureQueue: the record goes to the
//     queue with its reason and itself, and counts as handled
//     (DeadLettered): the shard moves on instead of blocking on a record
//     that cannot succeed; if the send fails, the batch stops there;
//   - permanent failure without a failure queue: the batch stops, as for a
//     retryable one, and the mapping's retry limits and on-failure
//     destination decide;
//   - data that does not decode into T is a permanent failure;
//   - with cfg.Idempotency, a record that completed before (in a batch
//     that later failed) does not run again (Duplicate).
//
// The records Lambda sends in one batch come from one shard. An event with
// no records, or a record without an event id or sequence number, is an
// error for the whole batch (ErrMalformedStreamEvent). An unusable config
// or a nil fn is an error here (ErrStreamConfig), at cold start.
func NewKinesis[T any](fn func(ctx context.Context, r KinesisRecord[T]) error, cfg KinesisConfig) (Func[events.KinesisEvent, events.KinesisEventResponse], error) {
	p, err := newStreamProcessor(kinesisKind[T](), cfg, fn == nil)
	if err != nil {
		return nil, err
	}
	p.guarded.fn = fn
	return kinesisHandler(p), nil
}

// MustNewKinesis is NewKinesis for package-level initialisation: it panics
// on the error NewKinesis would return.
func MustNewKinesis[T any](fn func(ctx context.Context, r KinesisRecord[T]) error, cfg KinesisConfig) Func[events.KinesisEvent, events.KinesisEventResponse] {
	h, err := NewKinesis(fn, cfg)
	if err != nil {
		panic(err)
	}
	return h
}

// NewKinesisTx is NewKinesis for a record function in the transactional
// form, as NewSQSTx: fn returns the record's DynamoDB writes and they
// commit with its idempotency record in one transaction, so its effect is
// never visible twice, even when the batch is sent again. fn runs on
// duplicates too and must only read and compute. then, optional, runs
// after every commit and every replay (a stream record carries no
// delivery count, so a replay may be a batch sent again after then
// failed): its effect is at least once. cfg.Idempotency is required, on a
// store that implements idempotency.TxStore.
func NewKinesisTx[T, R any](fn func(ctx context.Context, r KinesisRecord[T]) (idempotency.Tx[R], error), then func(ctx context.Context, r KinesisRecord[T], v R) error, cfg KinesisConfig) (Func[events.KinesisEvent, events.KinesisEventResponse], error) {
	p, err := newStreamProcessor(kinesisKind[T](), cfg, fn == nil)
	if err != nil {
		return nil, err
	}
	if err := txGuardError(ErrStreamConfig, cfg.Idempotency); err != nil {
		return nil, err
	}
	p.guarded.tx = txRecord(cfg.Idempotency, p.runner.log, fn, then, func(KinesisRecord[T]) bool { return true }, nil)
	return kinesisHandler(p), nil
}

func kinesisHandler[T any](p *streamProcessor[events.KinesisEventRecord, KinesisRecord[T]]) Func[events.KinesisEvent, events.KinesisEventResponse] {
	return func(ctx context.Context, ev events.KinesisEvent) (events.KinesisEventResponse, error) {
		resp := events.KinesisEventResponse{BatchItemFailures: []events.KinesisBatchItemFailure{}}
		failed, err := p.process(ctx, ev.Records)
		if failed != "" {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.KinesisBatchItemFailure{ItemIdentifier: failed})
		}
		return resp, err
	}
}

func kinesisKind[T any]() streamKind[events.KinesisEventRecord, KinesisRecord[T]] {
	return streamKind[events.KinesisEventRecord, KinesisRecord[T]]{
		place: func(r *events.KinesisEventRecord, now time.Time) (Delivery, error) {
			k := &r.Kinesis
			switch {
			case r.EventID == "":
				return Delivery{}, errors.New("no eventID")
			case k.SequenceNumber == "":
				return Delivery{}, errors.New("no kinesis.sequenceNumber")
			case r.EventSource != kinesisEventSource:
				return Delivery{}, errors.New("eventSource is " + r.EventSource + ", want " + kinesisEventSource)
			}
			d := Delivery{Source: kinesisEventSource, ID: r.EventID, SequenceNumber: k.SequenceNumber, Body: string(k.Data)}
			// Lambda's event id is "<shard id>:<sequence number>".
			if shard, _, ok := strings.Cut(r.EventID, ":"); ok {
				d.Shard = shard
			}
			d.IteratorAge = ageAt(now, k.ApproximateArrivalTimestamp.Time)
			return d, nil
		},
		partition: func(r *events.KinesisEventRecord) string { return r.Kinesis.PartitionKey },
		decode: func(r *events.KinesisEventRecord) (KinesisRecord[T], error) {
			m := KinesisRecord[T]{Raw: *r}
			return m, decodeBody(r.Kinesis.Data, &m.Data, "Kinesis data")
		},
		eventID: func(r *events.KinesisEventRecord) string { return r.EventID },
	}
}

// ageAt is how long before now a record arrived: zero when it carries no
// time, or one ahead of this clock.
func ageAt(now, arrived time.Time) time.Duration {
	if arrived.IsZero() || arrived.After(now) {
		return 0
	}
	return now.Sub(arrived)
}

// MustNewKinesisTx is NewKinesisTx for package-level initialisation: it
// panics on the error NewKinesisTx would return.
func MustNewKinesisTx[T, R any](fn func(ctx context.Context, r KinesisRecord[T]) (idempotency.Tx[R], error), then func(ctx context.Context, r KinesisRecord[T], v R) error, cfg KinesisConfig) Func[events.KinesisEvent, events.KinesisEventResponse] {
	h, err := NewKinesisTx(fn, then, cfg)
	if err != nil {
		panic(err)
	}
	return h
}
