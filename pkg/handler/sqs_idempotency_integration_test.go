//go:build integration

package handler_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/latchkit/latch/internal/esm"
	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/idempotency"
	"github.com/latchkit/latch/pkg/latchtest/emulator"
)

// TestIntegrationIdempotentSideEffects sends 200 messages carrying 50
// distinct order ids, four of each, shuffled, and lets two mappings (two
// Lambda containers) drain the queue at once, ten records at a time, ten in
// parallel. The idempotency records live in DynamoDB Local. Every order's
// side effect must run exactly once, and every message must leave the queue.
func TestIntegrationIdempotentSideEffects(t *testing.T) {
	t.Parallel()
	env := emulator.New(t)
	q := env.Queue(t, emulator.QueueSpec{MaxReceiveCount: 10, VisibilityTimeout: 30 * time.Second})
	table := env.Table(t)

	const orders, copies = 50, 4
	var bodies []string
	for i := range orders {
		for range copies {
			bodies = append(bodies, body(fmt.Sprintf("order-%02d", i)))
		}
	}
	rand.Shuffle(len(bodies), func(i, j int) { bodies[i], bodies[j] = bodies[j], bodies[i] })
	for len(bodies) > 0 {
		n := min(10, len(bodies))
		in := &sqs.SendMessageBatchInput{QueueUrl: aws.String(q.URL)}
		for i, b := range bodies[:n] {
			in.Entries = append(in.Entries, types.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), MessageBody: aws.String(b)})
		}
		out, err := env.SQS.SendMessageBatch(context.Background(), in)
		if err != nil || len(out.Failed) > 0 {
			t.Fatalf("send batch: %v %v", err, out)
		}
		bodies = bodies[n:]
	}

	store := idempotency.MustNewDynamoDBStore(env.DynamoDB, idempotency.DynamoDBConfig{Table: table})
	var (
		mu      sync.Mutex
		effects = map[string]int{}
	)
	log := &reportLog{}
	newContainer := func() handler.Func[events.SQSEvent, events.SQSEventResponse] {
		// each container has its own guard (and cache), sharing the table
		guard, err := idempotency.NewGuard(idempotency.Config{Store: store, Namespace: "orders", CacheSize: 16})
		if err != nil {
			t.Fatal(err)
		}
		return handler.MustNewSQS(func(ctx context.Context, m handler.Message[order]) error {
			mu.Lock()
			effects[m.Body.ID]++
			mu.Unlock()
			return nil
		}, handler.SQSConfig{Client: env.SQS, Idempotency: guard, Key: handler.KeyJSONField("order_id"), Observer: log})
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for range 2 {
		h := newContainer()
		// A 3s function timeout bounds the locks: a duplicate that meets a
		// live lock comes back within 3s, when the lock dies.
		cfg := esm.Config{Client: env.SQS, QueueURL: q.URL, WaitTime: time.Second, FunctionTimeout: 3 * time.Second}
		wg.Go(func() {
			if err := esm.Run(ctx, cfg, esm.Invoke(h)); err != nil {
				t.Error(err)
			}
		})
	}
	// Wait until every message was settled at least once. Counting
	// settled reports instead would be fooled by a message delivered twice
	// (at-least-once; moto also brings back a message when two deletes
	// overlap), which settles twice while another has not settled yet.
	deadline := time.Now().Add(90 * time.Second)
	for log.settled() < orders*copies {
		if time.Now().After(deadline) {
			t.Fatalf("after 90s: %d succeeded, %d duplicates, %d retries", log.count(handler.Succeeded), log.count(handler.Duplicate), log.count(handler.RetryScheduled))
		}
		time.Sleep(50 * time.Millisecond) // waiting on two pollers' progress
	}
	// A message delivered again (at least once) may still be in flight:
	// let the pollers settle it before they stop, or it would be left for
	// its visibility timeout and fail the empty-queue check below.
	emulator.Eventually(t, 60*time.Second, "the queue drained", func() bool {
		visible, inFlight := env.Depth(t, q.URL)
		return visible+inFlight == 0
	})
	cancel()
	wg.Wait()

	if len(effects) != orders {
		t.Errorf("%d orders had their side effect, want %d", len(effects), orders)
	}
	for id, n := range effects {
		if n != 1 {
			t.Errorf("order %s: side effect ran %d times, want exactly once", id, n)
		}
	}
	// Exactly one success per order; at least the sent copies as duplicates.
	// More duplicates are right, not a flake: SQS delivers at least once
	// (and moto resurrects a message when two deletes overlap), and every
	// extra delivery of a done order must end as a duplicate.
	// A success can be reported as a retry instead: the record was
	// completed, but the answer to the completing write came after the
	// record's deadline (a loaded machine, a 3 s timeout less the
	// processor's margin), so latch could not know it landed; the next
	// delivery finds it completed and ends as a duplicate. The side effect
	// still ran once (checked above); what must never happen is a second
	// success or a success missing without a retry to account for it.
	s, d, r := log.count(handler.Succeeded), log.count(handler.Duplicate), log.count(handler.RetryScheduled)
	if s > orders || s+r < orders || d < orders*(copies-1) {
		t.Errorf("%d succeeded, %d duplicates, %d retries; want %d successes (less at most the retries) and at least %d duplicates", s, d, r, orders, orders*(copies-1))
	}
	t.Logf("%d records came back once on a live lock (ErrInProgress) or an unanswered completion", r)
	if n := log.count(handler.Failed) + log.count(handler.DeadLettered); n != 0 {
		t.Errorf("%d records failed or were dead-lettered", n)
	}
	env.AssertQueueEmpty(t, q.URL)
	env.AssertQueueEmpty(t, q.DLQ.URL)
}

// settled returns how many distinct records ended succeeded or duplicate.
func (l *reportLog) settled() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	ids := map[string]bool{}
	for _, r := range l.reports {
		if r.Outcome == handler.Succeeded || r.Outcome == handler.Duplicate {
			ids[r.ID] = true
		}
	}
	return len(ids)
}
