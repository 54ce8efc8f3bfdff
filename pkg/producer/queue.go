package producer

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/latchkit/latch/internal/batch"
	"github.com/latchkit/latch/pkg/handler"
)

// SQSClient is the part of *sqs.Client a Queue uses.
type SQSClient interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
}

var _ SQSClient = (*sqs.Client)(nil)

// TraceHeaderAttribute is the SQS message system attribute that carries
// the X-Ray trace header to the consumer.
const TraceHeaderAttribute = "AWSTraceHeader"

// QueueConfig configures a Queue. The zero value sends JSON bodies to a
// standard queue with no delay and no attributes of the caller's own.
type QueueConfig[T any] struct {
	// URL is the queue's URL, as SQS's CreateQueue or GetQueueUrl returns
	// it. Required; a URL ending in ".fifo" is a FIFO queue. It is in the
	// config, like BusConfig.BusName, because it says where the queue
	// sends; the client, what it sends through, is NewQueue's argument.
	URL string
	// Encode turns a value into the message body. Default: a string or
	// []byte as it is, anything else json.Marshal — the rule
	// handler.Message[T] decodes by, so a Queue[T] and a consumer of
	// Message[T] agree on every T without an Encode. An encoding error
	// fails that entry permanently.
	Encode func(T) ([]byte, error)
	// Attributes returns a value's message attributes. Default none. The
	// correlation id attribute (handler.CorrelationIDAttribute) is added
	// unless the function sets it.
	Attributes func(T) map[string]types.MessageAttributeValue
	// Delay returns how long a message stays invisible after it is sent (at
	// most 15 minutes). Default none: the queue's own delay. FIFO queues
	// take no per-message delay, so setting it for one is a config error.
	Delay func(T) time.Duration
	// GroupID returns a value's message group. On a FIFO queue (its URL
	// ends in ".fifo"), where it is required, messages of one group are
	// delivered in order, groups in parallel. On a standard queue it names
	// the tenant of an SQS fair queue, so that one noisy tenant does not
	// hold up the others' messages; it orders nothing there. Default none.
	GroupID func(T) string
	// IdempotencyKey returns the key a FIFO message's deduplication id is
	// derived from (DeduplicationID), so a handler that runs again after it
	// sent sends the same id and SQS drops the copy. Default none: the
	// queue must have content-based deduplication.
	IdempotencyKey func(T) string
	// DeduplicationID returns the FIFO deduplication id itself, for callers
	// that have one. Setting both it and IdempotencyKey is a config error.
	DeduplicationID func(T) string
	// MaxMessageSize is the queue's MaximumMessageSize in bytes, against
	// which each message is checked before it is sent. Default 0: read once
	// from the queue's attributes (GetQueueAttributes) on the first send.
	MaxMessageSize int
	// Retry bounds the retries of entries SQS did not accept. Its zero
	// value is documented on RetryConfig.
	Retry RetryConfig
	// CorrelationID returns the correlation id to send with ctx. Default
	// CorrelationID.
	CorrelationID func(ctx context.Context) string
}

// Queue sends values of type T to one SQS queue as messages: typed,
// batched to SQS's limits, retried per entry, with the correlation id and
// the X-Ray trace header of the invocation that sends. Safe for concurrent
// use.
type Queue[T any] struct {
	client SQSClient
	url    string
	fifo   bool
	cfg    QueueConfig[T]

	mu      sync.Mutex
	maxSize int // 0 until known
}

