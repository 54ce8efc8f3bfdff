package handler

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// gatedSQS answers the two lookup calls, GetQueueUrl only once the test
// opens the gate or the caller's context ends, and counts the lookups.
type gatedSQS struct {
	SQSClient // the rest is not called
	gate      chan struct{}
	started   chan struct{} // one value per GetQueueUrl that began
	urls      atomic.Int32
}

func (c *gatedSQS) GetQueueUrl(ctx context.Context, in *sqs.GetQueueUrlInput, _ ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error) {
	c.urls.Add(1)
	c.started <- struct{}{}
	select {
	case <-c.gate:
		return &sqs.GetQueueUrlOutput{QueueUrl: aws.String("https://sqs.test/1/" + aws.ToString(in.QueueName))}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (c *gatedSQS) GetQueueAttributes(context.Context, *sqs.GetQueueAttributesInput, ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error) {
	return &sqs.GetQueueAttributesOutput{Attributes: map[string]string{
		"RedrivePolicy": `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:1:orders-dlq","maxReceiveCount":5}`,
	}}, nil
}

const ordersARN = "arn:aws:sqs:us-east-1:1:orders"

// A record whose context ends while it looks the queue up must not fail
// the records waiting for the same lookup: one of them looks it up again
// with its own context.
func TestSQSQueuesFirstCallerCancelled(t *testing.T) {
	t.Parallel()
	client := &gatedSQS{gate: make(chan struct{}), started: make(chan struct{}, 8)}
	qs := newSQSQueues(client, "", 0)

	first, cancel := context.WithCancel(context.Background())
	firstErr := make(chan error, 1)
	go func() { _, err := qs.get(first, ordersARN); firstErr <- err }()
	<-client.started // the first record's lookup is in flight

	second := make(chan error, 1)
	var q *sqsQueue
	go func() {
		var err error
		q, err = qs.get(context.Background(), ordersARN)
		second <- err
	}()
	// The second record waits for the first lookup rather than making its
	// own: no second GetQueueUrl until the first one ends.
	select {
	case <-client.started:
		t.Fatal("the second record looked the queue up while the first lookup was in flight")
	case <-time.After(50 * time.Millisecond):
	}
	cancel()
	if err := <-firstErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("first record: err = %v, want context.Canceled", err)
	}
	<-client.started // the second record's own lookup
	close(client.gate)
	if err := <-second; err != nil {
		t.Fatalf("second record failed with the first one's cancellation: %v", err)
	}
	if q.url == "" || q.lastAttempt != 5 {
		t.Errorf("queue = %+v, want a URL and maxReceiveCount 5", q)
	}
	// Now known: no more calls.
	if _, err := qs.get(context.Background(), ordersARN); err != nil || client.urls.Load() != 3 {
		t.Errorf("third get: err %v, GetQueueUrl calls %d, want 3 (orders twice, its DLQ once)", err, client.urls.Load())
	}
}

// Concurrent records of a batch share one lookup.
func TestSQSQueuesOneLookup(t *testing.T) {
	t.Parallel()
	client := &gatedSQS{gate: make(chan struct{}), started: make(chan struct{}, 64)}
	qs := newSQSQueues(client, "", 0)
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for range 10 {
		wg.Go(func() {
			_, err := qs.get(context.Background(), ordersARN)
			errs <- err
		})
	}
	<-client.started
	close(client.gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := client.urls.Load(); n != 2 {
		t.Errorf("GetQueueUrl calls = %d, want 2 (the queue and its DLQ, once)", n)
	}
}

// A record waiting for another's lookup stops waiting when its own context
// ends: the lookup's lock is not held across the AWS calls, so nothing
// blocks it.
func TestSQSQueuesWaiterCancelled(t *testing.T) {
	t.Parallel()
	client := &gatedSQS{gate: make(chan struct{}), started: make(chan struct{}, 8)}
	qs := newSQSQueues(client, "", 0)
	go func() { _, _ = qs.get(context.Background(), ordersARN) }()
	<-client.started
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { _, err := qs.get(ctx, ordersARN); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("waiter: err = %v, want its own deadline", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a waiting record ignored its own context's deadline while another record's lookup was blocked")
	}
	close(client.gate)
}
