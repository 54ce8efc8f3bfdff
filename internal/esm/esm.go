package esm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Client is the part of the SQS API the mapping calls. *sqs.Client
// satisfies it.
type Client interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
}

var _ Client = (*sqs.Client)(nil)

// Invoke is the function the mapping calls with each batch: a Lambda
// handler for SQS events, such as handler.NewSQS returns.
type Invoke func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error)

// Limits of SQS and of Lambda's event source mapping.
const (
	// MaxReceive is the most messages one ReceiveMessage call returns.
	MaxReceive = 10
	// MaxWait is SQS's longest long poll.
	MaxWait = 20 * time.Second
)

// Config describes one mapping from a queue to a function.
type Config struct {
	// Client reaches SQS. Required.
	Client Client
	// QueueURL is the queue to poll. Required.
	QueueURL string
	// QueueARN is the queue's ARN, which every record carries as its
	// eventSourceARN. Empty means ask SQS (one GetQueueAttributes per Poll,
	// once per Run).
	QueueARN string
	// BatchSize is the most records per invocation. Zero means 10, Lambda's
	// default for SQS. Above 10 a batch is gathered from several receives,
	// and only within MaxBatchingWindow.
	BatchSize int
	// MaxBatchingWindow is how long to keep receiving to fill a batch once
	// its first message has arrived. Zero means invoke with what the first
	// receive returns, as Lambda does without a window.
	MaxBatchingWindow time.Duration
	// WaitTime is the long-poll wait of each receive, up to MaxWait. Zero
	// means MaxWait, as Lambda polls; a negative value means short polls
	// (tests that want Poll to return at once on an empty queue).
	WaitTime time.Duration
	// VisibilityTimeout, when positive, overrides the queue's visibility
	// timeout for received messages (whole seconds).
	VisibilityTimeout time.Duration
	// FunctionTimeout, when positive, is the deadline of each invocation's
	// context, as a Lambda function's timeout is. Zero means no deadline.
	FunctionTimeout time.Duration
	// Logger receives Run's poll errors. Nil means slog.Default().
	Logger *slog.Logger
	// InFlight, when set, keeps a FIFO queue's groups in order whatever
	// the queue does: see InFlight. The pollers of one queue share one.
	// Client must then also be a VisibilityClient. Nil: the queue's own
	// ordering is trusted, as it can be on SQS.
	InFlight *InFlight
}

// Batch is what one Poll did.
type Batch struct {
	// Event is what was invoked; no records when nothing arrived, and then
	// nothing was invoked.
	Event events.SQSEvent
	// Response is the function's answer.
	Response events.SQSEventResponse
	// InvokeErr is the function's error (or recovered panic): every record
	// was left in the queue, as Lambda does on a function error.
	InvokeErr error
	// Deleted are the message ids deleted after the invocation.
	Deleted []string
	// Kept are the message ids left in the queue: those the function
	// reported, or all of them on a function error or an invalid response.
	Kept []string
	// Held are message ids received but handed back uninvoked, because an
	// earlier message of their FIFO group is in flight (Config.InFlight).
	Held []string
}

// ErrInvalidResponse is the function's batchItemFailures naming an empty id
// or one not in the batch. Lambda then treats the whole batch as failed, and
// so does Poll: Batch.InvokeErr wraps it.
var ErrInvalidResponse = errors.New("esm: invalid batchItemFailures in the function's response")

func (c Config) validate() error {
	switch {
	case c.Client == nil:
		return errors.New("esm: Config.Client is nil")
	case c.QueueURL == "":
		return errors.New("esm: Config.QueueURL is empty")
	case c.BatchSize < 0:
		return fmt.Errorf("esm: Config.BatchSize %d is negative", c.BatchSize)
	}
	return nil
}

// Run polls the queue and invokes fn with each batch until ctx is done,
// then returns nil. A failed receive or delete is logged and retried after
// a pause; only an unusable Config or an unknown queue ARN stops it early.
func Run(ctx context.Context, cfg Config, fn Invoke) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	if cfg.QueueARN == "" {
		a, err := queueARN(ctx, cfg)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		cfg.QueueARN = a
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	pause := time.Duration(0)
	for ctx.Err() == nil {
		b, err := Poll(ctx, cfg, fn)
		if b.InvokeErr != nil && ctx.Err() == nil {
			// Lambda counts these as function errors; the whole batch comes
			// back after the queue's visibility timeout.
			log.ErrorContext(ctx, "esm: function error: batch left in the queue", slog.String("queue_url", cfg.QueueURL),
				slog.Int("records", len(b.Kept)), slog.Any("error", b.InvokeErr))
		}
		switch {
		case ctx.Err() != nil:
		case err != nil:
			pause = min(max(2*pause, 100*time.Millisecond), 5*time.Second)
			log.ErrorContext(ctx, "esm: poll failed", slog.String("queue_url", cfg.QueueURL), slog.Any("error", err), slog.Duration("retry_in", pause))
			select {
			case <-ctx.Done():
			case <-time.After(pause):
			}
		case len(b.Event.Records) == 0 && len(b.Held) > 0:
			// Everything received waits behind an earlier message that is
			// not back yet (see InFlight): give the queue a moment.
			select {
			case <-ctx.Done():
			case <-time.After(heldPause):
			}
		default:
			pause = 0
		}
	}
	return nil
}

