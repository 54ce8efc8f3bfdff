package handler_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/go-cmp/cmp"

	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/idempotency"
	"github.com/latchkit/latch/pkg/retry"
)

// rejectAll fails every record for good.
func rejectAll(context.Context, handler.Message[order]) error { return retry.Permanent(errRejected) }

// TestSQSDeadLetterOnce delivers one failing message twice (SQS's
// at-least-once delivery, or a process killed between its DLQ send and the
// delete): the DLQ gets one copy, and the second delivery is only deleted.
func TestSQSDeadLetterOnce(t *testing.T) {
	t.Parallel()
	client := newFakeSQS()
	store := &countingStore{Store: idempotency.NewMemoryStore(idempotency.MemoryConfig{})}
	obs := &recorder{}
	h := handler.MustNewSQS(rejectAll, handler.SQSConfig{
		Client: client, Idempotency: newGuard(t, idempotency.Config{Store: store}), Key: handler.KeyMessageID, Observer: obs, Logger: discard,
	})
	for attempt := 1; attempt <= 2; attempt++ {
		obs.reports = nil
		resp, err := h(context.Background(), sqsEvent("orders", msg{id: "m1", body: body("bad"), attempt: attempt}))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(failures(), resp); diff != "" {
			t.Errorf("delivery %d: (-want +got):\n%s", attempt, diff)
		}
		if r := obs.report("m1"); r.Outcome != handler.DeadLettered || !errors.Is(r.Err, errRejected) {
			t.Errorf("delivery %d: %s (%v); want dead_lettered with its reason", attempt, r.Outcome, r.Err)
		}
	}
	if len(client.sent) != 1 {
		t.Fatalf("%d DLQ copies of one message; want 1", len(client.sent))
	}
	if !strings.Contains(obs.report("m1").Err.Error(), "already in the dead-letter queue") {
		t.Errorf("the second delivery's report does not say it was only deleted: %v", obs.report("m1").Err)
	}
	// Record claims: 2 for the record's own key (one per delivery, each
	// released after the failure), 2 for the dead-letter record (the
	// claim, and the second delivery's claim that finds it completed).
	if got := store.claims.Load(); got != 4 {
		t.Errorf("%d claims; want 4: one per delivery for the record, one per delivery for its dead-lettering", got)
	}
}

