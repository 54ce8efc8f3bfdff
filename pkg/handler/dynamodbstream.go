package handler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"

	"github.com/latchkit/latch/internal/ddbevent"
	"github.com/latchkit/latch/pkg/idempotency"
	"github.com/latchkit/latch/pkg/retry"
)

// dynamoDBEventSource is a DynamoDB Streams record's eventSource.
const dynamoDBEventSource = "aws:dynamodb"

// Event names of a DynamoDB Streams record (Change.Name).
const (
	ChangeInsert = "INSERT"
	ChangeModify = "MODIFY"
	ChangeRemove = "REMOVE"
)

// Change is one DynamoDB Streams record as the record function sees it:
// what happened to one item.
type Change[T any] struct {
	// Name is what happened: ChangeInsert, ChangeModify or ChangeRemove.
	Name string
	// New is the item after the change, decoded into T with the
	// attributevalue package's rules (`dynamodbav` tags). Nil on a REMOVE,
	// and when the stream's view type carries no new image (KEYS_ONLY,
	// OLD_IMAGE).
	New *T
	// Old is the item before the change: nil on an INSERT, and when the
	// view type carries no old image (KEYS_ONLY, NEW_IMAGE).
	Old *T
	// Raw is the record as Lambda delivered it: keys, images, sequence
	// number, stream ARN.
	Raw events.DynamoDBEventRecord
}

// DynamoDBStreamConfig configures NewDynamoDBStream; see StreamConfig.
type DynamoDBStreamConfig = StreamConfig[events.DynamoDBEventRecord]

// NewDynamoDBStream returns a Lambda handler for a DynamoDB Streams event
// source mapping with ReportBatchItemFailures on. It is NewKinesis for
// item changes: records run in order, the batch stops at the first
// failure and reports its sequence number, permanent failures go to
// cfg.FailureQueue and the shard moves on, and with cfg.Idempotency each
// change runs once however often its batch is sent. An image that does not
// decode into T is a permanent failure. With Concurrency, the partition
// is the item's key.
func NewDynamoDBStream[T any](fn func(ctx context.Context, c Change[T]) error, cfg DynamoDBStreamConfig) (Func[events.DynamoDBEvent, events.DynamoDBEventResponse], error) {
	p, err := newStreamProcessor(dynamoDBKind[T](), cfg, fn == nil)
	if err != nil {
		return nil, err
	}
	p.guarded.fn = fn
	return dynamoDBHandler(p), nil
}

// MustNewDynamoDBStream is NewDynamoDBStream for package-level
// initialisation: it panics on the error NewDynamoDBStream would return.
func MustNewDynamoDBStream[T any](fn func(ctx context.Context, c Change[T]) error, cfg DynamoDBStreamConfig) Func[events.DynamoDBEvent, events.DynamoDBEventResponse] {
	h, err := NewDynamoDBStream(fn, cfg)
	if err != nil {
		panic(err)
	}
	return h
}

// NewDynamoDBStreamTx is NewDynamoDBStream for a record function in the
// transactional form; see NewKinesisTx.
func NewDynamoDBStreamTx[T, R any](fn func(ctx context.Context, c Change[T]) (idempotency.Tx[R], error), then func(ctx context.Context, c Change[T], v R) error, cfg DynamoDBStreamConfig) (Func[events.DynamoDBEvent, events.DynamoDBEventResponse], error) {
	p, err := newStreamProcessor(dynamoDBKind[T](), cfg, fn == nil)
	if err != nil {
		return nil, err
	}
	if err := txGuardError(ErrStreamConfig, cfg.Idempotency); err != nil {
		return nil, err
	}
	p.guarded.tx = txRecord(cfg.Idempotency, p.runner.log, fn, then, func(Change[T]) bool { return true }, nil)
	return dynamoDBHandler(p), nil
}

// MustNewDynamoDBStreamTx is NewDynamoDBStreamTx for package-level
// initialisation: it panics on the error NewDynamoDBStreamTx would return.
func MustNewDynamoDBStreamTx[T, R any](fn func(ctx context.Context, c Change[T]) (idempotency.Tx[R], error), then func(ctx context.Context, c Change[T], v R) error, cfg DynamoDBStreamConfig) Func[events.DynamoDBEvent, events.DynamoDBEventResponse] {
	h, err := NewDynamoDBStreamTx(fn, then, cfg)
	if err != nil {
		panic(err)
	}
	return h
}

func dynamoDBHandler[T any](p *streamProcessor[events.DynamoDBEventRecord, Change[T]]) Func[events.DynamoDBEvent, events.DynamoDBEventResponse] {
	return func(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		resp := events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{}}
		failed, err := p.process(ctx, ev.Records)
		if failed != "" {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: failed})
		}
		return resp, err
	}
}

func dynamoDBKind[T any]() streamKind[events.DynamoDBEventRecord, Change[T]] {
	return streamKind[events.DynamoDBEventRecord, Change[T]]{
		place: func(r *events.DynamoDBEventRecord, now time.Time) (Delivery, error) {
			switch {
			case r.EventID == "":
				return Delivery{}, errors.New("no eventID")
			case r.Change.SequenceNumber == "":
				return Delivery{}, errors.New("no dynamodb.SequenceNumber")
			case r.EventSource != dynamoDBEventSource:
				return Delivery{}, errors.New("eventSource is " + r.EventSource + ", want " + dynamoDBEventSource)
			}
			// The images are not copied into Body: that would cost a JSON
			// encoding per record for a log field that is off by default.
			return Delivery{
				Source: dynamoDBEventSource, ID: r.EventID, SequenceNumber: r.Change.SequenceNumber,
				IteratorAge: ageAt(now, r.Change.ApproximateCreationDateTime.Time),
			}, nil
		},
		partition: func(r *events.DynamoDBEventRecord) string {
			// encoding/json sorts map keys: one item, one string.
			b, _ := json.Marshal(r.Change.Keys)
			return string(b)
		},
		decode: func(r *events.DynamoDBEventRecord) (Change[T], error) {
			c := Change[T]{Name: r.EventName, Raw: *r}
			var err error
			if c.New, err = decodeImage[T](r.Change.NewImage, "NewImage"); err != nil {
				return c, err
			}
			c.Old, err = decodeImage[T](r.Change.OldImage, "OldImage")
			return c, err
		},
		eventID: func(r *events.DynamoDBEventRecord) string { return r.EventID },
	}
}

// decodeImage decodes a stream image into a new T, nil when there is no
// image. A failure is permanent: the record will not change.
func decodeImage[T any](img map[string]events.DynamoDBAttributeValue, which string) (*T, error) {
	if img == nil {
		return nil, nil
	}
	av, err := ddbevent.ToSDK(img)
	if err == nil {
		v := new(T)
		if err = attributevalue.UnmarshalMap(av, v); err == nil {
			return v, nil
		}
	}
	var zero T
	return nil, retry.Permanent(fmt.Errorf("handler: decode DynamoDB %s into %T: %w", which, zero, err))
}
