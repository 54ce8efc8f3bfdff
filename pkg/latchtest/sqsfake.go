package latchtest

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
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
	"github.com/latchkit/latch/pkg/producer"
)

// SQS is an in-memory SQS for the calls latch makes: the handlers'
// (handler.SQSClient, handler.FailureQueueClient) and a producer's
// (producer.SQSClient: SendMessageBatch, and the queue's
// MaximumMessageSize), so it also backs a poller whose Sink is a
// producer.Queue. It knows the queues added to it, records every call, and
// fails the calls it is told to fail. It is safe for the concurrent calls
// of records that run in parallel.
//
// It holds no messages to receive: what is sent is recorded (Sent), for
// assertions; Lambda's side of a queue is built with SQSEvent.
type SQS struct {
	mu         sync.Mutex
	queues     map[string]map[string]string // name → attributes
	calls      map[string]int
	visibility []VisibilityChange
	sent       []Sent
	errs       map[string]error // operation → injected error
	badHandles map[string]bool  // receipt handles whose visibility change fails
}

var (
	_ handler.SQSClient          = (*SQS)(nil)
	_ handler.FailureQueueClient = (*SQS)(nil)
	_ producer.SQSClient         = (*SQS)(nil)
)

// Operations of the fake, for Fail and Calls.
const (
	OpGetQueueURL        = "GetQueueUrl"
	OpGetQueueAttributes = "GetQueueAttributes"
	OpChangeVisibility   = "ChangeMessageVisibilityBatch"
	OpSendMessage        = "SendMessage"
	OpSendMessageBatch   = "SendMessageBatch"
)

// SQS's limits the fake enforces.
const (
	maxAttributesPerSend  = 10
	maxEntriesPerBatchReq = 10
)

// MaxMessageSize is the MaximumMessageSize of the fake's queues: SQS's
// limit and its default for new queues since it rose from 256 KiB to
// 1 MiB. SendMessage refuses a larger message as SQS does.
const MaxMessageSize = 1 << 20

// NewSQS returns a fake with no queues.
func NewSQS() *SQS {
	return &SQS{
		queues:     map[string]map[string]string{},
		calls:      map[string]int{},
		errs:       map[string]error{},
		badHandles: map[string]bool{},
	}
}

// AddQueue adds the named queue. With maxReceiveCount > 0 it also adds its
// dead-letter queue, "<name>-dlq" (before ".fifo" on a FIFO queue), and a
// RedrivePolicy pointing at it; with 0 the queue has no DLQ. It returns
// the queue's URL.
func (f *SQS) AddQueue(name string, maxReceiveCount int) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queues[name] = queueAttributes(name)
	if maxReceiveCount > 0 {
		dlq := DLQName(name)
		f.queues[dlq] = queueAttributes(dlq)
		f.queues[name][string(types.QueueAttributeNameRedrivePolicy)] = fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":%d}`, QueueARN(dlq), maxReceiveCount)
	}
	return QueueURL(name)
}

// queueAttributes are a new queue's attributes before any RedrivePolicy.
func queueAttributes(name string) map[string]string {
	return map[string]string{
		string(types.QueueAttributeNameQueueArn):           QueueARN(name),
		string(types.QueueAttributeNameMaximumMessageSize): strconv.Itoa(MaxMessageSize),
	}
}

// DLQName returns the name AddQueue gives the named queue's dead-letter
// queue.
func DLQName(queue string) string {
	if base, ok := strings.CutSuffix(queue, ".fifo"); ok {
		return base + "-dlq.fifo"
	}
	return queue + "-dlq"
}

// Fail makes every later call of the operation (OpSendMessage, ...) fail
// with err; nil makes it succeed again.
func (f *SQS) Fail(op string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs[op] = err
}

// FailVisibilityOf makes the visibility change of the message with this id
// fail alone, as SQS fails an entry whose receipt handle is stale, while
// the rest of its batch call succeeds.
func (f *SQS) FailVisibilityOf(messageID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.badHandles[ReceiptHandle(messageID)] = true
}