// TestSQSDeadLetterOnceInFlight has a second delivery of a message arrive
// while the first is sending it to the DLQ (two receivers 155 ms apart):
// the second finds the claim live and comes back when it dies, without
// sending; the DLQ gets one copy.
func TestSQSDeadLetterOnceInFlight(t *testing.T) {
	t.Parallel()
	fake := newFakeSQS()
	guard := newGuard(t, idempotency.Config{})
	cfg := func(c handler.SQSClient, obs handler.Observer) handler.SQSConfig {
		return handler.SQSConfig{Client: c, Idempotency: guard, Key: handler.KeyMessageID, Observer: obs, Logger: discard, Backoff: noJitter}
	}
	second := &recorder{}
	other := handler.MustNewSQS(rejectAll, cfg(fake, second))
	var resp2 events.SQSEventResponse
	first := &recorder{}
	client := &duringSend{fakeSQS: fake, during: func() {
		var err error
		resp2, err = other(context.Background(), sqsEvent("orders", msg{id: "m1", body: body("bad")}))
		if err != nil {
			t.Error(err)
		}
	}}
	h := handler.MustNewSQS(rejectAll, cfg(client, first))
	resp, err := h(context.Background(), sqsEvent("orders", msg{id: "m1", body: body("bad")}))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(failures(), resp); diff != "" {
		t.Errorf("first delivery (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(failures("m1"), resp2); diff != "" {
		t.Errorf("second delivery: must come back to find the first one's outcome (-want +got):\n%s", diff)
	}
	r := second.report("m1")
	if r.Outcome != handler.RetryScheduled || !errors.Is(r.Err, idempotency.ErrInProgress) || r.RetryDelay <= 0 || r.RetryDelay > 6*time.Second {
		t.Errorf("second delivery: %s after %v (%v); want retry_scheduled when the sender's claim dies (at most its 5 s bound)", r.Outcome, r.RetryDelay, r.Err)
	}
	if len(fake.sent) != 1 {
		t.Errorf("%d DLQ copies; want 1", len(fake.sent))
	}
}

// duringSend runs during before its first SendMessage.
type duringSend struct {
	*fakeSQS
	during func()
	once   sync.Once
}

func (c *duringSend) SendMessage(ctx context.Context, in *sqs.SendMessageInput, o ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	c.once.Do(c.during)
	return c.fakeSQS.SendMessage(ctx, in, o...)
}

// failingStore fails the calls it is told to, as DynamoDB does when it is
// down or throttles.
type failingStore struct {
	idempotency.Store
	claim, complete atomic.Bool
}

func (s *failingStore) Claim(ctx context.Context, c idempotency.Claim) (*idempotency.Record, error) {
	if s.claim.Load() {
		return nil, &idempotency.StoreError{Op: "claim", Err: errors.New("connection refused")}
	}
	return s.Store.Claim(ctx, c)
}

func (s *failingStore) Complete(ctx context.Context, c idempotency.Completion) error {
	if s.complete.Load() {
		return &idempotency.StoreError{Op: "complete", Err: errors.New("connection refused")}
	}
	return s.Store.Complete(ctx, c)
}

// TestSQSDeadLetterStoreDown: with the store down the dead-lettering waits
// for it (the record is retried after its backoff, nothing sent), except on
// the last attempt, where the record is sent without the claim rather than
// left to SQS's own redrive, which would drop the reason.
func TestSQSDeadLetterStoreDown(t *testing.T) {
	t.Parallel()
	client := newFakeSQS() // maxReceiveCount 5
	store := &failingStore{Store: idempotency.NewMemoryStore(idempotency.MemoryConfig{})}
	obs := &recorder{}
	decode := func(context.Context, handler.Message[order]) error { return nil }
	h := handler.MustNewSQS(decode, handler.SQSConfig{
		Client: client, Idempotency: newGuard(t, idempotency.Config{Store: store}), Key: handler.KeyMessageID, Observer: obs, Logger: discard, Backoff: noJitter,
	})
	store.claim.Store(true)
	// Undecodable bodies fail for good before the record's own claim: the
	// dead-letter claim is the first store call.
	resp, err := h(context.Background(), sqsEvent("orders", msg{id: "m1", body: "not json"}, msg{id: "m2", body: "not json", attempt: 5}))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(failures("m1"), resp); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if r := obs.report("m1"); r.Outcome != handler.RetryScheduled || r.RetryDelay != 2*time.Second {
		t.Errorf("m1: %s after %v (%v); want retry_scheduled after the backoff", r.Outcome, r.RetryDelay, r.Err)
	}
	if r := obs.report("m2"); r.Outcome != handler.DeadLettered {
		t.Errorf("m2 on its last attempt: %s (%v); want dead_lettered without the claim", r.Outcome, r.Err)
	}
	if len(client.sent) != 1 || client.sent[0].MessageBody == nil {
		t.Errorf("%d sends; want m2's alone", len(client.sent))
	}
}

// TestSQSDeadLetterCompleteFails: the send worked and the completion of the
// claim did not. The record is in the DLQ and must not come back.
func TestSQSDeadLetterCompleteFails(t *testing.T) {
	t.Parallel()
	client := newFakeSQS()
	store := &failingStore{Store: idempotency.NewMemoryStore(idempotency.MemoryConfig{})}
	store.complete.Store(true)
	obs := &recorder{}
	h := handler.MustNewSQS(rejectAll, handler.SQSConfig{
		Client: client, Idempotency: newGuard(t, idempotency.Config{Store: store}), Key: handler.KeyMessageID, Observer: obs, Logger: discard,
	})
	resp, err := h(context.Background(), sqsEvent("orders", msg{id: "m1", body: body("bad")}))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(failures(), resp); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if r := obs.report("m1"); r.Outcome != handler.DeadLettered || len(client.sent) != 1 {
		t.Errorf("%s, %d sends; want dead_lettered once", r.Outcome, len(client.sent))
	}
}

type countingStore struct {
	idempotency.Store
	claims atomic.Int32
}

func (s *countingStore) Claim(ctx context.Context, c idempotency.Claim) (*idempotency.Record, error) {
	s.claims.Add(1)
	return s.Store.Claim(ctx, c)
}