// NewQueue returns a Queue sending to the queue at cfg.URL through client
// (usually a *sqs.Client). It fails, wrapping ErrConfig, when client or
// the URL is missing or cfg does not fit the queue's kind.
func NewQueue[T any](client SQSClient, cfg QueueConfig[T]) (*Queue[T], error) {
	url := cfg.URL
	bad := func(why string) (*Queue[T], error) {
		return nil, fmt.Errorf("%w: QueueConfig (URL %q): %s", ErrConfig, url, why)
	}
	fifo := strings.HasSuffix(url, ".fifo")
	switch {
	case client == nil:
		return bad("the client given to NewQueue is nil: pass an *sqs.Client")
	case url == "":
		return bad("URL is empty: give the queue's URL")
	case fifo && cfg.GroupID == nil:
		return bad("a FIFO queue needs GroupID")
	case fifo && cfg.Delay != nil:
		return bad("a FIFO queue takes no per-message Delay")
	case !fifo && (cfg.IdempotencyKey != nil || cfg.DeduplicationID != nil):
		return bad("IdempotencyKey and DeduplicationID are for FIFO queues")
	case cfg.IdempotencyKey != nil && cfg.DeduplicationID != nil:
		return bad("set IdempotencyKey or DeduplicationID, not both")
	case cfg.MaxMessageSize < 0:
		return bad("negative MaxMessageSize")
	}
	if cfg.Encode == nil {
		cfg.Encode = encodeBody[T]
	}
	if cfg.CorrelationID == nil {
		cfg.CorrelationID = CorrelationID
	}
	cfg.Retry = cfg.Retry.withDefaults()
	return &Queue[T]{client: client, url: url, fifo: fifo, cfg: cfg, maxSize: cfg.MaxMessageSize}, nil
}

// encodeBody is the default Encode: string and []byte as they are,
// anything else JSON, the same rule handler.Message[T] decodes by.
func encodeBody[T any](v T) ([]byte, error) {
	switch b := any(v).(type) {
	case string:
		return []byte(b), nil
	case []byte:
		return b, nil
	}
	return json.Marshal(v)
}

// MustNewQueue is NewQueue that panics on a config error, for package-level
// wiring at cold start.
func MustNewQueue[T any](client SQSClient, cfg QueueConfig[T]) *Queue[T] {
	q, err := NewQueue(client, cfg)
	if err != nil {
		panic(err)
	}
	return q
}

// URL returns the queue's URL.
func (q *Queue[T]) URL() string { return q.url }

// Send sends one value. The error is the Result's Err.
func (q *Queue[T]) Send(ctx context.Context, v T) (Result, error) {
	res, _ := q.SendBatch(ctx, []T{v})
	return res[0], res[0].Err
}

// SendBatch sends values in as few SendMessageBatch requests as SQS's
// limits allow (ten messages, 1 MiB), in order, and retries the entries
// SQS did not accept by their class, with backoff. It returns one Result
// per value, in order, and a *SendError (ErrNotSent) when any was not
// sent. A value over the queue's size limit fails with a *TooLargeError
// before any request, and one whose body or String attribute SQS would
// alter or refuse (bytes that are not UTF-8, characters outside SQS's set)
// with an *InvalidTextError naming the entry; the others are still sent.
// An entry SQS took but whose checksum does not match the body sent has
// its MessageID and a permanent *AlteredError: it is in the queue, altered,
// and is never sent again as if it had not been.
func (q *Queue[T]) SendBatch(ctx context.Context, vs []T) ([]Result, error) {
	res := make([]Result, len(vs))
	if len(vs) == 0 {
		return res, nil
	}
	maxSize, err := q.maxMessageSize(ctx)
	if err != nil {
		for i := range res {
			res[i].Err = err
		}
		return res, summarise(res)
	}
	corr := q.cfg.CorrelationID(ctx)
	trace := traceHeader(ctx)
	items := make([]pending[types.SendMessageBatchRequestEntry], 0, len(vs))
	dead := map[string]int{} // FIFO groups with an entry refused here
	for i, v := range vs {
		var group string
		if q.cfg.GroupID != nil {
			group = q.cfg.GroupID(v)
		}
		e, err := q.entry(i, v, group, corr, trace)
		if !q.fifo {
			group = "" // a fair queue's tenant: nothing waits behind a failure
		}
		if err == nil {
			if n := batch.SQSEntrySize(e); n > maxSize {
				err = &TooLargeError{Size: n, Max: maxSize, Limit: "MaximumMessageSize of the queue"}
			}
		}
		if err != nil {
			res[i].Err = err
			if _, ok := dead[group]; q.fifo && group != "" && !ok {
				dead[group] = i
			}
			continue
		}
		items = append(items, pending[types.SendMessageBatchRequestEntry]{i: i, entry: e, group: group})
	}
	deliver(ctx, q.cfg.Retry, q.fifo, items, batch.SQSEntrySize, batch.SQSLimits, q.call, res, dead)
	return res, summarise(res)
}