// Calls returns how many calls of the operation the fake answered or
// failed.
func (f *SQS) Calls(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

// begin counts a call and returns its injected error.
func (f *SQS) begin(op string) error {
	f.calls[op]++
	return f.errs[op]
}

func (f *SQS) queueName(url string) (string, error) {
	name := url[strings.LastIndex(url, "/")+1:]
	if _, ok := f.queues[name]; !ok || url != QueueURL(name) {
		return "", &types.QueueDoesNotExist{Message: aws.String("latchtest: no queue " + url + "; add it with AddQueue")}
	}
	return name, nil
}

// GetQueueUrl answers for queues added with AddQueue in Account.
func (f *SQS) GetQueueUrl(_ context.Context, in *sqs.GetQueueUrlInput, _ ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin(OpGetQueueURL); err != nil {
		return nil, err
	}
	name := aws.ToString(in.QueueName)
	owner := aws.ToString(in.QueueOwnerAWSAccountId)
	if _, ok := f.queues[name]; !ok || (owner != "" && owner != Account) {
		return nil, &types.QueueDoesNotExist{Message: aws.String("latchtest: no queue " + name + "; add it with AddQueue")}
	}
	return &sqs.GetQueueUrlOutput{QueueUrl: aws.String(QueueURL(name))}, nil
}

// GetQueueAttributes returns the queue's ARN, MaximumMessageSize and
// RedrivePolicy, whatever names were asked for.
func (f *SQS) GetQueueAttributes(_ context.Context, in *sqs.GetQueueAttributesInput, _ ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin(OpGetQueueAttributes); err != nil {
		return nil, err
	}
	name, err := f.queueName(aws.ToString(in.QueueUrl))
	if err != nil {
		return nil, err
	}
	attrs := map[string]string{}
	for k, v := range f.queues[name] {
		attrs[k] = v
	}
	return &sqs.GetQueueAttributesOutput{Attributes: attrs}, nil
}

// VisibilityChange is one entry of a ChangeMessageVisibilityBatch call.
type VisibilityChange struct {
	QueueURL      string
	ReceiptHandle string
	// Timeout is the new visibility timeout: when the message comes back.
	Timeout time.Duration
	// Failed is true when the fake failed the entry or the whole call.
	Failed bool
}

// ChangeMessageVisibilityBatch records each entry and fails those it was
// told to; more than ten entries fail the call, as SQS does.
func (f *SQS) ChangeMessageVisibilityBatch(_ context.Context, in *sqs.ChangeMessageVisibilityBatchInput, _ ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	callErr := f.begin(OpChangeVisibility)
	if len(in.Entries) > maxEntriesPerBatchReq {
		return nil, &types.TooManyEntriesInBatchRequest{Message: aws.String(fmt.Sprintf("%d entries", len(in.Entries)))}
	}
	if _, err := f.queueName(aws.ToString(in.QueueUrl)); err != nil {
		return nil, err
	}
	out := &sqs.ChangeMessageVisibilityBatchOutput{}
	for _, e := range in.Entries {
		rh := aws.ToString(e.ReceiptHandle)
		bad := callErr != nil || f.badHandles[rh]
		f.visibility = append(f.visibility, VisibilityChange{
			QueueURL: aws.ToString(in.QueueUrl), ReceiptHandle: rh,
			Timeout: time.Duration(e.VisibilityTimeout) * time.Second, Failed: bad,
		})
		if bad {
			out.Failed = append(out.Failed, types.BatchResultErrorEntry{Id: e.Id, Code: aws.String("ReceiptHandleIsInvalid"), Message: aws.String("latchtest: injected failure"), SenderFault: true})
			continue
		}
		out.Successful = append(out.Successful, types.ChangeMessageVisibilityBatchResultEntry{Id: e.Id})
	}
	if callErr != nil {
		return nil, callErr
	}
	return out, nil
}

// VisibilityChanges returns every visibility change asked for, in order.
func (f *SQS) VisibilityChanges() []VisibilityChange {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]VisibilityChange(nil), f.visibility...)
}

// Visibility returns the last visibility timeout asked for the message
// with this id (built by this package), and whether one was.
func (f *SQS) Visibility(messageID string) (time.Duration, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rh := ReceiptHandle(messageID)
	for i := len(f.visibility) - 1; i >= 0; i-- {
		if f.visibility[i].ReceiptHandle == rh {
			return f.visibility[i].Timeout, true
		}
	}
	return 0, false
}

// SendMessage records the message, checking what SQS checks: the queue
// exists, at most ten message attributes, the body and attributes within
// MaxMessageSize, a MessageGroupId on FIFO queues, and a deduplication id
// only there. A standard queue takes a MessageGroupId too: it names the
// tenant of a fair queue and orders nothing.
func (f *SQS) SendMessage(_ context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin(OpSendMessage); err != nil {
		return nil, err
	}
	if err := f.check(in); err != nil {
		return nil, err
	}
	s := f.record(in)
	return &sqs.SendMessageOutput{MessageId: aws.String(s.ID), MD5OfMessageBody: aws.String(md5Hex(s.Body))}, nil
}

