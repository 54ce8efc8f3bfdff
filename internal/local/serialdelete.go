package local

import (
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/latchkit/latch/internal/esm"
)

// serialDelete makes the pollers of one queue delete one batch at a time.
//
// moto deletes by rebuilding the queue's message list from a snapshot and
// assigning it back, so two deletes that overlap can each put back the
// message the other removed. The resurrected message is still marked as
// received: it sits invisible for the queue's visibility timeout and is then
// delivered again (seen in the demo as ten orders "in flight" for three
// minutes, then duplicates). SQS has no such race; serialising the deletes
// of a queue's pollers keeps moto from showing one. Receives and the
// functions' own calls are unaffected.
type serialDelete struct {
	sqsClient
	mu *sync.Mutex
}

// sqsClient is what a mapping calls: esm's Client, and the visibility
// change its FIFO order guard (esm.InFlight) hands messages back with.
type sqsClient interface {
	esm.Client
	esm.VisibilityClient
}

func (c serialDelete) DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sqsClient.DeleteMessageBatch(ctx, in, optFns...)
}