// Poll receives one batch (waiting up to WaitTime for its first message),
// invokes fn with it, and deletes the records fn did not report. The error
// is SQS's (receive, delete); the function's own is Batch.InvokeErr.
func Poll(ctx context.Context, cfg Config, fn Invoke) (Batch, error) {
	var b Batch
	if err := cfg.validate(); err != nil {
		return b, err
	}
	if cfg.QueueARN == "" {
		a, err := queueARN(ctx, cfg)
		if err != nil {
			return b, err
		}
		cfg.QueueARN = a
	}
	msgs, err := receive(ctx, cfg)
	if err != nil || len(msgs) == 0 {
		return b, err
	}
	var holdErr error
	if cfg.InFlight != nil {
		var hold []types.Message
		msgs, hold, holdErr = cfg.InFlight.hold(ctx, cfg, msgs)
		b.Held = ids(hold)
		if len(msgs) == 0 {
			return b, holdErr
		}
	}
	b.Event = event(cfg.QueueARN, msgs)
	b.Response, b.InvokeErr = invoke(ctx, cfg, fn, b.Event)
	keep := map[string]bool{}
	if b.InvokeErr == nil {
		b.InvokeErr = checkResponse(b.Event, b.Response)
	}
	for _, r := range b.Event.Records {
		if b.InvokeErr != nil {
			keep[r.MessageId] = true
		}
	}
	for _, f := range b.Response.BatchItemFailures {
		keep[f.ItemIdentifier] = true
	}
	var del []types.Message
	for _, m := range msgs {
		if id := aws.ToString(m.MessageId); keep[id] {
			b.Kept = append(b.Kept, id)
		} else {
			del = append(del, m)
		}
	}
	// The function is done with these records: delete them even if ctx
	// ended meanwhile (the runner is stopping), or they would be delivered
	// again after their visibility timeout.
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), deleteTimeout)
	defer cancel()
	deleted, err := deleteAll(dctx, cfg, del)
	b.Deleted = deleted
	if cfg.InFlight != nil {
		cfg.InFlight.done(deleted)
	}
	return b, errors.Join(holdErr, err)
}

// heldPause is how long Run waits after a poll whose messages were all
// held back.
const heldPause = 200 * time.Millisecond

// deleteTimeout bounds the deletes of a batch whose poll was cancelled.
const deleteTimeout = 10 * time.Second

// queueARN asks SQS for the queue's ARN.
func queueARN(ctx context.Context, cfg Config) (string, error) {
	out, err := cfg.Client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(cfg.QueueURL),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return "", fmt.Errorf("esm: queue ARN of %s: %w", cfg.QueueURL, err)
	}
	a := out.Attributes[string(types.QueueAttributeNameQueueArn)]
	if a == "" {
		return "", fmt.Errorf("esm: SQS returned no QueueArn for %s", cfg.QueueURL)
	}
	return a, nil
}

// receive gathers one batch: the first receive long-polls; with a batching
// window, further receives fill the batch until it is full or the window
// has passed.
func receive(ctx context.Context, cfg Config) ([]types.Message, error) {
	size := cfg.BatchSize
	if size == 0 {
		size = MaxReceive
	}
	wait := cfg.WaitTime
	switch {
	case wait == 0 || wait > MaxWait:
		wait = MaxWait
	case wait < 0:
		wait = 0
	}
	var (
		msgs     []types.Message
		deadline time.Time
	)
	for {
		in := &sqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(cfg.QueueURL),
			MaxNumberOfMessages:         int32(min(MaxReceive, size-len(msgs))),
			WaitTimeSeconds:             int32(wait / time.Second),
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
			MessageAttributeNames:       []string{"All"},
		}
		if cfg.VisibilityTimeout > 0 {
			in.VisibilityTimeout = int32(cfg.VisibilityTimeout / time.Second)
		}
		out, err := cfg.Client.ReceiveMessage(ctx, in)
		if err != nil {
			if len(msgs) > 0 {
				// What was received is in flight: invoke with it rather than
				// let it sit out its visibility timeout unprocessed.
				return msgs, nil
			}
			return nil, fmt.Errorf("esm: receive from %s: %w", cfg.QueueURL, err)
		}
		msgs = append(msgs, out.Messages...)
		if len(msgs) == 0 || len(msgs) >= size || cfg.MaxBatchingWindow <= 0 {
			return msgs, nil
		}
		if deadline.IsZero() {
			deadline = time.Now().Add(cfg.MaxBatchingWindow)
		} else if wait == 0 {
			return msgs, nil // the short poll that ends the window
		}
		// SQS waits in whole seconds: under a second left, one short poll
		// takes what is there and ends the window.
		left := time.Until(deadline)
		if left <= 0 {
			return msgs, nil
		}
		wait = min(left, MaxWait).Truncate(time.Second)
	}
}

