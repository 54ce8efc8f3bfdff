package handler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// sqsQueue is what the processor knows about a source queue. It is read
// once per execution environment (a cold start) and kept: a queue's URL and
// redrive policy change only with a deploy.
type sqsQueue struct {
	arn  string
	url  string
	fifo bool
	// maxReceiveCount is from the RedrivePolicy; 0 when the queue has none.
	maxReceiveCount int
	// lastAttempt is the attempt on which a retryable failure is
	// dead-lettered: see SQSConfig.MaxAttempts. Always positive.
	lastAttempt int
	// dlqURL is SQSConfig.DLQURL, else the RedrivePolicy's target; empty when
	// there is neither.
	dlqURL  string
	dlqFIFO bool
}

// sqsQueues resolves source queues by ARN, lazily: a batch that succeeds
// needs none of this, so the happy path makes no extra calls. Failures are
// not kept; the next record that needs the queue asks again.
type sqsQueues struct {
	client      SQSClient
	dlqURL      string
	maxAttempts int

	mu      sync.Mutex
	known   map[string]*sqsQueue
	loading map[string]*queueLoad // lookups in flight, by ARN
}

// queueLoad is one lookup in flight: the records that need the queue
// meanwhile wait for it instead of each making their own calls.
type queueLoad struct {
	done chan struct{} // closed when q and err are set
	q    *sqsQueue
	err  error
}

func newSQSQueues(client SQSClient, dlqURL string, maxAttempts int) *sqsQueues {
	return &sqsQueues{client: client, dlqURL: dlqURL, maxAttempts: maxAttempts, known: map[string]*sqsQueue{}, loading: map[string]*queueLoad{}}
}

// get returns the queue with the given ARN. Concurrent records of one
// batch wait for one lookup instead of each making their own, but the lock
// is not held across the AWS calls: the lookup runs with the context of
// the record that started it, and if that context ends first (its record
// was cancelled, say), a record still waiting does not inherit the
// failure; it starts the lookup again with its own context. Any other
// failure is shared by the records waiting for it: they would meet it too.
//
// A queue without a dead-letter queue is an error wrapping ErrNoDLQ and
// ErrConfig, and is not kept: the policy may be added without a deploy,
// and the next invocation should see it.
func (qs *sqsQueues) get(ctx context.Context, queueARN string) (*sqsQueue, error) {
	for {
		qs.mu.Lock()
		if q, ok := qs.known[queueARN]; ok {
			qs.mu.Unlock()
			return q, nil
		}
		l, inFlight := qs.loading[queueARN]
		if !inFlight {
			l = &queueLoad{done: make(chan struct{})}
			qs.loading[queueARN] = l
			qs.mu.Unlock()
			l.q, l.err = qs.lookup(ctx, queueARN)
			qs.mu.Lock()
			delete(qs.loading, queueARN)
			if l.err == nil {
				qs.known[queueARN] = l.q
			}
			qs.mu.Unlock()
			close(l.done)
			return l.q, l.err
		}
		qs.mu.Unlock()
		select {
		case <-l.done:
		case <-ctx.Done():
			return nil, fmt.Errorf("handler: look up queue %s: %w", queueARN, ctx.Err())
		}
		if l.err == nil {
			return l.q, nil
		}
		if ctx.Err() == nil && (errors.Is(l.err, context.Canceled) || errors.Is(l.err, context.DeadlineExceeded)) {
			continue // the first record's context ended, not ours: look it up again
		}
		return nil, l.err
	}
}

// lookup reads the queue's URL and redrive policy and checks that failing
// records have somewhere to go.
func (qs *sqsQueues) lookup(ctx context.Context, queueARN string) (*sqsQueue, error) {
	q, err := qs.load(ctx, queueARN)
	if err != nil {
		return nil, fmt.Errorf("handler: look up queue %s: %w", queueARN, err)
	}
	if q.dlqURL == "" {
		return nil, fmt.Errorf("%w: %w: queue %s has no RedrivePolicy and SQSConfig.DLQURL is empty; "+
			"give the queue a RedrivePolicy or set DLQURL, or failing records would come back until the queue's retention drops them",
			ErrConfig, ErrNoDLQ, queueARN)
	}
	return q, nil
}