// SendMessageBatch records each entry, checking what SendMessage checks
// of every entry and what SQS checks of the call: one to ten entries with
// distinct ids. A refused call records nothing.
func (f *SQS) SendMessageBatch(_ context.Context, in *sqs.SendMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin(OpSendMessageBatch); err != nil {
		return nil, err
	}
	switch n := len(in.Entries); {
	case n == 0:
		return nil, &types.EmptyBatchRequest{Message: aws.String("latchtest: no entries")}
	case n > maxEntriesPerBatchReq:
		return nil, &types.TooManyEntriesInBatchRequest{Message: aws.String(fmt.Sprintf("%d entries, SQS allows %d", n, maxEntriesPerBatchReq))}
	}
	ids := map[string]bool{}
	msgs := make([]*sqs.SendMessageInput, len(in.Entries))
	for i, e := range in.Entries {
		if ids[aws.ToString(e.Id)] {
			return nil, &types.BatchEntryIdsNotDistinct{Message: aws.String("latchtest: entry id " + aws.ToString(e.Id) + " twice")}
		}
		ids[aws.ToString(e.Id)] = true
		msgs[i] = &sqs.SendMessageInput{
			QueueUrl: in.QueueUrl, MessageBody: e.MessageBody, MessageAttributes: e.MessageAttributes,
			MessageSystemAttributes: e.MessageSystemAttributes, DelaySeconds: e.DelaySeconds,
			MessageGroupId: e.MessageGroupId, MessageDeduplicationId: e.MessageDeduplicationId,
		}
		if err := f.check(msgs[i]); err != nil {
			return nil, err
		}
	}
	out := &sqs.SendMessageBatchOutput{}
	for i, m := range msgs {
		s := f.record(m)
		out.Successful = append(out.Successful, types.SendMessageBatchResultEntry{
			Id: in.Entries[i].Id, MessageId: aws.String(s.ID), MD5OfMessageBody: aws.String(md5Hex(s.Body)),
		})
	}
	return out, nil
}

// check refuses a message SQS would refuse.
func (f *SQS) check(in *sqs.SendMessageInput) error {
	url := aws.ToString(in.QueueUrl)
	if _, err := f.queueName(url); err != nil {
		return err
	}
	if len(in.MessageAttributes) > maxAttributesPerSend {
		return &types.InvalidAttributeName{Message: aws.String(fmt.Sprintf("%d message attributes, SQS allows %d", len(in.MessageAttributes), maxAttributesPerSend))}
	}
	if n := batch.SQSMessageSize(aws.ToString(in.MessageBody), in.MessageAttributes); n > MaxMessageSize {
		return &smithy.GenericAPIError{Code: "InvalidParameterValue", Message: fmt.Sprintf("latchtest: message of %d bytes, over the queue's MaximumMessageSize of %d", n, MaxMessageSize), Fault: smithy.FaultClient}
	}
	fifo := strings.HasSuffix(url, ".fifo")
	switch {
	case fifo && in.MessageGroupId == nil:
		return errors.New("latchtest: MessageGroupId is required on FIFO queues")
	case !fifo && in.MessageDeduplicationId != nil:
		return errors.New("latchtest: MessageDeduplicationId is refused on standard queues")
	}
	return nil
}

// record keeps a sent message under the next id, "sent-<n>".
func (f *SQS) record(in *sqs.SendMessageInput) Sent {
	s := newSent("sent-"+strconv.Itoa(len(f.sent)+1), in)
	f.sent = append(f.sent, s)
	return s
}

// md5Hex is the checksum SQS answers for a body, which the producer checks.
func md5Hex(body string) string {
	sum := md5.Sum([]byte(body))
	return hex.EncodeToString(sum[:])
}

// Sent returns every message sent to the queue with this URL (any queue
// when url is empty), in order.
func (f *SQS) Sent(url string) []Sent {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Sent
	for _, s := range f.sent {
		if url == "" || s.QueueURL == url {
			out = append(out, s)
		}
	}
	return out
}

// DeadLettered returns every message sent to a dead-letter queue AddQueue
// made, in order.
func (f *SQS) DeadLettered() []Sent {
	f.mu.Lock()
	defer f.mu.Unlock()
	dlqs := map[string]bool{}
	for name, attrs := range f.queues {
		if p := attrs[string(types.QueueAttributeNameRedrivePolicy)]; p != "" {
			dlqs[QueueURL(DLQName(name))] = true
		}
	}
	var out []Sent
	for _, s := range f.sent {
		if dlqs[s.QueueURL] {
			out = append(out, s)
		}
	}
	return out
}