// entry builds the request entry for v; its Id is its index, unique in
// the input and so in any batch cut from it.
func (q *Queue[T]) entry(i int, v T, group, corr, trace string) (types.SendMessageBatchRequestEntry, error) {
	e := types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i))}
	body, err := q.cfg.Encode(v)
	if err != nil {
		return e, &permanentError{fmt.Errorf("producer: encode message body: %w", err)}
	}
	if len(body) == 0 {
		return e, &permanentError{errors.New("producer: empty message body (SQS needs at least one character)")}
	}
	if off, r, ok := checkText(string(body)); !ok {
		return e, &InvalidTextError{Entry: i, Field: "body", Offset: off, Rune: r}
	}
	e.MessageBody = aws.String(string(body))
	if q.cfg.Attributes != nil {
		e.MessageAttributes = q.cfg.Attributes(v)
		for _, name := range slices.Sorted(maps.Keys(e.MessageAttributes)) {
			if sv := e.MessageAttributes[name].StringValue; sv != nil {
				if off, r, ok := checkText(*sv); !ok {
					return e, &InvalidTextError{Entry: i, Field: "attribute " + strconv.Quote(name), Offset: off, Rune: r}
				}
			}
		}
	}
	if corr != "" {
		if _, set := e.MessageAttributes[handler.CorrelationIDAttribute]; !set {
			if e.MessageAttributes == nil {
				e.MessageAttributes = map[string]types.MessageAttributeValue{}
			}
			e.MessageAttributes[handler.CorrelationIDAttribute] = types.MessageAttributeValue{
				DataType: aws.String("String"), StringValue: aws.String(corr),
			}
		}
	}
	if trace != "" {
		e.MessageSystemAttributes = map[string]types.MessageSystemAttributeValue{
			TraceHeaderAttribute: {DataType: aws.String("String"), StringValue: aws.String(trace)},
		}
	}
	if q.cfg.Delay != nil {
		d := q.cfg.Delay(v)
		if d < 0 || d > 15*time.Minute {
			return e, &permanentError{fmt.Errorf("producer: delay %v is outside SQS's 0 to 15 minutes", d)}
		}
		e.DelaySeconds = int32(d / time.Second)
	}
	if !q.fifo && group != "" {
		e.MessageGroupId = aws.String(group)
	}
	if q.fifo {
		if group == "" {
			return e, &permanentError{errors.New("producer: empty FIFO group id")}
		}
		e.MessageGroupId = aws.String(group)
		switch {
		case q.cfg.IdempotencyKey != nil:
			k := q.cfg.IdempotencyKey(v)
			if k == "" {
				return e, &permanentError{errors.New("producer: empty idempotency key for the deduplication id")}
			}
			e.MessageDeduplicationId = aws.String(DeduplicationID(k))
		case q.cfg.DeduplicationID != nil:
			e.MessageDeduplicationId = aws.String(q.cfg.DeduplicationID(v))
		}
	}
	return e, nil
}

