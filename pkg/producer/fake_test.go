package producer_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
)

// fakeSQS records every request. fail decides, per entry body and the
// number of times that body was seen before, whether SQS refuses it.
//
// It answers as SQS does behind the SDK: a body with invalid UTF-8 is
// stored with U+FFFD in place of each bad byte (the SDK's JSON encoding),
// the answer carries the MD5 of what was stored, and unless the caller
// turned the SDK's check off (sqs.Options.DisableMessageChecksumValidation)
// a mismatch fails the whole call after SQS took every entry, as the SDK's
// middleware does.
type fakeSQS struct {
	mu       sync.Mutex
	maxSize  string
	attrGets int
	calls    []*sqs.SendMessageBatchInput
	seen     map[string]int
	// fail returns (code, senderFault) to refuse an entry, "" to accept.
	fail func(body string, seen int) (string, bool)
	// callErr fails the whole request when it returns non-nil.
	callErr func(call int) error
	// alter, when set, changes a body as SQS stores it, as the SDK's
	// replacement of invalid UTF-8 does.
	alter func(body string) string
	sent  []types.SendMessageBatchRequestEntry
}

func (f *fakeSQS) GetQueueAttributes(_ context.Context, in *sqs.GetQueueAttributesInput, _ ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attrGets++
	return &sqs.GetQueueAttributesOutput{Attributes: map[string]string{"MaximumMessageSize": f.maxSize}}, nil
}

// SendMessage is a batch of one.
func (f *fakeSQS) SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	out, err := f.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: in.QueueUrl, Entries: []types.SendMessageBatchRequestEntry{{
		Id: aws.String("0"), MessageBody: in.MessageBody, MessageAttributes: in.MessageAttributes,
		MessageSystemAttributes: in.MessageSystemAttributes, DelaySeconds: in.DelaySeconds,
		MessageGroupId: in.MessageGroupId, MessageDeduplicationId: in.MessageDeduplicationId,
	}}}, optFns...)
	if err != nil {
		return nil, err
	}
	if len(out.Failed) > 0 {
		return nil, &smithy.GenericAPIError{Code: aws.ToString(out.Failed[0].Code), Message: "injected", Fault: fault(out.Failed[0].SenderFault)}
	}
	return &sqs.SendMessageOutput{MessageId: out.Successful[0].MessageId, SequenceNumber: out.Successful[0].SequenceNumber, MD5OfMessageBody: out.Successful[0].MD5OfMessageBody}, nil
}

// md5Hex is the checksum SQS answers for a body.
func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func fault(sender bool) smithy.ErrorFault {
	if sender {
		return smithy.FaultClient
	}
	return smithy.FaultServer
}

func (f *fakeSQS) SendMessageBatch(_ context.Context, in *sqs.SendMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	var opts sqs.Options
	for _, fn := range optFns {
		fn(&opts)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, in)
	if f.callErr != nil {
		if err := f.callErr(len(f.calls)); err != nil {
			return nil, err
		}
	}
	if f.seen == nil {
		f.seen = map[string]int{}
	}
	out := &sqs.SendMessageBatchOutput{}
	mismatch := false
	for _, e := range in.Entries {
		body := aws.ToString(e.MessageBody)
		n := f.seen[body]
		f.seen[body]++
		if f.fail != nil {
			if code, sender := f.fail(body, n); code != "" {
				out.Failed = append(out.Failed, types.BatchResultErrorEntry{
					Id: e.Id, Code: aws.String(code), Message: aws.String("injected"), SenderFault: sender,
				})
				continue
			}
		}
		stored := strings.ToValidUTF8(body, "\uFFFD")
		if f.alter != nil {
			stored = f.alter(stored)
		}
		e.MessageBody = aws.String(stored)
		f.sent = append(f.sent, e)
		out.Successful = append(out.Successful, types.SendMessageBatchResultEntry{
			Id: e.Id, MessageId: aws.String("m-" + body), SequenceNumber: aws.String(strconv.Itoa(len(f.sent))),
			MD5OfMessageBody: aws.String(md5Hex(stored)),
		})
		if stored != body && !opts.DisableMessageChecksumValidation {
			mismatch = true
		}
	}
	if mismatch {
		return nil, errors.New("operation error SQS: SendMessageBatch, message checksum validation failed, message checksum errors")
	}
	return out, nil
}

// bodies returns the bodies SQS accepted, in order.
func (f *fakeSQS) bodies() []string {
	var b []string
	for _, e := range f.sent {
		b = append(b, aws.ToString(e.MessageBody))
	}
	return b
}

// batchSizes returns the entry count of every request.
func (f *fakeSQS) batchSizes() []int {
	var n []int
	for _, c := range f.calls {
		n = append(n, len(c.Entries))
	}
	return n
}

// fakeEvents is the EventBridge counterpart of fakeSQS.
type fakeEvents struct {
	mu    sync.Mutex
	calls []*eventbridge.PutEventsInput
	seen  map[string]int
	fail  func(detail string, seen int) string
	put   []ebtypes.PutEventsRequestEntry
}

func (f *fakeEvents) PutEvents(_ context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, in)
	if f.seen == nil {
		f.seen = map[string]int{}
	}
	out := &eventbridge.PutEventsOutput{}
	for _, e := range in.Entries {
		d := aws.ToString(e.Detail)
		n := f.seen[d]
		f.seen[d]++
		if f.fail != nil {
			if code := f.fail(d, n); code != "" {
				out.FailedEntryCount++
				out.Entries = append(out.Entries, ebtypes.PutEventsResultEntry{ErrorCode: aws.String(code), ErrorMessage: aws.String("injected")})
				continue
			}
		}
		f.put = append(f.put, e)
		out.Entries = append(out.Entries, ebtypes.PutEventsResultEntry{EventId: aws.String("e-" + strconv.Itoa(len(f.put)))})
	}
	return out, nil
}

// waits records the backoff delays and returns at once: tests never sleep.
type waits struct {
	mu sync.Mutex
	d  []time.Duration
}

func (w *waits) wait(ctx context.Context, d time.Duration) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.d = append(w.d, d)
	return ctx.Err()
}
