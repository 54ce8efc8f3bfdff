package chaos

import (
	"context"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/latchkit/latch/internal/batch"
)

// sent is a message SQS took, with the id it gave it: the id latch puts on
// a DLQ copy (handler.DLQAttrSourceMessageID).
type sent struct {
	message
	messageID string
}

// send puts the messages on the queue in batches packed by count and by
// size (a batch request has the size limit of one message), in order.
func send(ctx context.Context, client *sqs.Client, queueURL string, msgs []message) ([]sent, error) {
	// Invalid UTF-8 reaches SQS as U+FFFD (three bytes for one), and JSON
	// escaping adds a little: the margin keeps a packed batch under the
	// limit whatever the encoding does.
	size := func(m message) int { return len(m.body) + 2*nonASCII(m.body) + 64 }
	batches, err := batch.Pack(msgs, size, batch.Limits{MaxEntries: 10, MaxBytes: maxBody})
	if err != nil {
		return nil, fmt.Errorf("chaos: pack: %w", err)
	}
	var out []sent
	for _, b := range batches {
		in := &sqs.SendMessageBatchInput{QueueUrl: aws.String(queueURL)}
		for j, m := range b {
			in.Entries = append(in.Entries, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(j)), MessageBody: aws.String(m.body)})
		}
		res, err := client.SendMessageBatch(ctx, in)
		if err != nil {
			return out, fmt.Errorf("chaos: send %d messages (kinds %s…): %w", len(b), b[0].kind, err)
		}
		if len(res.Failed) > 0 {
			f := res.Failed[0]
			j, _ := strconv.Atoi(aws.ToString(f.Id))
			return out, fmt.Errorf("chaos: SQS refused a %s message: %s %s", b[j].kind, aws.ToString(f.Code), aws.ToString(f.Message))
		}
		for _, ok := range res.Successful {
			j, _ := strconv.Atoi(aws.ToString(ok.Id))
			out = append(out, sent{message: b[j], messageID: aws.ToString(ok.MessageId)})
		}
	}
	return out, nil
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