// call sends one batch and reads SQS's per-entry answer. A lone entry goes
// as a SendMessage: the same one request, and the emulators (moto) keep its
// system attributes, which they drop from batch entries.
//
// The SDK's own checksum check is off (ownChecksum): it fails the whole
// call after SQS took every entry, which a retry would turn into copies.
// call checks each accepted entry's checksum itself instead.
func (q *Queue[T]) call(ctx context.Context, entries []types.SendMessageBatchRequestEntry) ([]sent, error) {
	if len(entries) == 1 {
		e := entries[0]
		out, err := q.client.SendMessage(ctx, &sqs.SendMessageInput{
			QueueUrl: aws.String(q.url), MessageBody: e.MessageBody, MessageAttributes: e.MessageAttributes,
			MessageSystemAttributes: e.MessageSystemAttributes, DelaySeconds: e.DelaySeconds,
			MessageGroupId: e.MessageGroupId, MessageDeduplicationId: e.MessageDeduplicationId,
		}, ownChecksum)
		if err != nil {
			// One entry: the request's failure is the entry's, classified
			// by its code like a batch entry's.
			return []sent{{err: fmt.Errorf("producer: SendMessage: %w", err)}}, nil
		}
		return []sent{accepted(e, aws.ToString(out.MessageId), aws.ToString(out.SequenceNumber), out.MD5OfMessageBody)}, nil
	}
	out, err := q.client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(q.url), Entries: entries}, ownChecksum)
	if err != nil {
		return nil, fmt.Errorf("producer: SendMessageBatch: %w", err)
	}
	pos := make(map[string]int, len(entries))
	for k, e := range entries {
		pos[*e.Id] = k
	}
	res := make([]sent, len(entries))
	seen := make([]bool, len(entries))
	for _, s := range out.Successful {
		if k, ok := pos[aws.ToString(s.Id)]; ok {
			res[k] = accepted(entries[k], aws.ToString(s.MessageId), aws.ToString(s.SequenceNumber), s.MD5OfMessageBody)
			seen[k] = true
		}
	}
	for _, f := range out.Failed {
		if k, ok := pos[aws.ToString(f.Id)]; ok {
			res[k] = sent{err: entryError(aws.ToString(f.Code), aws.ToString(f.Message), f.SenderFault)}
			seen[k] = true
		}
	}
	for k, ok := range seen {
		if !ok {
			// Neither accepted nor refused: retrying is safe on a FIFO queue
			// (the deduplication id) and at worst a duplicate on a standard
			// one, which is better than a loss.
			res[k] = sent{err: errors.New("producer: SendMessageBatch did not answer for the entry")}
		}
	}
	return res, nil
}

// ownChecksum turns the SDK's message checksum check off for one call:
// call checks per entry (see call).
func ownChecksum(o *sqs.Options) { o.DisableMessageChecksumValidation = true }

// accepted is what SQS's acceptance of entry e says: sent, or sent with an
// altered body when the checksum SQS answered is not the body's. An answer
// without a checksum (some emulators) is taken as is.
func accepted(e types.SendMessageBatchRequestEntry, id, seq string, md5Answer *string) sent {
	s := sent{id: id, seq: seq}
	if md5Answer == nil || *md5Answer == "" {
		return s
	}
	sum := md5.Sum([]byte(aws.ToString(e.MessageBody)))
	if want := hex.EncodeToString(sum[:]); !strings.EqualFold(want, *md5Answer) {
		s.err = &AlteredError{MessageID: id, Sent: want, Stored: *md5Answer}
	}
	return s
}

// entryError turns a batch entry's failure into an API error that
// retry.Classify reads like any other: by code, and by fault.
func entryError(code, msg string, senderFault bool) error {
	fault := smithy.FaultServer
	if senderFault {
		fault = smithy.FaultClient
	}
	return fmt.Errorf("producer: entry refused: %w", &smithy.GenericAPIError{Code: code, Message: msg, Fault: fault})
}

// maxMessageSize returns the size limit, reading the queue's attribute the
// first time. A failed read is returned, not cached: the next send tries
// again.
func (q *Queue[T]) maxMessageSize(ctx context.Context) (int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.maxSize > 0 {
		return q.maxSize, nil
	}
	out, err := q.client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(q.url),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameMaximumMessageSize},
	})
	if err != nil {
		return 0, fmt.Errorf("producer: read MaximumMessageSize of %s (set QueueConfig.MaxMessageSize to skip the read): %w", q.url, err)
	}
	n, err := strconv.Atoi(out.Attributes[string(types.QueueAttributeNameMaximumMessageSize)])
	if err != nil || n <= 0 {
		return 0, &permanentError{fmt.Errorf("producer: queue %s reports MaximumMessageSize %q: set QueueConfig.MaxMessageSize to the queue's limit "+
			"(a client that does not answer the attribute, such as a test double, needs it; latchtest.SQS answers it)",
			q.url, out.Attributes[string(types.QueueAttributeNameMaximumMessageSize)])}
	}
	q.maxSize = n
	return n, nil
}