func (qs *sqsQueues) load(ctx context.Context, queueARN string) (*sqsQueue, error) {
	url, err := queueURL(ctx, qs.client, queueARN)
	if err != nil {
		return nil, err
	}
	out, err := qs.client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(url),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameRedrivePolicy},
	})
	if err != nil {
		return nil, err
	}
	q := &sqsQueue{arn: queueARN, url: url, fifo: strings.HasSuffix(queueARN, ".fifo"), dlqURL: qs.dlqURL}
	var dlqARN string
	if s := out.Attributes[string(types.QueueAttributeNameRedrivePolicy)]; s != "" {
		dlqARN, q.maxReceiveCount, err = parseRedrivePolicy(s)
		if err != nil {
			return nil, err
		}
	}
	if q.dlqURL == "" && dlqARN != "" {
		if q.dlqURL, err = queueURL(ctx, qs.client, dlqARN); err != nil {
			return nil, fmt.Errorf("dead-letter queue: %w", err)
		}
	}
	q.dlqFIFO = strings.HasSuffix(q.dlqURL, ".fifo")
	q.lastAttempt = lastAttempt(qs.maxAttempts, q.maxReceiveCount)
	return q, nil
}

// lastAttempt is the attempt on which a retryable failure is dead-lettered,
// from SQSConfig.MaxAttempts (0: unset) and the queue's maxReceiveCount (0:
// no RedrivePolicy). The queue's own count wins when nothing lower is
// asked for: SQS would move the record to the DLQ after it anyway, without
// the reason.
func lastAttempt(maxAttempts, maxReceiveCount int) int {
	switch {
	case maxReceiveCount > 0 && maxAttempts > 0:
		return min(maxAttempts, maxReceiveCount)
	case maxReceiveCount > 0:
		return maxReceiveCount
	case maxAttempts > 0:
		return maxAttempts
	default:
		return DefaultSQSMaxAttempts
	}
}

// queueURL asks SQS for the URL of the queue with the given ARN rather than
// building it: the URL's host depends on the endpoint (an emulator, a VPC
// endpoint), which only the client knows.
func queueURL(ctx context.Context, client SQSClient, queueARN string) (string, error) {
	a, err := arn.Parse(queueARN)
	if err != nil {
		return "", err
	}
	in := &sqs.GetQueueUrlInput{QueueName: aws.String(a.Resource)}
	if a.AccountID != "" {
		in.QueueOwnerAWSAccountId = aws.String(a.AccountID)
	}
	out, err := client.GetQueueUrl(ctx, in)
	if err != nil {
		return "", err
	}
	return aws.ToString(out.QueueUrl), nil
}

// parseRedrivePolicy reads a queue's RedrivePolicy attribute. SQS accepts
// maxReceiveCount as a JSON number or a string, and hands back what it was
// given, so both are read.
func parseRedrivePolicy(s string) (dlqARN string, maxReceiveCount int, err error) {
	var p struct {
		DeadLetterTargetArn string          `json:"deadLetterTargetArn"`
		MaxReceiveCount     json.RawMessage `json:"maxReceiveCount"`
	}
	if err := json.Unmarshal([]byte(s), &p); err != nil {
		return "", 0, fmt.Errorf("RedrivePolicy %q: %w", s, err)
	}
	raw := strings.Trim(string(p.MaxReceiveCount), `"`)
	if raw != "" {
		if maxReceiveCount, err = strconv.Atoi(raw); err != nil {
			return "", 0, fmt.Errorf("RedrivePolicy maxReceiveCount %s: %w", p.MaxReceiveCount, err)
		}
	}
	return p.DeadLetterTargetArn, maxReceiveCount, nil
}
