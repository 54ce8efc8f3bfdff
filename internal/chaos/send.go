package chaos

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/latchkit/latch/internal/batch"
	"github.com/latchkit/latch/internal/clock"
	"github.com/latchkit/latch/pkg/retry"
)

// sent is a message SQS took, with the id it gave it: the id latch puts on
// a DLQ copy (handler.DLQAttrSourceMessageID).
type sent struct {
	message
	messageID string
}

// batchSender is the call the sender makes; *sqs.Client satisfies it.
type batchSender interface {
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
}

var _ batchSender = (*sqs.Client)(nil)

// senderRetry rides out a slow or failing emulator the way latch's producer
// does (pkg/producer): each entry SQS did not take is retried on its own,
// with a growing backoff, and every call has a bound of its own so that a
// stuck one is given up and tried again instead of holding the run. The
// run's messages include bodies SQS alters (invalid UTF-8), which the
// producer refuses, so the run sends them itself.
type senderRetry struct {
	// attempts is the most calls that carry one entry.
	attempts int
	// call bounds each SendMessageBatch.
	call time.Duration
	// backoff spaces the attempts.
	backoff retry.Backoff
	// wait waits d or until ctx ends; tests make it instant.
	wait func(ctx context.Context, d time.Duration) error
}

var defaultSenderRetry = senderRetry{
	attempts: 10,
	call:     30 * time.Second,
	backoff:  retry.Backoff{Base: 250 * time.Millisecond, Max: 10 * time.Second},
	wait:     clock.Sleep,
}

// sendResult is what send did.
type sendResult struct {
	sent []sent
	// resent are the bodies (as SQS stores them, see asSQSStores) of
	// poison messages sent again after a call whose answer was lost: SQS
	// may hold them twice, the first under an id the run never learnt.
	resent map[string]bool
	// retries counts the entries sent again, lost answers included.
	retries int
}

// send puts the messages on the queue in batches packed by count and by
// size (a batch request has the size limit of one message), in order,
// retrying what SQS did not take. It fails on an entry SQS refuses for the
// sender's fault (the plan is wrong), on one still not taken after every
// attempt, or when ctx ends.
func send(ctx context.Context, client batchSender, queueURL string, msgs []message, rc senderRetry) (sendResult, error) {
	res := sendResult{resent: map[string]bool{}}
	// Invalid UTF-8 reaches SQS as U+FFFD (three bytes for one), and JSON
	// escaping adds a little: the margin keeps a packed batch under the
	// limit whatever the encoding does.
	size := func(m message) int { return len(m.body) + 2*nonASCII(m.body) + 64 }
	batches, err := batch.Pack(msgs, size, batch.Limits{MaxEntries: 10, MaxBytes: maxBody})
	if err != nil {
		return res, fmt.Errorf("chaos: pack: %w", err)
	}
	for _, b := range batches {
		if err := sendBatch(ctx, client, queueURL, b, rc, &res); err != nil {
			return res, err
		}
	}
	return res, nil
}

func sendBatch(ctx context.Context, client batchSender, queueURL string, b []message, rc senderRetry, res *sendResult) error {
	pending := make([]int, len(b)) // indexes into b
	for i := range pending {
		pending[i] = i
	}
	var last error
	for attempt := 1; len(pending) > 0; attempt++ {
		if attempt > rc.attempts {
			return fmt.Errorf("chaos: %d messages (kinds %s…) not sent after %d attempts: %w", len(pending), b[pending[0]].kind, rc.attempts, last)
		}
		if attempt > 1 {
			res.retries += len(pending)
			if err := rc.wait(ctx, rc.backoff.Delay(last, attempt-1)); err != nil {
				return fmt.Errorf("chaos: send: %w (last error: %v)", err, last)
			}
		}
		in := &sqs.SendMessageBatchInput{QueueUrl: aws.String(queueURL)}
		for _, i := range pending {
			in.Entries = append(in.Entries, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(b[i].body)})
		}
		callCtx, cancel := context.WithTimeout(ctx, rc.call)
		out, err := client.SendMessageBatch(callCtx, in)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("chaos: send: %w", ctx.Err())
			}
			// The answer is lost, not necessarily the messages: SQS may
			// have taken them. The poison among them may thus reach the
			// DLQ twice under two ids; the check knows their bodies.
			for _, i := range pending {
				if b[i].poison {
					res.resent[asSQSStores(b[i].body)] = true
				}
			}
			last = err
			continue
		}
		for _, ok := range out.Successful {
			i, _ := strconv.Atoi(aws.ToString(ok.Id))
			res.sent = append(res.sent, sent{message: b[i], messageID: aws.ToString(ok.MessageId)})
		}
		var again []int
		for _, f := range out.Failed {
			i, _ := strconv.Atoi(aws.ToString(f.Id))
			if f.SenderFault {
				return fmt.Errorf("chaos: SQS refused a %s message: %s %s", b[i].kind, aws.ToString(f.Code), aws.ToString(f.Message))
			}
			again = append(again, i)
			last = errors.New(aws.ToString(f.Code) + ": " + aws.ToString(f.Message))
		}
		pending = again
	}
	return nil
}

// asSQSStores is the body as SQS stores it: the SDK sends each byte of
// invalid UTF-8 as U+FFFD.
func asSQSStores(body string) string {
	if utf8.ValidString(body) {
		return body
	}
	var b strings.Builder
	for i := 0; i < len(body); {
		r, n := utf8.DecodeRuneInString(body[i:])
		b.WriteRune(r) // utf8.RuneError is U+FFFD
		i += n
	}
	return b.String()
}

func nonASCII(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			n++
		}
	}
	return n
}
