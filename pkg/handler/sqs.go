package handler

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/latchkit/latch/pkg/idempotency"
	"github.com/latchkit/latch/pkg/retry"
)

// SQSClient is the part of the SQS API the batch processor calls, and only
// for records that fail: a batch that succeeds makes no calls. *sqs.Client
// satisfies it.
type SQSClient interface {
	GetQueueUrl(ctx context.Context, in *sqs.GetQueueUrlInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error)
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
	ChangeMessageVisibilityBatch(ctx context.Context, in *sqs.ChangeMessageVisibilityBatchInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error)
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

var _ SQSClient = (*sqs.Client)(nil)

// DefaultSQSMaxAttempts is the last attempt of a record whose source queue has
// no RedrivePolicy, when SQSConfig.MaxAttempts is zero. With the default
// backoff (5s doubling to 15 minutes) twenty attempts span about three
// hours: long enough to ride out an outage of what the records call, far
// inside SQS's default retention of four days, so a record that keeps
// failing ends in the dead-letter queue with its reason instead of being
// dropped silently when its retention ends. 20 is not a magic number: it is
// the smallest round count whose retries outlast a multi-hour incident.
const DefaultSQSMaxAttempts = 20

// DefaultSQSConcurrency is the number of records (standard queues) or
// message groups (FIFO queues) that run at once when SQSConfig.Concurrency
// is zero.
const DefaultSQSConcurrency = 10

// DefaultSQSMargin is SQSConfig.Margin's default: a dead-letter send and a
// visibility change take tens of milliseconds each in a Region, and a
// second leaves room for a slow one and for a retry of it by the SDK,
// while it costs a 30 s function a thirtieth of its time.
const DefaultSQSMargin = time.Second

// ErrGroupBlocked means the record was not run because an earlier record of its
// FIFO message group failed in the same batch. Running it would break the
// group's order; it comes back with the record that blocked it.
var ErrGroupBlocked = errors.New("handler: not run: an earlier message of its FIFO group failed")

// ErrNotStarted means the record was not run because the invocation was
// within SQSConfig.Margin of its deadline when its turn came. It is
// retryable, and the record comes back at once: it did not fail.
var ErrNotStarted = errors.New("handler: not started: the invocation was too close to its deadline")

// SQSConfig configures the SQS batch processor. Client is required, and
// Key is required as soon as Idempotency is set (and refused without it);
// every other zero value is a working default.
//
// What NewSQS checks, and when: the fields below at construction (a bad
// config fails the cold start); the source queue's RedrivePolicy, which
// needs an AWS call and the queue's ARN from the event, on the first
// invocation, before any record runs. A queue with neither a RedrivePolicy
// nor DLQURL fails that invocation, and every one after it until one is
// added, with ErrNoDLQ (and ErrConfig): the whole batch comes back and
// nothing runs, instead of failing records looping until the queue's
// retention drops them.
type SQSConfig struct {
	// Client calls SQS to delay retries, to read the source queue's redrive
	// policy and to send records to the dead-letter queue. Required.
	Client SQSClient
	// DLQURL is the dead-letter queue for permanent failures and last
	// attempts. Empty means the source queue's RedrivePolicy target, read on
	// the first invocation after a cold start and kept, together with the
	// policy's maxReceiveCount; a queue without one is then an error (see
	// above). With DLQURL set, the queue's policy is read on the first
	// failure instead, so a batch that succeeds makes no SQS calls.
	DLQURL string
	// MaxAttempts is the last attempt of a retryable failure: on it the
	// record goes to the dead-letter queue with its reason. Zero means the
	// source queue's maxReceiveCount, or DefaultSQSMaxAttempts (20) when the
	// queue has no RedrivePolicy; a positive value is used as is when the
	// queue has no policy, and the lower of it and maxReceiveCount when it
	// has. Negative is an error. Without a cap, a record that keeps failing
	// on a queue without a policy would retry until SQS drops it.
	MaxAttempts int
	// Backoff decides how long a retryable failure waits before its record
	// comes back. The zero value is retry.Backoff's defaults (5s doubling up
	// to 15 minutes, with jitter). Its Now, when nil, is this config's Now.
	Backoff retry.Backoff
	// Concurrency bounds how many records of a standard queue, or message
	// groups of a FIFO queue, run at once. Zero means
	// DefaultSQSConcurrency, SQS's largest batch without a batching window,
	// so a default batch runs fully in parallel while larger batches do not
	// flood what the records call. One runs records one by one. Negative
	// is an error.
	Concurrency int
	// Margin is the time kept in reserve before the invocation's deadline
	// for what follows the records: dead-letter sends, visibility changes,
	// the response. No record starts later than the deadline less Margin,
	// and a record still running then sees its context end (its deadline is
	// the invocation's less Margin); the records not started are reported
	// with ErrNotStarted and come back at once. Zero means
	// DefaultSQSMargin; it is never more than half the time left when the
	// batch starts, so a short timeout still runs records. Negative is an
	// error. A context without a deadline (outside Lambda) keeps no margin.
	Margin time.Duration
	// Idempotency, when set, runs each record under the guard: a record
	// whose key completed before does not run again and reports Duplicate;
	// one whose key is held by a live run fails with
	// idempotency.ErrInProgress and comes back when that lock dies. The
	// guard also makes each source message's dead-lettering happen once: a
	// claim keyed by its message id is taken before the DLQ send and found
	// by any later delivery, which is then only deleted (two writes per
	// dead-lettered message, none on success; docs/DESIGN.md, "Dead-lettering
	// once"). Nil means no idempotency, and a message delivered twice may
	// reach the DLQ twice.
	Idempotency *idempotency.Guard
	// Key derives each record's idempotency key: KeyMessageID, KeyBodyHash,
	// KeyJSONField or a function of your own. Required with Idempotency and
	// refused without it. There is no default: which records are "the
	// same" is a decision about your messages, and a wrong guess either
	// runs duplicates or drops distinct requests.
	Key KeyFunc
	// Observer is told about every record. Nil means NopObserver.
	Observer Observer
	// Logger receives what only the processor knows: recovered panics with
	// their stack, failed visibility changes and dead-letter sends. Nil
	// means the Observer's logger when it has one (a *telemetry.Telemetry
	// has), else slog.Default().
	Logger *slog.Logger
	// Now is the clock for DLQ timestamps, durations and retry times. Nil
	// means time.Now.
	Now func() time.Time
}

// validate reports what is wrong with the config, without calling AWS.
// It is not exported: like every other config of latch, an SQSConfig is
// checked by its constructor, which fails the cold start.
func (c SQSConfig) validate() error {
	switch {
	case c.Client == nil:
		return configError("SQSConfig.Client is nil: pass an *sqs.Client (or the SQSClient subset)")
	case c.Idempotency != nil && c.Key == nil:
		return configError("SQSConfig.Idempotency is set without a Key: choose KeyMessageID, KeyBodyHash or KeyJSONField")
	case c.Idempotency == nil && c.Key != nil:
		return configError("SQSConfig.Key is set without Idempotency: records would run unguarded; set Idempotency or drop Key")
	case c.MaxAttempts < 0:
		return configError("SQSConfig.MaxAttempts is negative (%d): use 0 for the queue's maxReceiveCount", c.MaxAttempts)
	case c.Concurrency < 0:
		return configError("SQSConfig.Concurrency is negative (%d): use 0 for DefaultSQSConcurrency", c.Concurrency)
	case c.Margin < 0:
		return configError("SQSConfig.Margin is negative (%s): use 0 for DefaultSQSMargin", c.Margin)
	}
	return nil
}

// Message is one SQS record as the record function sees it.
type Message[T any] struct {
	// Body is the record's body decoded from JSON. When T is string or
	// []byte it is the body as is, undecoded. producer.Queue[T] encodes by
	// the same rule (string and []byte as they are, anything else JSON),
	// so a producer and a consumer of one T agree without an Encode.
	Body T
	// Raw is the record as Lambda delivered it: id, attributes, message
	// attributes, source queue.
	Raw events.SQSMessage
	// Attempt is 1 on the first delivery (SQS's ApproximateReceiveCount).
	Attempt int
}

// NewSQS returns a Lambda handler for an SQS event source mapping with
// ReportBatchItemFailures on. It runs fn once per record and reports, in
// the response's batchItemFailures, only the records that must come back:
//
//   - success: not reported; Lambda deletes the record;
//   - retryable failure: its visibility is set to the backoff delay (one
//     ChangeMessageVisibilityBatch call per ten such records), then it is
//     reported; if the visibility change fails it is reported anyway and
//     the queue's own timeout applies;
//   - permanent failure, or a retryable failure on the queue's last attempt
//     (receive count = maxReceiveCount): sent to the dead-letter queue with
//     the reason in message attributes (DLQAttr*), then not reported, so
//     Lambda deletes the original; if the send fails it is reported;
//   - a body that does not decode into T is a permanent failure;
//   - with cfg.Idempotency, a record whose key completed before is not run
//     and not reported (Duplicate);
//   - a panic in fn is recovered and logged with its stack, and is a
//     retryable failure of that record only.
//
// Time is kept in reserve before the invocation's deadline (cfg.Margin):
// no record starts after the deadline less the margin, records still
// running then see their context end, and the records not started come
// back at once (ErrNotStarted). The bookkeeping (dead-letter sends,
// visibility changes) runs on a context of its own, detached from the
// deadline and bounded, so a record cut short is still settled.
//
// Records of a standard queue run concurrently, up to cfg.Concurrency at
// once. On a FIFO queue each message group runs in order; after a record
// of a group fails, the rest of that group is not run and is reported
// with a zero visibility, to queue up behind the failed record, while other
// groups go on; their outcome is Blocked, with ErrGroupBlocked. A record
// latch has dead-lettered counts as done, as after SQS's own redrive, so
// its group goes on.
//
// Retry delays are bounded by SQS's visibility limit: 12 hours from the
// receive, which latch takes as 12 hours less 20 minutes from the change.
//
// An event with no records, or a record without what the processor needs,
// is an error for the whole batch (ErrEmptyEvent, ErrMalformedEvent).
//
// An unusable config or a nil fn is an error here (ErrConfig), at cold
// start, before any batch is taken.
func NewSQS[T any](fn func(ctx context.Context, m Message[T]) error, cfg SQSConfig) (Func[events.SQSEvent, events.SQSEventResponse], error) {
	p, err := newSQSProcessor[T](cfg, fn == nil)
	if err != nil {
		return nil, err
	}
	p.guarded.fn = fn
	return p.handle, nil
}

// MustNewSQS is NewSQS for package-level initialisation: it panics on the
// error NewSQS would return.
func MustNewSQS[T any](fn func(ctx context.Context, m Message[T]) error, cfg SQSConfig) Func[events.SQSEvent, events.SQSEventResponse] {
	h, err := NewSQS(fn, cfg)
	if err != nil {
		panic(err)
	}
	return h
}

// newSQSProcessor returns a processor on cfg without its record function;
// fnNil says whether the one the caller was given is nil.
func newSQSProcessor[T any](cfg SQSConfig, fnNil bool) (*sqsProcessor[T], error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if fnNil {
		return nil, configError("the record function given to NewSQS is nil")
	}
	p := &sqsProcessor[T]{cfg: cfg}
	p.now = cfg.Now
	if p.now == nil {
		p.now = time.Now
	}
	if p.cfg.Backoff.Now == nil {
		p.cfg.Backoff.Now = p.now
	}
	p.obs = cfg.Observer
	if p.obs == nil {
		p.obs = NopObserver{}
	}
	p.log = loggerOf(cfg.Logger, p.obs)
	p.guarded = recordGuard[Message[T]]{guard: cfg.Idempotency, log: p.log}
	p.concurrency = cfg.Concurrency
	if p.concurrency <= 0 {
		p.concurrency = DefaultSQSConcurrency
	}
	p.margin = cfg.Margin
	if p.margin == 0 {
		p.margin = DefaultSQSMargin
	}
	p.queues = newSQSQueues(cfg.Client, cfg.DLQURL, cfg.MaxAttempts)
	return p, nil
}