// invoke calls fn as Lambda would: under the function timeout, with a
// panic turned into a function error.
func invoke(ctx context.Context, cfg Config, fn Invoke, ev events.SQSEvent) (resp events.SQSEventResponse, err error) {
	if cfg.FunctionTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.FunctionTimeout)
		defer cancel()
	}
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("esm: function panicked: %v\n%s", v, debug.Stack())
		}
	}()
	return fn(ctx, ev)
}

// checkResponse applies Lambda's rule: an empty id, or one that is not in
// the batch, fails the whole batch.
func checkResponse(ev events.SQSEvent, resp events.SQSEventResponse) error {
	ids := make(map[string]bool, len(ev.Records))
	for _, r := range ev.Records {
		ids[r.MessageId] = true
	}
	for _, f := range resp.BatchItemFailures {
		if !ids[f.ItemIdentifier] {
			return fmt.Errorf("%w: itemIdentifier %q", ErrInvalidResponse, f.ItemIdentifier)
		}
	}
	return nil
}

// deleteAll deletes msgs ten at a time and returns the ids SQS deleted.
func deleteAll(ctx context.Context, cfg Config, msgs []types.Message) ([]string, error) {
	var (
		deleted []string
		errs    []error
	)
	for len(msgs) > 0 {
		chunk := msgs[:min(len(msgs), MaxReceive)]
		msgs = msgs[len(chunk):]
		in := &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(cfg.QueueURL)}
		byEntry := map[string]string{}
		for i, m := range chunk {
			id := fmt.Sprint(i)
			byEntry[id] = aws.ToString(m.MessageId)
			in.Entries = append(in.Entries, types.DeleteMessageBatchRequestEntry{Id: aws.String(id), ReceiptHandle: m.ReceiptHandle})
		}
		out, err := cfg.Client.DeleteMessageBatch(ctx, in)
		if err != nil {
			errs = append(errs, fmt.Errorf("esm: delete from %s: %w", cfg.QueueURL, err))
			continue
		}
		for _, s := range out.Successful {
			deleted = append(deleted, byEntry[aws.ToString(s.Id)])
		}
		for _, f := range out.Failed {
			errs = append(errs, fmt.Errorf("esm: delete message %s: %s: %s", byEntry[aws.ToString(f.Id)], aws.ToString(f.Code), aws.ToString(f.Message)))
		}
	}
	return deleted, errors.Join(errs...)
}

// event builds the Lambda event for msgs, in the shape Lambda sends.
func event(queueARN string, msgs []types.Message) events.SQSEvent {
	region := ""
	if a, err := arn.Parse(queueARN); err == nil {
		region = a.Region
	}
	ev := events.SQSEvent{Records: make([]events.SQSMessage, 0, len(msgs))}
	for _, m := range msgs {
		rec := events.SQSMessage{
			MessageId:              aws.ToString(m.MessageId),
			ReceiptHandle:          aws.ToString(m.ReceiptHandle),
			Body:                   aws.ToString(m.Body),
			Md5OfBody:              aws.ToString(m.MD5OfBody),
			Md5OfMessageAttributes: aws.ToString(m.MD5OfMessageAttributes),
			Attributes:             map[string]string{},
			MessageAttributes:      map[string]events.SQSMessageAttribute{},
			EventSourceARN:         queueARN,
			EventSource:            "aws:sqs",
			AWSRegion:              region,
		}
		for k, v := range m.Attributes {
			rec.Attributes[k] = v
		}
		for k, v := range m.MessageAttributes {
			rec.MessageAttributes[k] = events.SQSMessageAttribute{
				DataType:         aws.ToString(v.DataType),
				StringValue:      v.StringValue,
				BinaryValue:      v.BinaryValue,
				StringListValues: append([]string{}, v.StringListValues...),
				BinaryListValues: append([][]byte{}, v.BinaryListValues...),
			}
		}
		ev.Records = append(ev.Records, rec)
	}
	return ev
}

func ids(msgs []types.Message) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, aws.ToString(m.MessageId))
	}
	return out
}
