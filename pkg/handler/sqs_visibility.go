package handler

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// sqsMaxBatch is SQS's limit of entries per batch call.
const sqsMaxBatch = 10

// scheduleRetries sets the visibility timeout of every pending record to its
// delay, ten per call and queue, and finishes them: RetryScheduled when SQS
// took the change, Failed when it did not; a blocked record is Blocked
// either way (see blockedVisibilityFailed).
func (p *sqsProcessor[T]) scheduleRetries(ctx context.Context, runs []*sqsRun) {
	byQueue := map[string][]*sqsRun{}
	var order []string
	for _, r := range runs {
		if !r.pending {
			continue
		}
		if _, ok := byQueue[r.queue.url]; !ok {
			order = append(order, r.queue.url)
		}
		byQueue[r.queue.url] = append(byQueue[r.queue.url], r)
	}
	for _, url := range order {
		pending := byQueue[url]
		for len(pending) > 0 {
			n := min(len(pending), sqsMaxBatch)
			bctx, cancel := bookkeeping(ctx)
			p.changeVisibility(bctx, url, pending[:n])
			cancel()
			pending = pending[n:]
		}
	}
}

func (p *sqsProcessor[T]) changeVisibility(ctx context.Context, url string, chunk []*sqsRun) {
	in := &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(url)}
	for i, r := range chunk {
		in.Entries = append(in.Entries, types.ChangeMessageVisibilityBatchRequestEntry{
			Id:                aws.String(strconv.Itoa(i)),
			ReceiptHandle:     aws.String(r.it.msg.ReceiptHandle),
			VisibilityTimeout: visibilitySeconds(r.delay),
		})
	}
	out, err := p.cfg.Client.ChangeMessageVisibilityBatch(ctx, in)
	if err != nil {
		for _, r := range chunk {
			p.visibilityFailed(r, err)
		}
		return
	}
	failed := map[string]error{}
	for _, f := range out.Failed {
		failed[aws.ToString(f.Id)] = errors.New(aws.ToString(f.Code) + ": " + aws.ToString(f.Message))
	}
	for _, s := range out.Successful {
		failed[aws.ToString(s.Id)] = nil
	}
	for i, r := range chunk {
		ferr, ok := failed[strconv.Itoa(i)]
		if !ok {
			ferr = errors.New("SQS answered neither success nor failure for the entry")
		}
		if ferr != nil {
			p.visibilityFailed(r, ferr)
			continue
		}
		if r.blocked {
			r.report.Outcome = Blocked
		} else {
			r.report.Outcome = RetryScheduled
			r.report.RetryDelay = time.Duration(visibilitySeconds(r.delay)) * time.Second
		}
		p.finish(r)
	}
}

// visibilityFailed finishes a record whose visibility change SQS refused. A
// failed record is Failed: its retry is not delayed as asked. A blocked
// record stays Blocked: it is reported either way and comes back after the
// queue's visibility timeout instead of at once, still behind its blocker,
// which SQS holds the group for; only the wait is longer.
func (p *sqsProcessor[T]) visibilityFailed(r *sqsRun, err error) {
	if !r.blocked {
		p.fail(r, "delay its retry", err)
		return
	}
	p.log.WarnContext(r.ctx, "handler: could not make a blocked record visible again; it returns after the queue's visibility timeout",
		slog.String("message_id", r.it.msg.MessageId), slog.Any("error", err))
	r.report.Outcome = Blocked
	p.finish(r)
}

// sqsMaxVisibility is the longest visibility latch asks for. SQS allows 12
// hours of visibility in total counted from the receive, not from the
// change, and rejects more; by the time latch asks, the record has been in
// flight for at most a batching window (5 minutes) and a function timeout
// (15 minutes).
const sqsMaxVisibility = 12*time.Hour - 20*time.Minute

// visibilitySeconds rounds d up to whole seconds, SQS's unit (rounding
// down could bring a record back before the lock it waits for has died),
// within [0, sqsMaxVisibility].
func visibilitySeconds(d time.Duration) int32 {
	s := math.Ceil(d.Seconds())
	return int32(max(0, min(s, sqsMaxVisibility.Seconds())))
}
